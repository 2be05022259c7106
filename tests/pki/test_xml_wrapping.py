"""Signature wrapping, covers(), content tampering and comment injection."""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Callable

import pytest
from lxml import etree

from pki.xml import algorithms as A
from pki.xml import ns
from pki.xml.keyinfo import (
    use_certificate,
    x509_data,
)
from pki.xml.ns import q
from pki.xml.parser import parse_xml
from pki.xml.references import (
    Transform,
    element_octets,
)
from pki.xml.signing import ReferenceSpec, SignOptions, sign
from pki.xml.verification import covers, verify
from tests.pki.xmldocs import (
    ASSERTION_ID,
    NAME_ID,
    NS,
    S12,
    SAML,
    WSU_ID,
    attacked,
    forged_assertion,
    saml_identity,
    saml_response,
    signature_error,
    soap_envelope,
    soap_identity,
    the_signature,
    verify_saml,
    verify_soap,
)
from tests.pki.xmlkeys import Identity, identity, resign

# --- the documents verify as signed ---------------------------------------------------------------------

def test_signed_saml_response_verifies_and_names_the_assertion() -> None:
    root = parse_xml(saml_response()).getroot()
    verified = verify_saml(root)
    assertion = root.find("saml:Assertion", NS)
    assert verified.references[0].element is assertion
    assert verified.references[0].uri == f"#{ASSERTION_ID}"
    assert verified.references[0].transforms == (A.ENVELOPED_SIGNATURE, A.EXC_C14N)
    assert covers(verified, assertion)
    assert not covers(verified, root)
    assert verified.certificate == saml_identity().cert
    assert verified.signature_algorithm == A.ECDSA_SHA256


def test_signed_soap_envelope_verifies_and_names_header_and_body() -> None:
    root = parse_xml(soap_envelope()).getroot()
    verified = verify_soap(root)
    assert verified.elements == (root.find(".//eb:Messaging", NS), root.find("S12:Body", NS))
    assert [ref.uri for ref in verified.references] == ["#_messaging", "#_body"]
    assert verified.certificate == soap_identity().cert


# --- signature wrapping ---------------------------------------------------------------------------------

def _move_to_extensions_and_forge(new_id: str | None) -> Callable[[etree._Element], None]:
    def mutate(root: etree._Element) -> None:
        original = root.find("saml:Assertion", NS)
        forged = forged_assertion(original, new_id)
        root.replace(original, forged)
        root.find("samlp:Extensions", NS).append(original)

    return mutate


def test_wrapping_forged_assertion_with_the_same_id_is_a_duplicate_id() -> None:
    root = attacked(saml_response(), _move_to_extensions_and_forge(new_id=None))
    signature_error("XMLDSIG_DUPLICATE_ID", lambda: verify_saml(root))


def test_wrapping_forged_assertion_with_another_id_leaves_only_the_moved_original_verified() -> None:
    root = attacked(saml_response(), _move_to_extensions_and_forge(new_id="_forged"))
    forged = root.find("saml:Assertion", NS)  # where a naive XPath would look
    moved = root.find("samlp:Extensions/saml:Assertion", NS)
    assert forged.get("ID") == "_forged" and moved.get("ID") == ASSERTION_ID

    verified = verify_saml(root)

    assert verified.references[0].element is moved
    assert verified.references[0].element.find(".//saml:NameID", NS).text == NAME_ID
    assert not covers(verified, forged)
    assert forged not in verified.elements
    assert covers(verified, moved)


def test_wrapping_duplicated_signed_assertion_elsewhere_is_a_duplicate_id() -> None:
    def mutate(root: etree._Element) -> None:
        root.find("samlp:Extensions", NS).append(copy.deepcopy(root.find("saml:Assertion", NS)))

    root = attacked(saml_response(), mutate)
    for signature in root.iter(q(ns.DS, "Signature")):
        signature_error("XMLDSIG_DUPLICATE_ID", lambda s=signature: verify(s, use_certificate(saml_identity().cert),
                                                                           A.EIDAS_1_3))


