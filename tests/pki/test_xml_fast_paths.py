"""The fast paths of the XML-security layer give exactly what the plain implementations they replaced give.

Each test compares the optimised code with a straightforward reference written here (the code the fast path
replaced), on documents built to hit the edge cases: duplicates, one element under two ID attributes,
namespaced and un-namespaced ID attributes, nested and sibling elements, custom ID attribute lists.
"""

from __future__ import annotations

import base64
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from lxml import etree

from as4.security import inclusive_prefixes
from pki.ids import uuid4_hex, uuid4_str
from pki.xml import ns
from pki.xml.keyinfo import (
    KeyResolutionError,
    binary_security_token,
    match_candidates,
    parse_key_info,
    x509_data,
)
from pki.xml.parser import parse_xml
from pki.xml.references import SignatureError, find_by_id, id_index
from tests.pki.xmlkeys import identity

WSU_ID = f"{{{ns.WSU}}}Id"


def reference_id_index(root: etree._Element, id_attributes=ns.ID_ATTRIBUTES) -> dict[str, list[etree._Element]]:
    index: dict[str, list[etree._Element]] = {}
    for element in root.iter(etree.Element):
        for attribute in id_attributes:
            value = element.get(attribute)
            if value is not None:
                index.setdefault(value, []).append(element)
    return index


DOCUMENTS = [
    b'<r xmlns:wsu="' + ns.WSU.encode() + b'" ID="root"><a wsu:Id="x"/><b Id="y"><c ID="z"/></b></r>',
    # one element carrying the same value under two ID attributes: a duplicate, listed twice
    b'<r xmlns:wsu="' + ns.WSU.encode() + b'"><a wsu:Id="x" Id="x"/></r>',
    # two elements with the same ID under different attributes, and the same ID attribute twice
    b'<r xmlns:wsu="' + ns.WSU.encode() + b'"><a wsu:Id="x"/><b ID="x"/><c Id="w"/><d Id="w"/></r>',
    # an attribute named Id in a foreign namespace is not an ID attribute; neither is "id" or "xml:id"
    b'<r xmlns:f="urn:f"><a f:Id="x"/><b id="y"/><c xml:id="z"/><d Id=""/></r>',
    # empty values and deep nesting
    b'<r><a><b><c><d ID="deep"/></c></b></a><e ID=""/></r>',
]


@pytest.mark.parametrize("data", DOCUMENTS)
def test_id_index_matches_a_walk_over_every_element(data: bytes) -> None:
    root = parse_xml(data).getroot()
    fast = id_index(root)
    slow = reference_id_index(root)
    assert {k: [id(e) for e in v] for k, v in fast.items()} == {k: [id(e) for e in v] for k, v in slow.items()}
    assert all(e1 is e2 for k in slow for e1, e2 in zip(fast[k], slow[k], strict=True))


@pytest.mark.parametrize("data", DOCUMENTS)
def test_id_index_with_custom_attributes_matches_the_walk(data: bytes) -> None:
    root = parse_xml(data).getroot()
    for attributes in (("ID",), ("Id", "id"), (WSU_ID,)):
        fast, slow = id_index(root, attributes), reference_id_index(root, attributes)
        assert {k: [id(e) for e in v] for k, v in fast.items()} == {k: [id(e) for e in v] for k, v in slow.items()}


def test_find_by_id_refuses_duplicates_and_missing_ids_as_before() -> None:
    root = parse_xml(DOCUMENTS[2]).getroot()
    with pytest.raises(SignatureError) as duplicate:
        find_by_id(root, "x")
    assert duplicate.value.code == "XMLDSIG_DUPLICATE_ID"
    with pytest.raises(SignatureError) as missing:
        find_by_id(root, "nope")
    assert missing.value.code == "XMLDSIG_REFERENCE_NOT_FOUND"
    same_twice = parse_xml(DOCUMENTS[1]).getroot()
    with pytest.raises(SignatureError) as twice:
        find_by_id(same_twice, "x")
    assert twice.value.code == "XMLDSIG_DUPLICATE_ID"
    assert find_by_id(parse_xml(DOCUMENTS[0]).getroot(), "z").tag == "c"


