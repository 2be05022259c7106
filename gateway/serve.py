"""``gateway-node serve``: run the node until SIGTERM/SIGINT, then shut down gracefully.

Graceful means: stop accepting connections, let in-flight requests finish (up to
``http.shutdown_timeout_s``), commit every queued audit record, close the database.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from gateway.config import Settings
from gateway.runtime import Node
from gateway.web.app import build_app
from gateway.web.tls import server_context

log = logging.getLogger("gateway.serve")
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


async def serve(settings: Settings, *, ready: asyncio.Event | None = None) -> None:
    ssl_context = server_context(settings.http)
    if ssl_context is None and settings.http.host not in LOOPBACK:
        log.warning("serving plain HTTP on %s: client secrets and tokens cross the network in clear; "
                    "configure http.tls_cert and http.tls_key", settings.http.host)
    node = await Node.open(settings, create_pki=True)
    runner = web.AppRunner(
        build_app(node), shutdown_timeout=settings.http.shutdown_timeout_s, access_log=None,
        handle_signals=False,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await runner.setup()
        site = web.TCPSite(runner, settings.http.host, settings.http.port, ssl_context=ssl_context)
        await site.start()
        bound = runner.addresses
        scheme = "https" if ssl_context else "http"
        address = f"{scheme}://{bound[0][0]}:{bound[0][1]}" if bound else f"{settings.http.host}:{settings.http.port}"
        log.info("gateway node %s listening on %s", settings.node.id, address,
                 extra={"address": address, "database": settings.database_url.split(":")[0]})
        await node.audit.append("node.started", "node", details={"node_id": settings.node.id, "address": address})
        if ready is not None:
            ready.set()
        await stop.wait()
        log.info("shutting down: finishing in-flight requests")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await runner.cleanup()
        try:
            await node.audit.append("node.stopped", "node", details={"node_id": settings.node.id})
        finally:
            await node.close()
        log.info("stopped")
