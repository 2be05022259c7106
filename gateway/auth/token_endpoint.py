"""``POST /oauth2/token``: the OAuth 2.0 client-credentials grant (RFC 6749 §4.4).

Clients authenticate with ``client_secret_basic`` or ``client_secret_post`` (§2.3.1). Errors use the
protocol's own JSON (§5.2: ``error``, ``error_description``), not problem documents, because OAuth client
libraries read exactly that; they still carry the correlation id and are audited like every refusal.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from aiohttp import web

from gateway import correlation
from gateway.auth.middleware import REALM
from gateway.auth.services import client_store, node_of, record_refusal, services_of

GRANT_TYPE = "client_credentials"
_FORM = "application/x-www-form-urlencoded"
_MAX_ID, _MAX_SECRET = 64, 256
# RFC 6749 §5.1: token responses must not be cached.
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(slots=True)
class OAuthError(Exception):
    status: int
    error: str
    description: str
    auth_method: str = "none"
    actor: str | None = None
    cause: str | None = None

    def response(self) -> web.Response:
        body: dict[str, Any] = {"error": self.error, "error_description": self.description}
        corr = correlation.current()
        if corr:
            body["correlation_id"] = corr
        headers = dict(_NO_STORE)
        if self.status == 401:
            headers["WWW-Authenticate"] = f'Basic realm="{REALM}"'
        return web.json_response(body, status=self.status, headers=headers)


def _invalid_client(auth_method: str, cause: str, actor: str | None = None) -> OAuthError:
    # One answer for every way client authentication fails: nothing to learn about which ids exist.
    return OAuthError(401, "invalid_client", "client authentication failed", auth_method, actor, cause)


def _basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise _invalid_client("other", "unsupported-authorization-scheme")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _invalid_client("client_secret_basic", "malformed-basic") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise _invalid_client("client_secret_basic", "malformed-basic")
    # §2.3.1: both halves are form-urlencoded before being joined.
    return unquote_plus(client_id), unquote_plus(secret)


def _single(form: Any, name: str) -> str | None:
    values = form.getall(name, [])
    if len(values) > 1:
        raise OAuthError(400, "invalid_request", f"parameter {name} given more than once")
    if values and not isinstance(values[0], str):
        raise OAuthError(400, "invalid_request", f"parameter {name} must be text")
    return values[0] if values else None


async def _handle(request: web.Request) -> web.Response:
    if request.content_type != _FORM:
        raise OAuthError(400, "invalid_request", f"expected {_FORM}")
    form = await request.post()
    grant_type = _single(form, "grant_type")
    if grant_type is None:
        raise OAuthError(400, "invalid_request", "grant_type is missing")
    if grant_type != GRANT_TYPE:
        raise OAuthError(400, "unsupported_grant_type", f"only {GRANT_TYPE} is supported")
    form_id, form_secret = _single(form, "client_id"), _single(form, "client_secret")
    header = request.headers.get("Authorization")
    if header is not None:
        if form_secret is not None:
            raise OAuthError(400, "invalid_request", "use one client authentication method, not two")
        client_id, secret = _basic_credentials(header)
        auth_method = "client_secret_basic"
    elif form_id is not None and form_secret is not None:
        client_id, secret, auth_method = form_id, form_secret, "client_secret_post"
    else:
        raise _invalid_client("none", "no-credentials")
    if not client_id or not secret or len(client_id) > _MAX_ID or len(secret) > _MAX_SECRET:
        raise _invalid_client(auth_method, "malformed-credentials")

    client, secret_ok = await client_store(request).check_secret(client_id, secret)
    known = client.client_id if client else None
    if client is None:
        raise _invalid_client(auth_method, "unknown-client")
    if not secret_ok:
        raise _invalid_client(auth_method, "bad-secret", known)
    if client.revoked:
        raise _invalid_client(auth_method, "client-revoked", known)

    scope = _single(form, "scope")
    granted = client.roles
    if scope is not None:
        asked = frozenset(scope.split())
        if not asked or not asked <= client.roles:
            raise OAuthError(400, "invalid_scope", "scope must name roles of this client", auth_method, known,
                             "scope-not-allowed")
        granted = asked

    node = node_of(request)
    issued = services_of(request).tokens(node).issue(client.client_id, granted)
    await node.audit.append("api.token.issued", client.client_id, details={
        "jti": issued.jti, "roles": sorted(issued.roles), "auth_method": auth_method,
        "expires_in": issued.expires_in,
    })
    return web.json_response(
        {"access_token": issued.access_token, "token_type": "Bearer", "expires_in": issued.expires_in,
         "scope": " ".join(sorted(issued.roles))},
        headers=_NO_STORE,
    )


async def token_endpoint(request: web.Request) -> web.Response:
    try:
        return await _handle(request)
    except OAuthError as exc:
        extra = {"cause": exc.cause} if exc.cause else {}
        await record_refusal(request, exc.error, actor=exc.actor, auth_method=exc.auth_method, **extra)
        return exc.response()
