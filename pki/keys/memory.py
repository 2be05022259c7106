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


class InMemoryDecrypter:
    """A Decrypter over a private key held in memory (operator tools given a key file, simulated partners)."""

    def __init__(self, private_key: PrivateKeyTypes, certificate: x509.Certificate | None = None,
                 key_id: str = "memory") -> None:
        self._private_key = private_key
        self._certificate = certificate
        self._key_id = key_id

    @classmethod
    def from_pem_files(cls, key_path: Path, cert_path: Path | None = None) -> InMemoryDecrypter:
        signer = InMemorySigner.from_pem_files(key_path, cert_path)
        return cls(signer._private_key, signer.certificate, signer.key_id)

    @property
    def key_id(self) -> str:
        return self._key_id

    @property
    def family(self) -> str:
        return primitives.key_family(self._private_key)

    @property
    def certificate(self) -> x509.Certificate | None:
        return self._certificate

    def decrypt_oaep(self, ciphertext: bytes, hash_name: str, mgf_hash_name: str) -> bytes:
        return primitives.oaep_decrypt(self._private_key, ciphertext, hash_name, mgf_hash_name, self._key_id)

    def exchange(self, peer_public_key: PublicKeyTypes) -> bytes:
        return primitives.key_exchange(self._private_key, peer_public_key, self._key_id)

    def __repr__(self) -> str:
        return f"InMemoryDecrypter(key_id={self._key_id!r}, family={self.family!r})"
