"""Real parts only: a Node on SQLite (and PostgreSQL when reachable), the real app over real TLS, and a
throwaway PKI (a trusted CA, an untrusted one, a server certificate for 127.0.0.1, client certificates).

Test modules use all of this through fixtures (``api``, ``node``, ``pki``), never by importing it."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import secrets
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy import select

from gateway.auth.clients import ClientStore, NewClient
from gateway.auth.tls import server_ssl_context
from gateway.config import Settings, load_settings
from gateway.db.schema import audit_record
from gateway.runtime import Node
from gateway.web.app import build_app

PG_ADMIN_URL = os.environ.get("GATEWAY_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

# --------------------------------------------------------------------------- a throwaway PKI


@dataclass(frozen=True)
class Issued:
    cert_path: Path
    key_path: Path
    cert: x509.Certificate

    @property
    def pem(self) -> bytes:
        return self.cert_path.read_bytes()

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


class TestCA:
    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path, name: str) -> None:
        self.directory = directory
        self.name = name
        directory.mkdir(parents=True, exist_ok=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(dt.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                              key_encipherment=False, data_encipherment=False, key_agreement=False,
                              encipher_only=False, decipher_only=False),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.cert_path = directory / f"{name}-ca.pem"
        self.cert_path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, common_name: str, *, server: bool = False) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
            )
        cert = builder.sign(self.key, hashes.SHA256())
        stem = self.directory / f"{self.name}-{common_name}"
        cert_path, key_path = stem.with_suffix(".pem"), stem.with_suffix(".key")
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
        )
        key_path.chmod(0o600)
        return Issued(cert_path, key_path, cert)


# --------------------------------------------------------------------------- the node and its API


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


def _pg_reachable() -> bool:
    parts = urlsplit(PG_ADMIN_URL)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), timeout=2).close()
    except OSError:
        return False
    return True


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.db'}"
        return
    if not _pg_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL not reachable at {PG_ADMIN_URL} (required under CI=true)")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    name = f"gw_auth_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    parts = urlsplit(PG_ADMIN_URL)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        admin = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
def settings(tmp_path: Path, database_url: str, pki: Pki) -> Settings:
    return load_settings(path=None, environ={
        "GATEWAY_CONFIG": "",
        "GATEWAY_NODE__ID": "LV-GW-TEST",
        "GATEWAY_NODE__DATA_DIR": str(tmp_path / "data"),
        "GATEWAY_DATABASE__URL": database_url,
        "GATEWAY_HTTP__TLS_CERT": str(pki.server.cert_path),
        "GATEWAY_HTTP__TLS_KEY": str(pki.server.key_path),
        "GATEWAY_HTTP__CLIENT_CA": str(pki.ca.cert_path),
    })


@pytest.fixture
async def node(settings: Settings) -> AsyncIterator[Node]:
    opened = await Node.open(settings)
    try:
        yield opened
    finally:
        await opened.close()


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
    context = server_ssl_context(node.settings.http)
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
