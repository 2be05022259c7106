"""The requester's state in the database (SQLite and PostgreSQL, migration 0006_oots_requests): an exchange is
finished once (a second answer changes nothing), its evidence is stored with it, dead AS4 letters and passed
deadlines fail exchanges, and the request's state follows its exchanges."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from gateway.as4_receiver import open_payload_store
from gateway.db.oots_requests_schema import oots_evidence, oots_exchange, oots_request
from gateway.db.schema import as4_outbound
from gateway.oots_node import OotsNode
from gateway.runtime import Node
from tests.conftest import make_settings


@pytest.fixture
async def oots(db_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    node = await Node.open(make_settings(tmp_path / "data", db_url, oots__requester_id="LV40003011203"))
    try:
        yield OotsNode(node, open_payload_store(node))
    finally:
        await node.close()


async def _request_with_exchanges(oots: OotsNode, *deadlines: datetime) -> tuple[str, list[str]]:
    now = datetime.now(UTC).isoformat()
    request_id = f"req-{len(deadlines)}-{deadlines[0].timestamp()}"
    ids = []
    async with oots.node.engine.begin() as conn:
        await conn.execute(insert(oots_request).values(
            id=request_id, client_id="portal-1", state="exchanging", procedure="T2", country="LV",
            specification=json.dumps({"requirements": [], "preview": False}), person="{}", answers="{}",
            created_at=now, updated_at=now))
        for n, deadline in enumerate(deadlines):
            ids.append(f"{request_id}-x{n}")
            await conn.execute(insert(oots_exchange).values(
                id=ids[-1], request_id=request_id, evidence_type="urn:et", provider="P", access_service="AP",
                pmode_id="pm", edm_version="oots-edm:v1.2", state="sent", request1=b"<x/>",
                edm_request_id=f"urn:uuid:{ids[-1]}", message_id=f"m-{ids[-1]}", exchange_uuid="e",
                deadline=deadline.isoformat(timespec="milliseconds"), updated_at=now))
    return request_id, ids


async def _exchange(oots: OotsNode, exchange_id: str):  # type: ignore[no-untyped-def]
    async with oots.node.engine.connect() as conn:
        return (await conn.execute(select(oots_exchange).where(oots_exchange.c.id == exchange_id))).first()


async def test_an_exchange_is_finished_once_with_its_evidence(oots: OotsNode) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    request_id, (first, second) = await _request_with_exchanges(oots, later, later)
    evidence = [dict(id="ev-1", request_id=request_id, exchange_id=first, content_id="c1", media_type="text/xml",
                     sha256="0" * 64, size=4, metadata="{}", content=b"<e/>")]
    x = await _exchange(oots, first)
    await oots.requester._finish(x, "evidence", datetime.now(UTC), evidence=evidence, count=1)
    await oots.requester._finish(x, "failed", datetime.now(UTC), error=("EDM:ERR:0004", "late duplicate"))
    done = await _exchange(oots, first)
    assert done.state == "evidence" and done.error_code is None and done.request1 is None
    view = await oots.requester.view(request_id)
    assert view["state"] == "exchanging"  # the second exchange still runs
    assert [e["id"] for e in view["evidence"]] == ["ev-1"]
    await oots.requester._finish(await _exchange(oots, second), "no-evidence", datetime.now(UTC))
    view = await oots.requester.view(request_id)
    assert view["state"] == "completed"
    async with oots.node.engine.connect() as conn:
        row = (await conn.execute(select(oots_request.c.person).where(oots_request.c.id == request_id))).first()
        count = len((await conn.execute(select(oots_evidence.c.id))).all())
    assert row.person is None and count == 1  # the MDS are dropped once the request is final
    assert await oots.requester.evidence_bytes(request_id, "ev-1") == (b"<e/>", "text/xml", "0" * 64)
    assert await oots.requester.evidence_bytes("other-request", "ev-1") is None


async def test_dead_letters_and_deadlines_fail_exchanges(oots: OotsNode) -> None:
    now = datetime.now(UTC)
    request_id, (dead, late, fine) = await _request_with_exchanges(
        oots, now + timedelta(hours=1), now - timedelta(seconds=1), now + timedelta(hours=1))
    stamp = now.isoformat()
    async with oots.node.engine.begin() as conn:
        await conn.execute(insert(as4_outbound).values(
            message_id=f"m-{dead}", pmode_id="pm", status="failed", attempts=4, next_attempt_at=stamp,
            expires_at=stamp, last_error_code="EBMS:0301", last_error_text="no receipt", created_at=stamp,
            updated_at=stamp, payload_ids="[]", user_message="{}"))
    await oots.requester.housekeeping()
    states = {x: (await _exchange(oots, x)) for x in (dead, late, fine)}
    assert (states[dead].state, states[dead].error_code) == ("failed", "EBMS:0301")
    assert (states[late].state, states[late].error_code) == ("failed", "OOTS_REQ_TIMEOUT")
    assert states[fine].state == "sent"
    view = await oots.requester.view(request_id)
    assert view["state"] == "exchanging"
    await oots.requester._finish(states[fine], "evidence", now)
    view = await oots.requester.view(request_id)
    assert view["state"] == "failed" and view["error"]["code"] in ("EBMS:0301", "OOTS_REQ_TIMEOUT")
