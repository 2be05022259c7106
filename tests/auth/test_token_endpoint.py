"""POST /oauth2/token error handling (RFC 6749 §5.2) and its audit trail."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

if TYPE_CHECKING:
    from tests.auth.conftest import Api


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": aiohttp.encode_basic_auth(client_id, secret)}


async def _post(api: Api, corr: str, data: Any, auth: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any], Any]:
    async with api.session() as http:
        response = await http.post("/oauth2/token", data=data,
                                   headers={"X-Correlation-ID": corr, **(auth or {}), **(headers or {})})
        return response.status, await response.json(), response.headers


async def _one_failure(api: Api, corr: str) -> dict[str, Any]:
    records = await api.audit("api.auth.failed", corr)
    assert len(records) == 1
    return records[0]


async def test_bad_secret_is_invalid_client_and_audited(api: Api, corr: str) -> None:
    created = await api.register("Portal", "portal")
    before = api.failures("invalid_client")
    status, body, headers = await _post(api, corr, {"grant_type": "client_credentials"},
                                        basic(created.client.client_id, "wrong-secret"))
    assert status == 401
    assert body["error"] == "invalid_client" and body["correlation_id"] == corr
    assert headers["WWW-Authenticate"] == 'Basic realm="gateway"'
    assert headers["Cache-Control"] == "no-store"
    record = await _one_failure(api, corr)
    assert record["actor"] == created.client.client_id
    assert record["details"]["reason"] == "invalid_client" and record["details"]["cause"] == "bad-secret"
    assert record["details"]["auth_method"] == "client_secret_basic"
    assert "wrong-secret" not in str(record)
    assert api.failures("invalid_client") == before + 1
    assert await api.audit("api.token.issued") == []


async def test_unknown_client_gets_the_same_answer(api: Api, corr: str) -> None:
    created = await api.register("Portal", "portal")
    _, known, _ = await _post(api, corr + "-a", {"grant_type": "client_credentials"},
                              basic(created.client.client_id, "wrong"))
    status, unknown, _ = await _post(api, corr, {"grant_type": "client_credentials"},
                                     basic("cl_nobody", "wrong"))
    assert status == 401
    assert {k: v for k, v in unknown.items() if k != "correlation_id"} == {
        k: v for k, v in known.items() if k != "correlation_id"}
    record = await _one_failure(api, corr)
    assert record["actor"] == "anonymous" and record["details"]["cause"] == "unknown-client"


async def test_revoked_client_cannot_get_tokens(api: Api, corr: str) -> None:
    created = await api.register("Portal", "portal")
    await api.clients.revoke(created.client.client_id)
    assert created.secret is not None
    status, body, _ = await _post(api, corr, {"grant_type": "client_credentials", "client_id":
                                              created.client.client_id, "client_secret": created.secret})
    assert status == 401 and body["error"] == "invalid_client"
    assert (await _one_failure(api, corr))["details"]["cause"] == "client-revoked"


async def test_secret_with_reserved_characters_in_basic_is_form_decoded(api: Api, corr: str) -> None:
    # RFC 6749 §2.3.1: client_id and secret are form-urlencoded before Basic encoding; a literal "+"
    # would decode to a space, so a wrong secret containing one must still fail cleanly.
    created = await api.register("Portal", "portal")
    raw = base64.b64encode(f"{created.client.client_id}:a+b%20c".encode()).decode()
    status, body, _ = await _post(api, corr, {"grant_type": "client_credentials"},
                                  headers={"Authorization": f"Basic {raw}"})
    assert status == 401 and body["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": "authorization_code", "code": "x"}, 400, "unsupported_grant_type"),
        ({}, 400, "invalid_request"),
        ({"grant_type": "client_credentials", "scope": "operator"}, 400, "invalid_scope"),
        ({"grant_type": "client_credentials", "scope": "portal admin"}, 400, "invalid_scope"),
    ],
)
async def test_request_errors(api: Api, corr: str, data: dict[str, str], status: int, error: str) -> None:
    created = await api.register("Portal", "portal")
    assert created.secret is not None
    got_status, body, _ = await _post(api, corr, data, basic(created.client.client_id, created.secret))
    assert (got_status, body["error"]) == (status, error)
    assert (await _one_failure(api, corr))["details"]["reason"] == error


async def test_no_client_authentication(api: Api, corr: str) -> None:
    status, body, headers = await _post(api, corr, {"grant_type": "client_credentials"})
    assert status == 401 and body["error"] == "invalid_client" and "WWW-Authenticate" in headers
    assert (await _one_failure(api, corr))["details"]["cause"] == "no-credentials"


async def test_two_authentication_methods_at_once(api: Api, corr: str) -> None:
    created = await api.register("Portal", "portal")
    assert created.secret is not None
    status, body, _ = await _post(
        api, corr, {"grant_type": "client_credentials", "client_secret": created.secret},
        basic(created.client.client_id, created.secret))
    assert status == 400 and body["error"] == "invalid_request"


async def test_json_body_is_refused(api: Api, corr: str) -> None:
    async with api.session() as http:
        response = await http.post("/oauth2/token", json={"grant_type": "client_credentials"},
                                   headers={"X-Correlation-ID": corr})
        assert response.status == 400 and (await response.json())["error"] == "invalid_request"


async def test_repeated_parameter_is_refused(api: Api, corr: str) -> None:
    created = await api.register("Portal", "portal")
    assert created.secret is not None
    data = [("grant_type", "client_credentials"), ("grant_type", "client_credentials")]
    status, body, _ = await _post(api, corr, data, basic(created.client.client_id, created.secret))
    assert status == 400 and body["error"] == "invalid_request"
