"""Typed keys for values the middleware stack stores on each request."""

from __future__ import annotations

from aiohttp import web

# The correlation id of the request (the caller's X-Correlation-ID when well-formed, else a new one).
CORRELATION_KEY: web.RequestKey[str] = web.RequestKey("correlation_id", str)
