"""Per-application auth state (the token key, loaded once) and the one way refusals are recorded."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.auth.clients import ClientStore
from gateway.auth.tokens import TokenService
from gateway.runtime import Node
from gateway.web.app import NODE_KEY

_MAX_PATH_IN_AUDIT = 256


class AuthServices:
    """Created by ``add_auth_routes`` before the app starts (apps are frozen after that); the token key
    is read or generated on first use, then kept."""

    def __init__(self) -> None:
        self._tokens: TokenService | None = None

    def tokens(self, node: Node) -> TokenService:
        if self._tokens is None:
            self._tokens = TokenService.from_settings(node.settings)
        return self._tokens


AUTH_KEY: web.AppKey[AuthServices] = web.AppKey("gateway_auth", AuthServices)


def node_of(request: web.Request) -> Node:
    # config_dict looks through parent apps too, so sub-applications mounted later work unchanged.
    return request.config_dict[NODE_KEY]


def services_of(request: web.Request) -> AuthServices:
    services = request.config_dict.get(AUTH_KEY)
    # Without add_auth_routes there is nowhere to cache; correct, only slower (the key file is re-read).
    return services if services is not None else AuthServices()


def client_store(request: web.Request) -> ClientStore:
    return ClientStore(node_of(request).engine)


async def record_refusal(
    request: web.Request,
    reason: str,
    *,
    actor: str | None = None,
    auth_method: str = "none",
    event: str = "api.auth.failed",
    **details: Any,
) -> None:
    """Count and audit one refused request. Never pass credentials (tokens, secrets) in ``details``."""
    node = node_of(request)
    node.metrics.auth_failures.labels(reason).inc()
    await node.audit.append(
        event,
        actor or "anonymous",
        details={
            "reason": reason,
            "method": request.method,
            "auth_method": auth_method,
            "path": request.path[:_MAX_PATH_IN_AUDIT],
            "remote": request.remote or "",
            **details,
        },
    )
