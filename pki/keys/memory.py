"""A Signer over a private key held in memory: for operator tools given a key file, and for tests.

The node's own keys come through a KeyStore (pki/keys/file_store.py); this is the small building block
both use, so the signing code path is the same.
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from pki import primitives
from pki.xml.algorithms import SignatureAlgorithm


class InMemorySigner:
    def __init__(self, private_key: PrivateKeyTypes, certificate: x509.Certificate | None = None,
                 key_id: str = "memory") -> None:
        self._private_key = private_key
        self._certificate = certificate
        self._key_id = key_id

    @classmethod
    def from_pem_files(cls, key_path: Path, cert_path: Path | None = None) -> InMemorySigner:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes()) if cert_path else None
        return cls(key, cert, key_path.name)

    @property
    def key_id(self) -> str:
        return self._key_id

    @property
    def family(self) -> str:
        return primitives.key_family(self._private_key)

    @property
    def certificate(self) -> x509.Certificate | None:
        return self._certificate

    @property
    def public_key(self) -> PublicKeyTypes:
        return self._private_key.public_key()  # type: ignore[return-value]

    def sign(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        return primitives.sign(self._private_key, data, algorithm)

    def __repr__(self) -> str:  # never show key material
        return f"InMemorySigner(key_id={self._key_id!r}, family={self.family!r})"
