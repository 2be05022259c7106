"""What trust decisions return: a validated path, or a refusal with a stable code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

# Stable codes: audit records, problem JSON and protocol errors (EBMS:0101, SAML status) are built on them.
PKI_CERT_UNTRUSTED = "PKI_CERT_UNTRUSTED"
PKI_CERT_EXPIRED = "PKI_CERT_EXPIRED"
PKI_CERT_NOT_YET_VALID = "PKI_CERT_NOT_YET_VALID"
PKI_CERT_REVOKED = "PKI_CERT_REVOKED"
PKI_CERT_KEY_USAGE = "PKI_CERT_KEY_USAGE"
PKI_CRL_MISSING = "PKI_CRL_MISSING"
PKI_CRL_STALE = "PKI_CRL_STALE"
PKI_TRUST_PURPOSE = "PKI_TRUST_PURPOSE"


class CertificateRejected(Exception):
    """A certificate (path) is not acceptable. ``code`` is one of the PKI_* constants; ``subject`` names it."""

    def __init__(self, code: str, message: str, *, subject: str | None = None) -> None:
        self.code = code
        self.message = message
        self.subject = subject
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True, slots=True)
class RevocationPolicy:
    """How strictly CRLs are required.

    ``require_crl``: every certificate below the anchor needs a current CRL from its issuer, else
    PKI_CRL_MISSING / PKI_CRL_STALE. When False ("soft fail") a missing or stale CRL is only noted in the
    validated path's warnings. A serial listed on any CRL we hold, stale or not, is always refused.
    ``stale_grace``: how long past its nextUpdate a CRL still counts as current (fetch delays).
    """

    require_crl: bool = True
    stale_grace: timedelta = timedelta(0)


@dataclass(frozen=True, slots=True)
class RevocationCheck:
    subject: str
    serial: int
    status: str  # "good" | "no-crl" | "stale-crl"
    crl_next_update: datetime | None = None


@dataclass(frozen=True, slots=True)
class ValidatedPath:
    store: str
    purpose: str
    chain: tuple[x509.Certificate, ...]  # leaf first, trust anchor last (one element for a pinned certificate)
    validated_at: datetime
    revocation: tuple[RevocationCheck, ...] = ()

    @property
    def leaf(self) -> x509.Certificate:
        return self.chain[0]

    @property
    def anchor(self) -> x509.Certificate:
        return self.chain[-1]

    @property
    def public_key(self) -> PublicKeyTypes:
        return self.leaf.public_key()  # type: ignore[return-value]

    @property
    def warnings(self) -> list[str]:
        return [f"{check.subject}: revocation not checked ({check.status})"
                for check in self.revocation if check.status != "good"]
