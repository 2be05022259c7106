"""Interop with independent implementations, both ways: python-xmlsec (libxmlsec1 1.3.9) and signxml.

Neither is used by production code; here they are oracles. Also: a real WSS4J-signed message from phase4,
and RFC 8032 known answers for Ed25519 (which neither oracle implements).
"""

from __future__ import annotations

import datetime

import pytest
import signxml
import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from pki import primitives
from pki.xml import algorithms as A
from pki.xml import ns
from pki.xml.algorithms import SIGNATURES
from pki.xml.keyinfo import ResolvedKey, binary_security_token, token_reference, use_certificate, x509_data
from pki.xml.parser import parse_xml
from pki.xml.references import SignatureError, Transform
from pki.xml.signing import ReferenceSpec, SignOptions, sign
from pki.xml.verification import verify
from tests.conftest import VECTORS_DIR

VECTORS = VECTORS_DIR / "as4-phase4-testfiles"
SAML = b"""<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r1" Version="2.0">
  <saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" Version="2.0">
    <saml:Issuer>https://idp.example.lv</saml:Issuer>
    <saml:Subject><saml:NameID>LV/DE/12345</saml:NameID></saml:Subject>
  </saml:Assertion>
</samlp:Response>"""


class KeySigner:
    """A Signer over a cryptography key (the file backend does the same through pki.primitives)."""

    def __init__(self, key, certificate: x509.Certificate) -> None:
        self._key = key
        self.certificate = certificate
        self.key_id = "test"
        self.family = primitives.key_family(key)
        self.public_key = key.public_key()

    def sign(self, data: bytes, algorithm) -> bytes:
        return primitives.sign(self._key, data, algorithm)


def _certificate(key) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "LV"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "interop")])
    now = datetime.datetime.now(datetime.UTC)
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2)).sign(key, algorithm)
    )


@pytest.fixture(scope="module")
def keys() -> dict[str, KeySigner]:
    made = {
        "rsa": rsa.generate_private_key(65537, 2048),
        "p256": ec.generate_private_key(ec.SECP256R1()),
        "p384": ec.generate_private_key(ec.SECP384R1()),
        "p521": ec.generate_private_key(ec.SECP521R1()),
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
    }
    return {name: KeySigner(key, _certificate(key)) for name, key in made.items()}


def _pem_key(signer: KeySigner) -> bytes:
    return signer._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())


def _pem_cert(signer: KeySigner) -> bytes:
    return signer.certificate.public_bytes(serialization.Encoding.PEM)


ORACLE_CASES = [
    ("rsa", A.RSA_SHA256), ("rsa", A.RSA_SHA384), ("rsa", A.RSA_SHA512),
    ("rsa", A.RSA_PSS_SHA256), ("rsa", A.RSA_PSS_SHA384), ("rsa", A.RSA_PSS_SHA512),
    ("p256", A.ECDSA_SHA256), ("p384", A.ECDSA_SHA384), ("p521", A.ECDSA_SHA512),
]


def _our_enveloped(signer: KeySigner, algorithm: str, digest: str = A.SHA256) -> bytes:
    root = parse_xml(SAML).getroot()
    assertion = root[0]
    transforms = (Transform(A.ENVELOPED_SIGNATURE), Transform(A.EXC_C14N))
    sign(assertion, [ReferenceSpec(element=assertion, transforms=transforms, digest=digest)],
         signer, SignOptions(signature_algorithm=algorithm, key_info=x509_data([signer.certificate])), index=1)
    return etree.tostring(root)


@pytest.mark.parametrize(("key_name", "algorithm"), ORACLE_CASES)
def test_our_signatures_verify_in_xmlsec(keys, key_name: str, algorithm: str) -> None:
    signed = _our_enveloped(keys[key_name], algorithm, A.SHA384 if "384" in algorithm else A.SHA256)
    root = etree.fromstring(signed)
    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_memory(_pem_cert(keys[key_name]), xmlsec.constants.KeyDataFormatCertPem)
    context.register_id(root[0], "ID")
    context.verify(xmlsec.tree.find_node(root, xmlsec.constants.NodeSignature))  # raises when invalid
    tampered = etree.fromstring(signed.replace(b"LV/DE/12345", b"LV/DE/12346"))
    context.register_id(tampered[0], "ID")
    with pytest.raises(xmlsec.Error):
        context.verify(xmlsec.tree.find_node(tampered, xmlsec.constants.NodeSignature))


@pytest.mark.parametrize(("key_name", "algorithm"), ORACLE_CASES)
def test_our_signatures_verify_in_signxml(keys, key_name: str, algorithm: str) -> None:
    signed = _our_enveloped(keys[key_name], algorithm)
    result = signxml.XMLVerifier().verify(signed, x509_cert=_pem_cert(keys[key_name]).decode())
    assert b"LV/DE/12345" in etree.tostring(result.signed_xml)
    with pytest.raises(signxml.exceptions.InvalidSignature):
        signxml.XMLVerifier().verify(signed.replace(b"idp.example.lv", b"idp.evil.lv"),
                                     x509_cert=_pem_cert(keys[key_name]).decode())


