"""Real HTTP servers on loopback for discovery tests: the local SMP publisher and a misbehaving SMP."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable

from aiohttp import web

from pki.keys.port import KeyPurpose
from tests.as4.secfixtures import pki


async def start_app(app: web.Application, *, tls: ssl.SSLContext | None = None) -> tuple[web.AppRunner, str]:
    """Serve ``app`` on a free loopback port: ``http://127.0.0.1:N``, or ``https://localhost:N`` with ``tls``
    (the dev PKI's TLS certificate names localhost)."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"https://localhost:{port}" if tls else f"http://127.0.0.1:{port}"


def server_tls() -> ssl.SSLContext:
    """The dev PKI node's TLS server certificate (EC, SAN localhost) and key."""
    store = pki().node
    entry = store.entries(KeyPurpose.TLS_SERVER, live_only=True)[0]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(store.path(entry.chain_file or entry.cert_file), store.path(entry.key_file))
    return context


def fixed_app(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.Application:
    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    return app
