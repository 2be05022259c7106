"""``gateway-node``: the node's command line. ``gateway-node <area> <verb>``; ``--json`` where it prints data."""

from __future__ import annotations

import asyncio
import json

import click

from gateway import logs
from gateway.cli.common import EXIT_CONFIG, emit, json_option, run_with_node, settings_from
from gateway.config import ConfigError, effective_config

# The areas' command groups, imported only when used: `serve` then loads none of them (nor eIDAS, OOTS, SMP,
# YAML, …), which keeps a node process's memory flat.
_AREAS = {
    "as4": "gateway.cli.as4_ops_cmd:as4_group",  # as4_ops_cmd adds pause/resume/ping/… to as4_cmd's group
    "audit": "gateway.cli.audit_cmd:audit",
    "clients": "gateway.cli.clients_cmd:clients",
    "edm": "gateway.cli.edm_cmd:edm",
    "eidas": "gateway.cli.eidas_cmd:eidas",
    "oots": "gateway.cli.oots_cmd:oots_group",
    "pki": "gateway.cli.pki_cmd:pki",
    "pmode": "gateway.cli.pmode_cmd:pmode",
    "smp": "gateway.cli.smp_cmd:smp",
    "xml": "gateway.cli.xml_cmd:xml",
}


class _LazyArea(click.Group):
    """A placeholder group that imports the real one on first use (help, a subcommand)."""

    def __init__(self, name: str, target: str) -> None:
        super().__init__(name)
        self._target = target
        self._real: click.Group | None = None

    def _load(self) -> click.Group:
        if self._real is None:
            import importlib

            module, _, attr = self._target.partition(":")
            self._real = getattr(importlib.import_module(module), attr)
        return self._real

    def get_short_help_str(self, limit: int = 45) -> str:
        return self._load().get_short_help_str(limit)

    def invoke(self, ctx: click.Context) -> object:
        return self._load().invoke(ctx)

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: object) -> click.Context:
        return self._load().make_context(info_name, args, parent, **extra)  # type: ignore[arg-type]

    def main(self, *args: object, **kwargs: object) -> object:
        return self._load().main(*args, **kwargs)  # type: ignore[arg-type]


@click.group()
@click.option("--config", "config", type=click.Path(dir_okay=False), default=None,
              help="TOML configuration file (default: $GATEWAY_CONFIG, else ./gateway.toml if present).")
@click.pass_context
def cli(ctx: click.Context, config: str | None) -> None:
    """Cross-border gateway node: eDelivery AS4, SML/SMP, eIDAS connector, OOTS."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config


@cli.command()
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Run the node until SIGTERM/SIGINT (graceful shutdown)."""
    from gateway.serve import serve as run_serve

    settings = settings_from(ctx)
    logs.configure(settings.logging.level, settings.logging.format)
    try:
        asyncio.run(run_serve(settings))
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_CONFIG)


@cli.command()
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default="data/demo", show_default=True,
              help="Where the demo keeps both nodes (created on the first start, reused later).")
@click.option("--port", "base_port", type=int, default=8480, show_default=True,
              help="First of six consecutive ports: LV node, partner node, portal, common services, preview spaces.")
@click.pass_context
def demo(ctx: click.Context, data_dir: str, base_port: int) -> None:
    """The whole cross-border journey on one machine (development only): two nodes, simulators, a portal."""
    from pathlib import Path

    from gateway.demo.launcher import main as run_demo
    from gateway.demo.network import Ports

    ctx.exit(run_demo(Path(data_dir), Ports.from_base(base_port)))


@cli.group()
def config() -> None:
    """Inspect the configuration."""


@config.command("show")
@json_option
@click.pass_context
def config_show(ctx: click.Context, as_json: bool) -> None:
    """Print the effective configuration (file + GATEWAY_* overrides), secrets masked."""
    data = effective_config(settings_from(ctx))

    def human() -> None:
        for section, values in data.items():
            click.echo(f"[{section}]")
            for key, value in values.items():
                click.echo(f"{key} = {json.dumps(value)}")
            click.echo()

    emit(ctx, data, human)


@config.command("check")
@click.pass_context
def config_check(ctx: click.Context) -> None:
    """Validate the configuration and that the database is reachable."""
    from gateway.db.engine import check_reachable, create_engine

    settings = settings_from(ctx)

    async def check() -> None:
        engine = create_engine(settings)
        try:
            await check_reachable(engine, settings.database.connect_timeout_s)
        finally:
            await engine.dispose()

    try:
        asyncio.run(check())
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_CONFIG)
    click.echo("configuration ok")


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply Alembic migrations up to the newest revision."""
    from gateway.db.migrate import current_revision

    revision = run_with_node(ctx, lambda node: current_revision(node.engine), start_audit=False)
    click.echo(f"database at revision {revision}")


@db.command("current")
@json_option
@click.pass_context
def db_current(ctx: click.Context, as_json: bool) -> None:
    """Show the schema revision of the database and of this code."""
    from gateway.db.engine import check_reachable, create_engine
    from gateway.db.migrate import current_revision, head_revision

    settings = settings_from(ctx)

    async def read() -> str | None:
        engine = create_engine(settings)
        try:
            await check_reachable(engine, settings.database.connect_timeout_s)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    try:
        current = asyncio.run(read())
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_CONFIG)
    data = {"current": current, "head": head_revision()}
    emit(ctx, data, lambda: click.echo(f"database: {current or '(empty)'}; code: {data['head']}"))


def _register_subcommands() -> None:
    for name, target in _AREAS.items():
        cli.add_command(_LazyArea(name, target))


_register_subcommands()


def main() -> None:
    cli(obj={})


if __name__ == "__main__":
    main()