_XMLSEC_METHODS = {
    A.RSA_SHA256: xmlsec.constants.TransformRsaSha256, A.RSA_SHA384: xmlsec.constants.TransformRsaSha384,
    A.RSA_SHA512: xmlsec.constants.TransformRsaSha512, A.ECDSA_SHA256: xmlsec.constants.TransformEcdsaSha256,
    A.ECDSA_SHA384: xmlsec.constants.TransformEcdsaSha384, A.ECDSA_SHA512: xmlsec.constants.TransformEcdsaSha512,
}


@pytest.mark.parametrize(("key_name", "algorithm"), ORACLE_CASES)
def test_xmlsec_signatures_verify_in_ours(keys, key_name: str, algorithm: str) -> None:
    root = etree.fromstring(SAML)
    assertion = root[0]
    # RSA-PSS has no constant in python-xmlsec: start from RSA-SHA256 and write the URI in (libxmlsec1 1.3.9
    # registers rsa-pss by href).
    template = xmlsec.template.create(assertion, xmlsec.constants.TransformExclC14N,
                                      _XMLSEC_METHODS.get(algorithm, xmlsec.constants.TransformRsaSha256), ns="ds")
    template.find(f"{{{ns.DS}}}SignedInfo/{{{ns.DS}}}SignatureMethod").set("Algorithm", algorithm)
    assertion.insert(1, template)
    reference = xmlsec.template.add_reference(template, xmlsec.constants.TransformSha256, uri="#_a1")
    xmlsec.template.add_transform(reference, xmlsec.constants.TransformEnveloped)
    xmlsec.template.add_transform(reference, xmlsec.constants.TransformExclC14N)
    xmlsec.template.x509_data_add_certificate(xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(template)))
    context = xmlsec.SignatureContext()
    key = xmlsec.Key.from_memory(_pem_key(keys[key_name]), xmlsec.constants.KeyDataFormatPem)
    key.load_cert_from_memory(_pem_cert(keys[key_name]), xmlsec.constants.KeyDataFormatCertPem)
    context.key = key
    context.register_id(assertion, "ID")
    context.sign(template)
    data = etree.tostring(root)

    document = parse_xml(data).getroot()
    verified = verify(document.find(f".//{{{ns.DS}}}Signature"), use_certificate(keys[key_name].certificate), A.MODERN)
    assert verified.signature_algorithm == algorithm
    assert verified.references[0].element is document[0]
    assert verified.certificate == keys[key_name].certificate
    with pytest.raises(SignatureError) as caught:
        broken = parse_xml(data.replace(b"LV/DE/12345", b"LV/DE/99999")).getroot()
        verify(broken.find(f".//{{{ns.DS}}}Signature"), use_certificate(keys[key_name].certificate), A.MODERN)
    assert caught.value.code == "XMLDSIG_DIGEST_MISMATCH"


