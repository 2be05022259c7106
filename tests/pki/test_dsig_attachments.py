"""Signatures over SOAP-with-Attachments parts: the AS4 shape, end to end through sign() and verify()."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from pki.keys.memory import InMemorySigner
from pki.xml import algorithms as A
from pki.xml import ns
from pki.xml.keyinfo import ResolvedKey, key_value
from pki.xml.parser import parse_xml
from pki.xml.references import SignatureError
from pki.xml.signing import ReferenceSpec, SignOptions, sign
from pki.xml.verification import verify
from tests.pki.attach_parts import MemoryPart

PARTS = {
    "payload@example.lv": MemoryPart({"Content-Type": "application/x-ebrs+xml", "Content-ID": "<payload@example.lv>"},
                                     [b'<q:Query xmlns:q="urn:q"  b="2" a="1"><q:X/></q:Query>'],
                                     "payload@example.lv"),
    "note@example.lv": MemoryPart({"Content-Type": "text/plain; charset=utf-8"}, [b"line 1\nline 2\r", b"\nend"],
                                  "note@example.lv"),
    "scan@example.lv": MemoryPart({"Content-Type": "application/pdf"}, [b"%PDF-1.7\x00\x01\xff" * 1000],
                                  "scan@example.lv"),
}


@pytest.fixture(scope="module")
def signer() -> InMemorySigner:
    return InMemorySigner(rsa.generate_private_key(65537, 2048))


def _envelope(signer: InMemorySigner, transform: str) -> bytes:
    root = parse_xml(f'<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope"><S:Header>'
                     f'<wsse:Security xmlns:wsse="{ns.WSSE}"/></S:Header><S:Body/></S:Envelope>'.encode()).getroot()
    references = [ReferenceSpec(element=root[1])] + [ReferenceSpec.attachment(cid, transform) for cid in PARTS]
    sign(root[0][0], references, signer,
         SignOptions(policy=A.EDELIVERY_AS4_1_15, attachments=PARTS.__getitem__, key_info=key_value(signer.public_key)))
    return etree.tostring(root)


def _verify(data: bytes, signer: InMemorySigner, parts: dict):
    root = parse_xml(data).getroot()
    return verify(root.find(f".//{{{ns.DS}}}Signature"), lambda _info: ResolvedKey(signer.public_key),
                  A.EDELIVERY_AS4_1_15, attachments=parts.__getitem__)


@pytest.mark.parametrize("transform", [A.ATTACHMENT_CONTENT_TRANSFORM, A.ATTACHMENT_COMPLETE_TRANSFORM])
def test_attachments_signed_and_verified(signer: InMemorySigner, transform: str) -> None:
    data = _envelope(signer, transform)
    verified = _verify(data, signer, PARTS)
    assert verified.content_ids == tuple(PARTS)
    assert [ref.transforms for ref in verified.references[1:]] == [(transform,)] * 3


@pytest.mark.parametrize("changed", list(PARTS))
def test_changed_attachment_is_detected(signer: InMemorySigner, changed: str) -> None:
    data = _envelope(signer, A.ATTACHMENT_CONTENT_TRANSFORM)
    original = PARTS[changed]
    tampered = dict(PARTS)
    content = b"".join(original.pieces)
    assert b"1" in content
    tampered[changed] = MemoryPart(original.headers, [content.replace(b"1", b"7", 1)], changed)
    with pytest.raises(SignatureError) as caught:
        _verify(data, signer, tampered)
    assert caught.value.code == "XMLDSIG_DIGEST_MISMATCH" and changed in caught.value.message


def test_complete_transform_covers_headers(signer: InMemorySigner) -> None:
    data = _envelope(signer, A.ATTACHMENT_COMPLETE_TRANSFORM)
    relabelled = dict(PARTS)
    scan = PARTS["scan@example.lv"]
    relabelled["scan@example.lv"] = MemoryPart({"Content-Type": "application/octet-stream"}, scan.pieces,
                                               "scan@example.lv")
    with pytest.raises(SignatureError, match="XMLDSIG_DIGEST_MISMATCH"):
        _verify(data, signer, relabelled)
    # The content transform does not cover headers: the same relabelling passes there.
    assert _verify(_envelope(signer, A.ATTACHMENT_CONTENT_TRANSFORM), signer, relabelled)


def test_unparseable_xml_attachment_is_a_signature_error(signer: InMemorySigner) -> None:
    data = _envelope(signer, A.ATTACHMENT_CONTENT_TRANSFORM)
    broken = dict(PARTS)
    broken["payload@example.lv"] = MemoryPart(PARTS["payload@example.lv"].headers, [b"<q:Query"], "payload@example.lv")
    with pytest.raises(SignatureError) as caught:
        _verify(data, signer, broken)
    assert caught.value.code == "XMLDSIG_ATTACHMENT_TRANSFORM"


def test_missing_attachment_is_refused(signer: InMemorySigner) -> None:
    data = _envelope(signer, A.ATTACHMENT_CONTENT_TRANSFORM)
    fewer = {cid: part for cid, part in PARTS.items() if cid != "note@example.lv"}
    with pytest.raises(SignatureError) as caught:
        _verify(data, signer, fewer)
    assert caught.value.code == "XMLDSIG_REFERENCE_NOT_FOUND"
    root = parse_xml(data).getroot()
    with pytest.raises(SignatureError, match="XMLDSIG_REFERENCE_NOT_FOUND"):
        verify(root.find(f".//{{{ns.DS}}}Signature"), lambda _info: ResolvedKey(signer.public_key),
               A.EDELIVERY_AS4_1_15)
