"""Shared CLI plumbing: load settings, open the node, print JSON or human output, exit codes."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from gateway.config import ConfigError, Settings, load_settings
from gateway.runtime import Node

T = TypeVar("T")

EXIT_CONFIG = 2
EXIT_FAILED = 1


def settings_from(ctx: click.Context) -> Settings:
    try:
        return load_settings(ctx.obj.get("config"))
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_CONFIG)
        raise  # unreachable: ctx.exit raises


def run_with_node(ctx: click.Context, coro_fn: Callable[[Node], Awaitable[T]], *, start_audit: bool = True) -> T:
    """Open the node (migrations applied), run ``coro_fn(node)``, always close it."""
    settings = settings_from(ctx)

    async def runner() -> T:
        node = await Node.open(settings, start_audit=start_audit)
        try:
            return await coro_fn(node)
        finally:
            await node.close()

    try:
        return asyncio.run(runner())
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_CONFIG)
        raise


def wants_json(ctx: click.Context) -> bool:
    return bool(ctx.params.get("as_json")) or bool(ctx.obj.get("json"))


def emit(ctx: click.Context, data: Any, human: Callable[[], None]) -> None:
    if wants_json(ctx):
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        human()


def json_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")(fn)


def fail(message: str, code: int = EXIT_FAILED) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)