def test_wrapping_duplicated_soap_body_in_a_header_is_a_duplicate_id() -> None:
    def mutate(root: etree._Element) -> None:
        root.find("S12:Header", NS).append(copy.deepcopy(root.find("S12:Body", NS)))

    signature_error("XMLDSIG_DUPLICATE_ID", lambda: verify_soap(attacked(soap_envelope(), mutate)))


def test_wrapping_forged_assertion_wrapping_the_original_with_the_same_id_is_a_duplicate_id() -> None:
    def mutate(root: etree._Element) -> None:
        original = root.find("saml:Assertion", NS)
        forged = forged_assertion(original, new_id=None)
        root.replace(original, forged)
        forged.append(original)

    signature_error("XMLDSIG_DUPLICATE_ID", lambda: verify_saml(attacked(saml_response(), mutate)))


def test_wrapping_forged_assertion_wrapping_the_original_verifies_only_the_inner_original() -> None:
    def mutate(root: etree._Element) -> None:
        original = root.find("saml:Assertion", NS)
        forged = forged_assertion(original, new_id="_outer")
        root.replace(original, forged)
        forged.append(original)

    root = attacked(saml_response(), mutate)
    outer = root.find("saml:Assertion", NS)
    inner = outer.find("saml:Assertion", NS)

    verified = verify_saml(root)

    assert verified.references[0].element is inner
    assert not covers(verified, outer)
    assert outer.find("saml:Subject/saml:NameID", NS).text == "mallory@evil.example"


def test_wrapping_soap_body_moved_into_a_header_verifies_only_the_moved_body() -> None:
    def mutate(root: etree._Element) -> None:
        body = root.find("S12:Body", NS)
        forged = copy.deepcopy(body)
        forged.set(WSU_ID, "_forged-body")
        forged[0].text = "amount=100000;to=XX00EVIL"
        root.replace(body, forged)
        wrapper = etree.SubElement(root.find("S12:Header", NS), "{urn:attacker}Wrapper")
        wrapper.append(body)

    root = attacked(soap_envelope(), mutate)
    forged = root.find("S12:Body", NS)
    moved = root.find("S12:Header/{urn:attacker}Wrapper/S12:Body", NS)

    verified = verify_soap(root)

    assert verified.references[1].element is moved
    assert verified.references[1].element.getparent().tag == "{urn:attacker}Wrapper"
    assert not covers(verified, forged)
    assert moved[0].text == "amount=100;to=LV00BANK"


@pytest.mark.parametrize("attribute", ["ID", "Id", WSU_ID], ids=["ID", "Id", "wsu:Id"])
def test_duplicate_ids_across_id_attributes_in_soap(attribute: str) -> None:
    def mutate(root: etree._Element) -> None:
        fake = etree.SubElement(root.find("S12:Header", NS), "{urn:attacker}Fake")
        fake.set(attribute, "_body")

    signature_error("XMLDSIG_DUPLICATE_ID", lambda: verify_soap(attacked(soap_envelope(), mutate)))


@pytest.mark.parametrize("attribute", ["Id", WSU_ID], ids=["Id", "wsu:Id"])
def test_duplicate_ids_across_id_attributes_in_saml(attribute: str) -> None:
    def mutate(root: etree._Element) -> None:
        forged = forged_assertion(root.find("saml:Assertion", NS), new_id="_forged")
        del forged.attrib["ID"]
        forged.set(attribute, ASSERTION_ID)
        root.find("samlp:Extensions", NS).append(forged)

    signature_error("XMLDSIG_DUPLICATE_ID", lambda: verify_saml(attacked(saml_response(), mutate)))


def test_an_attribute_that_is_not_an_id_attribute_does_not_collide() -> None:
    def mutate(root: etree._Element) -> None:
        etree.SubElement(root.find("samlp:Extensions", NS), "{urn:attacker}X", {"ref": ASSERTION_ID,
                                                                                 "{urn:attacker}ID": ASSERTION_ID})

    root = attacked(saml_response(), mutate)
    assert verify_saml(root).references[0].element is root.find("saml:Assertion", NS)


