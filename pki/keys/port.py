"""The key port: what protocol code may ask of a key store, whatever holds the keys (files, an HSM).

Protocol packages depend on these protocols only. The file backend (pki/keys/file_store.py) implements them
now; a PKCS#11 backend implements the same protocols later without any protocol code changing.

Several keys per purpose may be live during a rollover: the newest signs, every live key still decrypts and
verifies, and all of them are published where partners read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol, runtime_checkable

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from pki.xml.algorithms import SignatureAlgorithm


class KeyPurpose(StrEnum):
    AS4_SIGNING = "as4-signing"
    AS4_ENCRYPTION = "as4-encryption"
    TLS_SERVER = "tls-server"
    TLS_CLIENT = "tls-client"
    SAML_SIGNING = "saml-signing"
    SAML_ENCRYPTION = "saml-encryption"
    SMP_SIGNING = "smp-signing"
    AUDIT_SIGNING = "audit-signing"


class KeyNotFound(LookupError):
    code = "PKI_KEY_NOT_FOUND"


@runtime_checkable
class Signer(Protocol):
    """One private key that can sign. ``sign`` returns the XML-DSig wire form (ECDSA: r || s)."""

    @property
    def key_id(self) -> str: ...

    @property
    def family(self) -> str:  # "rsa", "ec", "ed25519"
        ...

    @property
    def certificate(self) -> x509.Certificate | None: ...

    @property
    def public_key(self) -> PublicKeyTypes: ...

    def sign(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes: ...


@runtime_checkable
class Decrypter(Protocol):
    """One private key that can unwrap or agree keys (used by XML encryption, pki issue 2)."""

    @property
    def key_id(self) -> str: ...

    @property
    def family(self) -> str:  # "rsa", "ec", "x25519"
        ...

    @property
    def certificate(self) -> x509.Certificate | None: ...

    def decrypt_oaep(self, ciphertext: bytes, hash_name: str, mgf_hash_name: str) -> bytes: ...

    def exchange(self, peer_public_key: PublicKeyTypes) -> bytes: ...


class KeyStore(Protocol):
    def signer(self, purpose: KeyPurpose, *, family: str | None = None) -> Signer:
        """The current signing key for a purpose (of the given family when several are configured)."""
        ...

    def decrypters(self, purpose: KeyPurpose) -> Sequence[Decrypter]:
        """Every live key of the purpose, newest first (a rollover keeps old ones decrypting)."""
        ...

    def published_certificates(self, purpose: KeyPurpose) -> Sequence[x509.Certificate]:
        """What partners should see for this purpose: every live key's certificate."""
        ...

    def decrypter_for(self, purpose: KeyPurpose | None = None, **named: object) -> Decrypter:
        """The live key a message names: ``certificate=``, ``issuer=`` + ``serial=``, ``ski=`` or ``public_key=``.
        Raises KeyNotFound (also for a revoked key)."""
        ...
