"""Attacks on signed documents: signature wrapping, tampering, comment injection, keys, algorithms, malformed
signatures, and the KeyInfo forms.

Two real documents are signed here: a SAML-like Response whose Assertion carries an enveloped signature, and
a SOAP-like envelope whose WS-Security header holds a detached signature over the wsu:Id-identified
Messaging header and Body. Every attack is applied to the signed bytes and the result is parsed again with
the hardened parser before verification, as a receiving node would. Where an attack needs a signature that
is cryptographically valid over an edited SignedInfo (so only the property under test is wrong), the test
re-signs it with the signer's key (``resign``).
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import NameOID
from lxml import etree

from pki import primitives
from pki.primitives import KeyMismatch
from pki.xml import algorithms as A
from pki.xml import ns
from pki.xml.algorithms import POLICIES, AlgorithmPolicy, AlgorithmRefused
from pki.xml.keyinfo import (
    KeyInfoData,
    KeyResolutionError,
    ResolvedKey,
    binary_security_token,
    key_value,
    match_candidates,
    parse_key_info,
    subject_key_identifier,
    token_reference,
    trusted_certificate,
    use_certificate,
    x509_data,
)
from pki.xml.ns import q
from pki.xml.parser import parse_xml
from pki.xml.references import (
    SignatureError,
    Transform,
    canonicalize,
    element_octets,
    find_by_id,
    read_prefix_list,
)
from pki.xml.signing import ReferenceSpec, SignOptions, sign
from pki.xml.verification import VerifiedSignature, covers, verify
from tests.pki.xmlkeys import Identity, KeySigner, certificate, ec_key, identity, name, resign, rfc2253_java

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
S12 = "http://www.w3.org/2003/05/soap-envelope"
EB = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/"
PAYLOAD = "urn:example:payload"
NS = {"samlp": SAMLP, "saml": SAML, "ds": ns.DS, "S12": S12, "wsse": ns.WSSE, "wsu": ns.WSU, "eb": EB, "p": PAYLOAD}
WSU_ID = q(ns.WSU, "Id")

NAME_ID = "alice@evil.example.good.example"
ASSERTION_ID = "_assertion-7f3a"
SAML_TEMPLATE = f"""<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="_response-1" Version="2.0"
    IssueInstant="2025-03-01T10:00:00Z" Destination="https://connector.gateway.example.lv/acs">
  <saml:Issuer>https://proxy.example.de/idp</saml:Issuer>
  <samlp:Extensions/>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
  <saml:Assertion ID="{ASSERTION_ID}" Version="2.0" IssueInstant="2025-03-01T10:00:00Z">
    <saml:Issuer>https://proxy.example.de/idp</saml:Issuer>
    <saml:Subject>
      <saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{NAME_ID}</saml:NameID>
    </saml:Subject>
    <saml:AttributeStatement>
      <saml:Attribute Name="http://eidas.europa.eu/attributes/naturalperson/CurrentFamilyName">
        <saml:AttributeValue>Bērziņa</saml:AttributeValue>
      </saml:Attribute>
    </saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>""".encode()

MESSAGE_ID = "c0ffee-1@gateway.example.lv"
SOAP_TEMPLATE = f"""<S12:Envelope xmlns:S12="{S12}" xmlns:wsse="{ns.WSSE}" xmlns:wsu="{ns.WSU}" xmlns:eb="{EB}">
  <S12:Header>
    <eb:Messaging wsu:Id="_messaging" S12:mustUnderstand="true">
      <eb:UserMessage><eb:MessageInfo><eb:MessageId>{MESSAGE_ID}</eb:MessageId></eb:MessageInfo></eb:UserMessage>
    </eb:Messaging>
    <wsse:Security S12:mustUnderstand="true"/>
  </S12:Header>
  <S12:Body wsu:Id="_body"><p:Transfer xmlns:p="{PAYLOAD}" currency="EUR">amount=100;to=LV00BANK</p:Transfer></S12:Body>
