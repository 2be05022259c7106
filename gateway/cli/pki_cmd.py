"""``gateway-node pki …``: the dev PKI (init, issue, rollover, revoke, crl), key listing and the expiry report."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from gateway.cli.common import emit, fail, json_option, settings_from
from pki.devpki import (
    DEFAULT_FAMILIES,
    DevPkiError,
    IssuedKey,
    PkiLayout,
    ProfileError,
    init_pki,
    issue_partner,
    parse_serial,
    refresh_crls,
    revoke,
    rollover,
)
from pki.expiry import ExpiryItem, Severity, Thresholds, at_least, expiry_report, report_json, worst
from pki.keys.file_store import FileKeyStore
from pki.keys.files import KeyFileError, load_private_key
from pki.keys.manifest import ManifestError
from pki.keys.port import KeyNotFound, KeyPurpose
from pki.trust import TrustStore, TrustStoreError, TrustStores

F = TypeVar("F", bound=Callable[..., Any])
PURPOSES = [purpose.value for purpose in KeyPurpose]
FAMILIES = ["rsa", "ec", "ed25519", "x25519"]
_ERRORS = (DevPkiError, ProfileError, ManifestError, KeyFileError, KeyNotFound, TrustStoreError, OSError)
LEGACY_AUDIT_KEY = "audit-signing.pem"  # where gateway/audit kept its key before the PKI took over


def dir_option(fn: F) -> F:
    return click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="The PKI directory (default: <data_dir>/pki).")(fn)  # type: ignore[return-value]


def reported(fn: F) -> F:
    """Known PKI problems end the command with one line on stderr and exit code 1, not a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except _ERRORS as exc:
            fail(str(exc))

    return wrapper  # type: ignore[return-value]


def _pki_dir(ctx: click.Context, directory: Path | None) -> Path:
    return directory if directory is not None else settings_from(ctx).node.data_dir / "pki"


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _console() -> Any:
    from rich.console import Console

    # Wide when piped so key ids are never cut; a terminal keeps its own width.
    return Console(width=None if sys.stdout.isatty() else 160)


def _key_rows(store: FileKeyStore, now: datetime) -> list[dict[str, Any]]:
    rows = []
    for entry in store.entries():
        cert = store.certificate(entry)
        rows.append({
            "purpose": str(entry.purpose), "family": entry.family, "key_id": entry.key_id,
            "status": str(entry.status), "not_after": cert.not_valid_after_utc.isoformat(),
            "days_left": (cert.not_valid_after_utc - now).days, "serial": format(cert.serial_number, "x"),
            "subject": cert.subject.rfc4514_string(), "signature_algorithm": entry.signature_algorithm,
        })
    rows.sort(key=lambda row: (PURPOSES.index(row["purpose"]), row["family"], row["status"] != "active"))
    return rows


def _print_keys(rows: list[dict[str, Any]], title: str) -> None:
    from rich.table import Table

    table = Table(title=title)
    for column in ("purpose", "family", "key id", "status", "not after", "days left"):
        table.add_column(column, justify="right" if column == "days left" else "left")
    for row in rows:
        style = {"retired": "dim", "revoked": "red"}.get(row["status"])
        table.add_row(row["purpose"], row["family"], row["key_id"], row["status"], row["not_after"][:10],
                      str(row["days_left"]), style=style)
    _console().print(table)


def _issued_json(issued: list[IssuedKey]) -> list[dict[str, Any]]:
    return [item.to_json() for item in issued]


@click.group()
def pki() -> None:
    """Keys, the dev PKI, trust stores and certificate expiry."""


@pki.command("init")
@dir_option
@click.option("--node-id", default=None, help="Node id in certificate names (default: [node] id).")
@click.option("--hostname", "hostnames", multiple=True,
              help="DNS name or address for the TLS server certificate; repeat for several "
                   "(default: this host's name and localhost; 127.0.0.1 and ::1 are always added).")
@click.option("--force", is_flag=True, help="Replace an existing PKI in the directory (its keys are lost).")
@click.option("--new-audit-key", is_flag=True,
              help="Generate a new audit key even if the node already has one in <data_dir>/keys.")
