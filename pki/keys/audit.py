"""The audit log's signing key through the key port (purpose ``audit-signing``, Ed25519).

The audit log identifies a tree-head key by ``sha256(raw public key)[:16]`` (its ``key_id_of``). These helpers
keep that scheme, so tree heads signed before the key moved into the PKI directory keep verifying, and they use
only the port, so an HSM backend serves the audit log unchanged.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from pki.keys.port import KeyNotFound, KeyPurpose, KeyStore, Signer
from pki.xml.algorithms import EDDSA_ED25519, SIGNATURES

ED25519 = SIGNATURES[EDDSA_ED25519]


def audit_key_id(public_key: Ed25519PublicKey) -> str:
    """The audit log's key id: the same value as ``gateway.audit.keys.key_id_of``."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def audit_signer(store: KeyStore) -> Signer:
    """The active audit-signing key; sign tree heads with ``signer.sign(message, ED25519)``."""
    return store.signer(KeyPurpose.AUDIT_SIGNING, family="ed25519")


def audit_public_keys(store: KeyStore) -> dict[str, Ed25519PublicKey]:
    """Every live audit key (active and retired) by audit key id: verifies heads signed before a rollover."""
    found: dict[str, Ed25519PublicKey] = {}
    for certificate in store.published_certificates(KeyPurpose.AUDIT_SIGNING):
        key = certificate.public_key()
        if isinstance(key, Ed25519PublicKey):
            found[audit_key_id(key)] = key
    if not found:
        raise KeyNotFound("no audit-signing (Ed25519) key is published by the key store")
    return found
