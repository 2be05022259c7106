"""The node's aiohttp application: health, readiness, metrics, and the API middleware stack."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy import text

from gateway import correlation
from gateway.metrics import CONTENT_TYPE_LATEST
from gateway.runtime import Node
from gateway.web.keys import CORRELATION_KEY
from gateway.web.problem import ProblemError, problem

log = logging.getLogger("gateway.http")

NODE_KEY: web.AppKey[Node] = web.AppKey("node", Node)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def correlation_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Take the caller's X-Correlation-ID (when well-formed) or start a new one; echo it back."""
    offered = request.headers.get(correlation.HEADER, "")
    corr = offered if offered and correlation.is_valid(offered) else correlation.new_id()
    correlation.set_current(corr)
    request[CORRELATION_KEY] = corr
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers[correlation.HEADER] = corr
        raise
    response.headers[correlation.HEADER] = corr
    return response


@web.middleware
async def observe_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Metrics, one log line per request, and problem JSON instead of tracebacks."""
    metrics = request.app[NODE_KEY].metrics
    route = request.match_info.route.resource.canonical if request.match_info.route.resource else "unmatched"
    started = time.perf_counter()
    metrics.http_in_flight.inc()
    status = 500
    try:
        try:
            response = await handler(request)
        except ProblemError as exc:
            response = exc.response()
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            response = problem(exc.status, f"http-{exc.status}", exc.reason)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.path)
            response = problem(500, "internal-error", "Internal error", "the incident was logged")
        status = response.status
        return response
    finally:
        metrics.http_in_flight.dec()
        elapsed = time.perf_counter() - started
        metrics.http_requests.labels(request.method, route, str(status)).inc()
        metrics.http_seconds.labels(route).observe(elapsed)
        # A path carrying a credential (the preview space's PreviewLocation token) is logged by its route.
        logged = route if "{token}" in route else request.path
        log.info("%s %s %d", request.method, logged, status,
                 extra={"duration_ms": round(elapsed * 1000, 2), "route": route})


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    node = request.app[NODE_KEY]
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(2.0):
            async with node.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    checks["audit_key"] = "ok" if node.audit_keys.key_id else "missing"
    ready = all(value == "ok" for value in checks.values())
    return web.json_response({"status": "ready" if ready else "not-ready", "checks": checks},
                             status=200 if ready else 503)


async def metrics_handler(request: web.Request) -> web.Response:
    body = request.app[NODE_KEY].metrics.render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def build_app(node: Node) -> web.Application:
    from gateway.auth.middleware import auth_middleware
    from gateway.auth.routes import add_auth_routes

    app = web.Application(
        middlewares=[correlation_middleware, observe_middleware, auth_middleware],
        client_max_size=node.settings.http.max_body_bytes,
    )
    app[NODE_KEY] = node
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_handler)
    add_auth_routes(app)
    if node.key_store is not None:  # AS4 in needs our keys; partners authenticate by signature, not /api/ auth
        from gateway.as4_backend_api import add_backend_api
        from gateway.as4_receiver import add_as4_receiver
        receiver = add_as4_receiver(app, node)
        add_backend_api(app, node, receiver.payloads)
        if node.settings.oots.service_client:  # OOTS over AS4 and the portals' requester API
            from gateway.oots_node import OotsNode
            from gateway.oots_requester_api import add_oots
            add_oots(app, OotsNode(node, receiver.payloads))
    if node.settings.eidas.enabled and node.key_store is not None:
        from gateway.eidas_dev import add_eidas
        add_eidas(app, node)
    if node.settings.preview_space.enabled:  # after OOTS and eIDAS: it uses both
        from gateway.preview_web import add_preview_space
        add_preview_space(app, node)
    return app