@pytest.mark.parametrize(("key_name", "algorithm"), ORACLE_CASES)
def test_signxml_signatures_verify_in_ours(keys, key_name: str, algorithm: str) -> None:
    signer = signxml.XMLSigner(
        signature_algorithm=algorithm, digest_algorithm=A.SHA256,
        c14n_algorithm=signxml.CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    signed = signer.sign(etree.fromstring(SAML), key=_pem_key(keys[key_name]), cert=_pem_cert(keys[key_name]).decode())
    data = etree.tostring(signed)
    document = parse_xml(data).getroot()
    verified = verify(document.find(f".//{{{ns.DS}}}Signature"), use_certificate(keys[key_name].certificate), A.MODERN)
    assert verified.references[0].uri == "#_r1"  # signxml references the root by its ID
    assert verified.references[0].element is document
    broken = parse_xml(data.replace(b"https://idp.example.lv", b"https://idp.evil.lv")).getroot()
    with pytest.raises(SignatureError, match="XMLDSIG_DIGEST_MISMATCH"):
        verify(broken.find(f".//{{{ns.DS}}}Signature"), use_certificate(keys[key_name].certificate), A.MODERN)


def _wss_envelope(signer: KeySigner, policy: A.AlgorithmPolicy) -> bytes:
    """The WS-Security shape AS4 uses: a detached signature over wsu:Id-identified elements, key in a BST."""
    envelope = parse_xml(
        f'<S12:Envelope xmlns:S12="http://www.w3.org/2003/05/soap-envelope"><S12:Header>'
        f'<wsse:Security xmlns:wsse="{ns.WSSE}"/><eb:Messaging xmlns:eb="urn:eb">m</eb:Messaging></S12:Header>'
        f"<S12:Body/></S12:Envelope>".encode()
    ).getroot()
    header, body = envelope[0], envelope[1]
    security, messaging = header[0], header[1]
    security.append(binary_security_token(signer.certificate, "X509-1"))
    sign(security, [ReferenceSpec(element=messaging), ReferenceSpec(element=body)], signer,
         SignOptions(policy=policy, key_info=token_reference(token_id="X509-1"), c14n_prefixes=["S12"]))
    return etree.tostring(envelope)


def _verify_wss(data: bytes, policy: A.AlgorithmPolicy):
    document = parse_xml(data).getroot()

    def from_token(info) -> ResolvedKey:
        assert info.token_id == "X509-1"
        return ResolvedKey(info.certificates[0].public_key(), info.certificates[0])

    verified = verify(document.find(f".//{{{ns.DS}}}Signature"), from_token, policy)
    assert [ref.element.tag for ref in verified.references] == [
        "{urn:eb}Messaging", "{http://www.w3.org/2003/05/soap-envelope}Body"]
    return verified


def test_detached_wss_signature_verifies_in_xmlsec(keys) -> None:
    signer = keys["rsa"]
    data = _wss_envelope(signer, A.EDELIVERY_AS4_1_15)

    root = etree.fromstring(data)
    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_memory(_pem_cert(signer), xmlsec.constants.KeyDataFormatCertPem)
    for element in root.iter():
        if element.get(f"{{{ns.WSU}}}Id"):
            context.register_id(element, "Id", ns.WSU)
    context.verify(xmlsec.tree.find_node(root, xmlsec.constants.NodeSignature))
    _verify_wss(data, A.EDELIVERY_AS4_1_15)


# --- Ed25519 (RFC 9231): neither oracle implements it ------------------------------------------------------

RFC8032_VECTORS = [  # RFC 8032 §7.1, TEST 1-3: secret key, public key, message, signature
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
]


@pytest.mark.parametrize(("secret", "public", "message", "signature"), RFC8032_VECTORS)
def test_ed25519_known_answers(secret: str, public: str, message: str, signature: str) -> None:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret))
    algorithm = SIGNATURES[A.EDDSA_ED25519]
    assert primitives.sign(key, bytes.fromhex(message), algorithm).hex() == signature
    public_key = ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(public))
    assert primitives.verify(public_key, bytes.fromhex(signature), bytes.fromhex(message), algorithm)
    forged = bytearray(bytes.fromhex(signature))
    forged[0] ^= 1
    assert not primitives.verify(public_key, bytes(forged), bytes.fromhex(message), algorithm)


def test_ed25519_xml_round_trips(keys) -> None:
    signer = keys["ed25519"]
    verified = _verify_wss(_wss_envelope(signer, A.EDELIVERY_AS4_2_0), A.EDELIVERY_AS4_2_0)
    assert verified.signature_algorithm == A.EDDSA_ED25519
    with pytest.raises(A.AlgorithmRefused):
        _verify_wss(_wss_envelope(signer, A.EDELIVERY_AS4_2_0), A.EDELIVERY_AS4_1_15)

    signed = _our_enveloped(signer, A.EDDSA_ED25519)  # the SAML shape, under eIDAS 1.4 which admits EdDSA
    document = parse_xml(signed).getroot()
    signature = document.find(f".//{{{ns.DS}}}Signature")
    assert verify(signature, use_certificate(signer.certificate), A.EIDAS_1_4).references[0].element is document[0]
    with pytest.raises(A.AlgorithmRefused):
        verify(signature, use_certificate(signer.certificate), A.EIDAS_1_3)
    tampered = parse_xml(signed.replace(b"LV/DE/12345", b"LV/DE/54321")).getroot()
    with pytest.raises(SignatureError, match="XMLDSIG_DIGEST_MISMATCH"):
        verify(tampered.find(f".//{{{ns.DS}}}Signature"), use_certificate(signer.certificate), A.EIDAS_1_4)


# --- a real message signed by phase4 (Apache WSS4J / Santuario) ------------------------------------------

def _from_message(info) -> ResolvedKey:
    return ResolvedKey(info.certificates[0].public_key(), info.certificates[0])


def test_phase4_signed_receipt_verifies() -> None:
    document = parse_xml((VECTORS / "TestReceipt11.xml").read_bytes()).getroot()
    verified = verify(document.find(f".//{{{ns.DS}}}Signature"), _from_message, A.EDELIVERY_AS4_1_15)
    assert verified.certificate.subject.rfc4514_string() == "CN=ph-as4,C=AT"
    body = document.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    assert verified.references[0].element is body


@pytest.mark.parametrize(("name", "kind"), [("WrongSigningAlgorithm.xml", "signature"),
                                            ("WrongSigningDigestAlgorithm.xml", "digest")])
def test_phase4_wrong_algorithm_messages_are_refused(name: str, kind: str) -> None:
    document = parse_xml((VECTORS / name).read_bytes()).getroot()
    with pytest.raises(A.AlgorithmRefused) as caught:
        verify(document.find(f".//{{{ns.DS}}}Signature"), _from_message, A.EDELIVERY_AS4_1_15)
    assert caught.value.kind == kind and caught.value.code == "XMLDSIG_ALGORITHM_REFUSED"
