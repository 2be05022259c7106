"""The client store over a real database (SQLite, and PostgreSQL when reachable)."""

from __future__ import annotations

import hashlib
import json
import stat
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from gateway.auth.clients import ClientError, ClientStore, register_client, revoke_client
from gateway.auth.tokens import TOKEN_KEY_FILE, TokenService
from gateway.db.schema import api_client, audit_record

if TYPE_CHECKING:
    from gateway.runtime import Node
    from tests.auth.conftest import Pki


async def test_secret_is_returned_once_and_stored_only_as_a_salted_hash(node: Node) -> None:
    store = ClientStore(node.engine)
    created = await store.add("Portal A", ["portal"], with_secret=True)
    assert created.secret and len(created.secret) >= 40
    assert created.client.client_id.startswith("cl_")
    assert created.secret not in repr(created)
    async with node.engine.connect() as conn:
        stored = (await conn.execute(select(api_client.c.secret_hash))).scalar_one()
    assert created.secret not in stored and stored.startswith("scrypt$")

    client, ok = await store.check_secret(created.client.client_id, created.secret)
    assert ok and client is not None and client.roles == {"portal"}
    assert (await store.check_secret(created.client.client_id, created.secret + "x"))[1] is False
    assert (await store.check_secret("cl_nobody", created.secret)) == (None, False)

    # Same secret twice gives different hashes: salted.
    other = await store.add("Portal B", ["portal"], with_secret=True)
    async with node.engine.connect() as conn:
        hashes = (await conn.execute(select(api_client.c.secret_hash))).scalars().all()
    assert len(set(hashes)) == 2 and other.secret != created.secret


async def test_certificate_is_stored_as_sha256_of_der_and_found_by_it(node: Node, pki: Pki) -> None:
    store = ClientStore(node.engine)
    cert = pki.ca.issue("register-1")
    created = await store.add("Register", ["register", "operator"], cert=cert.pem)
    expected = hashlib.sha256(cert.der).hexdigest()
    assert created.secret is None and created.client.cert_sha256 == expected
    found = await store.find_by_cert(expected.upper())
    assert found is not None and found.client_id == created.client.client_id
    assert found.roles == {"register", "operator"}
    assert await store.find_by_cert("00" * 32) is None
    # DER input gives the same fingerprint; registering it again is refused.
    with pytest.raises(ClientError) as refused:
        await store.add("Copy", ["register"], cert=cert.der)
    assert refused.value.code == "duplicate-cert"


@pytest.mark.parametrize(
    ("roles", "kwargs", "code"),
    [
        (["portal", "admin"], {"with_secret": True}, "unknown-role"),
        ([], {"with_secret": True}, "no-role"),
        (["portal"], {}, "no-credential"),
        (["portal"], {"cert": b"-----BEGIN CERTIFICATE-----\nnot a cert\n-----END CERTIFICATE-----\n"}, "bad-cert"),
    ],
)
async def test_refused_registrations_have_codes(node: Node, roles: list[str], kwargs: dict, code: str) -> None:
    with pytest.raises(ClientError) as refused:
        await ClientStore(node.engine).add("X", roles, **kwargs)
    assert refused.value.code == code
    assert await ClientStore(node.engine).list() == []


async def test_revoke_list_get(node: Node) -> None:
    store = ClientStore(node.engine)
    first = (await store.add("One", ["portal"], with_secret=True)).client
    second = (await store.add("Two", ["operator"], with_secret=True)).client
    revoked = await store.revoke(first.client_id)
    assert revoked.revoked and revoked.revoked_at is not None
    again = await store.revoke(first.client_id)
    assert again.revoked_at == revoked.revoked_at  # the first revocation time stands
    assert [c.client_id for c in await store.list()] == [first.client_id, second.client_id]
    assert [c.client_id for c in await store.list(include_revoked=False)] == [second.client_id]
    for call in (store.get("cl_unknown"), store.revoke("cl_unknown")):
        with pytest.raises(ClientError) as refused:
            await call
        assert refused.value.code == "unknown-client"


async def test_register_and_revoke_are_audited(node: Node) -> None:
    created = await register_client(node, "Portal", ["portal"], with_secret=True, actor="cli:tester")
    await revoke_client(node, created.client.client_id, actor="cli:tester")
    async with node.engine.connect() as conn:
        rows = (await conn.execute(select(audit_record).order_by(audit_record.c.seq))).mappings().all()
    events = [(row["event"], row["actor"], json.loads(row["details"])["client_id"]) for row in rows]
    assert events == [
        ("api.client.registered", "cli:tester", created.client.client_id),
        ("api.client.revoked", "cli:tester", created.client.client_id),
    ]
    assert created.secret not in "".join(row["details"] for row in rows)


async def test_token_signing_key_is_created_once_with_mode_0600(node: Node) -> None:
    path = node.settings.keys_dir / TOKEN_KEY_FILE
    assert path.exists()  # every key the node needs exists from first start
    first = TokenService.from_settings(node.settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = TokenService.from_settings(node.settings)
    assert first.key_id == second.key_id
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []  # no staging leftovers
