"""``gateway-node serve``: run the node until SIGTERM/SIGINT, then shut down gracefully.

Graceful means: stop accepting connections, let in-flight requests finish (up to
``http.shutdown_timeout_s``), stop the AS4 sender worker (the send in flight finishes, up to the same timeout,
then the worker is cancelled), commit every queued audit record, close the database. The sender worker runs
only on a node with a key store.
"""

from __future__ import annotations

import asyncio
import logging
import signal

import aiohttp
from aiohttp import web

from gateway.as4_pmodes import PModeStore
from gateway.as4_receiver import open_payload_store
from gateway.as4_sender import As4Sender
from gateway.config import Settings
from gateway.runtime import Node
from gateway.web.app import build_app
from gateway.web.tls import server_context

log = logging.getLogger("gateway.serve")
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
SENDER_POLL_S = 1.0


async def _sender_worker(node: Node, stopping: asyncio.Event) -> None:
    async with aiohttp.ClientSession() as http:
        sender = As4Sender(node, PModeStore(node.engine), open_payload_store(node), http)
        await sender.run_forever(SENDER_POLL_S, stop=stopping)


async def _stop_worker(task: asyncio.Task[None], stopping: asyncio.Event, grace_s: float) -> None:
    """Ask the worker to stop (it finishes the send in flight), wait up to ``grace_s``, then cancel it."""
    stopping.set()
    done, _ = await asyncio.wait({task}, timeout=grace_s)
    if not done:
        log.warning("AS4 sender still busy after %.0f s: cancelling (its claimed messages come back later)", grace_s)
        task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    except Exception:
        log.exception("AS4 sender worker failed")


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
    sender_stopping = asyncio.Event()
    sender_task: asyncio.Task[None] | None = None
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
        if node.key_store is not None:
            sender_task = asyncio.create_task(_sender_worker(node, sender_stopping), name="as4-sender")
        if ready is not None:
            ready.set()
        await stop.wait()
        log.info("shutting down: finishing in-flight requests")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        sender_stopping.set()  # claims nothing new while the HTTP side drains
        try:
            await runner.cleanup()
            if sender_task is not None:
                await _stop_worker(sender_task, sender_stopping, settings.http.shutdown_timeout_s)
        except BaseException:
            if sender_task is not None and not sender_task.done():
                sender_task.cancel()
            raise
        try:
            await node.audit.append("node.stopped", "node", details={"node_id": settings.node.id})
        finally:
            await node.close()
        log.info("stopped")
