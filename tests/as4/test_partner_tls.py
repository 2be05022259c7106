"""TLS towards partners' endpoints (gateway.serve.partner_tls): the partner's CA from as4.tls_trust_dir, TLS 1.2+,
host names checked, and our client certificate for partners that require mutual TLS."""

from __future__ import annotations

import ssl
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from gateway.config import ConfigError
from gateway.serve import partner_tls
from pki.keys.port import KeyPurpose
from tests.as4.secfixtures import pki
from tests.conftest import make_settings
from tests.smp_client.servers import server_tls, start_app


def _client_files() -> tuple[str, str]:
    store = pki().node
    entry = store.entries(KeyPurpose.TLS_CLIENT, live_only=True)[0]
    return str(store.path(entry.chain_file or entry.cert_file)), str(store.path(entry.key_file))


async def _ok(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _get(url: str, context: ssl.SSLContext | bool) -> int:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as http, http.get(url) as resp:
        return resp.status


async def test_partner_ca_and_mutual_tls(tmp_path: Path) -> None:
    trust = str(pki().node_dir / "trust")
    mutual = server_tls()
    mutual.verify_mode = ssl.CERT_REQUIRED
    mutual.load_verify_locations(cadata=pki().trust.ssl_cadata())
    app = web.Application()
    app.router.add_get("/as4", _ok)
    runner, base = await start_app(app, tls=mutual)
    try:
        cert, key = _client_files()
        with_cert = make_settings(tmp_path, "", as4__tls_trust_dir=trust, as4__tls_client_cert=cert,
                                  as4__tls_client_key=key).as4
        assert await _get(f"{base}/as4", partner_tls(with_cert)) == 200
        without_cert = partner_tls(make_settings(tmp_path, "", as4__tls_trust_dir=trust).as4)
        with pytest.raises(aiohttp.ClientError):  # the partner demands a client certificate
            await _get(f"{base}/as4", without_cert)
        with pytest.raises(aiohttp.ClientError):  # the system CAs do not know the partner's dev CA
            await _get(f"{base}/as4", partner_tls(make_settings(tmp_path, "").as4))
        with pytest.raises(ConfigError, match="tls_client_key"):
            partner_tls(make_settings(tmp_path, "", as4__tls_client_cert=cert).as4)
    finally:
        await runner.cleanup()
