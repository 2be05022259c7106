"""``gateway-node as4 pause|resume|paused|ping|evidence|housekeeping``: operator actions beyond send/status/resend."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable

import aiohttp
import click

from gateway.cli.as4_cmd import as4_group
from gateway.cli.common import EXIT_FAILED, emit, fail, json_option, run_with_node
from gateway.runtime import Node


def _partner_action(ctx: click.Context, action: Callable[[Node], Awaitable[None]], partner: str, paused: bool) -> None:
    """Run a pause/resume on the node; a refusal exits non-zero with its code."""
    from gateway.as4_ops import OperatorRefused

    async def run(node: Node) -> str | None:
        try:
            await action(node)
        except OperatorRefused as exc:
            return f"{exc.code}: {exc}"
        return None

    if (refused := run_with_node(ctx, run)) is not None:
        fail(refused)
        return
    emit(ctx, {"partner": partner, "paused": paused},
         lambda: click.echo(f"{partner}: {'paused' if paused else 'resumed'}"))


@as4_group.command("pause")
@click.argument("partner")
@click.option("--reason", help="Why (kept in the audit log).")
@json_option
@click.pass_context
def pause_cmd(ctx: click.Context, partner: str, reason: str | None, as_json: bool) -> None:
    """Hold every outbound message to PARTNER (the PModes' responder PartyId) until `as4 resume`."""
    from gateway.as4_ops import pause_partner

    _partner_action(ctx, lambda node: pause_partner(node, partner, reason=reason), partner, paused=True)


@as4_group.command("resume")
@click.argument("partner")
@json_option
@click.pass_context
def resume_cmd(ctx: click.Context, partner: str, as_json: bool) -> None:
    """Let the sender send to PARTNER again (waiting messages go out, their time to live unchanged)."""
    from gateway.as4_ops import resume_partner

    _partner_action(ctx, lambda node: resume_partner(node, partner), partner, paused=False)


@as4_group.command("paused")
@json_option
@click.pass_context
def paused_cmd(ctx: click.Context, as_json: bool) -> None:
    """List the paused partners."""
    from gateway.as4_ops import paused_partners

    rows = run_with_node(ctx, paused_partners, start_audit=False)

    def human() -> None:
        if not rows:
            click.echo("no partner is paused")
        for row in rows:
            click.echo(f"{row['partner']}  since {row['paused_at']}  by {row['actor']}  {row['reason'] or ''}")

    emit(ctx, rows, human)


@as4_group.command("ping")
@click.option("--pmode", "pmode_id", required=True, help="The PMode (partner agreement) to ping under.")
@click.option("--timeout", "timeout_s", default=30.0, show_default=True, help="Seconds to wait for the receipt.")
@json_option
@click.pass_context
def ping_cmd(ctx: click.Context, pmode_id: str, timeout_s: float, as_json: bool) -> None:
    """Send an ebMS test message to the partner now and check its signed receipt (exit 1 without one)."""
    from gateway.as4_ops import OperatorRefused, ping
    from gateway.as4_pmodes import PModeStore
    from gateway.as4_receiver import open_payload_store
    from gateway.as4_sender import As4Sender

    async def run(node: Node) -> dict[str, object]:
        async with aiohttp.ClientSession() as http:
            sender = As4Sender(node, PModeStore(node.engine), open_payload_store(node), http, timeout_s=timeout_s,
                               message_id_domain=node.settings.as4.message_id_domain)
            try:
                return {"ok": True, **(await ping(node, sender, pmode_id)).as_dict()}
            except OperatorRefused as exc:
                return {"ok": False, "code": exc.code, "error": str(exc)}
            except Exception as exc:
                return {"ok": False, "code": getattr(exc, "code", type(exc).__name__),
                        "error": getattr(exc, "text", None) or getattr(exc, "detail", None) or str(exc)}

    result = run_with_node(ctx, run)

    def human() -> None:
        if result["ok"]:
            click.echo(f"{pmode_id}: receipt from {result['endpoint']} in {result['round_trip_ms']} ms "
                       f"({result['message_id']})")
        else:
            click.echo(f"{pmode_id}: {result['code']}: {result['error']}", err=True)

    emit(ctx, result, human)
    if not result["ok"]:
        ctx.exit(EXIT_FAILED)


@as4_group.command("evidence")
@click.argument("message_id")
@json_option
@click.pass_context
def evidence_cmd(ctx: click.Context, message_id: str, as_json: bool) -> None:
    """The non-repudiation archive of a message: the signed envelope and the receipt (base64 in --json)."""
    from gateway.as4_archive import evidence_for

    items = run_with_node(ctx, lambda node: evidence_for(node.engine, message_id), start_audit=False)
    if not items:
        fail(f"nothing archived for {message_id!r}")
        return
    data = [{**item, "body": base64.b64encode(item["body"]).decode()} for item in items]

    def human() -> None:
        for item in items:
            click.echo(f"{item['direction']:8} {item['kind']:8} {len(item['body']):>8} bytes  "
                       f"archived {item['archived_at']}  kept until {item['expires_at']}")

    emit(ctx, data, human)


@as4_group.command("housekeeping")
@json_option
@click.pass_context
def housekeeping_cmd(ctx: click.Context, as_json: bool) -> None:
    """Purge expired duplicate-detection rows, delivered payloads past retention and old archive entries now."""
    from gateway.as4_ops import housekeeping
    from gateway.as4_receiver import open_payload_store

    result = run_with_node(ctx, lambda node: housekeeping(node, open_payload_store(node)))
    emit(ctx, result.as_dict(), lambda: click.echo(", ".join(f"{k}: {v}" for k, v in result.as_dict().items())))