def test_find_by_id_sees_ids_outside_the_element_it_is_given() -> None:
    # An ID is unique in the document, not in a subtree: a copy elsewhere in the tree must still be seen.
    root = parse_xml(b'<r><a><x ID="dup"/></a><b><x ID="dup"/></b></r>').getroot()
    with pytest.raises(SignatureError) as exc:
        find_by_id(root[0], "dup")
    assert exc.value.code == "XMLDSIG_DUPLICATE_ID"


def test_uuid_texts_have_the_form_and_bits_of_uuid4() -> None:
    seen = set()
    for _ in range(2000):
        text = uuid4_str()
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122
        hex_text = uuid4_hex()
        assert len(hex_text) == 32 and uuid.UUID(hex=hex_text).hex == hex_text
        assert uuid.UUID(hex=hex_text).version == 4
        seen.add(text)
    assert len(seen) == 2000


def reference_inclusive_prefixes(target: etree._Element, *, exclude_visible: bool) -> tuple[str, ...]:
    def declared(element: etree._Element) -> list[str]:
        parent = element.getparent()
        inherited = parent.nsmap if parent is not None else {}
        return ["#default" if p is None else p for p, u in element.nsmap.items() if inherited.get(p) != u]

    result: dict[str, None] = {}
    for ancestor in target.iterancestors():
        for prefix in declared(ancestor):
            result.setdefault(prefix)
    if exclude_visible:
        for prefix in declared(target):
            result.pop(prefix, None)
        by_uri: dict[str, list[str]] = {}
        for prefix, uri in target.nsmap.items():
            by_uri.setdefault(uri, []).append("#default" if prefix is None else prefix)
        for name in target.attrib:
            namespace = etree.QName(name).namespace
            for prefix in by_uri.get(namespace, []) if namespace else []:
                if prefix != "#default":
                    result.pop(prefix, None)
        result.pop(target.prefix if target.prefix is not None else "#default", None)
    return tuple(result)


def test_inclusive_prefixes_match_the_ancestor_walk() -> None:
    data = (b'<S:E xmlns:S="urn:s" xmlns="urn:d" xmlns:a="urn:a"><S:H xmlns:b="urn:b" xmlns:a="urn:a2">'
            b'<m:M xmlns:m="urn:m" xmlns:wsu="' + ns.WSU.encode() + b'" wsu:Id="m" a:x="1"><m:C b:y="2"/>'
            b'<D xmlns="urn:d2"/></m:M></S:H><S:B xmlns:S="urn:s"><x/></S:B></S:E>')
    root = parse_xml(data).getroot()
    for element in root.iter(etree.Element):
        for exclude in (True, False):
            assert inclusive_prefixes(element, exclude_visible=exclude) == reference_inclusive_prefixes(
                element, exclude_visible=exclude)


def _key_info_with(cert_text: str) -> etree._Element:
    key_info = etree.Element(f"{{{ns.DS}}}KeyInfo", nsmap={"ds": ns.DS})
    data = etree.SubElement(key_info, f"{{{ns.DS}}}X509Data")
    etree.SubElement(data, f"{{{ns.DS}}}X509Certificate").text = cert_text
    return key_info


def test_cached_certificate_parsing_gives_equal_certificates_and_still_refuses_garbage() -> None:
    cert = identity("p256", "fast").cert
    text = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    first = parse_key_info(_key_info_with(text)).certificates[0]
    second = parse_key_info(_key_info_with(text)).certificates[0]
    assert first == cert and second == cert
    for _ in range(2):  # a refused certificate is refused every time (failures are never cached)
        with pytest.raises(KeyResolutionError) as exc:
            parse_key_info(_key_info_with(base64.b64encode(b"not a certificate").decode()))
        assert exc.value.code == "XMLDSIG_KEYINFO_MALFORMED"


def test_cached_der_is_that_of_the_certificate() -> None:
    one, other = identity("p256", "fast"), identity("ed25519", "fast")
    for ident in (one, other, one):
        der = ident.cert.public_bytes(serialization.Encoding.DER)
        assert base64.b64decode(binary_security_token(ident.cert, "t").text) == der
        assert base64.b64decode(x509_data([ident.cert])[0].text) == der
    # a resolver keyed by one certificate refuses another (cached parsing must not blur certificates)
    with pytest.raises(KeyResolutionError):
        match_candidates([one.cert])(parse_key_info(_key_info_with(
            base64.b64encode(other.cert.public_bytes(serialization.Encoding.DER)).decode())))
