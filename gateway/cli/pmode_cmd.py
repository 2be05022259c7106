"""``gateway-node pmode …``: load PMode files into the database (versioned), list and show them."""

from __future__ import annotations

import json

import click

from as4.pmode import PModeError
from gateway.as4_pmodes import LoadResult, PModeStore, StoredPMode
from gateway.cli.common import emit, fail, json_option, run_with_node
from gateway.runtime import Node


@click.group()
def pmode() -> None:
    """AS4 PModes: per-partner agreements (parties, service/action, profile, endpoint, certificates)."""


@pmode.command("load")
@click.argument("file", type=click.Path(dir_okay=False))
@json_option
@click.pass_context
def load_cmd(ctx: click.Context, file: str, as_json: bool) -> None:
    """Validate FILE and store new versions of the PModes it changes (a bad file changes nothing)."""

    async def run(node: Node) -> LoadResult | PModeError:
        try:
            result = await PModeStore(node.engine).load_file(file)
        except PModeError as exc:
            await node.audit.append("as4.pmode.refused", "operator", details=exc.to_json())
            return exc
        await node.audit.append("as4.pmode.loaded", "operator", details=result.to_json())
        return result

    outcome = run_with_node(ctx, run)
    if isinstance(outcome, PModeError):
        fail(str(outcome))
        return

    def human() -> None:
        click.echo(f"loaded {outcome.source_file}: {len(outcome.added)} added, {len(outcome.updated)} updated, "
                   f"{len(outcome.unchanged)} unchanged, {len(outcome.removed)} removed")
        for pmode_id in outcome.added:
            click.echo(f"  + {pmode_id}")
        for pmode_id, version in outcome.updated.items():
            click.echo(f"  ~ {pmode_id} (version {version})")
        for pmode_id in outcome.removed:
            click.echo(f"  - {pmode_id}")

    emit(ctx, outcome.to_json(), human)


@pmode.command("list")
@json_option
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """The active PModes."""

    async def run(node: Node) -> list[dict]:
        store = PModeStore(node.engine)
        rows = []
        for p in await store.active():
            meta = store.meta(p.id)
            assert meta is not None
            rows.append({**p.summary(), "version": meta.version, "loaded_at": meta.loaded_at,
                         "source_file": meta.source_file})
        return rows

    rows = run_with_node(ctx, run, start_audit=False)

    def human() -> None:
        if not rows:
            click.echo("no active PModes")
        for r in rows:
            click.echo(f"{r['id']} v{r['version']}  {r['profile']}  {r['initiator']} -> {r['responder']}  "
                       f"{r['service']} / {r['action']}  {r['endpoint']}")

    emit(ctx, rows, human)


@pmode.command("show")
@click.argument("pmode_id", metavar="ID")
@click.option("--version", "version", type=click.IntRange(min=1), help="A stored version (default: the newest).")
@json_option
@click.pass_context
def show_cmd(ctx: click.Context, pmode_id: str, version: int | None, as_json: bool) -> None:
    """One PMode as stored (certificates as PEM), with its versions."""

    async def run(node: Node) -> list[StoredPMode]:
        return await PModeStore(node.engine).history(pmode_id)

    history = run_with_node(ctx, run, start_audit=False)
    if not history:
        fail(f"no PMode {pmode_id!r}")
        return
    chosen = history[-1] if version is None else next((h for h in history if h.version == version), None)
    if chosen is None:
        fail(f"PMode {pmode_id!r} has no version {version} (versions: {', '.join(str(h.version) for h in history)})")
        return
    data = {**chosen.to_json(), "versions": [{"version": h.version, "loaded_at": h.loaded_at, "active": h.active}
                                             for h in history]}

    def human() -> None:
        state = "active" if chosen.active else "inactive"
        click.echo(f"{chosen.id} version {chosen.version} ({state}), loaded {chosen.loaded_at} "
                   f"from {chosen.source_file}")
        click.echo(json.dumps(chosen.content, indent=2))

    emit(ctx, data, human)
