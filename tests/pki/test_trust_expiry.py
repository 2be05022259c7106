"""The expiry report monitoring reads: own keys, anchors, intermediates, CRLs, with severities."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509

from pki.devpki import rollover
from pki.expiry import ExpiryItem, Severity, Thresholds, expiry_report, report_json, severity_of, worst
from pki.keys.file_store import FileKeyStore
from pki.keys.port import KeyPurpose
from pki.trust import TrustStore, TrustStores
from tests.pki.pkihelpers import copy_pki, now


@pytest.fixture
def pki_dir(tmp_path: Path) -> Path:
    return copy_pki(tmp_path / "pki")


def test_severity_thresholds() -> None:
    moment = now()
    warn, crit = timedelta(days=30), timedelta(days=7)
    assert severity_of(moment + timedelta(days=31), moment, warn, crit) is Severity.OK
    assert severity_of(moment + timedelta(days=29), moment, warn, crit) is Severity.WARNING
    assert severity_of(moment + timedelta(days=6), moment, warn, crit) is Severity.CRITICAL
    assert severity_of(moment, moment, warn, crit) is Severity.EXPIRED
    assert severity_of(moment - timedelta(days=1), moment, warn, crit) is Severity.EXPIRED


def test_report_covers_keys_anchors_intermediates_and_crls(pki_dir: Path) -> None:
    store = FileKeyStore(pki_dir)
    trust = TrustStores([TrustStore.from_directory(pki_dir / "trust", name="dev")])
    moment = now()
    items = expiry_report(store, trust, moment)
    kinds = sorted({item.what for item in items})
    assert kinds == sorted({f"key:{p}" for p in KeyPurpose} | {"anchor:dev", "intermediate:dev", "crl:dev"})
    assert len([i for i in items if i.what.startswith("key:")]) == 12
    assert len([i for i in items if i.what == "crl:dev"]) == 2
    assert [i.not_after for i in items] == sorted(i.not_after for i in items)  # soonest first
    assert worst(items) is Severity.OK
    tls = next(i for i in items if i.what == "key:tls-server")
    assert 395 <= tls.days_left <= 397 and tls.status == "active" and tls.ident.startswith("tls-server-ec-")

    data = json.loads(json.dumps(report_json(items, moment)))
    assert data["status"] == "ok" and data["counts"]["ok"] == len(items) and data["counts"]["expired"] == 0
    assert set(data["items"][0]) >= {"what", "subject", "not_after", "days_left", "severity", "id"}


def test_report_severities_move_with_time(pki_dir: Path) -> None:
    store = FileKeyStore(pki_dir)
    trust = [TrustStore.from_directory(pki_dir / "trust", name="dev")]
    # 29 days on, the dev CRLs (30 days) are critical; the TLS certificate (397 days) is still fine.
    later = expiry_report(store, trust, now() + timedelta(days=29, hours=18))
    assert {i.severity for i in later if i.what == "crl:dev"} == {Severity.CRITICAL}
    # After 380 days TLS is critical, the other leaves (730 days) are not.
    much_later = expiry_report(store, trust, now() + timedelta(days=392))
    by_what = {i.what: i for i in much_later}
    assert by_what["key:tls-server"].severity is Severity.CRITICAL
    assert by_what["key:as4-signing"].severity is Severity.OK
    assert by_what["crl:dev"].severity is Severity.EXPIRED and by_what["crl:dev"].days_left < 0
    assert worst(much_later) is Severity.EXPIRED
    warn_early = expiry_report(store, None, now(), thresholds=Thresholds(warning=timedelta(days=1000)))
    assert {i.severity for i in warn_early} == {Severity.WARNING}


def test_retired_keys_are_reported_with_their_status(pki_dir: Path) -> None:
    rollover(pki_dir, KeyPurpose.AUDIT_SIGNING)
    items = expiry_report(FileKeyStore(pki_dir), None, now())
    assert sorted(i.status or "" for i in items if i.what == "key:audit-signing") == ["active", "retired"]


class PortOnlyStore:
    """Any other backend (an HSM): only the port's published certificates are known."""

    def __init__(self, certificates: Sequence[x509.Certificate]) -> None:
        self._certificates = list(certificates)

    def signer(self, purpose, *, family=None):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def decrypters(self, purpose):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def published_certificates(self, purpose: KeyPurpose) -> list[x509.Certificate]:
        return self._certificates if purpose is KeyPurpose.SMP_SIGNING else []


def test_report_through_the_port_alone(pki_dir: Path) -> None:
    files = FileKeyStore(pki_dir)
    items: list[ExpiryItem] = expiry_report(PortOnlyStore(files.published_certificates(KeyPurpose.SMP_SIGNING)),
                                            None, now())
    (item,) = items
    assert item.what == "key:smp-signing" and item.status is None
    assert int(item.ident, 16) == files.published_certificates(KeyPurpose.SMP_SIGNING)[0].serial_number
