"""Test keys, certificates and a Signer for the XML-DSig tests (generated with cryptography, cached per process).

Key generation is the slow part of these tests (RSA especially), so every key is made once per process and
looked up by a name: ``rsa_key("a")`` and ``rsa_key("b")`` are two different RSA-2048 keys.
"""

from __future__ import annotations

import base64
import datetime
import functools
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes, PublicKeyTypes
from cryptography.x509.oid import NameOID
from lxml import etree

from pki import primitives
from pki.xml import ns
from pki.xml.algorithms import SIGNATURES, SignatureAlgorithm
from pki.xml.ns import q
from pki.xml.references import canonicalize, read_prefix_list

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

_CURVES = {"p256": ec.SECP256R1, "p384": ec.SECP384R1, "p521": ec.SECP521R1}


@functools.cache
def rsa_key(name: str = "a", bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@functools.cache
def ec_key(name: str = "a", curve: str = "p256") -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(_CURVES[curve]())


@functools.cache
def ed25519_key(name: str = "a") -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def name(common_name: str, *extra: x509.NameAttribute) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "LV"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Gateway Test"),
        *extra,
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def certificate(
    key: PrivateKey,
    subject: x509.Name | str = "signer",
    *,
    issuer: x509.Name | None = None,
    issuer_key: CertificateIssuerPrivateKeyTypes | None = None,
    serial: int | None = None,
    with_ski: bool = True,
    ca: bool = False,
) -> x509.Certificate:
    """A certificate for ``key``: self-signed, or issued by ``issuer_key`` under the name ``issuer``."""
    subject_name = name(subject) if isinstance(subject, str) else subject
    signing_key = issuer_key if issuer_key is not None else key
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject_name)
        .issuer_name(issuer if issuer is not None else subject_name)
        .public_key(key.public_key())
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
    )
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    if with_ski:
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    algorithm = None if isinstance(signing_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(signing_key, algorithm)


class KeySigner:
    """The Signer port (pki.keys.port.Signer) over a cryptography private key, through pki.primitives.

    ``calls`` counts signing operations, so tests can show a refusal happened before any cryptography."""

    def __init__(self, key: PrivateKey, cert: x509.Certificate | None = None, key_id: str = "test") -> None:
        self.key = key
        self._certificate = cert
        self._key_id = key_id
        self.calls = 0

    @property
    def key_id(self) -> str:
        return self._key_id

    @property
    def family(self) -> str:
        return primitives.key_family(self.key)

    @property
    def certificate(self) -> x509.Certificate | None:
        return self._certificate

    @property
    def public_key(self) -> PublicKeyTypes:
        return self.key.public_key()

    def sign(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        self.calls += 1
        return primitives.sign(self.key, data, algorithm)


@dataclass(frozen=True)
class Identity:
    """A key, its certificate and a Signer for it."""

    key: PrivateKey
    cert: x509.Certificate

    @property
    def signer(self) -> KeySigner:
        return KeySigner(self.key, self.cert)

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


@functools.cache
def identity(kind: str = "rsa", label: str = "a") -> Identity:
    """``kind``: rsa, rsa1024, p256, p384, p521, ed25519. Same (kind, label) → the same identity."""
    if kind == "rsa":
        key: PrivateKey = rsa_key(label)
    elif kind == "rsa1024":
        key = rsa_key(label, 1024)
    elif kind in _CURVES:
        key = ec_key(label, kind)
    elif kind == "ed25519":
        key = ed25519_key(label)
    else:
        raise ValueError(kind)
    return Identity(key, certificate(key, f"{kind}-{label}"))


def resign(signature: etree._Element, key: PrivateKey, algorithm_uri: str | None = None) -> None:
    """Recompute the SignatureValue of a (hand-edited) signature over its current SignedInfo, bypassing every
    policy, so that a test isolates one defect: the signature itself is then cryptographically valid."""
    signed_info = signature.find(q(ns.DS, "SignedInfo"))
    c14n_el = signed_info.find(q(ns.DS, "CanonicalizationMethod"))
    uri = algorithm_uri or signed_info.find(q(ns.DS, "SignatureMethod")).get("Algorithm")
    data = canonicalize(signed_info, c14n_el.get("Algorithm"), read_prefix_list(c14n_el))
    value = primitives.sign(key, data, SIGNATURES[uri])
    signature.find(q(ns.DS, "SignatureValue")).text = base64.b64encode(value).decode()


def rfc2253_java(name_: x509.Name, *, separator: str = ",") -> str:
    """An issuer name the way Java's ``X500Principal.getName()`` (RFC 2253) prints it: most specific RDN first,
    keywords only for CN, L, ST, O, OU, C, STREET, DC, UID, and every other attribute as ``OID=#<hex DER>``."""
    keywords = {
        NameOID.COMMON_NAME: "CN", NameOID.LOCALITY_NAME: "L", NameOID.STATE_OR_PROVINCE_NAME: "ST",
        NameOID.ORGANIZATION_NAME: "O", NameOID.ORGANIZATIONAL_UNIT_NAME: "OU", NameOID.COUNTRY_NAME: "C",
        NameOID.STREET_ADDRESS: "STREET", NameOID.DOMAIN_COMPONENT: "DC", NameOID.USER_ID: "UID",
    }
    parts = []
    for rdn in reversed(list(name_.rdns)):
        attributes = []
        for attribute in rdn:
            if attribute.oid in keywords:
                attributes.append(f"{keywords[attribute.oid]}={_escape_2253(str(attribute.value))}")
            else:
                raw = str(attribute.value).encode()
                tag = attribute._type.value  # the ASN.1 string type (UTF8String 12, PrintableString 19, IA5String 22)
                attributes.append(f"{attribute.oid.dotted_string}=#{bytes([tag, len(raw)]).hex()}{raw.hex()}")
        parts.append("+".join(attributes))
    return separator.join(parts)


def _escape_2253(value: str) -> str:
    escaped = "".join("\\" + ch if ch in ',+"\\<>;' else ch for ch in value)
    if escaped.startswith((" ", "#")):
        escaped = "\\" + escaped
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "
    return escaped


