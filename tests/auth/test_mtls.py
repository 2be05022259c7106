"""Mutual TLS: registered client certificates authenticate; others are refused at TLS or by the middleware."""

from __future__ import annotations

import hashlib
import ssl
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

if TYPE_CHECKING:
    from tests.auth.certs import Issued
    from tests.auth.conftest import Api


async def _whoami(api: Api, cert: Issued | None, corr: str, headers: dict[str, str] | None = None,
                  ) -> tuple[int, dict[str, Any], Any]:
    async with api.session(cert) as http:
        response = await http.get("/api/v1/whoami", headers={"X-Correlation-ID": corr, **(headers or {})})
        return response.status, await response.json(), response.headers


async def test_registered_certificate_reaches_whoami(api: Api, corr: str) -> None:
    cert = api.pki.ca.issue("register-a")
    created = await api.register("Register A", "register", cert=cert, secret=False)
    status, body, _ = await _whoami(api, cert, corr)
    assert status == 200
    assert body == {"client_id": created.client.client_id, "name": "Register A", "roles": ["register"],
                    "method": "mtls"}
    assert await api.audit("api.auth.failed") == []


async def test_trusted_but_unregistered_certificate(api: Api, corr: str) -> None:
    cert = api.pki.ca.issue("stranger")
    status, body, headers = await _whoami(api, cert, corr)
    assert status == 401 and body["code"] == "auth-cert-unknown"
    assert headers["WWW-Authenticate"] == 'Bearer realm="gateway"'
    [record] = await api.audit("api.auth.failed", corr)
    assert record["actor"] == "anonymous"
    assert record["details"]["reason"] == "auth-cert-unknown" and record["details"]["auth_method"] == "mtls"
    assert record["details"]["cert_sha256"] == hashlib.sha256(cert.der).hexdigest()
    assert api.failures("auth-cert-unknown") == 1


async def test_revoked_clients_certificate(api: Api, corr: str) -> None:
    cert = api.pki.ca.issue("register-b")
    created = await api.register("Register B", "register", cert=cert, secret=False)
    assert (await _whoami(api, cert, corr + "-before"))[0] == 200
    await api.clients.revoke(created.client.client_id)
    status, body, _ = await _whoami(api, cert, corr)
    assert status == 401 and body["code"] == "auth-client-revoked"
    [record] = await api.audit("api.auth.failed", corr)
    assert record["actor"] == created.client.client_id


async def test_certificate_from_an_untrusted_ca_fails_the_handshake(api: Api, corr: str) -> None:
    cert = api.pki.untrusted.issue("impostor")
    # Registered or not makes no difference: trust comes from the configured CA, not from the registry.
    await api.register("Impostor", "portal", cert=cert, secret=False)
    # TLS 1.2: the server refuses during the handshake, so connecting fails.
    context = api.client_context(cert)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    async with aiohttp.ClientSession(api.base, connector=aiohttp.TCPConnector(ssl=context)) as http:
        with pytest.raises(aiohttp.ClientConnectorError):
            await http.get("/api/v1/whoami", headers={"X-Correlation-ID": corr})
    # TLS 1.3: the client finishes first and then finds the connection closed.
    with pytest.raises((aiohttp.ClientConnectionError, ssl.SSLError)):
        await _whoami(api, cert, corr)
    assert await api.audit("api.auth.failed") == []  # never reached the application


async def test_tls_without_any_credential(api: Api, corr: str) -> None:
    status, body, _ = await _whoami(api, None, corr)
    assert status == 401 and body["code"] == "auth-missing"
    [record] = await api.audit("api.auth.failed", corr)
    assert record["details"]["auth_method"] == "none"


async def test_authorization_header_takes_precedence_over_the_certificate(api: Api, corr: str) -> None:
    cert = api.pki.ca.issue("transport-only")
    by_cert = await api.register("By cert", "register", cert=cert, secret=False)
    by_token = await api.register("By token", "portal")
    token = await api.token(by_token)
    status, body, _ = await _whoami(api, cert, corr, {"Authorization": f"Bearer {token}"})
    assert status == 200 and body["client_id"] == by_token.client.client_id and body["method"] == "bearer"
    # ...and a bad header is not rescued by a good certificate.
    status, body, _ = await _whoami(api, cert, corr + "-bad", {"Authorization": "Bearer x.y.z"})
    assert status == 401 and body["code"] == "auth-token-invalid"
    assert by_cert.client.client_id not in {r["actor"] for r in await api.audit("api.auth.failed")}