@json_option
@click.pass_context
@reported
def init_cmd(ctx: click.Context, directory: Path | None, node_id: str | None, hostnames: tuple[str, ...],
             force: bool, new_audit_key: bool, as_json: bool) -> None:
    """Create a dev root CA, an issuing CA, every node key and certificate, CRLs and a trust store."""
    settings = settings_from(ctx)
    target = _pki_dir(ctx, directory)
    adopt = {}
    legacy = settings.keys_dir / LEGACY_AUDIT_KEY
    if legacy.exists() and not new_audit_key:
        # Tree heads already signed with this key must keep verifying: the PKI certifies the same key.
        adopt[KeyPurpose.AUDIT_SIGNING] = load_private_key(legacy)
    names = hostnames or tuple(dict.fromkeys([socket.gethostname(), "localhost"]))
    issued = init_pki(target, node_id=node_id or settings.node.id, hostnames=names, country=settings.node.country,
                      force=force, adopt=adopt)
    data = {"directory": str(target), "keys": _issued_json(issued),
            "adopted_audit_key": str(legacy) if adopt else None}

    def human() -> None:
        click.echo(f"dev PKI created in {target}: {len(issued)} keys, trust store in {PkiLayout(target).trust_dir}")
        if adopt:
            click.echo(f"the existing audit key {legacy} is now the active audit-signing key")
        _print_keys(_key_rows(FileKeyStore(target), _now()), "node keys")

    emit(ctx, data, human)


@pki.command("show")
@dir_option
@json_option
@click.pass_context
@reported
def show_cmd(ctx: click.Context, directory: Path | None, as_json: bool) -> None:
    """List the node's keys: purpose, family, key id, status, expiry."""
    target = _pki_dir(ctx, directory)
    rows = _key_rows(FileKeyStore(target), _now())
    emit(ctx, {"directory": str(target), "keys": rows}, lambda: _print_keys(rows, f"keys in {target}"))


@pki.command("issue")
@dir_option
@click.option("--purpose", required=True, type=click.Choice(PURPOSES), help="What the partner's key is for.")
@click.option("--name", "partner", required=True, help="The simulated partner (certificate organisation).")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The partner's key directory (created; gets its own manifest.json).")
@click.option("--family", type=click.Choice(FAMILIES), default=None,
              help="Key family (default: the first the dev PKI uses for the purpose).")
@click.option("--hostname", "hostnames", multiple=True, help="SAN for TLS certificates; repeat for several.")
@click.option("--days", type=click.IntRange(min=1, max=3650), default=None,
              help="Lifetime in days (default: 397 for TLS, 730 otherwise; never beyond the issuing CA).")
@json_option
@click.pass_context
@reported
def issue_cmd(ctx: click.Context, directory: Path | None, purpose: str, partner: str, out: Path, family: str | None,
              hostnames: tuple[str, ...], days: int | None, as_json: bool) -> None:
    """Issue a key and certificate for a simulated partner under the dev CA (tests and the demo)."""
    issued = issue_partner(_pki_dir(ctx, directory), out, partner=partner, purpose=purpose, family=family,
                           hostnames=hostnames, days=days)
    data = issued.to_json() | {"key_path": str(issued.key_file), "cert_path": str(issued.cert_file),
                               "chain_path": str(issued.chain_file)}

    def human() -> None:
        click.echo(f"issued {issued.entry.key_id} for {partner}: serial {issued.entry.serial}, "
                   f"valid until {issued.entry.not_after:%Y-%m-%d}")
        for label in ("key", "cert", "chain"):
            click.echo(f"  {label:5} {data[label + '_path']}")

    emit(ctx, data, human)


@pki.command("rollover")
@click.argument("purpose", type=click.Choice(PURPOSES))
@click.option("--family", type=click.Choice(FAMILIES), default=None,
              help="Roll only this family (default: every active family of the purpose).")
