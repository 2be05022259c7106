"""The key manifest: which keys a node holds, for what, and in which state of their life.

``manifest.json`` is the file backend's single source of truth. Paths in it are relative to its directory, so
a key directory can be moved or copied (a backup, a test fixture) and still load. Writers replace the whole
file atomically; readers notice the change by its mtime, so a rollover made by the CLI reaches a running node.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from pki.keys.files import write_public
from pki.keys.port import KeyPurpose

MANIFEST_FILE = "manifest.json"
MANIFEST_VERSION = 1

FAMILIES = ("rsa", "ec", "ed25519", "x25519")
SIGNING_FAMILIES = frozenset({"rsa", "ec", "ed25519"})
DECRYPTING_FAMILIES = frozenset({"rsa", "ec", "x25519"})
# Keys of these purposes unwrap or agree content keys; every other purpose signs (TLS keys sign handshakes).
ENCRYPTION_PURPOSES = frozenset({KeyPurpose.AS4_ENCRYPTION, KeyPurpose.SAML_ENCRYPTION})


class KeyStatus(StrEnum):
    ACTIVE = "active"  # signs (the newest of its purpose and family), decrypts, is published
    RETIRED = "retired"  # replaced by a rollover: still decrypts and verifies, still published
    REVOKED = "revoked"  # neither: compromised or withdrawn


LIVE = frozenset({KeyStatus.ACTIVE, KeyStatus.RETIRED})


class ManifestError(ValueError):
    code = "PKI_MANIFEST"


def key_id_for(purpose: KeyPurpose | str, family: str, public_key: PublicKeyTypes) -> str:
    """Readable in listings, unique by the public key: ``as4-signing-rsa-3f2a9c01b7de``."""
    spki = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return f"{purpose}-{family}-{hashlib.sha256(spki).hexdigest()[:12]}"


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class KeyEntry:
    key_id: str
    purpose: KeyPurpose
    family: str
    key_file: str  # relative to the manifest's directory; PKCS#8 PEM, mode 0600
    cert_file: str
    created: datetime
    not_after: datetime
    status: KeyStatus = KeyStatus.ACTIVE
    chain_file: str | None = None  # leaf + intermediates, what TLS and WS-Security publish
    signature_algorithm: str | None = None  # preferred XML-DSig URI (RSA-PSS for SAML RSA keys); None: decrypt only
    key_size: int | None = None
    curve: str | None = None
    serial: str | None = None  # certificate serial, hex: what `pki revoke` is given

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["purpose"] = str(self.purpose)
        data["status"] = str(self.status)
        data["created"] = _time(self.created)
        data["not_after"] = _time(self.not_after)
        return {key: value for key, value in data.items() if value is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str) -> KeyEntry:
        key_id = data.get("key_id", "?")
        try:
            family = data["family"]
            if family not in FAMILIES:
                raise ValueError(f"family must be one of {', '.join(FAMILIES)} (got {family!r})")
            return cls(
                key_id=str(data["key_id"]),
                purpose=KeyPurpose(data["purpose"]),
                family=family,
                key_file=str(data["key_file"]),
                cert_file=str(data["cert_file"]),
                created=datetime.fromisoformat(data["created"]),
                not_after=datetime.fromisoformat(data["not_after"]),
                status=KeyStatus(data.get("status", KeyStatus.ACTIVE)),
                chain_file=data.get("chain_file"),
                signature_algorithm=data.get("signature_algorithm"),
                key_size=data.get("key_size"),
                curve=data.get("curve"),
                serial=data.get("serial"),
            )
        except KeyError as exc:
            raise ManifestError(f"{where}: key {key_id!r}: missing field {exc.args[0]!r}") from None
        except (ValueError, TypeError) as exc:
            raise ManifestError(f"{where}: key {key_id!r}: {exc}") from None

    @property
    def live(self) -> bool:
        return self.status in LIVE


@dataclass(slots=True)
class Manifest:
    keys: list[KeyEntry] = field(default_factory=list)
    node_id: str | None = None

    def __iter__(self) -> Iterator[KeyEntry]:
        return iter(self.keys)

    def get(self, key_id: str) -> KeyEntry:
        for entry in self.keys:
            if entry.key_id == key_id:
                return entry
        raise KeyError(key_id)

    def newest_first(self, entries: Iterable[KeyEntry]) -> list[KeyEntry]:
        # Position breaks ties between keys created in the same second: later in the file is newer.
        order = {entry.key_id: index for index, entry in enumerate(self.keys)}
        return sorted(entries, key=lambda e: (e.created, order.get(e.key_id, -1)), reverse=True)

    def add(self, entry: KeyEntry, *, retire_previous: bool = True) -> None:
        """Add a key; the purpose's previous active key of the same family becomes retired (a rollover)."""
        if any(existing.key_id == entry.key_id for existing in self.keys):
            raise ManifestError(f"key {entry.key_id!r} is already in the manifest")
        if retire_previous and entry.status is KeyStatus.ACTIVE:
            self.keys = [
                replace(e, status=KeyStatus.RETIRED)
                if e.purpose == entry.purpose and e.family == entry.family and e.status is KeyStatus.ACTIVE else e
                for e in self.keys
            ]
        self.keys.append(entry)

    def set_status(self, key_id: str, status: KeyStatus) -> KeyEntry:
        for index, entry in enumerate(self.keys):
            if entry.key_id == key_id:
                self.keys[index] = replace(entry, status=status)
                return self.keys[index]
        raise KeyError(key_id)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"version": MANIFEST_VERSION}
        if self.node_id:
            data["node_id"] = self.node_id
        data["keys"] = [entry.to_json() for entry in self.keys]
        return data

    @classmethod
    def from_json(cls, data: Any, where: str) -> Manifest:
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise ManifestError(f"{where}: expected an object with a 'keys' list")
        if data.get("version") != MANIFEST_VERSION:
            raise ManifestError(f"{where}: unsupported manifest version {data.get('version')!r}")
        keys = [KeyEntry.from_json(item, where) for item in data["keys"]]
        seen: set[str] = set()
        for entry in keys:
            if entry.key_id in seen:
                raise ManifestError(f"{where}: key {entry.key_id!r} listed twice")
            seen.add(entry.key_id)
        return cls(keys=keys, node_id=data.get("node_id"))

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ManifestError(f"{path}: key manifest not found (run `gateway-node pki init`?)") from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ManifestError(f"{path}: not valid JSON: {exc}") from None
        return cls.from_json(data, str(path))

    def save(self, path: Path) -> None:
        write_public(path, (json.dumps(self.to_json(), indent=2) + "\n").encode())
