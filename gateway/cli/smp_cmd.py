"""``gateway-node smp …``: SML hash names, SMP document parsing, lookups, and a local SMP publisher."""

from __future__ import annotations

import click

from gateway.cli.common import emit, fail, json_option
from smp_client import hashing, identifiers
from smp_client.errors import SmpError


@click.group()
def smp() -> None:
    """SML/SMP dynamic discovery: participant id → SMP → endpoint, certificates, transport profile."""


@smp.command("hash")
@click.argument("participant")
@click.option("--mode", type=click.Choice([m.value for m in hashing.HashMode]), default="bdxl", show_default=True)
@click.option("--zone", default="edelivery.tech.ec.europa.eu", show_default=True, help="SML DNS zone.")
@json_option
@click.pass_context
def hash_cmd(ctx: click.Context, participant: str, mode: str, zone: str, as_json: bool) -> None:
    """Print the DNS name the SML publishes for PARTICIPANT (scheme::value or an ebCore party id URN)."""
    try:
        identifier = identifiers.participant(participant)
        name = hashing.dns_name(identifier, zone, mode)
    except SmpError as exc:
        fail(str(exc))
        return
    emit(ctx, {"participant": identifier.uri, "mode": mode, "zone": zone, "name": name},
         lambda: click.echo(name))


@smp.command("parse")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--trust", "trust_dir", type=click.Path(file_okay=False, exists=True), default=None,
              help="SMP trust store directory: the signature must verify against it.")
@click.option("--xsd", "check_xsd", is_flag=True, help="Also validate against the official SMP schemas.")
@json_option
@click.pass_context
def parse_cmd(ctx: click.Context, file: str, trust_dir: str | None, check_xsd: bool, as_json: bool) -> None:
    """Parse an SMP ServiceMetadata or ServiceGroup FILE (hardened); with --trust, verify its signature."""
    from datetime import UTC, datetime
    from pathlib import Path

    from pki.trust import TrustStore
    from smp_client.documents import read_service_group, read_service_metadata
    from smp_client.model import metadata_json
    from smp_client.parse import flavour_of, read_xml

    data = Path(file).read_bytes()
    try:
        trust = TrustStore.from_directory(trust_dir) if trust_dir else None
        root = read_xml(data)
        if check_xsd:
            from smp_client import schema

            errors = schema.validate(root)
            if errors:
                fail("SMP_SCHEMA_INVALID: " + "; ".join(errors[:5]))
                return
        if root.tag.endswith("}ServiceGroup"):
            flavour_of(root)
            group = read_service_group(data)
            out: dict[str, object] = {"kind": "ServiceGroup", "flavour": group.flavour.value,
                                      "participant": group.participant.uri,
                                      "references": [r.href or (r.document_type.uri if r.document_type else None)
                                                     for r in group.references]}
        else:
            metadata = read_service_metadata(data, trust=trust, now=datetime.now(UTC))
            out = {"kind": "ServiceMetadata", "verified": trust is not None, **metadata_json(metadata)}
    except SmpError as exc:
        fail(str(exc))
        return
    except ValueError as exc:  # trust store configuration
        fail(f"{getattr(exc, 'code', 'SMP_TRUST_STORE')}: {exc}")
        return

    def human() -> None:
        click.echo(f"{out['kind']} ({out['flavour']}) for {out['participant']}")
        if out.get("kind") == "ServiceMetadata":
            click.echo(f"  signature: {'verified, signer ' + str(out['signer']) if trust else 'NOT verified'}")
            for group in out["processes"]:  # type: ignore[union-attr]
                for endpoint in group["endpoints"]:
                    click.echo(f"  {', '.join(group['processes']) or '(any process)'}: "
                               f"{endpoint['transport_profile']} → {endpoint['address']}")
        else:
            for ref in out["references"]:  # type: ignore[union-attr]
                click.echo(f"  {ref}")

    emit(ctx, out, human)


@smp.command("lookup")
@click.argument("participant")
@click.option("--doc-type", "doc_type", required=True, help="Document type identifier (scheme::value).")
@click.option("--process", "process", default=None, help="Process identifier (scheme::value).")
@click.option("--network", "network_name", default=None, help="A network from [smp.networks] (default: [smp]).")
@click.option("--sml", "zone", default=None, help="SML zone (default: [smp] sml_zone).")
@click.option("--dns", "dns", default=None, help="DNS server HOST:PORT (default: [smp] dns, else the system's).")
@click.option("--trust", "trust_dir", type=click.Path(file_okay=False, exists=True), default=None,
              help="SMP trust store directory (default: [smp] trust_dir).")
@click.option("--mode", type=click.Choice([m.value for m in hashing.HashMode]), default=None)
@click.option("--api", type=click.Choice(["oasis-1", "oasis-2"]), default=None, help="SMP REST API.")
@click.option("--allow-http", is_flag=True, help="Accept http SMP and endpoint URLs (test networks only).")
@click.option("--tls-trust", "tls_trust", type=click.Path(file_okay=False, exists=True), default=None,
              help="CAs for the SMP's HTTPS (default: [smp] tls_trust_dir, else the system's).")