def _add_reference(signature: etree._Element, target: etree._Element, uri: str) -> None:
    """A second Reference with a correct digest of ``target``, then a fresh SignatureValue."""
    signed_info = signature.find("ds:SignedInfo", NS)
    reference = etree.SubElement(signed_info, q(ns.DS, "Reference"), URI=uri)
    transforms = etree.SubElement(reference, q(ns.DS, "Transforms"))
    etree.SubElement(transforms, q(ns.DS, "Transform"), Algorithm=A.EXC_C14N)
    etree.SubElement(reference, q(ns.DS, "DigestMethod"), Algorithm=A.SHA256)
    octets = element_octets(target, [Transform(A.EXC_C14N)], signature, A.MODERN)
    etree.SubElement(reference, q(ns.DS, "DigestValue")).text = base64.b64encode(
        hashlib.sha256(octets).digest()).decode()


@pytest.mark.parametrize("target", ["object", "key-info"])
def test_reference_to_an_id_inside_the_signature_itself_is_refused(target: str) -> None:
    def mutate(root: etree._Element) -> None:
        signature = the_signature(root)
        if target == "object":
            element = etree.SubElement(signature, q(ns.DS, "Object"), Id="_inside")
            etree.SubElement(element, q(SAML, "Attribute"), Name="role").text = "admin"
        else:
            element = signature.find("ds:KeyInfo", NS)
            element.set("Id", "_inside")
        _add_reference(signature, element, "#_inside")
        resign(signature, saml_identity().key)

    root = attacked(saml_response(), mutate)
    signature_error("XMLDSIG_REFERENCE_UNSUPPORTED", lambda: verify_saml(root))


@pytest.mark.parametrize("uri", [
    f"#xpointer(id('{ASSERTION_ID}'))",
    "#xpointer(/)",
    "http://attacker.example/assertion.xml",
    "https://proxy.example.de/idp#" + ASSERTION_ID,
    "file:///etc/passwd",
    None,
], ids=["xpointer-id", "xpointer-root", "http", "https-fragment", "file", "missing"])
def test_unsupported_reference_uris_are_refused(uri: str | None) -> None:
    def mutate(root: etree._Element) -> None:
        reference = root.find(".//ds:SignedInfo/ds:Reference", NS)
        if uri is None:
            del reference.attrib["URI"]
        else:
            reference.set("URI", uri)
        resign(the_signature(root), saml_identity().key)

    signature_error("XMLDSIG_REFERENCE_UNSUPPORTED", lambda: verify_saml(attacked(saml_response(), mutate)))


def test_reference_to_an_unknown_id_is_refused() -> None:
    def mutate(root: etree._Element) -> None:
        root.find(".//ds:Reference", NS).set("URI", "#_nowhere")
        resign(the_signature(root), saml_identity().key)

    signature_error("XMLDSIG_REFERENCE_NOT_FOUND", lambda: verify_saml(attacked(saml_response(), mutate)))


def test_signedinfo_without_references_is_refused() -> None:
    def mutate(root: etree._Element) -> None:
        signed_info = root.find(".//ds:SignedInfo", NS)
        for reference in signed_info.findall("ds:Reference", NS):
            signed_info.remove(reference)
        resign(the_signature(root), saml_identity().key)

    signature_error("XMLDSIG_NO_REFERENCES", lambda: verify_saml(attacked(saml_response(), mutate)))


def test_empty_signedinfo_is_refused() -> None:
    def mutate(root: etree._Element) -> None:
        signed_info = root.find(".//ds:SignedInfo", NS)
        for child in list(signed_info):
            signed_info.remove(child)

    signature_error("XMLDSIG_MALFORMED", lambda: verify_saml(attacked(saml_response(), mutate)))


def test_reference_covering_its_own_signature_without_enveloped_transform_is_refused() -> None:
    def mutate(root: etree._Element) -> None:
        transforms = root.find(".//ds:Reference/ds:Transforms", NS)
        transforms.remove(transforms[0])
        resign(the_signature(root), saml_identity().key)

    signature_error("XMLDSIG_MALFORMED", lambda: verify_saml(attacked(saml_response(), mutate)))


# --- covers(): what a whole-document signature covers ---------------------------------------------------

def _smp_like(ident: Identity) -> bytes:
    root = parse_xml(b'<SignedServiceMetadata xmlns="urn:smp"><ServiceMetadata><Endpoint>'
                     b'https://ap.partner.example/as4</Endpoint></ServiceMetadata></SignedServiceMetadata>').getroot()
    sign(root, [ReferenceSpec.enveloped()], ident.signer, SignOptions(policy=A.SMP, key_info=x509_data([ident.cert])))
    return etree.tostring(root)


