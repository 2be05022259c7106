"""Signers and decrypters over a private key held in memory: for operator tools given a key file, and for tests.

The node's own keys come through a KeyStore (pki/keys/file_store.py); these are the small building blocks,
over the same primitives, so every code path signs and decrypts the same way.
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from pki import primitives
from pki.xml.algorithms import SignatureAlgorithm


class _InMemoryKey:
    def __init__(self, private_key: PrivateKeyTypes, certificate: x509.Certificate | None = None,
                 key_id: str = "memory") -> None:
        self._private_key = private_key
        self._certificate = certificate
        self._key_id = key_id

    @classmethod
    def from_pem_files(cls, key_path: Path, cert_path: Path | None = None):  # type: ignore[no-untyped-def]
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

    def __repr__(self) -> str:  # never show key material
        return f"{type(self).__name__}(key_id={self._key_id!r}, family={self.family!r})"


class InMemorySigner(_InMemoryKey):
    @property
    def public_key(self) -> PublicKeyTypes:
        return self._private_key.public_key()  # type: ignore[return-value]

    def sign(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        return primitives.sign(self._private_key, data, algorithm)


class InMemoryDecrypter(_InMemoryKey):
    def decrypt_oaep(self, ciphertext: bytes, hash_name: str, mgf_hash_name: str) -> bytes:
        return primitives.oaep_decrypt(self._private_key, ciphertext, hash_name, mgf_hash_name, self._key_id)

    def exchange(self, peer_public_key: PublicKeyTypes) -> bytes:
        return primitives.key_exchange(self._private_key, peer_public_key, self._key_id)
