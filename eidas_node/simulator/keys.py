"""Throw-away keys and self-signed certificates for simulated proxy services and tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from pki.keys.memory import InMemoryDecrypter, InMemorySigner


@dataclass(frozen=True)
class KeyPair:
    signer: InMemorySigner
    decrypter: InMemoryDecrypter
    certificate: x509.Certificate
    private_pem: bytes


def make_key(common_name: str, family: str, now: datetime, *, days: int = 365, rsa_bits: int = 3072) -> KeyPair:
    key = ec.generate_private_key(ec.SECP256R1()) if family == "ec" else rsa.generate_private_key(65537, rsa_bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return KeyPair(InMemorySigner(key, cert, common_name), InMemoryDecrypter(key, cert, common_name), cert, pem)
