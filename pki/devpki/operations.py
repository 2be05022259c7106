"""What the ``gateway-node pki`` verbs do: init, issue (for simulated partners), rollover, revoke, refresh CRLs.

Every function takes the time as an argument (default: now) so tests can make expired or not-yet-valid
material with the same code that makes the real thing.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from pki.devpki.authority import DevCa, DevPkiError, PkiLayout, name, serial_hex
from pki.devpki.profiles import DEFAULT_FAMILIES, LeafProfile, ProfileError, profile_for
from pki.keys.files import certificates_pem, private_pem, write_private, write_public
from pki.keys.manifest import KeyEntry, KeyStatus, Manifest, ManifestError, key_id_for
from pki.keys.port import KeyPurpose
from pki.primitives import key_family

__all__ = ["DevPkiError", "IssuedKey", "init_pki", "issue_partner", "refresh_crls", "revoke", "rollover"]


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A key written into a key directory, with where its files are."""

    entry: KeyEntry
    directory: Path
    certificate: x509.Certificate

    @property
    def key_file(self) -> Path:
        return self.directory / self.entry.key_file

    @property
    def cert_file(self) -> Path:
        return self.directory / self.entry.cert_file

    @property
    def chain_file(self) -> Path:
        return self.directory / (self.entry.chain_file or self.entry.cert_file)

    def to_json(self) -> dict[str, Any]:
        return {**self.entry.to_json(), "directory": str(self.directory),
                "subject": self.certificate.subject.rfc4514_string()}


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)


def _family_matches(profile: LeafProfile, key: PrivateKeyTypes) -> bool:
    actual = key_family(key)
    return actual == profile.family or (profile.family == "x25519" and actual == "X25519PrivateKey")


def _write_key(directory: Path, manifest: Manifest, ca: DevCa, profile: LeafProfile, subject: x509.Name,
               now: datetime, *, holder: str, key: PrivateKeyTypes | None = None, days: int | None = None,
               hostnames: Sequence[str] = ()) -> IssuedKey:
    """Generate (or adopt) a key, certify it under the issuing CA, write files, add it to the manifest."""
    if key is None:
        key = profile.generate_key()
    elif not _family_matches(profile, key):
        raise ProfileError(f"cannot adopt an {key_family(key)} key as {profile.purpose} {profile.family}")
    public_key = key.public_key()
    cert = ca.intermediate.issue_leaf(profile, subject, public_key, now, days=days, hostnames=hostnames)  # type: ignore[arg-type]
    key_id = key_id_for(profile.purpose, profile.family, public_key)  # type: ignore[arg-type]
    entry = KeyEntry(
        key_id=key_id, purpose=profile.purpose, family=profile.family,
        key_file=f"keys/{key_id}.pem", cert_file=f"certs/{key_id}.pem", chain_file=f"certs/{key_id}.chain.pem",
        created=now, not_after=cert.not_valid_after_utc, status=KeyStatus.ACTIVE,
        signature_algorithm=profile.signature_algorithm, key_size=profile.key_size, curve=profile.curve,
        serial=serial_hex(cert.serial_number),
    )
    write_private(directory / entry.key_file, private_pem(key))
    write_public(directory / entry.cert_file, certificates_pem([cert]))
    write_public(directory / (entry.chain_file or ""), certificates_pem([cert, ca.intermediate.certificate]))
    manifest.add(entry)  # retires the previous active key of this purpose and family: that is a rollover
    ca.state.record_issue(cert, "intermediate", holder, key_id)
    return IssuedKey(entry, directory, cert)


def _node_subject(ca: DevCa, profile: LeafProfile) -> x509.Name:
    node_id = ca.state.node_id
    return name(f"{node_id} {profile.purpose} {profile.family}", node_id, ca.state.country, "Gateway node")


