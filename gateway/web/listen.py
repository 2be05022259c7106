"""Start an aiohttp application on a host and port (0: any free port) and say which port it got.

Development servers (simulators, the demo portal, the SMP publisher) bind port 0 in tests; aiohttp exposes the
bound port only through the site's server sockets, read here in one place.
"""

from __future__ import annotations

import ssl

from aiohttp import web


async def start_site(app: web.Application | web.AppRunner, host: str, port: int, *,
                     ssl_context: ssl.SSLContext | None = None) -> tuple[web.AppRunner, int]:
    """Set up and start; returns the runner (``await runner.cleanup()`` stops it) and the bound port."""
    runner = app if isinstance(app, web.AppRunner) else web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
    await site.start()
    return runner, int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
