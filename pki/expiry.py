"""What expires when: own keys, trust anchors, intermediates and CRLs, with a severity monitoring can alert on.

Pure: the time is passed in. ``gateway-node pki expiry --json`` prints :func:`report_json`; a status page or a
Prometheus exporter can call :func:`expiry_report` directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from cryptography import x509

from pki.keys.file_store import FileKeyStore
from pki.keys.port import KeyPurpose, KeyStore
from pki.trust.store import TrustStore


class Severity(StrEnum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    EXPIRED = "expired"


_RANK = {Severity.OK: 0, Severity.WARNING: 1, Severity.CRITICAL: 2, Severity.EXPIRED: 3}


@dataclass(frozen=True, slots=True)
class Thresholds:
    warning: timedelta = timedelta(days=30)
    critical: timedelta = timedelta(days=7)
    # CRLs are re-issued every few days: they are judged on a shorter scale than certificates.
    crl_warning: timedelta = timedelta(days=2)
    crl_critical: timedelta = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class ExpiryItem:
    what: str  # "key:<purpose>", "anchor:<store>", "intermediate:<store>", "crl:<store>"
    subject: str
    not_after: datetime
    days_left: int  # whole days, negative once expired
    severity: Severity
    ident: str  # key id, certificate serial (hex) or CRL file
    status: str | None = None  # for own keys: active / retired

    def to_json(self) -> dict[str, Any]:
        data = {"what": self.what, "subject": self.subject, "not_after": self.not_after.isoformat(),
                "days_left": self.days_left, "severity": str(self.severity), "id": self.ident}
        if self.status:
            data["status"] = self.status
        return data


def severity_of(not_after: datetime, now: datetime, warning: timedelta, critical: timedelta) -> Severity:
    left = not_after - now
    if left <= timedelta(0):
        return Severity.EXPIRED
    if left < critical:
        return Severity.CRITICAL
    if left < warning:
        return Severity.WARNING
    return Severity.OK


def _item(what: str, subject: str, not_after: datetime, ident: str, now: datetime, warning: timedelta,
          critical: timedelta, status: str | None = None) -> ExpiryItem:
    days_left = (not_after - now) // timedelta(days=1)
    return ExpiryItem(what, subject, not_after, days_left, severity_of(not_after, now, warning, critical), ident,
                      status)


def _key_items(store: KeyStore, now: datetime, limits: Thresholds) -> list[ExpiryItem]:
    items = []
    if isinstance(store, FileKeyStore):
        for entry in store.entries(live_only=True):
            cert = store.certificate(entry)
            items.append(_item(f"key:{entry.purpose}", cert.subject.rfc4514_string(), cert.not_valid_after_utc,
                               entry.key_id, now, limits.warning, limits.critical, str(entry.status)))
        return items
    for purpose in KeyPurpose:  # any other backend: what the port publishes
        for cert in store.published_certificates(purpose):
            items.append(_item(f"key:{purpose}", cert.subject.rfc4514_string(), cert.not_valid_after_utc,
                               format(cert.serial_number, "x"), now, limits.warning, limits.critical))
    return items


def _cert_item(what: str, cert: x509.Certificate, now: datetime, limits: Thresholds) -> ExpiryItem:
    return _item(what, cert.subject.rfc4514_string(), cert.not_valid_after_utc, format(cert.serial_number, "x"),
                 now, limits.warning, limits.critical)


def _trust_items(stores: Iterable[TrustStore], now: datetime, limits: Thresholds) -> list[ExpiryItem]:
    items = []
    for store in stores:
        items += [_cert_item(f"anchor:{store.name}", cert, now, limits) for cert in store.anchors]
        items += [_cert_item(f"intermediate:{store.name}", cert, now, limits) for cert in store.intermediates]
        for held in store.crls.all():
            if held.next_update is not None:
                items.append(_item(f"crl:{store.name}", held.crl.issuer.rfc4514_string(), held.next_update,
                                   held.source, now, limits.crl_warning, limits.crl_critical))
    return items


def expiry_report(store: KeyStore | None, trust_stores: Mapping[str, TrustStore] | Iterable[TrustStore] | None,
                  now: datetime, *, thresholds: Thresholds = Thresholds()) -> list[ExpiryItem]:
    """Everything with an end date, soonest first."""
    items = _key_items(store, now, thresholds) if store is not None else []
    if trust_stores is not None:
        stores = trust_stores.values() if isinstance(trust_stores, Mapping) else trust_stores
        items += _trust_items(stores, now, thresholds)
    return sorted(items, key=lambda item: (item.not_after, item.what))


def worst(items: Iterable[ExpiryItem]) -> Severity:
    return max((item.severity for item in items), key=_RANK.__getitem__, default=Severity.OK)


def at_least(severity: Severity, floor: Severity) -> bool:
    return _RANK[severity] >= _RANK[floor]


def report_json(items: list[ExpiryItem], now: datetime) -> dict[str, Any]:
    counts = {str(level): sum(1 for item in items if item.severity is level) for level in Severity}
    return {"generated_at": now.isoformat(), "status": str(worst(items)), "counts": counts,
            "items": [item.to_json() for item in items]}
