"""PyPI ``as4`` 0.2.0 interop over real HTTP on loopback, Peppol profile, both ways:

- as4 → node: the message ``as4`` builds (its own headers and body) is POSTed to the node's served ``/as4``
  route; the node's receipt goes back over the same HTTP exchange and ``as4`` verifies it (signature and
  non-repudiation of what it signed); the payload reaches the node's inbox once, a resend is not stored twice.
- node → as4: ``as4`` runs as an HTTP access point (``as4pkg_peer.py serve``, stdlib http.server); the
  node's sender delivers a submitted message to it and accepts only its signed receipt; ``as4`` decrypted
  the payload we sent. A message ``as4`` refuses ends in the node's outbox as failed with as4's error code.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select

from as4.model import DEFAULT_INITIATOR_ROLE, DEFAULT_RESPONDER_ROLE, FINAL_RECIPIENT, ORIGINAL_SENDER, Property
from as4.parts import Part
from as4.profiles import PEPPOL
from gateway.as4_pmodes import PModeStore
from gateway.as4_receiver import AS4_RECEIVER_KEY
from gateway.as4_sender import As4Sender
from gateway.db.schema import as4_inbound, as4_outbound
from gateway.devnet import free_port
from gateway.runtime import Node
from gateway.web.app import build_app
from tests.as4 import as4pkg_env
from tests.as4.secfixtures import NODE_ID, PARTNER, pki
from tests.as4.test_interop_as4pkg import (
    BILLING,
    DOCUMENT_SCHEME,
    INVOICE,
    PARTICIPANT_SCHEME,
    RECIPIENT,
    SENDER,
    As4Peer,
    as4pkg_python,  # noqa: F401 - fixture
    peer,  # noqa: F401 - fixture
    peppol_sbd,
    ubl_invoice,
)
from tests.conftest import make_settings

pytestmark = pytest.mark.slow


def _pmodes(directory: Path, peer: As4Peer, endpoint: str) -> Path:  # noqa: F811
    (directory / "as4-partner.pem").write_bytes(peer.partner_certificate.public_bytes(Encoding.PEM))
    ap = PEPPOL.party_id_type

    def table(pmode_id: str, initiator: str, responder: str) -> str:
        return (
            "[[pmode]]\n"
            f'id = "{pmode_id}"\nprofile = "peppol"\naction = "{DOCUMENT_SCHEME}::{INVOICE}"\n'
            f'endpoint = "{endpoint}"\nagreement_ref = "{PEPPOL.agreement_ref}"\n'
            f'initiator = {{ party_id = "{initiator}", party_id_type = "{ap}", role = "{DEFAULT_INITIATOR_ROLE}" }}\n'
            f'responder = {{ party_id = "{responder}", party_id_type = "{ap}", role = "{DEFAULT_RESPONDER_ROLE}" }}\n'
            f'service = {{ value = "{BILLING}", type = "{PEPPOL.service_type}" }}\n'
            'signing_certificates = ["as4-partner.pem"]\nencryption_certificate = "as4-partner.pem"\n'
            "retry = [0.2]\n"
        )

    keys = pki()
    (directory / "not-as4.pem").write_bytes(keys.encryption_cert(keys.node, PEPPOL).public_bytes(Encoding.PEM))
    wrong_key = table("to-as4-wrong-key", NODE_ID, PARTNER).replace(
        'encryption_certificate = "as4-partner.pem"', 'encryption_certificate = "not-as4.pem"').replace(
        'action = "', 'action = "x-', 1)
    path = directory / "peppol.toml"
    path.write_text("\n".join((table("from-as4", PARTNER, NODE_ID), table("to-as4", NODE_ID, PARTNER), wrong_key)))
    return path


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[tuple[Node, web.Application, str]]:
    settings = make_settings(tmp_path / "data", "", pki__dir=str(pki().node_dir))
    opened = await Node.open(settings)
    app = build_app(opened)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield opened, app, f"http://127.0.0.1:{port}/as4"
    finally:
        await runner.cleanup()
        await opened.close()


@pytest.fixture
def as4_server(peer: As4Peer, tmp_path: Path) -> Iterator[tuple[str, Path]]:  # noqa: F811
    python = as4pkg_env.ensure_venv()
    port = free_port()
    out = tmp_path / "as4-server"
    config = tmp_path / "as4-server.json"
    config.write_text(json.dumps(peer.config))
    proc = subprocess.Popen([str(python), "-I", str(as4pkg_env.PEER_SCRIPT), "serve", str(config), str(port),
                             str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert json.loads(line)["listening"] == port, proc.stderr.read() if proc.stderr else line
    try:
        yield f"http://127.0.0.1:{port}/as4", out / "received.jsonl"
    finally:
        proc.kill()
        proc.wait()


async def _post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes]:
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=body, headers=headers) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), await resp.read()


async def test_as4_sends_to_the_node_over_http_and_verifies_our_receipt(node, peer: As4Peer,  # noqa: F811
                                                                     tmp_path: Path) -> None:
    opened, app, url = node
    await PModeStore(opened.engine).load_file(_pmodes(tmp_path, peer, "http://127.0.0.1:9/unused"))
    document = ubl_invoice(2048)
    built = await asyncio.to_thread(peer.build, document)
    status, _ctype, answer = await _post(url, built.headers, built.body)
    assert status == 200
    checked = await asyncio.to_thread(peer.check, built, answer)
    assert checked["parsed"] and checked["is_receipt"] and checked["non_repudiation"] == "verified", checked
    assert checked["refers_to_sent"]
    store = app[AS4_RECEIVER_KEY].payloads
    stored = store.list_for(built.info["message_id"])
    assert [store.open(s.payload_id).read_all() for s in stored] == [built.sbd]
    # as4 resends the very same bytes: the same receipt, nothing stored twice
    status, _ctype, again = await _post(url, built.headers, built.body)
    assert status == 200 and again == answer
    async with opened.engine.connect() as conn:
        rows = (await conn.execute(select(as4_inbound.c.message_id))).scalars().all()
    assert rows == [built.info["message_id"]]


async def _sender(opened: Node, http: aiohttp.ClientSession, app: web.Application) -> As4Sender:
    return As4Sender(opened, PModeStore(opened.engine), app[AS4_RECEIVER_KEY].payloads, http, timeout_s=30)


async def _row(opened: Node, message_id: str):
    async with opened.engine.connect() as conn:
        return (await conn.execute(select(as4_outbound).where(as4_outbound.c.message_id == message_id))).one()


async def test_the_node_sends_to_as4_over_http_and_checks_its_receipt(node, peer: As4Peer,  # noqa: F811
                                                                   as4_server, tmp_path: Path) -> None:
    opened, app, _url = node
    endpoint, log = as4_server
    await PModeStore(opened.engine).load_file(_pmodes(tmp_path, peer, endpoint))
    document = ubl_invoice(4096, seed=7)
    sbd = peppol_sbd(document, country="LV")
    properties = (Property(ORIGINAL_SENDER, SENDER, PARTICIPANT_SCHEME),
                  Property(FINAL_RECIPIENT, RECIPIENT, PARTICIPANT_SCHEME))
    async with aiohttp.ClientSession() as http:
        sender = await _sender(opened, http, app)
        message_id = await sender.submit("to-as4", [Part.from_bytes("sbd@gateway.lv", "application/xml", sbd)],
                                         properties=properties, now=datetime.now(UTC))
        assert await sender.run_once() == 1
    row = await _row(opened, message_id)
    assert row.status == "delivered", (row.last_error_code, row.last_error_text)
    received = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["message_id"], r["successful"]) for r in received] == [(message_id, True)]
    assert base64.b64decode(received[0]["payload"]) == sbd  # as4 decrypted exactly what we sent


async def test_a_message_as4_refuses_fails_with_its_error_code(node, peer: As4Peer,  # noqa: F811
                                                            as4_server, tmp_path: Path) -> None:
    opened, app, _url = node
    endpoint, log = as4_server
    await PModeStore(opened.engine).load_file(_pmodes(tmp_path, peer, endpoint))
    properties = (Property(ORIGINAL_SENDER, SENDER, PARTICIPANT_SCHEME),
                  Property(FINAL_RECIPIENT, RECIPIENT, PARTICIPANT_SCHEME))
    async with aiohttp.ClientSession() as http:
        sender = await _sender(opened, http, app)
        # Encrypted for a key as4 does not hold: as4 answers with an ebMS error signal; final, no retry.
        refused = await sender.submit("to-as4-wrong-key", [Part.from_bytes(
            "sbd@gateway.lv", "application/xml", peppol_sbd(ubl_invoice(1024)))], properties=properties)
        # The SBDH names another receiver than finalRecipient: our sender never sends it (dead letter at once).
        unbuildable = await sender.submit("to-as4", [Part.from_bytes(
            "sbd@gateway.lv", "application/xml", peppol_sbd(ubl_invoice(1024), recipient="0192:000000000"))],
            properties=properties)
        assert await sender.run_once() == 2
    row = await _row(opened, refused)
    assert row.status == "failed" and row.attempts == 1 and row.last_error_code.startswith("EBMS:"), row
    assert [json.loads(line)["successful"] for line in log.read_text().splitlines()] == [False]
    row = await _row(opened, unbuildable)
    assert (row.status, row.last_error_code) == ("failed", "EBMS:0004") and "SBDH" in row.last_error_text, row
