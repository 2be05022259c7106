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
