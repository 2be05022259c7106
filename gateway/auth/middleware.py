"""Authentication for every API request: one middleware, used by all later APIs (they add none of their own).

One credential decides per request: the ``Authorization`` header when present (so a system whose TLS
client certificate is only a transport credential can still use tokens), otherwise the TLS client
certificate. Every refusal is a problem document, a metric and an ``api.auth.failed`` audit record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiohttp import web

from gateway.auth.access import (
    CLIENT_KEY,
    AuthenticatedClient,
    AuthMethod,
    Handler,
    RoleRefused,
    required_roles,
)
from gateway.auth.clients import ApiClient, ClientStore, fingerprint_der
from gateway.auth.services import client_store, node_of, record_refusal, services_of
from gateway.auth.tls import peer_certificate_der
from gateway.auth.tokens import TokenError
from gateway.web.problem import problem

PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/oauth2/token", "/api/as4/openapi.json",
                          "/api/oots/openapi.json"})
API_PREFIX = "/api/"
REALM = "gateway"
# Our tokens are ~400 characters; a cap keeps garbage out of the JWT parser.
_MAX_TOKEN_CHARS = 4096
_BEARER = re.compile(r"^Bearer +([A-Za-z0-9._~+/=-]+)$", re.IGNORECASE)


@dataclass(slots=True)
class AuthRefused(Exception):
    status: int
    code: str
    detail: str
    auth_method: str
    actor: str | None = None
    cert_sha256: str | None = None


def needs_authentication(request: web.Request) -> bool:
    if request.path in PUBLIC_PATHS:
        return False
    resource = request.match_info.route.resource
    canonical = resource.canonical if resource is not None else ""
    # The matched route counts as much as the raw path, so no spelling of a URL reaches an /api/ handler
    # unauthenticated; a handler declared with @requires is protected wherever it is mounted.
    return (
        request.path.startswith(API_PREFIX)
        or request.path == API_PREFIX.rstrip("/")
        or canonical.startswith(API_PREFIX)
        or required_roles(request.match_info.handler) is not None
    )


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not needs_authentication(request):
        return await handler(request)
    try:
        client = await _authenticate(request)
    except AuthRefused as refused:
        return await _refuse(request, refused)
    request[CLIENT_KEY] = client
    try:
        return await handler(request)
    except RoleRefused as exc:
        await record_refusal(request, exc.code, actor=client.client_id, auth_method=client.method,
                             required_roles=sorted(exc.required))
        raise


async def _authenticate(request: web.Request) -> AuthenticatedClient:
    authorization = request.headers.get("Authorization")
    if authorization is not None:
        return await _from_bearer(request, authorization)
    der = peer_certificate_der(request)
    if der is not None:
        return await _from_certificate(request, der)
    raise AuthRefused(401, "auth-missing", "send a bearer token or a registered TLS client certificate", "none")


async def _from_certificate(request: web.Request, der: bytes) -> AuthenticatedClient:
    fingerprint = fingerprint_der(der)
    client = await client_store(request).find_by_cert(fingerprint)
    if client is None:
        raise AuthRefused(401, "auth-cert-unknown", "the client certificate is not registered", "mtls",
                          cert_sha256=fingerprint)
    _refuse_revoked(client, "mtls")
    return AuthenticatedClient(client.client_id, client.name, client.roles, "mtls")


async def _from_bearer(request: web.Request, authorization: str) -> AuthenticatedClient:
    match = _BEARER.match(authorization.strip())
    if match is None:
        raise AuthRefused(401, "auth-missing", "expected Authorization: Bearer <token>", "other")
    token = match.group(1)
    if len(token) > _MAX_TOKEN_CHARS:
        raise AuthRefused(401, "auth-token-invalid", "the token is too long", "bearer")
    node = node_of(request)
    try:
        claims = services_of(request).tokens(node).verify(token)
    except TokenError as exc:
        raise AuthRefused(401, exc.code, exc.detail, "bearer", actor=exc.client_id) from None
    client = await ClientStore(node.engine).find(claims.client_id)
    if client is None:
        raise AuthRefused(401, "auth-token-invalid", "the token's client is not registered", "bearer",
                          actor=claims.client_id)
    _refuse_revoked(client, "bearer")
    # A role taken away since the token was issued is gone now, not when the token expires.
    return AuthenticatedClient(client.client_id, client.name, claims.roles & client.roles, "bearer")


def _refuse_revoked(client: ApiClient, method: AuthMethod) -> None:
    if client.revoked:
        raise AuthRefused(401, "auth-client-revoked", "this client has been revoked", method, actor=client.client_id)


async def _refuse(request: web.Request, refused: AuthRefused) -> web.Response:
    extra = {"cert_sha256": refused.cert_sha256} if refused.cert_sha256 else {}
    await record_refusal(request, refused.code, actor=refused.actor, auth_method=refused.auth_method, **extra)
    response = problem(refused.status, refused.code, "Unauthorized", refused.detail)
    # RFC 6750 §3: no error attribute unless a bearer token came and failed.
    challenge = f'Bearer realm="{REALM}"'
    if refused.auth_method == "bearer":
        challenge += ', error="invalid_token"'
    response.headers["WWW-Authenticate"] = challenge
    return response
