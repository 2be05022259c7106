"""The AS4 sender against a real receiving node over loopback HTTP.

Node A (the sender, on SQLite and PostgreSQL) signs with the dev PKI's partner keys; node B (the receiver of
test_receiver_http, SQLite) holds the node keys and pins A's signing certificate in its PMode. A's PModes
carry B's endpoint and certificates. B can be started late on a reserved port to play "receiver down".
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select

from as4.parts import Part
from gateway.as4_pmodes import PModeStore
from gateway.as4_receiver import AS4_RECEIVER_KEY, open_payload_store
from gateway.as4_sender import As4Sender
from gateway.db.engine import create_engine
from gateway.db.schema import as4_inbound, as4_outbound
from gateway.runtime import Node
from gateway.web.app import build_app
from tests.as4.secfixtures import pki
from tests.as4.test_receiver_http import PROFILE, QUERY, ROLE_I, ROLE_R, SCAN, SERVICE, UNREG, _audit, _write_pmode
from tests.conftest import make_settings

RETRY = (5, 10)
TTL_S = 3600


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_sender_pmodes(directory: Path, endpoint: str) -> Path:
    keys = pki()
    signing = keys.signer(keys.node, PROFILE).certificate
    assert signing is not None
    (directory / "lv-signing.pem").write_bytes(signing.public_bytes(Encoding.PEM))
    (directory / "lv-encryption.pem").write_bytes(keys.encryption_cert(keys.node, PROFILE).public_bytes(Encoding.PEM))
    text = ""
    for pmode_id, sender in (("lv-out", "EE-AP"), ("lv-out-unknown", "XX-AP")):
        text += (
            "[[pmode]]\n"
            f'id = "{pmode_id}"\n'
            f'profile = "{PROFILE.name}"\n'
            'action = "ExecuteQueryRequest"\n'
            f'endpoint = "{endpoint}"\n'
            f'initiator = {{ party_id = "{sender}", party_id_type = "{UNREG}", role = "{ROLE_I}" }}\n'
            f'responder = {{ party_id = "LV-GW", party_id_type = "{UNREG}", role = "{ROLE_R}" }}\n'
            f'service = {{ value = "{SERVICE}" }}\n'
            'signing_certificates = ["lv-signing.pem"]\n'
            'encryption_certificate = "lv-encryption.pem"\n'
            f"retry = {list(RETRY)}\n"
            f"time_to_live_s = {TTL_S}\n\n")
    path = directory / "lv-out.toml"
    path.write_text(text, encoding="utf-8")
    return path


class Receiver:
    """Node B, served on a fixed port once started."""

    def __init__(self, tmp_path: Path, port: int) -> None:
        self.tmp_path, self.port = tmp_path, port
        self.node: Node | None = None
        self.app: web.Application | None = None
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        directory = self.tmp_path / "b"
        directory.mkdir(exist_ok=True)
        settings = make_settings(directory / "data", f"sqlite:///{directory / 'b.db'}", pki__dir=str(pki().node_dir))
        self.node = await Node.open(settings)
        await PModeStore(self.node.engine).load_file(_write_pmode(directory))
        self.app = build_app(self.node)
        self.runner = web.AppRunner(self.app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        if self.node is not None:
            await self.node.close()

    async def inbound(self) -> list:
        assert self.node is not None
        async with self.node.engine.connect() as conn:
            return list((await conn.execute(select(as4_inbound))).all())

    def payloads_of(self, message_id: str) -> list[bytes]:
        assert self.app is not None
        store = self.app[AS4_RECEIVER_KEY].payloads
        return sorted(store.open(s.payload_id).read_all() for s in store.list_for(message_id))


@pytest.fixture
async def pair(tmp_path: Path, db_url: str) -> AsyncIterator[tuple[As4Sender, Receiver]]:
    receiver = Receiver(tmp_path, _free_port())
    node = await Node.open(make_settings(tmp_path / "a", db_url))
    node.key_store = pki().partner  # A signs as the dev PKI's partner, whose certificate B pins
    pmodes = PModeStore(node.engine)
    (tmp_path / "a-pmodes").mkdir()
    await pmodes.load_file(_write_sender_pmodes(tmp_path / "a-pmodes", f"http://127.0.0.1:{receiver.port}/as4"))
    try:
        async with aiohttp.ClientSession() as http:
            yield As4Sender(node, pmodes, open_payload_store(node), http, timeout_s=10), receiver
    finally:
        await receiver.stop()
        await node.close()


def _parts() -> list[Part]:
    return [Part.from_bytes("query@gateway.lv", "application/xml", QUERY),
            Part.from_bytes("scan@gateway.lv", "application/pdf", SCAN)]


async def _row(sender: As4Sender, message_id: str):
    async with sender.node.engine.connect() as conn:
        return (await conn.execute(select(as4_outbound).where(as4_outbound.c.message_id == message_id))).one()


async def _submit(sender: As4Sender, pmode_id: str = "lv-out") -> tuple[str, datetime]:
    t0 = datetime.now(UTC)
    return await sender.submit(pmode_id, _parts(), action="ExecuteQueryRequest", now=t0), t0


async def test_submit_then_run_once_delivers_with_a_checked_receipt(pair) -> None:
    sender, receiver = pair
    await receiver.start()
    message_id, t0 = await _submit(sender)
    assert (await _row(sender, message_id)).status == "pending"

    assert await sender.run_once(t0) == 1
    row = await _row(sender, message_id)
    assert (row.status, row.attempts, row.last_error_code) == ("delivered", 1, None)
    inbound = await receiver.inbound()
    assert [r.message_id for r in inbound] == [message_id] and inbound[0].from_party == "EE-AP"
    assert bytes(row.receipt) == bytes(inbound[0].receipt)  # the receipt B stored is the one A verified and kept
    assert receiver.payloads_of(message_id) == sorted([QUERY, SCAN])

    assert await sender.run_once(t0 + timedelta(days=1)) == 0  # delivered is final: nothing sent twice
    assert len(await receiver.inbound()) == 1
    sent = await _audit(sender.node, "as4.message.sent")
    assert [(s["message_id"], s["attempt"]) for s in sent] == [(message_id, 1)]


async def test_receiver_down_then_up_retries_after_the_pmode_delay(pair) -> None:
    sender, receiver = pair
    message_id, t0 = await _submit(sender)
    assert await sender.run_once(t0) == 1
    row = await _row(sender, message_id)
    assert (row.status, row.attempts, row.last_error_code) == ("pending", 1, "EBMS:0005")
    assert datetime.fromisoformat(row.next_attempt_at) == t0.replace(microsecond=t0.microsecond // 1000 * 1000) \
        + timedelta(seconds=RETRY[0])
    retries = await _audit(sender.node, "as4.message.retry")
    assert [(r["message_id"], r["code"]) for r in retries] == [(message_id, "EBMS:0005")]

    assert await sender.run_once(t0 + timedelta(seconds=RETRY[0] - 1)) == 0  # not due yet
    await receiver.start()
    assert await sender.run_once(t0 + timedelta(seconds=RETRY[0])) == 1
    row = await _row(sender, message_id)
    assert (row.status, row.attempts) == ("delivered", 2) and row.receipt
    assert receiver.payloads_of(message_id) == sorted([QUERY, SCAN])


async def test_receiver_down_past_the_schedule_fails_with_0301(pair) -> None:
    sender, _ = pair
    message_id, t0 = await _submit(sender)
    for offset in (0, RETRY[0], RETRY[0] + RETRY[1]):
        assert await sender.run_once(t0 + timedelta(seconds=offset)) == 1
    row = await _row(sender, message_id)
    assert (row.status, row.attempts, row.last_error_code) == ("failed", 3, "EBMS:0301")
    assert "EBMS:0005" in row.last_error_text
    assert await sender.run_once(t0 + timedelta(seconds=TTL_S - 1)) == 0  # a dead letter is never retried
    failed = await _audit(sender.node, "as4.message.failed")
    assert [(f["message_id"], f["code"]) for f in failed] == [(message_id, "EBMS:0301")]
    assert len(await _audit(sender.node, "as4.message.retry")) == 2


async def test_past_time_to_live_fails_without_sending(pair) -> None:
    sender, receiver = pair
    await receiver.start()
    message_id, t0 = await _submit(sender)
    assert await sender.run_once(t0 + timedelta(seconds=TTL_S)) == 1
    row = await _row(sender, message_id)
    assert (row.status, row.attempts, row.last_error_code) == ("failed", 0, "EBMS:0301")
    assert "time to live" in row.last_error_text
    assert await receiver.inbound() == []
    assert (await _audit(sender.node, "as4.message.failed"))[0]["expired"] is True


async def test_partner_refusal_fails_at_once_with_its_code(pair) -> None:
    sender, receiver = pair
    await receiver.start()
    message_id, t0 = await _submit(sender, "lv-out-unknown")  # B has no PMode for XX-AP
    assert await sender.run_once(t0) == 1
    row = await _row(sender, message_id)
    assert (row.status, row.attempts, row.last_error_code) == ("failed", 1, "EBMS:0010")
    assert await sender.run_once(t0 + timedelta(seconds=RETRY[0] + RETRY[1])) == 0
    assert await receiver.inbound() == []
    failed = await _audit(sender.node, "as4.message.failed")
    assert [(f["code"], f["refused"]) for f in failed] == [("EBMS:0010", True)]
    assert await _audit(sender.node, "as4.message.retry") == []


async def test_submit_returns_only_after_the_row_is_committed(pair) -> None:
    sender, _ = pair
    message_id, _ = await _submit(sender)
    other = create_engine(sender.node.settings)  # another connection pool: sees only committed data
    try:
        async with other.connect() as conn:
            row = (await conn.execute(select(as4_outbound).where(as4_outbound.c.message_id == message_id))).one()
    finally:
        await other.dispose()
    assert (row.status, row.attempts, row.pmode_id) == ("pending", 0, "lv-out")
    stored = json.loads(row.payload_ids)
    assert len(stored) == 2
    assert sorted(sender.payloads.open(pid).read_all() for pid in stored) == sorted([QUERY, SCAN])
    assert json.loads(row.user_message)["from"]["ids"] == [["EE-AP", UNREG]]
