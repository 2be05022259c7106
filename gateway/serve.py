"""``gateway-node serve``: run the node until SIGTERM/SIGINT, then shut down gracefully.

Graceful means: stop accepting connections, let in-flight requests finish (up to
``http.shutdown_timeout_s``), stop the AS4 workers — sender, backend delivery, housekeeping — (sends in flight
finish, up to the same timeout, then they are cancelled), commit every queued audit record, close the
database. The AS4 workers run only on a node with a key store.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import signal
import ssl

import aiohttp
from aiohttp import web

from as4.payload_store import PayloadStore
from gateway.as4_backend_api import BACKEND_API_KEY
from gateway.as4_delivery import DeliveryWorker
from gateway.as4_ops import housekeeping
from gateway.as4_pmodes import PModeStore
from gateway.as4_receiver import AS4_RECEIVER_KEY
from gateway.as4_sender import As4Sender
from gateway.config import As4Section, ConfigError, Settings
from gateway.memory import tune_malloc
from gateway.runtime import Node
from gateway.web.app import build_app
from gateway.web.tls import server_context

log = logging.getLogger("gateway.serve")
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


async def _as4_workers(node: Node, app: web.Application, stopping: asyncio.Event) -> None:
    """The AS4 sender, the backend delivery worker and housekeeping, sharing one pooled HTTP client. API submits
    and accepted messages wake the workers at once; the poll interval only catches other processes' work."""
    settings = node.settings.as4
    receiver = app[AS4_RECEIVER_KEY]
    connector = aiohttp.TCPConnector(limit=100, limit_per_host=32, ssl=partner_tls(settings))
    async with aiohttp.ClientSession(connector=connector) as http:
        sender = As4Sender(node, PModeStore(node.engine, recheck_s=1.0), receiver.payloads, http,
                           timeout_s=settings.sender_timeout_s,
                           batch_size=settings.sender_batch, message_id_domain=settings.message_id_domain,
                           concurrency=settings.sender_concurrency)
        delivery = DeliveryWorker(node, receiver.payloads, http)
        app[BACKEND_API_KEY].on_submitted.append(sender.wake.set)
        app[BACKEND_API_KEY].on_webhook.append(delivery.wake.set)
        receiver.on_accepted.append(delivery.wake.set)
        extra = []
        if node.settings.oots.service_client:  # the OOTS service consumes its PModes' messages in this process
            from gateway.oots_requester_api import OOTS_KEY

            oots = app[OOTS_KEY]
            oots.attach(sender, http)
            receiver.on_accepted.append(oots.wake.set)
            extra.append(oots.run_forever(settings.sender_poll_s, stop=stopping))
        await asyncio.gather(
            *extra,
            sender.run_forever(settings.sender_poll_s, stop=stopping),
            delivery.run_forever(settings.sender_poll_s, stop=stopping),
            _housekeeping(node, receiver.payloads, settings.housekeeping_every_s, stopping),
        )


def partner_tls(settings: As4Section) -> ssl.SSLContext | bool:
    """TLS 1.2+ to partners' endpoints: the anchors of ``as4.tls_trust_dir`` (a pki trust store), else the system's
    CAs; certificates and host names are always verified. ``as4.tls_client_cert``/``tls_client_key``: our
    certificate for partners that require mutual TLS."""
    if settings.tls_trust_dir is None and settings.tls_client_cert is None:
        return True
    cadata = None
    if settings.tls_trust_dir is not None:
        from pki.trust import TrustStore

        cadata = TrustStore.from_directory(settings.tls_trust_dir).ssl_cadata()
    context = ssl.create_default_context(cadata=cadata)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.tls_client_cert is not None:
        if settings.tls_client_key is None:
            raise ConfigError("as4.tls_client_key", "a TLS client certificate needs its key")
        context.load_cert_chain(settings.tls_client_cert, settings.tls_client_key)
    return context


async def _housekeeping(node: Node, payloads: PayloadStore, every_s: float, stopping: asyncio.Event) -> None:
    while not stopping.is_set():
        try:
            await housekeeping(node, payloads)
        except Exception:
            log.exception("AS4 housekeeping failed; next round in %.0f s", every_s)
        try:
            await asyncio.wait_for(stopping.wait(), every_s)
        except TimeoutError:
            pass


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


# Blocking work runs in threads: crypto, the payload store's fsyncs, and bodies streamed between the event loop
# and a consumer thread (which holds its thread while the peer sends). The default pool (CPUs + 4) would make
# concurrent requests queue behind one another's network waits.
WORKER_THREADS = 32


async def serve(settings: Settings, *, ready: asyncio.Event | None = None) -> None:
    tune_malloc()
    asyncio.get_running_loop().set_default_executor(
        concurrent.futures.ThreadPoolExecutor(WORKER_THREADS, thread_name_prefix="gateway-worker"))
    ssl_context = server_context(settings.http)
    if ssl_context is None and settings.http.host not in LOOPBACK:
        log.warning("serving plain HTTP on %s: client secrets and tokens cross the network in clear; "
                    "configure http.tls_cert and http.tls_key", settings.http.host)
    node = await Node.open(settings, create_pki=True)
    app = build_app(node)
    runner = web.AppRunner(
        app, shutdown_timeout=settings.http.shutdown_timeout_s, access_log=None,
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
            sender_task = asyncio.create_task(_as4_workers(node, app, sender_stopping), name="as4-workers")
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
