"""``gateway-node as4 send | status | resend`` against a real node data dir (SQLite), and the sender worker
that ``serve`` runs delivering what ``as4 send`` stored."""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner

from gateway.as4_pmodes import PModeStore
from gateway.as4_receiver import open_payload_store
from gateway.as4_sender import As4Sender
from gateway.cli.main import cli
from gateway.runtime import Node
from gateway.serve import serve
from pki.devpki.operations import issue_partner
from pki.keys.port import KeyPurpose
from tests.as4.secfixtures import PARTNER, pki
from tests.as4.test_receiver_http import QUERY, _audit
from tests.as4.test_sender import RETRY, Receiver, _free_port, _write_sender_pmodes
from tests.conftest import make_settings


def _partner_keys(tmp_path: Path) -> Path:
    """The dev PKI's partner keys (which the receiving node pins) plus an audit key, so a Node can open them."""
    out = tmp_path / "partner-keys"
    if not out.exists():
        shutil.copytree(pki().partner_dir, out)
        ca = tmp_path / "ca-copy"  # a copy: the shared dev CA's state stays untouched
        shutil.copytree(pki().node_dir, ca)
        issue_partner(ca, out, partner=PARTNER, purpose=KeyPurpose.AUDIT_SIGNING, family="ed25519")
    return out


def _setup(tmp_path: Path, port: int | None = None) -> tuple[Path, str]:
    """A node data dir whose database holds the sender PModes (endpoint: a port nobody listens on, unless given)."""
    db_url = f"sqlite:///{tmp_path / 'a.db'}"
    config = tmp_path / "gateway.toml"
    config.write_text(f'[node]\ndata_dir = "{tmp_path / "data"}"\n[database]\nurl = "{db_url}"\n'
                      f'[pki]\ndir = "{_partner_keys(tmp_path)}"\n[http]\nhost = "127.0.0.1"\nport = 0\n',
                      encoding="utf-8")
    (tmp_path / "pmodes").mkdir()
    pmodes = _write_sender_pmodes(tmp_path / "pmodes", f"http://127.0.0.1:{port or _free_port()}/as4")
    assert _run(config, "pmode", "load", str(pmodes))[0] == 0
    return config, db_url


def _run(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], obj={}, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _send(config: Path, tmp_path: Path) -> str:
    body = tmp_path / "query.xml"
    body.write_bytes(QUERY)
    code, out, err = _run(config, "as4", "send", "--pmode", "lv-out", str(body), "--json")
    assert code == 0, err
    sent = json.loads(out)
    assert sent["status"] == "pending" and sent["pmode_id"] == "lv-out"
    return sent["message_id"]


def _status(config: Path, message_id: str) -> dict:
    code, out, err = _run(config, "as4", "status", message_id, "--json")
    assert code == 0, err
    return json.loads(out)


def _with_node(tmp_path: Path, db_url: str, fn):
    async def go():
        node = await Node.open(make_settings(tmp_path / "data", db_url, pki__dir=str(_partner_keys(tmp_path))))
        try:
            return await fn(node)
        finally:
            await node.close()

    return asyncio.run(go())


def test_send_stores_a_pending_message_and_status_shows_it(tmp_path: Path) -> None:
    config, _ = _setup(tmp_path)
    message_id = _send(config, tmp_path)
    row = _status(config, message_id)
    assert (row["direction"], row["status"], row["attempts"], row["last_error_code"]) == ("outbound", "pending", 0,
                                                                                          None)
    assert row["pmode_id"] == "lv-out" and row["next_attempt_at"]
    code, out, _ = _run(config, "as4", "status", message_id)
    assert code == 0 and out.startswith(f"{message_id}: outbound pending (pmode lv-out)")


def test_send_refuses_an_unknown_pmode(tmp_path: Path) -> None:
    config, _ = _setup(tmp_path)
    body = tmp_path / "x.bin"
    body.write_bytes(b"x")
    code, _, err = _run(config, "as4", "send", "--pmode", "nope", str(body))
    assert code == 1 and "no active PMode 'nope'" in err


def test_unknown_message_id_exits_1(tmp_path: Path) -> None:
    config, _ = _setup(tmp_path)
    code, _, err = _run(config, "as4", "status", "nobody@nowhere")
    assert code == 1 and "no AS4 message" in err
    assert _run(config, "as4", "resend", "nobody@nowhere")[0] == 1


def test_resend_puts_a_failed_message_back_to_pending(tmp_path: Path) -> None:
    config, db_url = _setup(tmp_path)
    message_id = _send(config, tmp_path)
    code, _, err = _run(config, "as4", "resend", message_id)
    assert code == 1 and "only a failed message" in err  # pending: nothing to resend

    async def fail_it(node: Node) -> None:  # the partner is down past the whole retry schedule
        t0 = datetime.now(UTC)
        async with aiohttp.ClientSession() as http:
            sender = As4Sender(node, PModeStore(node.engine), open_payload_store(node), http, timeout_s=5)
            for offset in (0, RETRY[0], RETRY[0] + RETRY[1]):
                assert await sender.run_once(t0 + timedelta(seconds=offset)) == 1

    _with_node(tmp_path, db_url, fail_it)
    failed = _status(config, message_id)
    assert (failed["status"], failed["attempts"], failed["last_error_code"]) == ("failed", 3, "EBMS:0301")

    code, out, _ = _run(config, "as4", "resend", message_id, "--json")
    assert code == 0 and json.loads(out) == {"message_id": message_id, "status": "pending"}
    row = _status(config, message_id)
    assert (row["status"], row["attempts"], row["last_error_code"]) == ("pending", 0, None)
    assert datetime.fromisoformat(row["expires_at"]) > datetime.now(UTC) + timedelta(minutes=50)
    resends = _with_node(tmp_path, db_url, lambda node: _audit(node, "as4.message.resend"))
    assert [(r["message_id"], r["previous_attempts"], r["previous_error_code"]) for r in resends] == [
        (message_id, 3, "EBMS:0301")]
    assert _run(config, "as4", "resend", message_id)[0] == 1  # pending again: a second resend is refused


async def test_serve_runs_the_sender_worker_which_delivers_what_send_stored(tmp_path: Path) -> None:
    receiver = Receiver(tmp_path, _free_port())
    await receiver.start()
    try:
        config, _ = await asyncio.to_thread(_setup, tmp_path, receiver.port)
        message_id = await asyncio.to_thread(_send, config, tmp_path)
        from gateway.config import load_settings

        settings = load_settings(str(config))
        ready = asyncio.Event()
        task = asyncio.create_task(serve(settings, ready=ready))
        await asyncio.wait_for(ready.wait(), 30)
        for _ in range(100):
            row = await asyncio.to_thread(_status, config, message_id)
            if row["status"] == "delivered":
                break
            await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (row["status"], row["attempts"]) == ("delivered", 1)
        assert [r.message_id for r in await receiver.inbound()] == [message_id]
    finally:
        await receiver.stop()
