"""Keys, certificates, decrypters and message builders shared by the key-agreement tests."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from lxml import etree

from pki import primitives
from pki.keys.port import Decrypter
from pki.xml import algorithms as A
from pki.xml import ns
from pki.xml.key_agreement import (
    AgreementSpec,
    agree_for_recipient,
    kek_from_agreement,
)
from pki.xml.keyinfo import KeyInfoData, names_certificate, token_reference
from pki.xml.ns import q
from pki.xml.parser import parse_xml
from tests.pki.xmlkeys import certificate, ec_key

DS11 = ns.DS11
X25519_KEY = x25519.X25519PrivateKey.generate()
CA_KEY = ec_key("key-agreement-ca")
CA_NAME = x509.Name.from_rfc4514_string("CN=Key Agreement Test CA,O=Gateway Test,C=LV")


def _issued(key, subject: str) -> x509.Certificate:  # type: ignore[no-untyped-def]
    return certificate(key, subject, issuer=CA_NAME, issuer_key=CA_KEY)


RECIPIENTS = {
    "x25519": (X25519_KEY, _issued(X25519_KEY, "x25519 recipient")),
    "p256": (ec_key("r256"), _issued(ec_key("r256"), "p256 recipient")),
    "p384": (ec_key("r384", "p384"), _issued(ec_key("r384", "p384"), "p384 recipient")),
    "p521": (ec_key("r521", "p521"), _issued(ec_key("r521", "p521"), "p521 recipient")),
}


class KeyDecrypter:
    """The Decrypter port over a cryptography key; ``calls`` shows whether any agreement was attempted."""

    def __init__(self, key, cert: x509.Certificate | None, key_id: str = "test") -> None:  # type: ignore[no-untyped-def]
        self.key, self.certificate, self.key_id = key, cert, key_id
        self.family = "x25519" if isinstance(key, x25519.X25519PrivateKey) else "ec"
        self.calls = 0

    def decrypt_oaep(self, ciphertext: bytes, hash_name: str, mgf_hash_name: str) -> bytes:
        raise primitives.KeyMismatch("not RSA")

    def exchange(self, peer_public_key) -> bytes:  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.family == "x25519":
            return self.key.exchange(peer_public_key)
        return self.key.exchange(ec.ECDH(), peer_public_key)


class Finder:
    """find_decrypter that insists RecipientKeyInfo names the expected certificate."""

    def __init__(self, decrypter: Decrypter, cert: x509.Certificate) -> None:
        self.decrypter, self.cert, self.calls = decrypter, cert, 0

    def __call__(self, info: KeyInfoData) -> Decrypter:
        self.calls += 1
        assert names_certificate(info, self.cert), info
        return self.decrypter


def _send(name: str, spec: AgreementSpec, policy=A.MODERN, reference=None):  # type: ignore[no-untyped-def]
    _, cert = RECIPIENTS[name]
    return agree_for_recipient(cert, spec, policy, reference if reference is not None
                               else token_reference(issuer_serial_of=cert))


def _reparse(element: etree._Element) -> etree._Element:
    return parse_xml(etree.tostring(element)).getroot()


def _receive(name: str, element: etree._Element, policy=A.MODERN, key_wrap: str = A.KW_AES128,  # type: ignore[no-untyped-def]
             decrypter=None) -> bytes:
    key, cert = RECIPIENTS[name]
    return kek_from_agreement(element, Finder(decrypter or KeyDecrypter(key, cert), cert), policy, key_wrap)


def _find(element: etree._Element, namespace: str, local: str) -> etree._Element:
    found = next(element.iter(q(namespace, local)), None)
    assert found is not None, local
    return found


X25519_HKDF = AgreementSpec(A.X25519, A.HKDF, A.KW_AES128)
ECDH_HKDF = AgreementSpec(A.ECDH_ES, A.HKDF, A.KW_AES128)
ECDH_CONCAT = AgreementSpec(A.ECDH_ES, A.CONCAT_KDF, A.KW_AES128)


