"""Routes of the auth package: the token endpoint, ``whoami`` and the work-item API."""

from __future__ import annotations

from aiohttp import web

from gateway.auth.access import current_client
from gateway.auth.services import AUTH_KEY, AuthServices
from gateway.auth.token_endpoint import token_endpoint
from gateway.auth.work_items import create_work_item, get_work_item, list_work_items


async def whoami(request: web.Request) -> web.Response:
    """The authenticated caller as the node sees it (any role): lets a client check its setup."""
    return web.json_response(current_client(request).as_dict())


def add_auth_routes(app: web.Application) -> None:
    app[AUTH_KEY] = AuthServices()
    app.router.add_post("/oauth2/token", token_endpoint)
    app.router.add_get("/api/v1/whoami", whoami)
    app.router.add_post("/api/v1/work-items", create_work_item)
    app.router.add_get("/api/v1/work-items", list_work_items)
    app.router.add_get("/api/v1/work-items/{id}", get_work_item)
