"""A trust store for one purpose: anchors, optional intermediates and CRLs; path validation through a library.

Path building and its checks (signatures, validity periods, basic constraints, CA key usage, name chaining)
are done by ``cryptography.x509.verification`` (a Rust RFC 5280 / CA/B Forum validator), never by hand. Its
end-entity policy is the CA/B web PKI one minus what document-signing certificates need not have (SAN and
EKU); purpose checks (key usage, EKU, key type) and CRL checks come after, here, because that API has no CRL
support and knows only TLS purposes.

Known limit of the library: CA certificates with Ed25519 keys are refused ("Forbidden public key
algorithm"); Ed25519 and X25519 *leaf* keys under RSA or ECDSA CAs are fine.

Directory layout read by :meth:`TrustStore.from_directory`::

    anchors/*.pem          trust anchors (or *.pem directly in the directory when there is no anchors/)
    intermediates/*.pem    optional: intermediates partners may leave out of their messages
    crls/*.crl             optional: CRLs, PEM or DER
    policy.json            optional: {"require_crl": true, "stale_grace_hours": 0, "purposes": [...]}
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store, VerificationError

from pki.keys.files import KeyFileError, load_certificates
from pki.trust.crl import CrlCache
from pki.trust.model import (
    PKI_CERT_EXPIRED,
    PKI_CERT_NOT_YET_VALID,
    PKI_CERT_REVOKED,
    PKI_CERT_UNTRUSTED,
    PKI_CRL_MISSING,
    PKI_CRL_STALE,
    PKI_TRUST_PURPOSE,
    CertificateRejected,
    RevocationCheck,
    RevocationPolicy,
    ValidatedPath,
)
from pki.trust.usage import check_usage, rule_for

CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der")
STRICT = RevocationPolicy()


class TrustStoreError(ValueError):
    """A trust store directory or policy file cannot be used (configuration problem, not a rejection)."""

    code = "PKI_TRUST_STORE"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _subject(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


def _ee_policy() -> ExtensionPolicy:
    # AS4, SAML and SMP signing certificates carry no SAN and any (or no) EKU; purpose checks happen after.
    return (
        ExtensionPolicy.webpki_defaults_ee()
        .may_be_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None)
        .may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None)
    )


def load_certificate_dir(directory: Path) -> list[x509.Certificate]:
    found: list[x509.Certificate] = []
    if not directory.is_dir():
        return found
    for path in sorted(directory.iterdir()):
        if path.is_file() and path.suffix.lower() in CERT_SUFFIXES:
            try:
                found.extend(load_certificates(path))
            except KeyFileError as exc:
                raise TrustStoreError(str(exc)) from None
    return found


def time_problem(cert: x509.Certificate, at: datetime) -> CertificateRejected | None:
    # The subject is only printed for a problem: formatting it costs more than the check (every AS4 message).
    if at < cert.not_valid_before_utc:
        subject = _subject(cert)
        return CertificateRejected(
            PKI_CERT_NOT_YET_VALID, f"{subject} is not valid before {cert.not_valid_before_utc.isoformat()}",
            subject=subject)
    if at > cert.not_valid_after_utc:
        subject = _subject(cert)
        return CertificateRejected(
            PKI_CERT_EXPIRED, f"{subject} expired at {cert.not_valid_after_utc.isoformat()}", subject=subject)
    return None


def _compromised(revoked: x509.RevokedCertificate) -> bool:
    """Key compromise reaches back before the revocation date: nothing signed with the key can be trusted."""
    try:
        reason = revoked.extensions.get_extension_for_class(x509.CRLReason).value.reason
    except x509.ExtensionNotFound:
        return False
    return reason in (x509.ReasonFlags.key_compromise, x509.ReasonFlags.ca_compromise)


class TrustStore:
    """Anchors (+ intermediates, CRLs) trusted for some purposes; :meth:`validate` decides about one certificate."""

    def __init__(
        self,
        name: str,
        anchors: Sequence[x509.Certificate],
        intermediates: Sequence[x509.Certificate] = (),
        *,
        crls: CrlCache | None = None,
        policy: RevocationPolicy = STRICT,
        purposes: Iterable[str] | None = None,
        max_chain_depth: int = 6,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if not anchors:
            raise TrustStoreError(f"trust store {name!r} has no anchors")
        self.name = name
        self.anchors = tuple(anchors)
        self.intermediates = tuple(intermediates)
        self.crls = crls or CrlCache(clock=clock)
        self.policy = policy
        self.purposes = frozenset(str(p) for p in purposes) if purposes is not None else None
        for purpose in self.purposes or ():
            rule_for(purpose)  # an unknown purpose in policy.json is a configuration error, found at load
        self.max_chain_depth = max_chain_depth
        self._clock = clock
        self._store = Store(list(self.anchors))
        self._anchor_ders = {a.public_bytes(serialization.Encoding.DER) for a in self.anchors}

    def __repr__(self) -> str:
        return f"TrustStore({self.name!r}, anchors={len(self.anchors)}, intermediates={len(self.intermediates)})"

    @classmethod
    def from_directory(cls, directory: str | Path, *, name: str | None = None,
                       policy: RevocationPolicy | None = None, purposes: Iterable[str] | None = None,
                       clock: Callable[[], datetime] = _utcnow) -> TrustStore:
        directory = Path(directory)
        if not directory.is_dir():
            raise TrustStoreError(f"{directory}: trust store directory not found")
        settings = {}
        policy_file = directory / "policy.json"
        if policy_file.exists():
            try:
                settings = json.loads(policy_file.read_text(encoding="utf-8"))
                if not isinstance(settings, dict):
                    raise ValueError("expected a JSON object")
            except ValueError as exc:
                raise TrustStoreError(f"{policy_file}: {exc}") from None
        if policy is None:
            policy = RevocationPolicy(
                require_crl=bool(settings.get("require_crl", True)),
                stale_grace=timedelta(hours=float(settings.get("stale_grace_hours", 0))),
            )
        if purposes is None and "purposes" in settings:
            purposes = settings["purposes"]
        anchors_dir = directory / "anchors"
        anchors = load_certificate_dir(anchors_dir if anchors_dir.is_dir() else directory)
        if not anchors:
            raise TrustStoreError(f"{directory}: no trust anchors (PEM files in anchors/)")
        return cls(
            name or directory.name, anchors, load_certificate_dir(directory / "intermediates"),
            crls=CrlCache(directory / "crls", clock=clock), policy=policy, purposes=purposes, clock=clock,
        )

    def ssl_cadata(self) -> str:
        """The anchors as PEM text, for ``ssl.SSLContext.load_verify_locations(cadata=...)``."""
        return "".join(a.public_bytes(serialization.Encoding.PEM).decode() for a in self.anchors)

    # --- validation ---------------------------------------------------------------------------------------
    def validate(self, leaf: x509.Certificate, intermediates: Sequence[x509.Certificate] = (), *, purpose: str,
                 at: datetime | None = None) -> ValidatedPath:
        """Build and check a path from ``leaf`` to an anchor at time ``at`` (default now), for ``purpose``.

        ``intermediates`` are untrusted helpers (from the message); the store's own intermediates are added.
        A leaf that *is* an anchor (a pinned metadata or SMP signer) is accepted as a path of one.
        """
        purpose = str(purpose)
        rule_for(purpose)
        if self.purposes is not None and purpose not in self.purposes:
            raise CertificateRejected(
                PKI_TRUST_PURPOSE, f"trust store {self.name!r} is not configured for {purpose} "
                                   f"(only {', '.join(sorted(self.purposes))})", subject=_subject(leaf))
        at = _aware(at or self._clock())
        problem = time_problem(leaf, at)
        if problem is not None:
            raise problem
        if leaf.public_bytes(serialization.Encoding.DER) in self._anchor_ders:
            chain: tuple[x509.Certificate, ...] = (leaf,)
        else:
            chain = self._build(leaf, [*intermediates, *self.intermediates], at)
        check_usage(leaf, purpose)
        checks = tuple(self._check_revocation(chain[i], chain[i + 1], at) for i in range(len(chain) - 1))
        return ValidatedPath(self.name, purpose, chain, at, checks)

    def _build(self, leaf: x509.Certificate, intermediates: list[x509.Certificate],
               at: datetime) -> tuple[x509.Certificate, ...]:
        verifier = (
            PolicyBuilder()
            .store(self._store)
            .time(at)
            .max_chain_depth(self.max_chain_depth)
            .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=_ee_policy())
            .build_client_verifier()
        )
        try:
            return tuple(verifier.verify(leaf, intermediates).chain)
        except VerificationError as exc:
            raise self._explain(leaf, intermediates, at, exc) from None

    def _explain(self, leaf: x509.Certificate, intermediates: list[x509.Certificate], at: datetime,
                 exc: VerificationError) -> CertificateRejected:
        """Turn the library's failure into our code: an issuer out of its validity period, else untrusted."""
        candidates = [*intermediates, *self.anchors]
        issuer_name, seen = leaf.issuer, set()
        while issuer_name not in seen:
            seen.add(issuer_name)
            issuers = [c for c in candidates if c.subject == issuer_name]
            if not issuers:
                break
            timely = [c for c in issuers if time_problem(c, at) is None]
            if not timely:
                problem = time_problem(issuers[0], at)
                assert problem is not None
                return CertificateRejected(problem.code, f"issuer {problem.message}", subject=_subject(leaf))
            issuer_name = timely[0].issuer
        return CertificateRejected(
            PKI_CERT_UNTRUSTED,
            f"{_subject(leaf)} does not chain to an anchor of trust store {self.name!r}: {exc}",
            subject=_subject(leaf),
        )

    def _check_revocation(self, cert: x509.Certificate, issuer: x509.Certificate, at: datetime) -> RevocationCheck:
        subject = _subject(cert)
        held, problems = self.crls.for_issuer(issuer, at)
        # A serial on any CRL we hold is revoked, stale CRL or not: staleness never makes a revocation go away.
        for item in held:
            revoked = item.crl.get_revoked_certificate_by_serial_number(cert.serial_number)
            if revoked is not None and (revoked.revocation_date_utc <= at or _compromised(revoked)):
                raise CertificateRejected(
                    PKI_CERT_REVOKED,
                    f"{subject} (serial {cert.serial_number:x}) was revoked at "
                    f"{revoked.revocation_date_utc.isoformat()} (CRL {item.source})", subject=subject)
        if not held:
            if self.policy.require_crl:
                detail = f"; {'; '.join(problems)}" if problems else ""
                raise CertificateRejected(
                    PKI_CRL_MISSING, f"no CRL from {_subject(issuer)} to check {subject}{detail}", subject=subject)
            return RevocationCheck(subject, cert.serial_number, "no-crl")
        newest = held[0]
        next_update = newest.next_update
        if next_update is not None and at > next_update + self.policy.stale_grace:
            if self.policy.require_crl:
                raise CertificateRejected(
                    PKI_CRL_STALE, f"the CRL from {_subject(issuer)} ({newest.source}) was due for renewal at "
                                   f"{next_update.isoformat()}; cannot check {subject}", subject=subject)
            return RevocationCheck(subject, cert.serial_number, "stale-crl", next_update)
        return RevocationCheck(subject, cert.serial_number, "good", next_update)
