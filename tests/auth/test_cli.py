"""``gateway-node clients add|list|revoke`` through click, against a real database."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gateway.auth.clients import ClientStore
from gateway.cli.main import cli
from gateway.config import load_settings
from gateway.db.schema import audit_record
from gateway.runtime import Node

if TYPE_CHECKING:
    from tests.auth.conftest import Pki


@pytest.fixture
def config_file(tmp_path: Path, db_url: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(f'[node]\ndata_dir = "{tmp_path / "data"}"\n\n[database]\nurl = "{db_url}"\n')
    return path


def run(config: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--config", str(config), "clients", *args], obj={}, catch_exceptions=False)


def with_node(config: Path, fn: Any) -> Any:
    async def go() -> Any:
        node = await Node.open(load_settings(config, environ={}), start_audit=True)
        try:
            return await fn(node)
        finally:
            await node.close()

    return asyncio.run(go())


async def _events(node: Node) -> list[tuple[str, str]]:
    async with node.engine.connect() as conn:
        rows = (await conn.execute(select(audit_record.c.event, audit_record.c.details))).all()
    return [(row.event, json.loads(row.details)["client_id"]) for row in rows]


def test_add_with_secret_list_and_revoke(config_file: Path) -> None:
    added = run(config_file, "add", "Procedure portal", "--role", "portal", "--role", "operator", "--secret",
                "--json")
    assert added.exit_code == 0, added.output
    data = json.loads(added.stdout)
    client_id, secret = data["client_id"], data["client_secret"]
    assert client_id.startswith("cl_") and len(secret) >= 40 and data["roles"] == ["operator", "portal"]

    client, ok = with_node(config_file, lambda node: ClientStore(node.engine).check_secret(client_id, secret))
    assert ok and client.name == "Procedure portal"

    listed = run(config_file, "list", "--json")
    assert [c["client_id"] for c in json.loads(listed.stdout)["clients"]] == [client_id]
    assert secret not in listed.stdout

    revoked = run(config_file, "revoke", client_id)
    assert revoked.exit_code == 0 and f"revoked {client_id}" in revoked.stdout
    human = run(config_file, "list")
    assert client_id in human.stdout and "revoked" in human.stdout

    assert with_node(config_file, _events) == [("api.client.registered", client_id),
                                               ("api.client.revoked", client_id)]


def test_add_with_certificate_human_output(config_file: Path, pki: Pki) -> None:
    cert = pki.ca.issue("cli-register")
    result = run(config_file, "add", "Register", "--role", "register", "--cert", str(cert.cert_path))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("client_id: cl_") and "client_secret" not in result.stdout
    found = with_node(config_file, lambda node: ClientStore(node.engine).find_by_cert(
        hashlib.sha256(cert.der).hexdigest()))
    assert found is not None and found.name == "Register"
    again = run(config_file, "add", "Copy", "--role", "register", "--cert", str(cert.cert_path))
    assert again.exit_code == 1 and "duplicate-cert" in again.stderr


def test_refusals(config_file: Path) -> None:
    unknown_role = run(config_file, "add", "X", "--role", "admin", "--secret")
    assert unknown_role.exit_code == 2 and "admin" in unknown_role.stderr
    no_credential = run(config_file, "add", "X", "--role", "portal")
    assert no_credential.exit_code == 1 and "no-credential" in no_credential.stderr
    unknown_client = run(config_file, "revoke", "cl_nobody")
    assert unknown_client.exit_code == 1 and "unknown-client" in unknown_client.stderr
    empty = run(config_file, "list")
    assert empty.exit_code == 0 and "no clients registered" in empty.stdout