def init_pki(directory: str | Path, *, node_id: str, hostnames: Sequence[str] = ("localhost",), country: str = "LV",
             force: bool = False, now: datetime | None = None,
             adopt: Mapping[KeyPurpose, PrivateKeyTypes] | None = None) -> list[IssuedKey]:
    """Create the dev CA and every node key of :data:`DEFAULT_FAMILIES`.

    Refuses to touch an existing PKI unless ``force`` (then only the files this module owns are replaced).
    ``adopt`` puts existing keys under the PKI instead of new ones (the audit key the node already signs with).
    """
    layout = PkiLayout(Path(directory))
    adopt = dict(adopt or {})
    for purpose, key in adopt.items():
        if not any(_family_matches(profile_for(purpose, f), key) for f in DEFAULT_FAMILIES[KeyPurpose(purpose)]):
            raise ProfileError(f"cannot adopt an {key_family(key)} key for {purpose} "
                               f"(the dev PKI uses {', '.join(DEFAULT_FAMILIES[KeyPurpose(purpose)])})")
    if layout.exists():
        if not force:
            raise DevPkiError(f"{layout.root}: a PKI already exists here (use --force to replace it)")
        for owned in ("keys", "certs", "ca", "trust"):
            shutil.rmtree(layout.root / owned, ignore_errors=True)
        layout.manifest.unlink(missing_ok=True)
    now = _now(now)
    layout.root.mkdir(parents=True, exist_ok=True, mode=0o700)
    ca = DevCa.create(layout.root, node_id, country, list(hostnames), now)
    manifest = Manifest(node_id=node_id)
    issued = []
    for purpose, families in DEFAULT_FAMILIES.items():
        for family in families:
            profile = profile_for(purpose, family)
            candidate = adopt.get(purpose)
            key = adopt.pop(purpose) if candidate is not None and _family_matches(profile, candidate) else None
            issued.append(_write_key(layout.root, manifest, ca, profile, _node_subject(ca, profile), now,
                                     holder="node", key=key, hostnames=hostnames if profile.needs_san else ()))
    manifest.save(layout.manifest)
    ca.save()
    return issued


def _load_manifest(path: Path) -> Manifest:
    return Manifest.load(path) if path.exists() else Manifest()


def rollover(directory: str | Path, purpose: KeyPurpose | str, *, family: str | None = None,
             now: datetime | None = None) -> list[IssuedKey]:
    """New keys for the purpose become active; the keys they replace become retired (still decrypt/verify)."""
    ca = DevCa.load(Path(directory))
    manifest = Manifest.load(ca.layout.manifest)
    purpose = KeyPurpose(profile_for(purpose).purpose)
    families = [family] if family else sorted(
        {e.family for e in manifest if e.purpose == purpose and e.status is KeyStatus.ACTIVE}
    ) or list(DEFAULT_FAMILIES[purpose])
    now = _now(now)
    issued = []
    for fam in families:
        profile = profile_for(purpose, fam)
        issued.append(_write_key(ca.layout.root, manifest, ca, profile, _node_subject(ca, profile), now,
                                 holder="node", hostnames=ca.state.hostnames if profile.needs_san else ()))
    manifest.save(ca.layout.manifest)
    ca.save()
    return issued


def issue_partner(directory: str | Path, out: str | Path, *, partner: str, purpose: KeyPurpose | str,
                  family: str | None = None, hostnames: Sequence[str] = (), country: str = "LV",
                  days: int | None = None, now: datetime | None = None) -> IssuedKey:
    """A leaf for a simulated partner, under this dev CA, in ``out`` (its own manifest, key 0600, cert, chain).

    ``out`` is itself a key directory, so a simulated partner signs and decrypts through FileKeyStore too.
    ``days`` (and ``now``) may make already-expired or not-yet-valid certificates for negative tests.
    """
    if not partner.strip():
        raise DevPkiError("a partner name is required")
    ca = DevCa.load(Path(directory))
    profile = profile_for(purpose, family)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    manifest = _load_manifest(out / "manifest.json")
    if manifest.node_id is None:
        manifest.node_id = partner
    elif manifest.node_id != partner:
        raise ManifestError(f"{out} holds the keys of {manifest.node_id!r}, not {partner!r}")
    if profile.needs_san and not hostnames:
        hostnames = ("localhost",)
    subject = name(f"{partner} {profile.purpose} {profile.family}", partner, country, "Simulated partner")
    issued = _write_key(out, manifest, ca, profile, subject, _now(now), holder=partner, days=days,
                        hostnames=hostnames)
    manifest.save(out / "manifest.json")
    ca.save()
    return issued


def revoke(directory: str | Path, serial: int, *, reason: str = "unspecified",
           now: datetime | None = None) -> dict[str, Any]:
    """Put a serial this CA issued on its issuer's CRL; a node key with that serial becomes ``revoked``."""
    ca = DevCa.load(Path(directory))
    record = ca.revoke(serial, _now(now), reason)
    if ca.layout.manifest.exists():
        manifest = Manifest.load(ca.layout.manifest)
        for entry in manifest:
            if entry.serial and int(entry.serial, 16) == serial:
                manifest.set_status(entry.key_id, KeyStatus.REVOKED)
                record["key_id"] = entry.key_id
                manifest.save(ca.layout.manifest)
                break
    return record


def refresh_crls(directory: str | Path, *, now: datetime | None = None) -> list[Path]:
    """Re-sign both CRLs with a fresh next_update (dev CRLs live 30 days)."""
    ca = DevCa.load(Path(directory))
    ca.write_crls(_now(now))
    return [ca.layout.crl("root"), ca.layout.crl("intermediate")]