</S12:Envelope>""".encode()
TOKEN_ID = "X509-token-1"

ENVELOPED = (Transform(A.ENVELOPED_SIGNATURE), Transform(A.EXC_C14N))


# --- documents ------------------------------------------------------------------------------------------

def saml_identity() -> Identity:
    return identity("p256", "a")


def soap_identity() -> Identity:
    return identity("rsa", "a")


def saml_response(
    ident: Identity | None = None,
    *,
    policy: AlgorithmPolicy = A.EIDAS_1_3,
    algorithm: str | None = None,
    digest: str | None = None,
    key_info: etree._Element | str | None = "x509",
    transforms: tuple[Transform, ...] = ENVELOPED,
) -> bytes:
    """The Response with an enveloped signature inside the Assertion (after its Issuer), serialized."""
    ident = ident or saml_identity()
    root = parse_xml(SAML_TEMPLATE).getroot()
    assertion = root.find("saml:Assertion", NS)
    info = x509_data([ident.cert]) if key_info == "x509" else key_info
    sign(
        assertion,
        [ReferenceSpec(element=assertion, transforms=transforms, digest=digest)],
        ident.signer,
        SignOptions(policy=policy, signature_algorithm=algorithm, key_info=info),
        index=1,
    )
    return etree.tostring(root)


def soap_envelope(
    ident: Identity | None = None,
    *,
    policy: AlgorithmPolicy = A.EDELIVERY_AS4_1_15,
    algorithm: str | None = None,
    key_info: etree._Element | str | None = "bst",
    digest: str | None = None,
    transforms: tuple[Transform, ...] = (Transform(A.EXC_C14N),),
) -> bytes:
    """The envelope with a BinarySecurityToken and a detached signature over Messaging and Body."""
    ident = ident or soap_identity()
    root = parse_xml(SOAP_TEMPLATE).getroot()
    security = root.find(".//wsse:Security", NS)
    if key_info == "bst":
        security.append(binary_security_token(ident.cert, TOKEN_ID))
        info = token_reference(token_id=TOKEN_ID)
    else:
        info = key_info
    sign(
        security,
        [ReferenceSpec(element=root.find(path, NS), transforms=transforms, digest=digest)
         for path in (".//eb:Messaging", "S12:Body")],
        ident.signer,
        SignOptions(policy=policy, signature_algorithm=algorithm, key_info=info),
    )
    return etree.tostring(root)


def attacked(data: bytes, mutate: Callable[[etree._Element], object]) -> etree._Element:
    """Apply ``mutate`` to a parsed copy, serialize, and parse the result again with the hardened parser."""
    root = parse_xml(data).getroot()
    mutate(root)
    return parse_xml(etree.tostring(root)).getroot()


def the_signature(root: etree._Element) -> etree._Element:
    signatures = list(root.iter(q(ns.DS, "Signature")))
    assert len(signatures) == 1
    return signatures[0]


def verify_saml(root: etree._Element, policy: AlgorithmPolicy = A.EIDAS_1_3, **kw) -> VerifiedSignature:
    return verify(the_signature(root), use_certificate(saml_identity().cert), policy, **kw)


def verify_soap(root: etree._Element, policy: AlgorithmPolicy = A.EDELIVERY_AS4_1_15) -> VerifiedSignature:
    return verify(the_signature(root), use_certificate(soap_identity().cert), policy)


def signature_error(code: str, call: Callable[[], object]) -> SignatureError:
    with pytest.raises(SignatureError) as caught:
        call()
    assert caught.value.code == code, caught.value
    return caught.value


def key_error(code: str, call: Callable[[], object]) -> KeyResolutionError:
    with pytest.raises(KeyResolutionError) as caught:
        call()
    assert caught.value.code == code, caught.value
    return caught.value


def forged_assertion(original: etree._Element, new_id: str | None) -> etree._Element:
    """A copy of the Assertion, without its signature, naming someone else (and with another ID if given)."""
    forged = copy.deepcopy(original)
    for signature in forged.findall("ds:Signature", NS):
        forged.remove(signature)
    forged.find(".//saml:NameID", NS).text = "mallory@evil.example"
    if new_id is not None:
        forged.set("ID", new_id)
    return forged


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


# --- keys -----------------------------------------------------------------------------------------------

def test_wrong_key_of_the_same_type_is_an_invalid_signature() -> None:
    root = parse_xml(saml_response(key_info=None)).getroot()
    other = identity("p256", "b")
    signature_error("XMLDSIG_SIGNATURE_INVALID",
                    lambda: verify(the_signature(root), use_certificate(other.cert), A.EIDAS_1_3))
    signature_error("XMLDSIG_SIGNATURE_INVALID",
                    lambda: verify(the_signature(root), lambda info: ResolvedKey(other.cert.public_key()), A.EIDAS_1_3))
    root = parse_xml(soap_envelope(key_info=None)).getroot()
    signature_error("XMLDSIG_SIGNATURE_INVALID", lambda: verify(
        the_signature(root), use_certificate(identity("rsa", "b").cert), A.EDELIVERY_AS4_1_15))


def test_keyinfo_naming_another_certificate_is_a_key_mismatch() -> None:
    root = parse_xml(saml_response()).getroot()
    key_error("XMLDSIG_KEY_MISMATCH",
              lambda: verify(the_signature(root), use_certificate(identity("p256", "b").cert), A.EIDAS_1_3))
    root = parse_xml(soap_envelope()).getroot()
    key_error("XMLDSIG_KEY_MISMATCH",
              lambda: verify(the_signature(root), use_certificate(identity("rsa", "b").cert), A.EDELIVERY_AS4_1_15))


def test_keyinfo_swapped_for_an_attackers_certificate_is_a_key_mismatch() -> None:
    attacker = identity("p256", "b")

    def mutate(root: etree._Element) -> None:
        signature = the_signature(root)
        signature.find(".//ds:X509Certificate", NS).text = base64.b64encode(attacker.der).decode()

    root = attacked(saml_response(), mutate)
    key_error("XMLDSIG_KEY_MISMATCH", lambda: verify_saml(root))


def test_match_candidates_with_none_matching_is_untrusted() -> None:
    root = parse_xml(saml_response()).getroot()
    others = [identity("p256", "b").cert, identity("rsa", "a").cert, identity("ed25519", "a").cert]
    key_error("XMLDSIG_KEY_UNTRUSTED", lambda: verify(the_signature(root), match_candidates(others), A.EIDAS_1_3))
    key_error("XMLDSIG_KEY_UNTRUSTED", lambda: verify(the_signature(root), match_candidates([]), A.EIDAS_1_3))
    verified = verify(the_signature(root), match_candidates([*others, saml_identity().cert]), A.EIDAS_1_3)
    assert verified.certificate == saml_identity().cert


class TrustStoreRefusal(Exception):
    """What a trust store's path validation raises: a message and a stable code."""

    def __init__(self, code: str) -> None:
        super().__init__(f"path validation failed: {code}")
        self.code = code


@pytest.mark.parametrize("code", ["PKI_CERT_EXPIRED", "PKI_CERT_REVOKED", "PKI_CERT_UNTRUSTED"])
def test_trusted_certificate_carries_the_trust_stores_refusal_code(code: str) -> None:
    seen: list[tuple[x509.Certificate, list[x509.Certificate]]] = []

    def validate(leaf: x509.Certificate, others) -> None:
        seen.append((leaf, list(others)))
        raise TrustStoreRefusal(code)

    root = parse_xml(saml_response()).getroot()
    error = key_error(code, lambda: verify(the_signature(root), trusted_certificate(validate), A.EIDAS_1_3))
    assert isinstance(error.__cause__, TrustStoreRefusal)
    assert seen == [(saml_identity().cert, [])]


