"""Real HTTP servers on loopback for discovery tests: the local SMP publisher and a misbehaving SMP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web


async def start_app(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


def fixed_app(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.Application:
    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    return app
