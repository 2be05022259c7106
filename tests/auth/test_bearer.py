"""Bearer tokens end to end: the real app over TLS, tokens from the real token endpoint, forged ones by hand."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.auth.tokens import TokenService, load_or_create_signing_key

if TYPE_CHECKING:
    from tests.auth.conftest import Api


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(api: Api, client_id: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    node_id = api.node.settings.node.id
    claims = {"iss": node_id, "aud": node_id, "sub": client_id, "iat": now, "nbf": now, "exp": now + 300,
              "jti": "j1", "roles": ["portal"]}
    claims.update(overrides)
    return claims


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())


async def _whoami(api: Api, token: str | None, corr: str, scheme: str = "Bearer") -> tuple[int, dict, Any]:
    headers = {"X-Correlation-ID": corr}
    if token is not None:
        headers["Authorization"] = f"{scheme} {token}"
    async with api.session() as http:
        response = await http.get("/api/v1/whoami", headers=headers)
        return response.status, await response.json(), response.headers


async def _assert_refused(api: Api, token: str | None, corr: str, code: str, actor: str = "anonymous",
                          scheme: str = "Bearer") -> None:
    before = api.failures(code)
    status, body, headers = await _whoami(api, token, corr, scheme)
    assert status == 401, body
    assert body["code"] == code and body["correlation_id"] == corr
    assert headers["Content-Type"].startswith("application/problem+json")
    assert headers["WWW-Authenticate"].startswith('Bearer realm="gateway"')
    records = await api.audit("api.auth.failed", corr)
    assert len(records) == 1
    details = records[0]["details"]
    assert records[0]["actor"] == actor
    assert details["reason"] == code and details["path"] == "/api/v1/whoami" and details["method"] == "GET"
    assert details["remote"] == "127.0.0.1"
    if token:
        assert token not in json.dumps(records[0])  # the credential itself is never audited
    assert api.failures(code) == before + 1


async def test_no_credentials_is_401_audited_and_counted(api: Api, corr: str) -> None:
    await _assert_refused(api, None, corr, "auth-missing")
    _, _, headers = await _whoami(api, None, corr + "-2")
    assert headers["WWW-Authenticate"] == 'Bearer realm="gateway"'  # RFC 6750 §3: no error without a token


async def test_other_authorization_schemes_are_refused(api: Api, corr: str) -> None:
    await _assert_refused(api, "dXNlcjpwYXNz", corr, "auth-missing", scheme="Basic")


async def test_valid_token_reaches_whoami(api: Api, corr: str) -> None:
    created = await api.register("Portal", "portal", "operator")
    token = await api.token(created)
    status, body, _ = await _whoami(api, token, corr)
    assert status == 200
    assert body == {"client_id": created.client.client_id, "name": "Portal", "roles": ["operator", "portal"],
                    "method": "bearer"}
    claims = jwt.decode(token, options={"verify_signature": False})
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
    assert claims["iss"] == claims["aud"] == "LV-GW-TEST" and claims["sub"] == created.client.client_id
    assert claims["exp"] - claims["iat"] == api.node.settings.auth.token_ttl_s and claims["jti"]


async def test_expired_token(api: Api, corr: str) -> None:
    created = await api.register("Portal", "portal")
    past = TokenService.from_settings(api.node.settings, clock=lambda: time.time() - 3600)
    token = past.issue(created.client.client_id, ["portal"]).access_token
    await _assert_refused(api, token, corr, "auth-token-expired", actor=created.client.client_id)


async def test_token_older_than_the_lifetime_is_refused_whatever_its_exp(api: Api, corr: str) -> None:
    created = await api.register("Portal", "portal")
    key = load_or_create_signing_key(api.node.settings.keys_dir)
    long_lived = TokenService(key, issuer="LV-GW-TEST", ttl_s=86_400, leeway_s=0, clock=lambda: time.time() - 400)
    token = long_lived.issue(created.client.client_id, ["portal"]).access_token
    await _assert_refused(api, token, corr, "auth-token-expired", actor=created.client.client_id)


async def test_token_signed_by_another_key(api: Api, corr: str) -> None:
    created = await api.register("Portal", "portal")
    stranger = TokenService(Ed25519PrivateKey.generate(), issuer="LV-GW-TEST", ttl_s=300, leeway_s=30)
    token = stranger.issue(created.client.client_id, ["portal"]).access_token
    await _assert_refused(api, token, corr, "auth-token-invalid")


async def test_alg_none_token(api: Api, corr: str) -> None:
    created = await api.register("Portal", "portal")
    token = _unsigned({"alg": "none", "typ": "at+jwt"}, _claims(api, created.client.client_id)) + "."
    await _assert_refused(api, token, corr, "auth-token-invalid")


async def test_hs256_token_keyed_with_the_public_key(api: Api, corr: str) -> None:
    created = await api.register("Portal", "portal")
    await api.token(created)  # make sure the node's token key exists
    public = load_or_create_signing_key(api.node.settings.keys_dir).public_key()
    for label, encoding, fmt in (
        ("pem", serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        ("raw", serialization.Encoding.Raw, serialization.PublicFormat.Raw),
    ):
        secret = public.public_bytes(encoding, fmt)
        signing_input = _unsigned({"alg": "HS256", "typ": "at+jwt"}, _claims(api, created.client.client_id))
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        token = signing_input + "." + _b64(signature)
        await _assert_refused(api, token, f"{corr}-{label}", "auth-token-invalid")


@pytest.mark.parametrize(
    ("override", "header"),
    [({"aud": "LV-GW-OTHER"}, {}), ({"aud": ["LV-GW-TEST", "LV-GW-OTHER"]}, {}), ({"iss": "LV-GW-OTHER"}, {}),
     ({}, {"typ": "JWT"})],
    ids=["wrong-audience", "audience-list", "wrong-issuer", "not-an-access-token"],
)
async def test_tokens_signed_by_the_node_but_wrong(
    api: Api, corr: str, override: dict[str, Any], header: dict[str, Any]
) -> None:
    created = await api.register("Portal", "portal")
    key = load_or_create_signing_key(api.node.settings.keys_dir)
    token = jwt.encode(_claims(api, created.client.client_id, **override), key, algorithm="EdDSA",
                       headers={"typ": "at+jwt", **header})
    await _assert_refused(api, token, corr, "auth-token-invalid", actor=created.client.client_id)


async def test_missing_claim(api: Api, corr: str) -> None:
    created = await api.register("Portal", "portal")
    claims = _claims(api, created.client.client_id)
    del claims["jti"]
    key = load_or_create_signing_key(api.node.settings.keys_dir)
    token = jwt.encode(claims, key, algorithm="EdDSA", headers={"typ": "at+jwt"})
    await _assert_refused(api, token, corr, "auth-token-invalid", actor=created.client.client_id)


async def test_revoked_clients_valid_token_is_refused(api: Api, corr: str) -> None:
    created = await api.register("Portal", "portal")
    token = await api.token(created)
    assert (await _whoami(api, token, corr + "-before"))[0] == 200
    await api.clients.revoke(created.client.client_id)
    await _assert_refused(api, token, corr, "auth-client-revoked", actor=created.client.client_id)


async def test_public_paths_and_unknown_paths(api: Api) -> None:
    async with api.session() as http:
        assert (await http.get("/healthz")).status == 200
        assert (await http.get("/metrics")).status == 200
        assert (await http.get("/no-such-page")).status == 404
        # Under /api/ nobody learns which routes exist without credentials.
        assert (await http.get("/api/v1/no-such-api")).status == 401
        assert (await http.get("/api")).status == 401
    assert await api.audit("api.auth.failed") != []


async def test_unknown_api_path_with_credentials_is_404(api: Api) -> None:
    token = await api.token(await api.register("Portal", "portal"))
    async with api.session() as http:
        response = await http.get("/api/v1/no-such-api", headers={"Authorization": f"Bearer {token}"})
        assert response.status == 404


async def test_scope_narrows_the_token(api: Api, corr: str) -> None:
    created = await api.register("Portal", "portal", "operator")
    token = await api.token(created, scope="operator")
    status, body, _ = await _whoami(api, token, corr)
    assert status == 200 and body["roles"] == ["operator"]


async def test_role_removed_from_registration_is_gone_from_live_tokens(api: Api, corr: str) -> None:
    from sqlalchemy import update

    from gateway.db.schema import api_client

    created = await api.register("Portal", "portal", "operator")
    token = await api.token(created)
    async with api.node.engine.begin() as conn:
        await conn.execute(update(api_client).values(roles="portal"))
    status, body, _ = await _whoami(api, token, corr)
    assert status == 200 and body["roles"] == ["portal"]


async def test_bad_token_is_refused_before_the_handler_runs(api: Api) -> None:
    async with api.session() as http:
        response = await http.post("/api/v1/work-items", json={"kind": "x"},
                                   headers={"Authorization": "Bearer not.a.token"})
        assert response.status == 401 and (await response.json())["code"] == "auth-token-invalid"


async def test_token_response_is_not_cacheable(api: Api) -> None:
    created = await api.register("Portal", "portal")
    assert created.secret is not None
    async with api.session() as http:
        response = await http.post("/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": created.client.client_id,
            "client_secret": created.secret})  # client_secret_post
        body = await response.json()
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300 and body["scope"] == "portal"
    issued = await api.audit("api.token.issued")
    assert [r["actor"] for r in issued] == [created.client.client_id]
    assert body["access_token"] not in json.dumps(issued)