def test_trusted_certificate_without_a_code_is_untrusted_and_success_verifies() -> None:
    root = parse_xml(soap_envelope()).getroot()

    def refuse(leaf, others) -> None:
        raise RuntimeError("no path to a trust anchor")

    key_error("XMLDSIG_KEY_UNTRUSTED", lambda: verify(the_signature(root), trusted_certificate(refuse),
                                                      A.EDELIVERY_AS4_1_15))
    verified = verify(the_signature(root), trusted_certificate(lambda leaf, others: None), A.EDELIVERY_AS4_1_15)
    assert verified.certificate == soap_identity().cert


def test_trusted_certificate_needs_a_certificate_in_the_message() -> None:
    root = parse_xml(saml_response(key_info=key_value(saml_identity().cert.public_key()))).getroot()
    key_error("XMLDSIG_KEY_UNRESOLVED",
              lambda: verify(the_signature(root), trusted_certificate(lambda leaf, others: None), A.EIDAS_1_3))


def test_trusted_certificate_passes_the_rest_of_the_chain() -> None:
    ident = saml_identity()
    ca = identity("p384", "ca")
    root = parse_xml(saml_response(key_info=x509_data([ident.cert, ca.cert]))).getroot()
    seen = []
    verify(the_signature(root), trusted_certificate(lambda leaf, others: seen.append((leaf, list(others)))),
           A.EIDAS_1_3)
    assert seen == [(ident.cert, [ca.cert])]


@pytest.mark.parametrize(("signed_by", "checked_with"), [
    ("rsa", "p256"), ("p256", "rsa"), ("p256", "ed25519"), ("ed25519", "p256"), ("ed25519", "rsa"),
])
def test_certificate_whose_key_type_does_not_match_the_signature_method_is_a_key_mismatch(
    signed_by: str, checked_with: str
) -> None:
    root = parse_xml(saml_response(identity(signed_by, "a"), policy=A.MODERN,
                                   algorithm={"rsa": A.RSA_PSS_SHA256, "p256": A.ECDSA_SHA256,
                                              "ed25519": A.EDDSA_ED25519}[signed_by],
                                   key_info=None)).getroot()
    with pytest.raises(KeyMismatch):
        verify(the_signature(root), use_certificate(identity(checked_with, "a").cert), A.MODERN)


def test_rsa_1024_keys_are_refused_for_signing() -> None:
    weak = identity("rsa1024", "a")
    root = parse_xml(SAML_TEMPLATE).getroot()
    before = etree.tostring(root)
    assertion = root.find("saml:Assertion", NS)
    with pytest.raises(KeyMismatch):
        sign(assertion, [ReferenceSpec(element=assertion, transforms=ENVELOPED)], weak.signer,
             SignOptions(policy=A.SMP, signature_algorithm=A.RSA_SHA256), index=1)
    assert etree.tostring(root) == before


def test_rsa_1024_signatures_are_refused_for_verification() -> None:
    weak = identity("rsa1024", "a")
    strong = identity("rsa", "a")
    root = parse_xml(saml_response(strong, policy=A.SMP, algorithm=A.RSA_SHA256, key_info=None)).getroot()
    signature = the_signature(root)
    signed_info = signature.find("ds:SignedInfo", NS)
    c14n = signed_info.find("ds:CanonicalizationMethod", NS)
    data = canonicalize(signed_info, c14n.get("Algorithm"), read_prefix_list(c14n))
    # made with cryptography directly: pki.primitives refuses to sign with a 1024-bit key
    signature.find("ds:SignatureValue", NS).text = base64.b64encode(
        weak.key.sign(data, padding.PKCS1v15(), hashes.SHA256())).decode()
    root = parse_xml(etree.tostring(root)).getroot()
    with pytest.raises(KeyMismatch):
        verify(the_signature(root), use_certificate(weak.cert), A.SMP)


# --- algorithms -----------------------------------------------------------------------------------------

ALL_SIGNATURE_URIS = sorted({*A.SIGNATURES, A.DSA_SHA1, A.HMAC_SHA1, "urn:unknown:signature"})
ALL_DIGEST_URIS = sorted({*A.DIGESTS, "http://www.w3.org/2001/04/xmldsig-more#md5", "urn:unknown:digest"})
ALL_TRANSFORM_URIS = sorted({
    A.ENVELOPED_SIGNATURE, A.EXC_C14N, A.EXC_C14N_WITH_COMMENTS, A.C14N_10, A.C14N_10_WITH_COMMENTS, A.C14N_11,
    A.XPATH_FILTER, A.XSLT, A.ATTACHMENT_CONTENT_TRANSFORM, A.ATTACHMENT_COMPLETE_TRANSFORM,
})
ALL_C14N_URIS = sorted({A.EXC_C14N, A.EXC_C14N_WITH_COMMENTS, A.C14N_10, A.C14N_10_WITH_COMMENTS, A.C14N_11})


def _outside(policy: AlgorithmPolicy, allowed: frozenset[str], everything: list[str]) -> list[str]:
    outside = [uri for uri in everything if uri not in allowed]
    assert outside, f"{policy.name}: nothing to refuse"
    return outside


def _policy_cases(kind: str, everything: list[str]) -> list:
    allowed = {"signature": "signatures", "digest": "digests", "transform": "transforms",
               "canonicalization": "canonicalizations"}[kind]
    return [
        pytest.param(policy, uri, id=f"{policy.name}-{uri.rsplit('/', 1)[-1]}")
        for policy in POLICIES.values()
        for uri in _outside(policy, getattr(policy, allowed), everything)
    ]


