"""Who is calling, and may they: the helpers every API handler uses.

``auth_middleware`` authenticates and puts an :class:`AuthenticatedClient` at ``request[CLIENT_KEY]``;
handlers then ask for roles with :func:`require_roles` or declare them with :func:`requires`. A role
refusal raised here is audited by the middleware on its way out, so handlers never audit refusals.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

from gateway.auth.clients import ROLES
from gateway.web.problem import ProblemError

# Attribute a handler decorated with @requires carries; the middleware authenticates such routes wherever
# they are mounted, not only under /api/.
REQUIRED_ROLES_ATTR = "__gateway_required_roles__"

AuthMethod = Literal["mtls", "bearer"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class AuthenticatedClient:
    client_id: str
    name: str
    roles: frozenset[str]
    method: AuthMethod

    def has_any_role(self, *roles: str) -> bool:
        return bool(self.roles & frozenset(roles))

    def as_dict(self) -> dict[str, Any]:
        return {"client_id": self.client_id, "name": self.name, "roles": sorted(self.roles), "method": self.method}


CLIENT_KEY: web.RequestKey[AuthenticatedClient] = web.RequestKey("client", AuthenticatedClient)


class RoleRefused(ProblemError):
    """403 ``forbidden-role``; the middleware audits it (``api.auth.failed``) when it passes through."""

    def __init__(self, client: AuthenticatedClient, required: frozenset[str]) -> None:
        super().__init__(
            403, "forbidden-role", "Forbidden",
            f"this API needs one of the roles: {', '.join(sorted(required))}",
        )
        self.client = client
        self.required = required


def current_client(request: web.Request) -> AuthenticatedClient:
    """The authenticated caller. Raises 401 when the route was not authenticated (a wiring mistake: fail
    closed rather than let a handler run for nobody)."""
    client = request.get(CLIENT_KEY)
    if not isinstance(client, AuthenticatedClient):
        raise ProblemError(401, "auth-missing", "Authentication required")
    return client


def _checked(roles: tuple[str, ...]) -> frozenset[str]:
    wanted = frozenset(roles)
    if not wanted or not wanted <= ROLES:
        # A typo in a role name must break at import time, not silently lock everyone out.
        raise ValueError(f"roles {sorted(wanted)}: expected one or more of {sorted(ROLES)}")
    return wanted


def require_roles(request: web.Request, *roles: str) -> AuthenticatedClient:
    """The caller if it holds at least one of ``roles``; else raise :class:`RoleRefused` (403)."""
    wanted = _checked(roles)
    client = current_client(request)
    if not client.roles & wanted:
        raise RoleRefused(client, wanted)
    return client


def requires(*roles: str) -> Callable[[Handler], Handler]:
    """Route decorator: ``@requires("portal", "register")`` = at least one of these roles."""
    wanted = _checked(roles)

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(*args: Any) -> web.StreamResponse:
            # The request is the last argument, so methods of API objects can be decorated too.
            require_roles(args[-1], *wanted)
            return await handler(*args)

        setattr(guarded, REQUIRED_ROLES_ATTR, wanted)
        return guarded

    return decorate


def required_roles(handler: object) -> frozenset[str] | None:
    """The roles a handler declared with :func:`requires`, or None."""
    value = getattr(handler, REQUIRED_ROLES_ATTR, None)
    return value if isinstance(value, frozenset) else None
