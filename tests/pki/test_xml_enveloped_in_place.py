"""The enveloped-signature transform done in place (signature taken out and put back) gives the octets of the
copying implementation, and leaves every canonical form of the tree as it was, on success and on failure."""

from __future__ import annotations

import dataclasses

import pytest
from lxml import etree

from pki.xml import algorithms as A
from pki.xml import ns
from pki.xml.ns import q
from pki.xml.parser import parse_xml
from pki.xml.references import Transform, element_octets
from tests.pki.xmldocs import NS, attacked, saml_response, signature_error, the_signature, verify_saml

DS = ns.DS.encode()
DOCUMENTS = [
    # a direct child with text before and after it
    b'<r xmlns:ds="' + DS + b'" xmlns:a="urn:a" ID="x"><a:x>t</a:x>mid<ds:Signature><ds:S a:at="1"/>'
    b"</ds:Signature>tail<a:y/></r>",
    # the signature repeats the ancestor's declaration (the form most producers write)
    b'<r xmlns:ds="' + DS + b'" xmlns:a="urn:a" ID="x"><a:x>t</a:x><ds:Signature xmlns:ds="' + DS + b'">'
    b'<ds:S a:at="1"/></ds:Signature>\n  <a:y/></r>',
    # the first child, after the parent's own text, under a default namespace
    b'<r xmlns="urn:d" ID="x">lead<Signature xmlns="' + DS + b'"><S/></Signature>\n  <k>v</k></r>',
    # deeper than a child, after a processing instruction, no text after it
    b'<r xmlns:a="urn:a" ID="x"><a:w><?pi x?>pt<ds:Signature xmlns:ds="' + DS + b'" xmlns:a="urn:a">'
    b"<ds:S/></ds:Signature></a:w>end</r>",
    # the signature's prefix is bound to the signature namespace only on the signature (shadowing)
    b'<r xmlns:ds="urn:other" ID="x"><ds:e/><ds:Signature xmlns:ds="' + DS + b'"><ds:S/></ds:Signature>'
    b"<ds:f/></r>",
]
CHAINS = [
    (Transform(A.ENVELOPED_SIGNATURE), Transform(A.EXC_C14N)),
    (Transform(A.ENVELOPED_SIGNATURE), Transform(A.EXC_C14N, ("a",))),
    (Transform(A.ENVELOPED_SIGNATURE), Transform(A.C14N_10)),
    (Transform(A.ENVELOPED_SIGNATURE),),  # the implicit c14n 1.0
]


def _canonical_forms(root: etree._Element) -> tuple[bytes, bytes]:
    return etree.tostring(root, method="c14n"), etree.tostring(root, method="c14n", exclusive=True)


def _permissive() -> A.AlgorithmPolicy:
    """MODERN plus inclusive c14n, so that every chain above is allowed."""
    return dataclasses.replace(A.MODERN, canonicalizations=A.MODERN.canonicalizations | {A.C14N_10},
                               transforms=A.MODERN.transforms | {A.ENVELOPED_SIGNATURE, A.C14N_10})


@pytest.mark.parametrize("data", DOCUMENTS)
@pytest.mark.parametrize("chain", CHAINS)
def test_in_place_gives_the_octets_of_the_copy_and_restores_the_tree(data: bytes, chain: tuple) -> None:
    root = parse_xml(data).getroot()
    signature = next(root.iter(q(ns.DS, "Signature")))
    parent, index, tail = signature.getparent(), signature.getparent().index(signature), signature.tail
    before = _canonical_forms(root)
    policy = _permissive()
    copied = element_octets(root, chain, signature, policy)
    in_place = element_octets(root, chain, signature, policy, in_place=True)
    assert in_place == copied
    assert b"Signature" not in in_place
    assert _canonical_forms(root) == before
    assert signature.getparent() is parent and parent.index(signature) == index and signature.tail == tail


def test_in_place_verification_accepts_a_good_signature_and_leaves_the_tree() -> None:
    root = parse_xml(saml_response()).getroot()
    before = _canonical_forms(root)
    verified = verify_saml(root, in_place=True)
    assert verified.references[0].element is root.find("saml:Assertion", NS)
    assert _canonical_forms(root) == before


def test_in_place_verification_refuses_altered_content_and_restores_the_tree() -> None:
    def alter(root: etree._Element) -> None:
        root.find(".//saml:NameID", NS).text = "someone-else"

    root = attacked(saml_response(), alter)
    before = _canonical_forms(root)
    signature_error("XMLDSIG_DIGEST_MISMATCH", lambda: verify_saml(root, in_place=True))
    assert _canonical_forms(root) == before
    assert the_signature(root).getparent() is root.find("saml:Assertion", NS)