@dir_option
@json_option
@click.pass_context
@reported
def rollover_cmd(ctx: click.Context, purpose: str, family: str | None, directory: Path | None,
                 as_json: bool) -> None:
    """New key(s) for PURPOSE become active; the old ones are retired (still decrypt/verify, still published)."""
    if family is not None and family not in DEFAULT_FAMILIES[KeyPurpose(purpose)]:
        click.echo(f"note: {purpose} does not normally use {family} keys", err=True)
    issued = rollover(_pki_dir(ctx, directory), purpose, family=family)

    def human() -> None:
        for item in issued:
            click.echo(f"{item.entry.key_id} is now the active {purpose} {item.entry.family} key")

    emit(ctx, {"keys": _issued_json(issued)}, human)


@pki.command("revoke")
@click.argument("serial")
@click.option("--reason", default="unspecified", help="CRL reason, e.g. keyCompromise, superseded.")
@dir_option
@json_option
@click.pass_context
@reported
def revoke_cmd(ctx: click.Context, serial: str, reason: str, directory: Path | None, as_json: bool) -> None:
    """Add a certificate SERIAL (hex, as `pki show` prints it) to its issuer's CRL."""
    record = revoke(_pki_dir(ctx, directory), parse_serial(serial), reason=reason)
    emit(ctx, record, lambda: click.echo(f"revoked {record['serial']} ({record['subject']}); CRL re-issued"))


@pki.command("crl")
@dir_option
@json_option
@click.pass_context
@reported
def crl_cmd(ctx: click.Context, directory: Path | None, as_json: bool) -> None:
    """Re-issue the dev CRLs with a fresh next update (they live 30 days)."""
    paths = refresh_crls(_pki_dir(ctx, directory))
    emit(ctx, {"crls": [str(p) for p in paths]}, lambda: click.echo("re-issued " + ", ".join(map(str, paths))))


def _trust_stores(ctx: click.Context, pki_dir: Path, extra: tuple[Path, ...]) -> TrustStores:
    stores = TrustStores()
    dev_trust = PkiLayout(pki_dir).trust_dir
    if dev_trust.is_dir():
        stores.add(TrustStore.from_directory(dev_trust, name="dev"))
    configured = settings_from(ctx).node.data_dir / "trust"
    roots = [configured] if configured.is_dir() else []
    for root in [*roots, *extra]:
        for store in TrustStores.from_directory(root).values():
            stores.add(store)
    return stores


@pki.command("expiry")
@dir_option
@click.option("--trust-dir", "trust_dirs", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="More trust directories to report on (<data_dir>/trust is always read when present).")
@click.option("--warning-days", type=click.IntRange(min=1), default=30, show_default=True)
@click.option("--critical-days", type=click.IntRange(min=0), default=7, show_default=True)
@click.option("--fail-on", type=click.Choice(["never", "warning", "critical", "expired"]), default="never",
              show_default=True, help="Exit 1 when anything is at least this severe (for cron and probes).")
@json_option
@click.pass_context
@reported
def expiry_cmd(ctx: click.Context, directory: Path | None, trust_dirs: tuple[Path, ...], warning_days: int,
               critical_days: int, fail_on: str, as_json: bool) -> None:
    """What expires when: node keys, trust anchors, intermediates, CRLs."""
    target = _pki_dir(ctx, directory)
    store = FileKeyStore(target) if PkiLayout(target).manifest.exists() else None
    now = _now()
    limits = Thresholds(warning=timedelta(days=warning_days), critical=timedelta(days=critical_days))
    items = expiry_report(store, _trust_stores(ctx, target, trust_dirs), now, thresholds=limits)

    def human() -> None:
        _print_expiry(items, now)

    emit(ctx, report_json(items, now), human)
    if fail_on != "never" and items and at_least(worst(items), Severity(fail_on)):
        ctx.exit(1)


def _print_expiry(items: list[ExpiryItem], now: datetime) -> None:
    from rich.table import Table

    table = Table(title=f"expiry report at {now:%Y-%m-%d %H:%M} UTC")
    for column in ("severity", "what", "subject", "not after", "days left", "id"):
        table.add_column(column)
    colours = {Severity.EXPIRED: "bold red", Severity.CRITICAL: "red", Severity.WARNING: "yellow"}
    for item in items:
        table.add_row(str(item.severity), item.what, item.subject, item.not_after.isoformat()[:16],
                      str(item.days_left), item.ident, style=colours.get(item.severity))
    _console().print(table)