def _signing_target() -> tuple[etree._Element, etree._Element, bytes]:
    root = parse_xml(SOAP_TEMPLATE).getroot()
    return root, root.find("S12:Body", NS), etree.tostring(root)


def _refused(kind: str, uri: str, policy: AlgorithmPolicy, call: Callable[[], object]) -> None:
    with pytest.raises(AlgorithmRefused) as caught:
        call()
    assert (caught.value.kind, caught.value.uri, caught.value.policy) == (kind, uri, policy.name)
    assert caught.value.code == "XMLDSIG_ALGORITHM_REFUSED"
    assert uri in str(caught.value) and policy.name in str(caught.value)


@pytest.mark.parametrize(("policy", "uri"), _policy_cases("signature", ALL_SIGNATURE_URIS))
def test_signing_with_a_signature_algorithm_outside_the_policy_is_refused(policy: AlgorithmPolicy, uri: str) -> None:
    root, body, before = _signing_target()
    signer = KeySigner(identity("rsa", "a").key)
    _refused("signature", uri, policy, lambda: sign(
        root.find(".//wsse:Security", NS), [ReferenceSpec(element=body)], signer,
        SignOptions(policy=policy, signature_algorithm=uri)))
    assert signer.calls == 0
    assert etree.tostring(root) == before


@pytest.mark.parametrize(("policy", "uri"), _policy_cases("digest", ALL_DIGEST_URIS))
def test_signing_with_a_digest_outside_the_policy_is_refused(policy: AlgorithmPolicy, uri: str) -> None:
    root, body, before = _signing_target()
    signer = KeySigner(identity("rsa", "a").key)
    _refused("digest", uri, policy, lambda: sign(
        root.find(".//wsse:Security", NS), [ReferenceSpec(element=body, digest=uri)], signer,
        SignOptions(policy=policy, signature_algorithm=sorted(policy.signatures)[0])))
    assert signer.calls == 0
    assert etree.tostring(root) == before  # the Body already has its wsu:Id


@pytest.mark.parametrize(("policy", "uri"), _policy_cases("transform", ALL_TRANSFORM_URIS))
def test_signing_with_a_transform_outside_the_policy_is_refused(policy: AlgorithmPolicy, uri: str) -> None:
    root, body, before = _signing_target()
    signer = KeySigner(identity("rsa", "a").key)
    _refused("transform", uri, policy, lambda: sign(
        root.find(".//wsse:Security", NS), [ReferenceSpec(element=body, transforms=(Transform(uri),))], signer,
        SignOptions(policy=policy, signature_algorithm=sorted(policy.signatures)[0])))
    assert signer.calls == 0
    assert etree.tostring(root) == before


@pytest.mark.parametrize(("policy", "uri"), _policy_cases("canonicalization", ALL_C14N_URIS))
def test_signing_with_a_signedinfo_c14n_outside_the_policy_is_refused(policy: AlgorithmPolicy, uri: str) -> None:
    root, body, before = _signing_target()
    signer = KeySigner(identity("rsa", "a").key)
    misconfigured = dataclasses.replace(policy, default_c14n=uri)
    _refused("canonicalization", uri, misconfigured, lambda: sign(
        root.find(".//wsse:Security", NS), [ReferenceSpec(element=body)], signer,
        SignOptions(policy=misconfigured, signature_algorithm=sorted(policy.signatures)[0])))
    assert signer.calls == 0
    assert etree.tostring(root) == before


def test_a_refused_signing_leaves_the_document_as_it_was() -> None:
    root = parse_xml(b"<r><data>x</data><sec/></r>").getroot()
    before = etree.tostring(root)
    with pytest.raises(AlgorithmRefused):
        sign(root.find("sec"), [ReferenceSpec(element=root.find("data"), digest=A.SHA1)],
             KeySigner(identity("rsa", "a").key), SignOptions(policy=A.EDELIVERY_AS4_1_15))
    assert etree.tostring(root) == before


KEY_FOR = {"rsa": "rsa", "rsa-pss": "rsa", "ecdsa": "p256", "ed25519": "ed25519"}


def _stricter_cases() -> list:
    cases = []
    for policy in POLICIES.values():
        if policy is A.MODERN:
            continue
        for uri in sorted(A.MODERN.signatures - policy.signatures):
            cases.append(pytest.param(policy, "signature", uri, id=f"{policy.name}-signature-{uri.rsplit('#')[-1]}"))
        for uri in sorted(A.MODERN.digests - policy.digests):
            cases.append(pytest.param(policy, "digest", uri, id=f"{policy.name}-digest-{uri.rsplit('#')[-1]}"))
        for uri in sorted(A.MODERN.canonicalizations - policy.canonicalizations):
            cases.append(pytest.param(policy, "canonicalization", uri, id=f"{policy.name}-c14n-{uri.rsplit('/')[-1]}"))
        for uri in sorted({A.ENVELOPED_SIGNATURE, A.C14N_10} - policy.transforms):
            cases.append(pytest.param(policy, "transform", uri, id=f"{policy.name}-transform-{uri.rsplit('/')[-1]}"))
    return cases


