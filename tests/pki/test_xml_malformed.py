"""Malformed signatures and the KeyInfo forms partners send."""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from lxml import etree

from pki.xml import algorithms as A
from pki.xml import ns
from pki.xml.keyinfo import (
    KeyInfoData,
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
from pki.xml.verification import verify
from tests.pki.xmldocs import (
    NS,
    TOKEN_ID,
    attacked,
    key_error,
    saml_identity,
    saml_response,
    signature_error,
    soap_envelope,
    soap_identity,
    the_signature,
    verify_saml,
    verify_soap,
)
from tests.pki.xmlkeys import Identity, certificate, ec_key, identity, name, resign, rfc2253_java

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


