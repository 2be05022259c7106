"""CRLs held in memory: parsed once, signature-checked once per issuer, re-read only when they may have changed.

Fetching CRLs from distribution points is I/O and belongs to the node shell: it writes them into the trust
store's ``crls/`` directory (or hands them to :meth:`CrlCache.add`); this cache notices new files when a held
CRL has gone stale or every ``recheck_after``, whichever comes first. Path validation itself stays free of
network access and of the clock (the validation time is passed in).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

CRL_SUFFIXES = (".crl", ".pem", ".der")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def parse_crl(data: bytes) -> x509.CertificateRevocationList:
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


@dataclass(frozen=True, slots=True)
class HeldCrl:
    crl: x509.CertificateRevocationList
    source: str
    digest: bytes

    @property
    def next_update(self) -> datetime | None:
        return self.crl.next_update_utc


class CrlCache:
    """CRLs from a directory (and/or added in memory), indexed by issuer name."""

    def __init__(self, directory: Path | None = None, *, clock: Callable[[], datetime] = _utcnow,
                 recheck_after: timedelta = timedelta(minutes=5)) -> None:
        self.directory = directory
        self._clock = clock
        self._recheck_after = recheck_after
        self._lock = threading.Lock()
        self._files: dict[Path, tuple[tuple[int, int], HeldCrl]] = {}
        self._memory: list[HeldCrl] = []
        self._scanned_at: datetime | None = None
        self._verified: set[tuple[bytes, bytes]] = set()  # (crl digest, issuer SPKI digest) whose signature held
        self.errors: dict[str, str] = {}  # unreadable files, by path: named in PKI_CRL_MISSING messages
        self.loads = 0  # CRLs parsed so far: tests and metrics see the cache working

    def add(self, data: bytes, source: str = "<memory>") -> x509.CertificateRevocationList:
        crl = parse_crl(data)
        self.loads += 1
        with self._lock:
            held = HeldCrl(crl, source, hashlib.sha256(crl.public_bytes(serialization.Encoding.DER)).digest())
            self._memory = [m for m in self._memory if m.source != source] + [held]
        return crl

    def refresh(self) -> None:
        """Re-scan the directory now (after a fetcher wrote new CRLs)."""
        with self._lock:
            self._scan()

    def _scan(self) -> None:
        self._scanned_at = self._clock()
        if self.directory is None or not self.directory.is_dir():
            self._files.clear()
            return
        seen: dict[Path, tuple[tuple[int, int], HeldCrl]] = {}
        for path in sorted(self.directory.iterdir()):
            if path.suffix.lower() not in CRL_SUFFIXES or not path.is_file():
                continue
            info = path.stat()
            stamp = (info.st_mtime_ns, info.st_size)
            cached = self._files.get(path)
            if cached is not None and cached[0] == stamp:
                seen[path] = cached
                continue
            try:
                data = path.read_bytes()
                crl = parse_crl(data)
            except (OSError, ValueError) as exc:
                self.errors[str(path)] = str(exc)
                continue
            self.loads += 1
            self.errors.pop(str(path), None)
            digest = hashlib.sha256(crl.public_bytes(serialization.Encoding.DER)).digest()
            seen[path] = (stamp, HeldCrl(crl, str(path), digest))
        self._files = seen

    def _held(self) -> list[HeldCrl]:
        return [held for _, held in self._files.values()] + self._memory

    def for_issuer(self, issuer: x509.Certificate, at: datetime) -> tuple[list[HeldCrl], list[str]]:
        """CRLs signed by ``issuer`` (newest first), and why others naming it were unusable."""
        with self._lock:
            now = self._clock()
            if self._scanned_at is None or now - self._scanned_at >= self._recheck_after:
                self._scan()
            found, problems = self._matching(issuer)
            newest = found[0].next_update if found else None
            if newest is not None and newest < max(at, now) and self.directory is not None:
                self._scan()  # what we hold is stale: a fetcher may have written a newer one since
                found, problems = self._matching(issuer)
        return found, problems

    def _matching(self, issuer: x509.Certificate) -> tuple[list[HeldCrl], list[str]]:
        issuer_key = issuer.public_key()
        issuer_digest = hashlib.sha256(
            issuer_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        ).digest()
        found: list[HeldCrl] = []
        problems: list[str] = []
        for held in self._held():
            if held.crl.issuer != issuer.subject:
                continue
            mark = (held.digest, issuer_digest)
            if mark not in self._verified:
                if not held.crl.is_signature_valid(issuer_key):  # type: ignore[arg-type]
                    problems.append(f"{held.source}: signature does not verify with the issuer's key")
                    continue
                self._verified.add(mark)
            found.append(held)
        far_future = datetime.max.replace(tzinfo=UTC)
        found.sort(key=lambda h: (h.crl.last_update_utc, h.next_update or far_future), reverse=True)
        return found, problems + [f"{path}: {error}" for path, error in self.errors.items()]

    def all(self) -> list[HeldCrl]:
        """Every CRL held (scanning first if never scanned): for the expiry report."""
        with self._lock:
            if self._scanned_at is None:
                self._scan()
            return self._held()
