"""The whole login stack on loopback for end-to-end tests: the node (with its real app, database and keys),
the foreign proxy-service simulator and the demo portal, each an aiohttp server on its own free port."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from eidas_node.demo_portal import DemoPortal
from eidas_node.simulator.app import Simulator
from gateway.eidas_connector import Connector
from gateway.eidas_dev import start_development_parts
from gateway.eidas_web import CONNECTOR_KEY
from gateway.runtime import Node
from gateway.web.app import build_app
from tests.conftest import make_settings


@dataclass
class Stack:
    node: Node
    connector: Connector
    node_url: str
    simulator: Simulator
    portal: DemoPortal


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def login_stack(tmp_path: Path, db_url: str, countries: tuple[str, ...] = ("DE", "EL", "BG", "EE"),
                      unmatched: str = "register") -> AsyncIterator[Stack]:
    sock = _bound_socket()  # bound before the node starts: its public URL is known, and no port race
    node_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = make_settings(tmp_path / "data", db_url, eidas__enabled="true", eidas__public_url=node_url,
                             eidas__simulator_countries=",".join(countries),
                             eidas__demo_portal="true", eidas__unmatched=unmatched)
    node = await Node.open(settings, create_pki=True)
    app = build_app(node)
    app.on_startup.clear()  # the development parts are started below, so the test can reach them
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    connector = app[CONNECTOR_KEY]
    await start_development_parts(connector)
    simulator = next(x for x in connector.extras if isinstance(x, Simulator))
    portal = next(x.portal for x in connector.extras if hasattr(x, "portal"))  # type: ignore[attr-defined]
    try:
        yield Stack(node, connector, node_url, simulator, portal)
    finally:
        await runner.cleanup()
        await node.close()