@pytest.mark.parametrize(("policy", "kind", "uri"), _stricter_cases())
def test_document_signed_under_modern_is_refused_under_a_stricter_policy(
    policy: AlgorithmPolicy, kind: str, uri: str
) -> None:
    allowed_signature = sorted(policy.signatures & A.MODERN.signatures)[0]
    signature_uri = uri if kind == "signature" else allowed_signature
    ident = identity(KEY_FOR[A.SIGNATURES[signature_uri].family], "a")
    modern = dataclasses.replace(A.MODERN, default_c14n=uri) if kind == "canonicalization" else A.MODERN
    digest = uri if kind == "digest" else None
    # the SAML document where the policy (or the test) wants an enveloped signature, else the detached SOAP one
    if A.ENVELOPED_SIGNATURE in policy.transforms or (kind, uri) == ("transform", A.ENVELOPED_SIGNATURE):
        transforms = ENVELOPED
        if (kind, uri) == ("transform", A.C14N_10):
            transforms = (Transform(A.ENVELOPED_SIGNATURE), Transform(A.C14N_10))
        signed = saml_response(ident, policy=modern, algorithm=signature_uri, digest=digest, key_info=None,
                               transforms=transforms)
    else:
        transforms = (Transform(A.C14N_10),) if (kind, uri) == ("transform", A.C14N_10) else (Transform(A.EXC_C14N),)
        signed = soap_envelope(ident, policy=modern, algorithm=signature_uri, digest=digest, key_info=None,
                               transforms=transforms)
    root = parse_xml(signed).getroot()
    assert verify(the_signature(root), use_certificate(ident.cert), A.MODERN).references  # valid as signed

    _refused(kind, uri, policy, lambda: verify(the_signature(root), use_certificate(ident.cert), policy))


def _never_called(info: KeyInfoData) -> ResolvedKey:
    raise AssertionError("the key resolver ran before the algorithm check")


def _acceptable(policy: AlgorithmPolicy) -> tuple[bytes, Identity]:
    """A document signed with the policy's first signature algorithm, in the form the policy accepts."""
    uri = sorted(policy.signatures)[0]
    ident = identity(KEY_FOR[A.SIGNATURES[uri].family], "a")
    if A.ENVELOPED_SIGNATURE in policy.transforms:
        return saml_response(ident, policy=policy, algorithm=uri), ident
    return soap_envelope(ident, policy=policy, algorithm=uri, key_info=x509_data([ident.cert])), ident


def _weaken(kind: str, ident: Identity) -> tuple[str, Callable[[etree._Element], None]]:
    """Hand-edit a valid signature to a SHA-1 (or DSA/HMAC) algorithm, recomputing what can be recomputed so
    that the signature is as valid as an attacker can make it."""
    def sha1_digest(root: etree._Element) -> None:
        signature = the_signature(root)
        reference = signature.find(".//ds:Reference", NS)
        reference.find("ds:DigestMethod", NS).set("Algorithm", A.SHA1)
        target = find_by_id(root, reference.get("URI")[1:])
        transforms = [Transform(t.get("Algorithm")) for t in reference.findall("ds:Transforms/ds:Transform", NS)]
        octets = element_octets(target, transforms, signature, A.MODERN)
        reference.find("ds:DigestValue", NS).text = base64.b64encode(hashlib.sha1(octets).digest()).decode()
        resign(signature, ident.key)

    def signature_method(uri: str, key: str | None) -> Callable[[etree._Element], None]:
        def mutate(root: etree._Element) -> None:
            signature = the_signature(root)
            signature.find(".//ds:SignatureMethod", NS).set("Algorithm", uri)
            if key is not None:
                resign(signature, identity(key, "a").key)
        return mutate

    return {
        "sha1-digest": (A.SHA1, sha1_digest),
        "rsa-sha1": (A.RSA_SHA1, signature_method(A.RSA_SHA1, "rsa")),
        "ecdsa-sha1": (A.ECDSA_SHA1, signature_method(A.ECDSA_SHA1, "p256")),
        "dsa-sha1": (A.DSA_SHA1, signature_method(A.DSA_SHA1, None)),
        "hmac-sha1": (A.HMAC_SHA1, signature_method(A.HMAC_SHA1, None)),
    }[kind]