def test_covers_every_signed_element_of_a_whole_document_signature() -> None:
    ident = identity("rsa", "a")
    root = parse_xml(_smp_like(ident)).getroot()
    verified = verify(the_signature(root), use_certificate(ident.cert), A.SMP)
    endpoint = root.find(".//{urn:smp}Endpoint")
    assert covers(verified, root)
    assert covers(verified, endpoint)


def test_covers_nothing_placed_inside_the_enveloped_signature() -> None:
    # The enveloped transform removes the whole ds:Signature (KeyInfo, Object) from what is digested, so a forged
    # element hidden in a ds:Object must never count as covered (guards a fix of the bug above).
    ident = identity("rsa", "a")

    def mutate(root: etree._Element) -> None:
        obj = etree.SubElement(the_signature(root), q(ns.DS, "Object"))
        etree.SubElement(obj, "{urn:smp}Endpoint").text = "https://attacker.example/as4"

    root = attacked(_smp_like(ident), mutate)
    verified = verify(the_signature(root), use_certificate(ident.cert), A.SMP)
    forged = root.find(".//ds:Object/{urn:smp}Endpoint", NS)
    assert not covers(verified, forged)
    assert not covers(verified, the_signature(root).find("ds:KeyInfo", NS))
    assert not covers(verified, parse_xml(_smp_like(ident)).getroot())  # another document


# --- content tampering ----------------------------------------------------------------------------------

def _set_text(path: str, text: str) -> Callable[[etree._Element], None]:
    def mutate(root: etree._Element) -> None:
        root.find(path, NS).text = text
    return mutate


def _set_attribute(path: str, attribute: str, value: str) -> Callable[[etree._Element], None]:
    def mutate(root: etree._Element) -> None:
        root.find(path, NS).set(attribute, value)
    return mutate


def _add_element(path: str) -> Callable[[etree._Element], None]:
    def mutate(root: etree._Element) -> None:
        etree.SubElement(root.find(path, NS), q(SAML, "Attribute"), Name="role").text = "admin"
    return mutate


def _remove_element(path: str) -> Callable[[etree._Element], None]:
    def mutate(root: etree._Element) -> None:
        element = root.find(path, NS)
        element.getparent().remove(element)
    return mutate


def _append_text(path: str, extra: str) -> Callable[[etree._Element], None]:
    def mutate(root: etree._Element) -> None:
        element = root.find(path, NS)
        element.text = (element.text or "") + extra
    return mutate


def _append_tail(path: str, extra: str) -> Callable[[etree._Element], None]:
    def mutate(root: etree._Element) -> None:
        element = root.find(path, NS)
        element.tail = (element.tail or "") + extra
    return mutate


SAML_TAMPERING = {
    "nameid-text": _set_text(".//saml:NameID", "mallory@evil.example"),
    "attribute-value": _set_text(".//saml:AttributeValue", "Ozoliņa"),
    "assertion-attribute": _set_attribute("saml:Assertion", "IssueInstant", "2030-01-01T00:00:00Z"),
    "nameid-format": _set_attribute(".//saml:NameID", "Format", "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"),
    "new-attribute": _set_attribute(".//saml:Subject", "NotOnOrAfter", "2030-01-01T00:00:00Z"),
    "add-element": _add_element(".//saml:AttributeStatement"),
    "remove-element": _remove_element(".//saml:AttributeStatement"),
    "remove-subject": _remove_element(".//saml:Subject"),
    "trailing-space-in-text": _append_text(".//saml:NameID", " "),
    "newline-between-elements": _append_tail(".//saml:Subject", "\n"),
    "space-in-empty-text": _append_text(".//saml:Attribute", " "),
    "renamed-prefix": lambda root: root.find("saml:Assertion", NS).append(
        etree.fromstring(f'<x:Issuer xmlns:x="{SAML}">https://proxy.example.de/idp</x:Issuer>')),
}


