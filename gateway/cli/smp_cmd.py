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
@json_option
@click.pass_context
def parse_cmd(ctx: click.Context, file: str, trust_dir: str | None, as_json: bool) -> None:
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
