"""The AS4 receiving endpoint over real HTTP: a partner's signed, encrypted message against the served node
(SQLite and PostgreSQL), with the node's key store being the same dev PKI the partner encrypted to."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from as4.errors import EbmsError
from as4.model import AgreementRef, CollaborationInfo, MessageInfo, Party, PartyId, PartyInfo, Service, UserMessage
from as4.parts import Part
from as4.pipeline import OutboundMessage, build_outbound, check_response, new_message_id
from as4.profiles import EDELIVERY_2_0
from gateway.as4_pmodes import PModeStore
from gateway.as4_receiver import AS4_RECEIVER_KEY
from gateway.db.schema import as4_inbound, audit_record
from gateway.runtime import Node
from gateway.web.app import build_app
from tests.as4.secfixtures import pki
from tests.conftest import make_settings

PROFILE = EDELIVERY_2_0
UNREG = "urn:oasis:names:tc:ebcore:partyid-type:unregistered"
ROLE_I = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/initiator"
ROLE_R = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/responder"
SERVICE = "urn:oots:evidence"
QUERY = b"<q:QueryRequest xmlns:q='urn:q'>" + b"<q:Slot/>" * 50 + b"</q:QueryRequest>"
SCAN = b"%PDF-1.7\n" + bytes(range(256)) * 40
MAX_BODY = 200_000


def _user_message(sender: str = "EE-AP") -> UserMessage:
    return UserMessage(
        MessageInfo(datetime.now(UTC), new_message_id("partner.test")),
        PartyInfo(Party((PartyId(sender, UNREG),), ROLE_I), Party((PartyId("LV-GW", UNREG),), ROLE_R)),
        CollaborationInfo(Service(SERVICE), "ExecuteQueryRequest", "conv-1",
                          AgreementRef(PROFILE.agreement_ref) if PROFILE.agreement_ref else None),
    )


def _outbound(sender: str = "EE-AP", payloads: list[Part] | None = None) -> tuple[OutboundMessage, bytes]:
    keys = pki()
    parts = payloads if payloads is not None else [Part.from_bytes("query@partner.test", "application/xml", QUERY),
                                                   Part.from_bytes("scan@partner.test", "application/pdf", SCAN)]
    outbound = build_outbound(_user_message(sender), parts, PROFILE, signer=keys.signer(keys.partner, PROFILE),
                              recipient_certificate=keys.encryption_cert(keys.node, PROFILE))
    return outbound, b"".join(outbound.body)


def _check(content_type: str, body: bytes, outbound: OutboundMessage):
    keys = pki()
    return check_response(content_type, body, outbound, profile=PROFILE,
                          signer_resolver=keys.by_pmode(keys.node, PROFILE), key_store=keys.partner)


def _write_pmode(directory: Path) -> Path:
    keys = pki()
    from cryptography.hazmat.primitives.serialization import Encoding

    cert = keys.signer(keys.partner, PROFILE).certificate
    assert cert is not None
    (directory / "ee-signing.pem").write_bytes(cert.public_bytes(Encoding.PEM))
    path = directory / "ee.toml"
    path.write_text(
        "[[pmode]]\n"
        'id = "ee-oots-in"\n'
        f'profile = "{PROFILE.name}"\n'
        'action = "ExecuteQueryRequest"\n'
        'endpoint = "https://ap.ee.example/as4"\n'
        + (f'agreement_ref = "{PROFILE.agreement_ref}"\n' if PROFILE.agreement_ref else "")
        + f'initiator = {{ party_id = "EE-AP", party_id_type = "{UNREG}", role = "{ROLE_I}" }}\n'
        f'responder = {{ party_id = "LV-GW", party_id_type = "{UNREG}", role = "{ROLE_R}" }}\n'
        f'service = {{ value = "{SERVICE}" }}\n'
        'signing_certificates = ["ee-signing.pem"]\n'
        "duplicate_detection_window_s = 86400\n",
        encoding="utf-8")
    return path


@pytest.fixture
async def served(tmp_path: Path, db_url: str) -> AsyncIterator[tuple[Node, web.Application, str]]:
    settings = make_settings(tmp_path / "data", db_url, pki__dir=str(pki().node_dir),
                             as4__max_message_bytes=str(MAX_BODY))
    node = await Node.open(settings)
    assert node.key_store is not None
    await PModeStore(node.engine).load_file(_write_pmode(tmp_path))
    app = build_app(node)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield node, app, f"http://127.0.0.1:{port}/as4"
    finally:
        await runner.cleanup()
        await node.close()


async def _post(url: str, content_type: str, body: bytes) -> tuple[int, str, bytes]:
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=body, headers={"Content-Type": content_type}) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), await resp.read()


async def _audit(node: Node, event: str) -> list[dict]:
    async with node.engine.connect() as conn:
        rows = (await conn.execute(select(audit_record.c.details).where(audit_record.c.event == event))).all()
    return [json.loads(row.details) for row in rows]


async def _rows(node: Node) -> list:
    async with node.engine.connect() as conn:
        return list((await conn.execute(select(as4_inbound))).all())


async def test_accepts_stores_and_answers_a_duplicate_with_the_same_receipt(served) -> None:
    node, app, url = served
    outbound, body = _outbound()
    status, ctype, answer = await _post(url, outbound.content_type, body)
    assert status == 200 and ctype.startswith("application/soap+xml")
    receipt = _check(ctype, answer, outbound)
    assert receipt.message_info.ref_to_message_id == outbound.message_id

    store = app[AS4_RECEIVER_KEY].payloads
    stored = store.list_for(outbound.message_id)
    assert sorted(store.open(s.payload_id).read_all() for s in stored) == sorted([QUERY, SCAN])
    rows = await _rows(node)
    assert len(rows) == 1 and rows[0].message_id == outbound.message_id and rows[0].from_party == "EE-AP"
    assert rows[0].service == SERVICE and rows[0].status == "received" and bytes(rows[0].receipt) == answer

    status2, ctype2, again = await _post(url, outbound.content_type, body)
    assert status2 == 200 and again == answer and ctype2 == ctype
    assert len(await _rows(node)) == 1 and len(store.list_for(outbound.message_id)) == 2

    received = await _audit(node, "as4.message.received")
    assert len(received) == 1 and received[0]["message_id"] == outbound.message_id
    assert received[0]["payload_count"] == 2 and sorted(received[0]["payload_sizes"]) == sorted([len(QUERY), len(SCAN)])
    assert "Slot" not in json.dumps(received[0])  # facts, never content
    duplicates = await _audit(node, "as4.message.duplicate")
    assert [d["message_id"] for d in duplicates] == [outbound.message_id]


async def test_concurrent_copies_are_accepted_once(served) -> None:
    node, app, url = served
    outbound, body = _outbound()
    answers = await asyncio.gather(*(_post(url, outbound.content_type, body) for _ in range(4)))
    assert {a[0] for a in answers} == {200}
    assert len({a[2] for a in answers}) == 1  # every copy got the one stored receipt
    _check(answers[0][1], answers[0][2], outbound)
    assert len(await _rows(node)) == 1
    assert len(app[AS4_RECEIVER_KEY].payloads.list_for(outbound.message_id)) == 2
    assert len(await _audit(node, "as4.message.received")) == 1
    assert len(await _audit(node, "as4.message.duplicate")) == 3


def _flip_in_attachment(body: bytes) -> bytes:
    marker = body.rindex(b"Content-ID: <scan@partner.test>")
    position = body.index(b"\r\n\r\n", marker) + 200
    return body[:position] + bytes([body[position] ^ 1]) + body[position + 1:]


@pytest.mark.parametrize(("tamper", "code"), [
    (_flip_in_attachment, "EBMS:0102"),
    (lambda body: body.replace(b"conv-1", b"conv-2"), "EBMS:0101"),  # a signed header, PMode still matches
], ids=["attachment", "header"])
async def test_tampered_message_gets_a_signed_error_signal(served, tamper, code) -> None:
    node, app, url = served
    outbound, body = _outbound()
    status, ctype, answer = await _post(url, outbound.content_type, tamper(body))
    assert status == 200
    with pytest.raises(EbmsError) as caught:
        _check(ctype, answer, outbound)
    assert caught.value.code == code and b"SignatureValue" in answer  # our refusal is signed too
    assert await _rows(node) == [] and app[AS4_RECEIVER_KEY].payloads.list_for(outbound.message_id) == []
    refused = await _audit(node, "as4.message.refused")
    assert len(refused) == 1 and refused[0]["code"] == caught.value.code
    assert refused[0]["message_id"] == outbound.message_id


async def test_unknown_partner_is_refused_with_0010(served) -> None:
    node, _, url = served
    outbound, body = _outbound(sender="XX-AP")
    status, ctype, answer = await _post(url, outbound.content_type, body)
    assert status == 200
    with pytest.raises(EbmsError) as caught:
        _check(ctype, answer, outbound)
    assert caught.value.code == "EBMS:0010"
    refused = await _audit(node, "as4.message.refused")
    assert [(r["code"], r["from_party"]) for r in refused] == [("EBMS:0010", "XX-AP")]
    assert await _rows(node) == []


async def test_body_over_the_limit_is_413_problem_json(served) -> None:
    node, _, url = served
    big = Part.from_bytes("big@partner.test", "application/octet-stream", os.urandom(MAX_BODY + 1))
    outbound, body = _outbound(payloads=[big])
    assert len(body) > MAX_BODY
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=body, headers={"Content-Type": outbound.content_type}) as resp:
            assert resp.status == 413 and resp.content_type == "application/problem+json"
            assert (await resp.json())["code"] == "http-413"
    assert [r["code"] for r in await _audit(node, "as4.message.refused")] == ["http-413"]
    assert await _rows(node) == []


async def test_route_is_absent_without_a_key_store(tmp_path: Path) -> None:
    node = await Node.open(make_settings(tmp_path / "data", f"sqlite:///{tmp_path / 'gw.db'}"))
    try:
        assert node.key_store is None and AS4_RECEIVER_KEY not in build_app(node)
    finally:
        await node.close()


async def test_a_rebuilt_resend_gets_a_receipt_for_its_own_signature_and_is_not_stored_again(served) -> None:
    """A sender that crashed after sending rebuilds the message (same MessageId, new CEK and signature): the
    stored receipt would name digests this copy does not carry, so it gets a fresh one; nothing is stored twice."""
    node, _app, url = served
    keys = pki()
    message = _user_message()
    parts = [Part.from_bytes("query@partner.test", "application/xml", QUERY)]

    def build() -> tuple[OutboundMessage, bytes]:
        outbound = build_outbound(message, parts, PROFILE, signer=keys.signer(keys.partner, PROFILE),
                                  recipient_certificate=keys.encryption_cert(keys.node, PROFILE))
        return outbound, b"".join(outbound.body)

    first, first_body = build()
    status, ctype, answer = await _post(url, first.content_type, first_body)
    assert status == 200
    _check(ctype, answer, first)
    second, second_body = build()
    assert second.message_id == first.message_id and second_body != first_body
    status, ctype2, again = await _post(url, second.content_type, second_body)
    assert status == 200 and again != answer
    receipt = _check(ctype2, again, second)  # names what this copy signed
    assert receipt.message_info.ref_to_message_id == first.message_id
    with pytest.raises(EbmsError):
        _check(ctype, answer, second)  # the first receipt does not fit the rebuilt copy
    assert len(await _rows(node)) == 1
    duplicates = await _audit(node, "as4.message.duplicate")
    assert [d["retransmission"] for d in duplicates] == ["rebuilt"]
