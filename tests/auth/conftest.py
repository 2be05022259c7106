"""Real parts only: the node from the shared fixtures (SQLite, and a fresh PostgreSQL database when
reachable), served by the real app over real TLS with a throwaway PKI (tests/auth/certs.py)."""

from __future__ import annotations

import json
import secrets
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from gateway.auth.clients import ClientStore, NewClient
from gateway.config import Settings
from gateway.db.schema import audit_record
from gateway.runtime import Node
from gateway.web.app import build_app
from gateway.web.tls import server_context
from tests.auth.certs import Issued, TestCA
from tests.conftest import make_settings


@dataclass(frozen=True)
class Pki:
    ca: TestCA
    untrusted: TestCA
    server: Issued


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca = TestCA(directory, "trusted")
    return Pki(ca=ca, untrusted=TestCA(directory, "untrusted"), server=ca.issue("node", server=True))


@pytest.fixture
def settings(tmp_path: Path, db_url: str, pki: Pki) -> Settings:
    # db_url (shared conftest) runs every test on SQLite and on a fresh PostgreSQL database.
    return make_settings(
        tmp_path / "data", db_url, node__id="LV-GW-TEST", http__tls_cert=str(pki.server.cert_path),
        http__tls_key=str(pki.server.key_path), http__client_ca=str(pki.ca.cert_path),
    )


class Api:
    """The node's app served over TLS on 127.0.0.1, and clients to call it with."""

    def __init__(self, base: str, pki: Pki, node: Node) -> None:
        self.base = base
        self.pki = pki
        self.node = node
        self.clients = ClientStore(node.engine)

    def client_context(self, cert: Issued | None = None) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.pki.ca.cert_path))
        if cert is not None:
            context.load_cert_chain(cert.cert_path, cert.key_path)
        return context

    def session(self, cert: Issued | None = None) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(self.base, connector=aiohttp.TCPConnector(ssl=self.client_context(cert)))

    async def register(self, name: str, *roles: str, cert: Issued | None = None, secret: bool = True) -> NewClient:
        return await self.clients.add(name, roles, cert=cert.pem if cert else None, with_secret=secret)

    async def token(self, created: NewClient, **form: str) -> str:
        assert created.secret is not None
        async with self.session() as http:
            response = await http.post(
                "/oauth2/token", data={"grant_type": "client_credentials", **form},
                headers={"Authorization": aiohttp.encode_basic_auth(created.client.client_id, created.secret)},
            )
            body = await response.json()
            assert response.status == 200, body
            return str(body["access_token"])

    async def audit(self, event: str, correlation_id: str | None = None) -> list[dict[str, Any]]:
        query = select(audit_record).where(audit_record.c.event == event).order_by(audit_record.c.seq)
        if correlation_id is not None:
            query = query.where(audit_record.c.correlation_id == correlation_id)
        async with self.node.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [{**row, "details": json.loads(row["details"])} for row in rows]

    def failures(self, reason: str) -> float:
        value = self.node.metrics.registry.get_sample_value("gateway_api_auth_failures_total", {"reason": reason})
        return value or 0.0


@pytest.fixture
async def api(node: Node, pki: Pki) -> AsyncIterator[Api]:
    context = server_context(node.settings.http)
    assert context is not None
    runner = web.AppRunner(build_app(node))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield Api(f"https://127.0.0.1:{port}", pki, node)
    finally:
        await runner.cleanup()


@pytest.fixture
def corr() -> Iterator[str]:
    """A fresh correlation id, to find exactly the audit records of one request."""
    yield f"test-{secrets.token_hex(8)}"