@pytest.mark.parametrize("policy", POLICIES.values(), ids=POLICIES.keys())
@pytest.mark.parametrize("kind", ["sha1-digest", "rsa-sha1", "ecdsa-sha1", "dsa-sha1", "hmac-sha1"])
def test_sha1_algorithms_written_into_signedinfo_are_refused_before_any_cryptography(
    policy: AlgorithmPolicy, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed, ident = _acceptable(policy)
    verify(the_signature(parse_xml(signed).getroot()), use_certificate(ident.cert), policy)  # accepted as signed
    uri, mutate = _weaken(kind, ident)
    root = attacked(signed, mutate)

    def no_crypto(*args, **kwargs):
        raise AssertionError("signature cryptography ran before the algorithm check")

    monkeypatch.setattr(primitives, "verify", no_crypto)
    with pytest.raises(AlgorithmRefused) as caught:
        verify(the_signature(root), _never_called, policy)
    assert caught.value.uri == uri
    assert caught.value.kind == ("digest" if kind == "sha1-digest" else "signature")
    assert caught.value.policy == policy.name


@pytest.mark.parametrize("policy", [A.EIDAS_1_3, A.EIDAS_1_4], ids=lambda p: p.name)
@pytest.mark.parametrize("uri", [A.RSA_SHA256, A.RSA_SHA384, A.RSA_SHA512])
def test_rsa_pkcs1_v15_is_refused_under_eidas(policy: AlgorithmPolicy, uri: str) -> None:
    ident = identity("rsa", "a")
    _refused("signature", uri, policy, lambda: saml_response(ident, policy=policy, algorithm=uri))
    root = parse_xml(saml_response(ident, policy=A.MODERN, algorithm=uri)).getroot()
    _refused("signature", uri, policy, lambda: verify(the_signature(root), use_certificate(ident.cert), policy))
    # RSA-PSS with the same key is what eIDAS wants
    root = parse_xml(saml_response(ident, policy=policy, algorithm=A.RSA_PSS_SHA256)).getroot()
    verify(the_signature(root), use_certificate(ident.cert), policy)


def test_ed25519_is_refused_under_edelivery_1_15_and_accepted_under_2_0() -> None:
    ident = identity("ed25519", "a")
    _refused("signature", A.EDDSA_ED25519, A.EDELIVERY_AS4_1_15,
             lambda: soap_envelope(ident, policy=A.EDELIVERY_AS4_1_15, algorithm=A.EDDSA_ED25519))
    root = parse_xml(soap_envelope(ident, policy=A.EDELIVERY_AS4_2_0, algorithm=A.EDDSA_ED25519)).getroot()
    verify(the_signature(root), use_certificate(ident.cert), A.EDELIVERY_AS4_2_0)
    _refused("signature", A.EDDSA_ED25519, A.EDELIVERY_AS4_1_15,
             lambda: verify(the_signature(root), use_certificate(ident.cert), A.EDELIVERY_AS4_1_15))


# --- malformed signatures -------------------------------------------------------------------------------

def _edit_text(
    path: str, edit: Callable[[str], str], *, resign_after: bool = False
) -> Callable[[etree._Element], None]:
    def mutate(root: etree._Element) -> None:
        element = root.find(path, NS)
        element.text = edit(element.text)
        if resign_after:
            resign(the_signature(root), saml_identity().key)
    return mutate


BASE64_DAMAGE = {
    "truncated-1": lambda text: text[:-1],
    "truncated-3": lambda text: text[:-3],
    "truncated-half": lambda text: text[: len(text) // 2 + 1],
    "garbled-char": lambda text: text[:5] + "!" + text[6:],
    "garbled-inserted": lambda text: text[:8] + "*" + text[8:],
    "not-base64": lambda text: "this is not base64",
    "padding-inside": lambda text: text[:4] + "=" + text[4:],
}


@pytest.mark.parametrize("damage", BASE64_DAMAGE.values(), ids=BASE64_DAMAGE.keys())
def test_damaged_base64_in_signaturevalue_is_malformed(damage) -> None:
    root = attacked(saml_response(), _edit_text(".//ds:SignatureValue", damage))
    signature_error("XMLDSIG_MALFORMED", lambda: verify_saml(root))


@pytest.mark.parametrize("damage", BASE64_DAMAGE.values(), ids=BASE64_DAMAGE.keys())
def test_damaged_base64_in_digestvalue_is_malformed(damage) -> None:
    root = attacked(saml_response(), _edit_text(".//ds:DigestValue", damage, resign_after=True))
    signature_error("XMLDSIG_MALFORMED", lambda: verify_saml(root))
    # without a fresh SignatureValue the same edit is an invalid signature over SignedInfo
    root = attacked(saml_response(), _edit_text(".//ds:DigestValue", damage))
    signature_error("XMLDSIG_SIGNATURE_INVALID", lambda: verify_saml(root))


def test_line_wrapped_base64_still_verifies() -> None:
    def wrap(text: str) -> str:
        return "\n" + "\n".join(text[i:i + 76] for i in range(0, len(text), 76)) + "\n"

    root = attacked(saml_response(identity("rsa", "a"), policy=A.MODERN, algorithm=A.RSA_PSS_SHA256,
                                  key_info=None), _edit_text(".//ds:SignatureValue", wrap))
    assert "\n" in root.find(".//ds:SignatureValue", NS).text
    verify(the_signature(root), use_certificate(identity("rsa", "a").cert), A.MODERN)


def _duplicate(path: str, *, resign_after: bool = False) -> Callable[[etree._Element], None]:
    def mutate(root: etree._Element) -> None:
        element = root.find(path, NS)
        element.addnext(copy.deepcopy(element))
        if resign_after:
            resign(the_signature(root), saml_identity().key)
    return mutate


@pytest.mark.parametrize(("path", "resign_after"), [
    (".//ds:SignatureValue", False),
    (".//ds:SignedInfo", False),
    (".//ds:SignatureMethod", False),
    (".//ds:CanonicalizationMethod", False),
    (".//ds:Reference/ds:DigestMethod", False),
    (".//ds:Reference/ds:DigestValue", True),
], ids=["SignatureValue", "SignedInfo", "SignatureMethod", "CanonicalizationMethod", "DigestMethod", "DigestValue"])
def test_duplicated_signature_parts_are_malformed(path: str, resign_after: bool) -> None:
    root = attacked(saml_response(), _duplicate(path, resign_after=resign_after))
    signature_error("XMLDSIG_MALFORMED", lambda: verify_saml(root))


def test_a_signature_value_of_the_wrong_length_is_an_invalid_signature() -> None:
    root = attacked(saml_response(), _edit_text(".//ds:SignatureValue", lambda text: text[:-4]))
    signature_error("XMLDSIG_SIGNATURE_INVALID", lambda: verify_saml(root))


def test_verify_refuses_an_element_that_is_not_a_signature() -> None:
    root = parse_xml(saml_response()).getroot()
    signature_error("XMLDSIG_MALFORMED", lambda: verify(root, use_certificate(saml_identity().cert), A.EIDAS_1_3))


# --- KeyInfo forms --------------------------------------------------------------------------------------

def _key_info_of(root: etree._Element) -> KeyInfoData:
    return parse_key_info(the_signature(root).find("ds:KeyInfo", NS))


@pytest.mark.parametrize("kind", ["rsa", "p256", "p384", "ed25519"])
def test_x509data_round_trip(kind: str) -> None:
    ident = identity(kind, "a")
    root = parse_xml(soap_envelope(ident, policy=A.MODERN, algorithm=_algorithm_for(kind),
                                   key_info=x509_data([ident.cert]))).getroot()
    assert _key_info_of(root).certificates == (ident.cert,)
    for resolver in (use_certificate(ident.cert), match_candidates([identity(kind, "b").cert, ident.cert]),
                     trusted_certificate(lambda leaf, others: None)):
        assert verify(the_signature(root), resolver, A.MODERN).certificate == ident.cert


def _algorithm_for(kind: str) -> str:
    return {"rsa": A.RSA_SHA256, "p256": A.ECDSA_SHA256, "p384": A.ECDSA_SHA384, "p521": A.ECDSA_SHA512,
            "ed25519": A.EDDSA_ED25519}[kind]


@pytest.mark.parametrize("kind", ["rsa", "p256", "p384", "ed25519"])
def test_keyvalue_round_trip(kind: str) -> None:
    ident = identity(kind, "a")
    element = key_value(ident.cert.public_key())
    expected_tag = q(ns.DS11, "DEREncodedKeyValue") if kind == "ed25519" else q(ns.DS, "KeyValue")
    assert element.tag == expected_tag
    root = parse_xml(soap_envelope(ident, policy=A.MODERN, algorithm=_algorithm_for(kind),
                                   key_info=element)).getroot()
    assert _key_info_of(root).public_key == ident.cert.public_key()
    verified = verify(the_signature(root), match_candidates([identity(kind, "b").cert, ident.cert]), A.MODERN)
    assert verified.certificate == ident.cert
    verify(the_signature(root), use_certificate(ident.cert), A.MODERN)
    key_error("XMLDSIG_KEY_MISMATCH",
              lambda: verify(the_signature(root), use_certificate(identity(kind, "b").cert), A.MODERN))


@pytest.mark.parametrize("kind", ["rsa", "p256", "ed25519"])
def test_security_token_reference_to_a_binary_security_token_round_trip(kind: str) -> None:
    ident = identity(kind, "a")
    root = parse_xml(soap_envelope(ident, policy=A.MODERN, algorithm=_algorithm_for(kind))).getroot()
    info = _key_info_of(root)
    assert info.certificates == (ident.cert,) and info.token_id == TOKEN_ID
    for resolver in (use_certificate(ident.cert), match_candidates([ident.cert]),
                     trusted_certificate(lambda leaf, others: None)):
        assert verify(the_signature(root), resolver, A.MODERN).certificate == ident.cert


def test_security_token_reference_to_a_missing_token() -> None:
    def mutate(root: etree._Element) -> None:
        token = root.find(".//wsse:BinarySecurityToken", NS)
        token.getparent().remove(token)

    key_error("XMLDSIG_KEYINFO_TOKEN", lambda: verify_soap(attacked(soap_envelope(), mutate)))


def test_security_token_reference_to_a_duplicated_token_id() -> None:
    attacker = identity("rsa", "b")

    def mutate(root: etree._Element) -> None:
        token = root.find(".//wsse:BinarySecurityToken", NS)
        token.addprevious(binary_security_token(attacker.cert, TOKEN_ID))

    root = attacked(soap_envelope(), mutate)
    assert len(root.findall(".//wsse:BinarySecurityToken", NS)) == 2
    key_error("XMLDSIG_KEYINFO_TOKEN", lambda: verify_soap(root))
    key_error("XMLDSIG_KEYINFO_TOKEN",
              lambda: verify(the_signature(root), trusted_certificate(lambda leaf, others: None), A.EDELIVERY_AS4_1_15))


@pytest.mark.parametrize("edit", ["value-type", "external-uri", "empty-reference"])
def test_unusable_security_token_references(edit: str) -> None:
    def mutate(root: etree._Element) -> None:
        if edit == "value-type":
            root.find(".//wsse:BinarySecurityToken", NS).set("ValueType", "urn:other-token")
        elif edit == "external-uri":
            root.find(".//wsse:SecurityTokenReference/wsse:Reference", NS).set("URI", "http://attacker.example/t")
        else:
            reference = root.find(".//wsse:SecurityTokenReference", NS)
            for child in list(reference):
                reference.remove(child)

    key_error("XMLDSIG_KEYINFO_TOKEN", lambda: verify_soap(attacked(soap_envelope(), mutate)))


def _issuer_serial(issuer: str, serial: int, *, in_token_reference: bool = False) -> etree._Element:
    data = etree.Element(q(ns.DS, "X509Data"), nsmap={"ds": ns.DS})
    pair = etree.SubElement(data, q(ns.DS, "X509IssuerSerial"))
    etree.SubElement(pair, q(ns.DS, "X509IssuerName")).text = issuer
    etree.SubElement(pair, q(ns.DS, "X509SerialNumber")).text = str(serial)
    if not in_token_reference:
        return data
    reference = etree.Element(q(ns.WSSE, "SecurityTokenReference"), nsmap={"wsse": ns.WSSE})
    reference.append(data)
    return reference


def test_issuer_serial_round_trip() -> None:
    ident = soap_identity()
    root = parse_xml(soap_envelope(ident, key_info=token_reference(issuer_serial_of=ident.cert))).getroot()
    assert _key_info_of(root).issuer_serial == (ident.cert.issuer.rfc4514_string(), ident.cert.serial_number)
    assert verify(the_signature(root), match_candidates([identity("rsa", "b").cert, ident.cert]),
                  A.EDELIVERY_AS4_1_15).certificate == ident.cert
    verify(the_signature(root), use_certificate(ident.cert), A.EDELIVERY_AS4_1_15)


@pytest.mark.parametrize("style", ["rfc2253", "spaced", "lower-keywords", "spaced-lower"])
@pytest.mark.parametrize("in_token_reference", [False, True], ids=["X509Data", "SecurityTokenReference"])
def test_issuer_serial_written_by_java(style: str, in_token_reference: bool) -> None:
    ident = soap_identity()
    issuer = rfc2253_java(ident.cert.issuer, separator=", " if "spaced" in style else ",")
    if "lower" in style:
        issuer = issuer.replace("CN=", "cn=").replace("O=", "o=").replace("C=", "c=")
    if style != "rfc2253":
        assert issuer != ident.cert.issuer.rfc4514_string()
    root = parse_xml(soap_envelope(ident, key_info=_issuer_serial(
        issuer, ident.cert.serial_number, in_token_reference=in_token_reference))).getroot()
    verified = verify(the_signature(root), match_candidates([identity("rsa", "b").cert, ident.cert]),
                      A.EDELIVERY_AS4_1_15)
    assert verified.certificate == ident.cert


@pytest.mark.parametrize("change", ["serial", "issuer"])
def test_issuer_serial_naming_another_certificate(change: str) -> None:
    ident = soap_identity()
    issuer, serial = ident.cert.issuer.rfc4514_string(), ident.cert.serial_number
    if change == "serial":
        serial += 1
    else:
        issuer = issuer.replace("CN=rsa-a", "CN=rsa-b")
        assert issuer != ident.cert.issuer.rfc4514_string()
    root = parse_xml(soap_envelope(ident, key_info=_issuer_serial(issuer, serial))).getroot()
    key_error("XMLDSIG_KEY_UNTRUSTED", lambda: verify(the_signature(root), match_candidates([ident.cert]),
                                                      A.EDELIVERY_AS4_1_15))
    key_error("XMLDSIG_KEY_MISMATCH", lambda: verify(the_signature(root), use_certificate(ident.cert),
                                                     A.EDELIVERY_AS4_1_15))


def test_issuer_serial_written_by_java_for_an_issuer_with_organization_identifier() -> None:
    ca_key = ec_key("ca", "p384")
    ca_name = name("Test QTSP CA", x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, "NTRLV-40003000000"),
                   x509.NameAttribute(NameOID.EMAIL_ADDRESS, "ca@qtsp.example.lv"))
    leaf_key = ec_key("leaf", "p256")
    leaf = certificate(leaf_key, "gateway", issuer=ca_name, issuer_key=ca_key, serial=4242)
    ident = Identity(leaf_key, leaf)
    java_issuer = rfc2253_java(leaf.issuer)
    assert "2.5.4.97=#0c" in java_issuer
    root = parse_xml(saml_response(ident, key_info=_issuer_serial(java_issuer, 4242))).getroot()
    verified = verify(the_signature(root), match_candidates([leaf]), A.EIDAS_1_3)
    assert verified.certificate == leaf


@pytest.mark.parametrize("with_extension", [True, False], ids=["ski-extension", "computed-ski"])
@pytest.mark.parametrize("form", ["X509SKI", "KeyIdentifier"])
def test_subject_key_identifier_round_trip(form: str, with_extension: bool) -> None:
    key = identity("rsa", "a").key
    cert = certificate(key, "ski-test", with_ski=with_extension)
    ident = Identity(key, cert)
    if form == "KeyIdentifier":
        info = token_reference(ski_of=cert)
    else:
        info = etree.Element(q(ns.DS, "X509Data"), nsmap={"ds": ns.DS})
        etree.SubElement(info, q(ns.DS, "X509SKI")).text = base64.b64encode(subject_key_identifier(cert)).decode()
    root = parse_xml(soap_envelope(ident, key_info=info)).getroot()
    assert _key_info_of(root).subject_key_identifier == subject_key_identifier(cert)
    other = identity("rsa", "b").cert
    assert verify(the_signature(root), match_candidates([other, cert]), A.EDELIVERY_AS4_1_15).certificate == cert
    key_error("XMLDSIG_KEY_UNTRUSTED", lambda: verify(the_signature(root), match_candidates([other]),
                                                      A.EDELIVERY_AS4_1_15))


def test_malformed_certificate_in_keyinfo() -> None:
    for text in ("not base64!", base64.b64encode(b"not a certificate").decode()):
        root = attacked(saml_response(), _edit_text(".//ds:X509Certificate", lambda _, t=text: t))
        key_error("XMLDSIG_KEYINFO_MALFORMED", lambda r=root: verify_saml(r))


def _junk_key_info(form: str) -> etree._Element:
    if form == "der-junk":
        element = etree.Element(q(ns.DS11, "DEREncodedKeyValue"), nsmap={"dsig11": ns.DS11})
        element.text = base64.b64encode(b"not a SubjectPublicKeyInfo").decode()
        return element
    if form == "rsa-empty-modulus":
        return etree.fromstring(f'<ds:KeyValue xmlns:ds="{ns.DS}"><ds:RSAKeyValue><ds:Modulus/>'
                                f'<ds:Exponent>AQAB</ds:Exponent></ds:RSAKeyValue></ds:KeyValue>')
    return etree.fromstring(
        f'<ds:KeyValue xmlns:ds="{ns.DS}" xmlns:dsig11="{ns.DS11}"><dsig11:ECKeyValue>'
        f'<dsig11:NamedCurve URI="urn:oid:1.2.840.10045.3.1.7"/><dsig11:PublicKey>BAAAAA==</dsig11:PublicKey>'
        f'</dsig11:ECKeyValue></ds:KeyValue>')


@pytest.mark.parametrize("form", ["der-junk", "rsa-empty-modulus", "ec-bad-point"])
def test_malformed_key_values_are_keyinfo_malformed(form: str) -> None:
    root = parse_xml(saml_response(key_info=_junk_key_info(form))).getroot()
    key_error("XMLDSIG_KEYINFO_MALFORMED", lambda: verify_saml(root))


def test_malformed_serial_number_is_keyinfo_malformed() -> None:
    ident = soap_identity()
    root = parse_xml(soap_envelope(ident, key_info=_issuer_serial(ident.cert.issuer.rfc4514_string(), 0))).getroot()
    root.find(".//ds:X509SerialNumber", NS).text = "0x1F"
    key_error("XMLDSIG_KEYINFO_MALFORMED", lambda: verify_soap(parse_xml(etree.tostring(root)).getroot()))

