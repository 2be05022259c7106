"""``gateway-node eidas metadata|check-response``: the eIDAS connector's operator tools."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import click
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from eidas_node import attributes as attrs
from eidas_node.metadata import parse_idp_metadata
from eidas_node.response import ResponseChecker
from eidas_node.saml import EidasError
from eidas_node.service import check_response, lookup_keys
from eidas_node.stores import MemoryPendingRequests, MemoryReplayCache, PendingRequest
from gateway.cli.common import EXIT_CONFIG, EXIT_FAILED, emit, json_option, settings_from
from gateway.config import ConfigError
from gateway.eidas_setup import LOAS, expectations, idp_metadata, sp_metadata
from gateway.runtime import open_key_store
from pki.keys.memory import InMemoryDecrypter
from pki.xml import ns as dsns
from pki.xml.keyinfo import parse_key_info
from pki.xml.parser import parse_xml


@click.group("eidas")
def eidas() -> None:
    """eIDAS connector: our SP metadata, offline response checks."""


@eidas.command("metadata")
@click.pass_context
def metadata_cmd(ctx: click.Context) -> None:
    """Print our signed SP metadata (the document foreign proxy services register)."""
    settings = settings_from(ctx)
    try:
        data = sp_metadata(settings, open_key_store(settings), datetime.now(UTC))
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_CONFIG)
    click.echo(data.decode())


@eidas.command("idp-metadata")
@click.pass_context
def idp_metadata_cmd(ctx: click.Context) -> None:
    """Print our national IdP's signed metadata (what Latvian portals register)."""
    settings = settings_from(ctx)
    try:
        data = idp_metadata(settings, open_key_store(settings), datetime.now(UTC))
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_CONFIG)
    click.echo(data.decode())


def _now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _embedded_anchor(data: bytes) -> list[x509.Certificate]:
    signature = parse_xml(data).getroot().find(f"{{{dsns.DS}}}Signature")
    return list(parse_key_info(signature.find(f"{{{dsns.DS}}}KeyInfo")).certificates) if signature is not None else []


@eidas.command("check-response")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--idp-metadata", "idp_metadata", required=True, type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="The proxy service's metadata file.")
@click.option("--idp-anchor", "idp_anchor", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PEM certificate that must sign the metadata (default: the operator vouches for the file).")
@click.option("--sp-key", "sp_key", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PEM private key that decrypts the assertion.")
@click.option("--request-id", "request_id", help="The AuthnRequest ID the response must answer.")
@click.option("--loa", type=click.Choice(sorted(LOAS)), default=None, help="Requested LoA (default: config).")
@click.option("--now", "now_text", help="Check as of this ISO 8601 time (default: now).")
@json_option
@click.pass_context
def check_response_cmd(ctx: click.Context, file: Path, idp_metadata: Path, idp_anchor: Path | None, sp_key: Path,
                       request_id: str | None, loa: str | None, now_text: str | None, as_json: bool) -> None:
    """Run every response check on a saved eIDAS Response; exit 0 only if it is acceptable."""
    settings = settings_from(ctx)
    try:
        now = _now(now_text)
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 time: {now_text!r}", param_hint="--now") from None
    data = file.read_bytes()
    md_bytes = idp_metadata.read_bytes()
    try:
        anchors = ([x509.load_pem_x509_certificate(idp_anchor.read_bytes())] if idp_anchor
                   else _embedded_anchor(md_bytes))
        country = _country_of(md_bytes)
        metadata = parse_idp_metadata(md_bytes, anchors=anchors, country=country, now=now)
    except (EidasError, ValueError) as exc:
        click.echo(f"error: metadata refused: {exc}", err=True)
        ctx.exit(EXIT_FAILED)
        return
    try:
        key = serialization.load_pem_private_key(sp_key.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise click.BadParameter(f"not an unencrypted PEM private key: {exc}", param_hint="--sp-key") from None
    decrypter = InMemoryDecrypter(key, None, sp_key.name)
    checker = ResponseChecker(expectations(settings), lambda info: decrypter, our_country=settings.node.country)
    correlated = request_id is not None
    request_id = request_id or lookup_keys(data)[1] or ""
    pending = MemoryPendingRequests()
    asyncio.run(pending.put(PendingRequest(
        request_id, metadata.country, metadata.entity_id, LOAS[loa or settings.eidas.default_loa],
        attrs.NATURAL_MDS, now, now.replace(year=now.year + 1))))
    report, _ = asyncio.run(check_response(
        checker, data, metadata_for=lambda c: metadata, metadata_by_issuer=lambda i: metadata, pending=pending,
        replay=MemoryReplayCache(), now=now))
    result = report.to_json()
    result["request_id_checked"] = correlated
    result["metadata_trust"] = "anchor" if idp_anchor else "operator-supplied file"

    def human() -> None:
        for check in result["checks"]:
            mark = {"passed": "ok  ", "failed": "FAIL", "skipped": "-   "}[check["result"]]
            click.echo(f"{mark} {check['name']:<32} {check['code'] if check['result'] == 'failed' else ''} "
                       f"{check['detail']}".rstrip())
        if not correlated:
            click.echo("note: no --request-id given: InResponseTo was not correlated with a request")
        for name, values in result["attributes"].items():
            click.echo(f"  {name.rsplit('/', 1)[-1]}: {', '.join(values)}")
        click.echo("response acceptable" if report.ok else "response REFUSED")

    emit(ctx, result, human)
    if not report.ok:
        ctx.exit(EXIT_FAILED)


def _country_of(md_bytes: bytes) -> str:
    from eidas_node.saml import EIDAS

    root = parse_xml(md_bytes).getroot()
    found = next(root.iter(f"{{{EIDAS}}}NodeCountry"), None)
    if found is None or not found.text:
        raise ValueError("the metadata names no eidas:NodeCountry")
    return found.text.strip()