@pytest.mark.parametrize("mutate", SAML_TAMPERING.values(), ids=SAML_TAMPERING.keys())
def test_tampering_with_the_signed_assertion_is_a_digest_mismatch(mutate) -> None:
    signature_error("XMLDSIG_DIGEST_MISMATCH", lambda: verify_saml(attacked(saml_response(), mutate)))


SOAP_TAMPERING = {
    "body-text": _set_text("S12:Body/p:Transfer", "amount=100000;to=XX00EVIL"),
    "body-attribute": _set_attribute("S12:Body/p:Transfer", "currency", "USD"),
    "message-id": _set_text(".//eb:MessageId", "replayed-1@gateway.example.lv"),
    "header-attribute": _set_attribute(".//eb:Messaging", q(S12, "mustUnderstand"), "false"),
    "body-whitespace": _append_text("S12:Body/p:Transfer", " "),
    "messaging-whitespace": _append_tail(".//eb:UserMessage", " "),
}


@pytest.mark.parametrize("mutate", SOAP_TAMPERING.values(), ids=SOAP_TAMPERING.keys())
def test_tampering_with_the_signed_soap_parts_is_a_digest_mismatch(mutate) -> None:
    signature_error("XMLDSIG_DIGEST_MISMATCH", lambda: verify_soap(attacked(soap_envelope(), mutate)))


def test_unsigned_parts_may_change() -> None:
    # Honesty check for the tests above: changes outside what is signed do not break verification.
    root = attacked(saml_response(), _set_text("saml:Issuer", "https://someone-else.example"))
    verify_saml(root)
    root = attacked(soap_envelope(), _set_attribute("S12:Header", "{urn:x}note", "unsigned"))
    verify_soap(root)


def _signed_info_change(change: Callable[[etree._Element], None]) -> Callable[[etree._Element], None]:
    def mutate(root: etree._Element) -> None:
        change(root.find(".//ds:SignedInfo", NS))
    return mutate


def _other_digest_value(signed_info: etree._Element) -> None:
    value = signed_info.find(".//ds:DigestValue", NS)
    raw = bytearray(base64.b64decode(value.text))
    raw[0] ^= 1
    value.text = base64.b64encode(bytes(raw)).decode()


SIGNED_INFO_CHANGES = {
    "digest-value": _other_digest_value,
    "digest-method": lambda si: si.find(".//ds:DigestMethod", NS).set("Algorithm", A.SHA512),
    "signature-method": lambda si: si.find("ds:SignatureMethod", NS).set("Algorithm", A.ECDSA_SHA384),
    "reference-uri": lambda si: si.find("ds:Reference", NS).set("URI", "#_response-1"),
    "c14n-prefix-list": lambda si: etree.SubElement(
        si.find("ds:CanonicalizationMethod", NS), q(ns.EC, "InclusiveNamespaces"), PrefixList="saml"),
    "extra-whitespace": lambda si: setattr(si.find("ds:Reference", NS), "tail", " "),
}


@pytest.mark.parametrize("change", SIGNED_INFO_CHANGES.values(), ids=SIGNED_INFO_CHANGES.keys())
def test_changing_signedinfo_invalidates_the_signature(change) -> None:
    root = attacked(saml_response(), _signed_info_change(change))
    signature_error("XMLDSIG_SIGNATURE_INVALID", lambda: verify_saml(root))


# --- comment injection ----------------------------------------------------------------------------------

def test_comment_injection_into_signed_text_verifies_and_reads_the_full_value() -> None:
    signed = saml_response()
    injected = signed.replace(NAME_ID.encode(), b"alice@evil.example<!---->.good.example")
    assert injected != signed
    # the attack is real: a parser that keeps comments hands the application a truncated value
    assert etree.fromstring(injected).find(".//saml:NameID", NS).text == "alice@evil.example"

    root = parse_xml(injected).getroot()
    verified = verify_saml(root)

    assert verified.references[0].element.find(".//saml:NameID", NS).text == NAME_ID


def test_comments_anywhere_in_signed_content_do_not_change_the_digest() -> None:
    signed = saml_response()
    injected = signed.replace(b"<saml:Subject>", b"<saml:Subject><!-- note -->").replace(
        b"</saml:AttributeValue>", b"<!--x--></saml:AttributeValue>")
    assert injected.count(b"<!--") == 2
    verify_saml(parse_xml(injected).getroot())