@json_option
@click.pass_context
def lookup_cmd(ctx: click.Context, participant: str, doc_type: str, process: str | None, network_name: str | None,
               zone: str | None,
               dns: str | None, trust_dir: str | None, mode: str | None, api: str | None, allow_http: bool,
               tls_trust: str | None, as_json: bool) -> None:
    """Discover PARTICIPANT's endpoint for a document type: SML (DNS) → SMP → verified endpoint."""
    import asyncio
    from datetime import UTC, datetime

    import aiohttp

    from gateway.cli.common import settings_from
    from gateway.config import ConfigError
    from gateway.smp_discovery import client_tls
    from gateway.smp_network import network_from_settings
    from smp_client.lookup import discover
    from smp_client.model import endpoint_json

    settings = settings_from(ctx)
    try:
        ids = (identifiers.participant(participant), identifiers.document_type(doc_type),
               identifiers.process(process) if process else None)
        section = settings.smp.for_network(network_name)
        network = network_from_settings(section, trust_dir=trust_dir, zone=zone, dns=dns, api=api, mode=mode,
                                        require_https=False if allow_http else None)
        tls_dir = tls_trust or section.tls_trust_dir
        tls = client_tls(tls_dir) if tls_dir else None
    except (SmpError, ConfigError) as exc:
        fail(str(exc))
        return

    async def run():  # type: ignore[no-untyped-def]
        connector = aiohttp.TCPConnector(ssl=tls) if tls is not None else None
        async with aiohttp.ClientSession(connector=connector) as session:
            return await discover(*ids, network, session=session, now=datetime.now(UTC))

    try:
        found = asyncio.run(run())
    except SmpError as exc:
        fail(str(exc))
        return
    data = {"network": found.network, "participant": found.participant.uri, "document_type": found.document_type.uri,
            "process": found.process.uri if found.process else None, "smp_url": found.smp_url,
            "signer": found.signer_subject, "ttl_s": found.ttl_s, "endpoint": endpoint_json(found.endpoint)}
    emit(ctx, data, lambda: click.echo(
        f"{found.participant} → {found.endpoint.address} ({found.endpoint.transport_profile}) via {found.smp_url}"))


@smp.command("serve")
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False, exists=True),
              help="Publisher directory with publisher.toml (see gateway/smp_publisher.py).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8481, type=int, show_default=True, help="0: any free port (printed).")
@click.option("--tls-cert", type=click.Path(dir_okay=False, exists=True), default=None,
              help="PEM certificate chain: serve HTTPS (with --tls-key).")
@click.option("--tls-key", type=click.Path(dir_okay=False, exists=True), default=None)
def serve_cmd(directory: str, host: str, port: int, tls_cert: str | None, tls_key: str | None) -> None:
    """Serve signed SMP 1.0 and 2.0 documents for the configured participants (tests and demos)."""
    import asyncio

    from gateway.smp_publisher import PublisherConfigError, build_documents, load_publisher, publisher_app
    from gateway.web.listen import start_site

    try:
        services, signer, flavour_1, max_age = load_publisher(directory)
    except PublisherConfigError as exc:
        fail(f"{exc.code}: {exc}")
        return
    app = publisher_app(build_documents(services, signer, flavour_1=flavour_1, max_age_s=max_age))
    tls = None
    if tls_cert or tls_key:
        import ssl

        if not (tls_cert and tls_key):
            fail("SMP_PUBLISHER_CONFIG: give both --tls-cert and --tls-key")
            return
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.minimum_version = ssl.TLSVersion.TLSv1_2
        tls.load_cert_chain(tls_cert, tls_key)

    async def run() -> None:
        runner, bound = await start_site(app, host, port, ssl_context=tls)
        scheme = "https" if tls else "http"
        click.echo(f"SMP publisher on {scheme}://{host}:{bound}/ ({len(services)} services)", err=False)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


@smp.command("cache-clear")
@click.option("--network", default=None, help="Only this network's entries (default: all).")
@json_option
@click.pass_context
def cache_clear_cmd(ctx: click.Context, network: str | None, as_json: bool) -> None:
    """Forget cached discovery answers (shared table); node processes re-read within their memory TTL."""
    from gateway.cli.common import run_with_node
    from gateway.smp_cache_store import DbSmpCache

    async def run(node):  # type: ignore[no-untyped-def]
        removed = await DbSmpCache(node.engine).clear(network)
        await node.audit.append("smp.cache.cleared", "operator", details={"network": network, "removed": removed})
        return removed

    removed = run_with_node(ctx, run)
    emit(ctx, {"network": network, "removed": removed}, lambda: click.echo(f"removed {removed} cached answers"))
