"""The audit log's keys: an Ed25519 key that signs tree heads, and the secret that keys subject hashes.

The signing key comes through pki's key port (purpose ``audit-signing``) when the node has a PKI
(``gateway-node pki init``, or the first ``serve`` with ``pki.auto_init``); ``pki rollover audit-signing``
then rolls it over and every retired key keeps verifying old tree heads. Without a PKI (a bare data directory,
as in most tests) the node keeps one Ed25519 key in ``keys/`` itself; ``pki init`` adopts that key, so the
heads it signed stay valid. Every public key ever used stays in ``keys/audit-public/``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pki.keys.audit import ED25519, audit_key_id, audit_public_keys, audit_signer
from pki.keys.memory import InMemorySigner
from pki.keys.port import KeyStore, Signer

SIGNING_KEY_FILE = "audit-signing.pem"
SUBJECT_KEY_FILE = "audit-subject.key"
PUBLIC_DIR = "audit-public"

key_id_of = audit_key_id


def write_private(path: Path, data: bytes) -> None:
    """Create a file readable by the owner only, refusing to overwrite an existing key."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def create_private_once(path: Path, data: bytes) -> None:
    """Create a secret file unless it exists, safe when several processes start at once.

    Written to a private temporary file and hard-linked into place: link() fails if another process won
    the race, and nobody ever reads a half-written key.
    """
    if path.exists():
        return
    staging = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    write_private(staging, data)
    try:
        os.link(staging, path)
    except FileExistsError:
        pass
    finally:
        staging.unlink()


@dataclass
class PublicKeyRing:
    """Every audit public key known, by key id: verifies heads signed before and after rollovers."""

    public_keys: dict[str, Ed25519PublicKey]

    def verify(self, key_id: str, signature: bytes, message: bytes) -> bool:
        public = self.public_keys.get(key_id)
        if public is None:
            return False
        try:
            public.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass
class AuditKeys(PublicKeyRing):
    signer: Signer = field(kw_only=True)
    subject_secret: bytes = field(kw_only=True, repr=False)

    @property
    def key_id(self) -> str:
        return audit_key_id(self.signer.public_key)  # type: ignore[arg-type]

    def sign(self, message: bytes) -> bytes:
        return self.signer.sign(message, ED25519)

    def __repr__(self) -> str:  # never print key material
        return f"AuditKeys(key_id={self.key_id!r}, known={sorted(self.public_keys)})"


def load_public_keys(keys_dir: Path) -> dict[str, Ed25519PublicKey]:
    found: dict[str, Ed25519PublicKey] = {}
    for path in sorted((keys_dir / PUBLIC_DIR).glob("*.pem")):
        key = serialization.load_pem_public_key(path.read_bytes())
        if isinstance(key, Ed25519PublicKey):
            found[audit_key_id(key)] = key
    return found


def _record_public(keys_dir: Path, public_key: Ed25519PublicKey) -> None:
    public_dir = keys_dir / PUBLIC_DIR
    public_dir.mkdir(parents=True, exist_ok=True)
    path = public_dir / f"{audit_key_id(public_key)}.pem"
    if not path.exists():
        path.write_bytes(public_key.public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo))


def _own_signer(keys_dir: Path) -> Signer:
    signing_path = keys_dir / SIGNING_KEY_FILE
    if not signing_path.exists():
        create_private_once(signing_path, Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    loaded = serialization.load_pem_private_key(signing_path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise TypeError(f"{signing_path}: expected an Ed25519 private key")
    return InMemorySigner(loaded, key_id=SIGNING_KEY_FILE)


def load_or_create(keys_dir: Path, key_store: KeyStore | None = None) -> AuditKeys:
    """The audit keys: signer from ``key_store`` when the node has a PKI, else the node's own key file."""
    create_private_once(keys_dir / SUBJECT_KEY_FILE, secrets.token_hex(32).encode())
    signer = audit_signer(key_store) if key_store is not None else _own_signer(keys_dir)
    _record_public(keys_dir, signer.public_key)  # type: ignore[arg-type]
    public_keys = load_public_keys(keys_dir)
    if key_store is not None:
        public_keys.update(audit_public_keys(key_store))
    subject_secret = bytes.fromhex((keys_dir / SUBJECT_KEY_FILE).read_text().strip())
    return AuditKeys(public_keys, signer=signer, subject_secret=subject_secret)
