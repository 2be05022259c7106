"""Housekeeping: duplicate-detection rows leave after their window only once delivered to the backend (an
undelivered message is never forgotten); archive entries leave after their retention; payloads kept after
delivery (retention > 0) go when it ends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from as4.parts import Part
from gateway.as4_archive import INBOUND, MESSAGE, Evidence, archive, evidence_for
from gateway.as4_delivery import acknowledge
from gateway.as4_ops import housekeeping
from gateway.as4_receiver import open_payload_store
from gateway.db.schema import as4_inbound
from gateway.runtime import Node
from tests.conftest import make_settings

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _ts(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


async def _received(node: Node, message_id: str, payload_ids: list[str], *, window: timedelta) -> None:
    async with node.engine.begin() as conn:
        await conn.execute(insert(as4_inbound).values(
            message_id=message_id, from_party="EE-GW", service="s", action="a", pmode_id="p", received_at=_ts(T0),
            expires_at=_ts(T0 + window), status="received", receipt=b"<receipt/>",
            receipt_content_type="application/soap+xml", payload_ids=json.dumps(payload_ids), client_id="c-1",
            user_message="{}", payloads="[]", next_delivery_at=None))
        await archive(conn, message_id, INBOUND, [Evidence(MESSAGE, "application/soap+xml", b"<env/>")], now=T0,
                      retention_days=30)


async def test_expired_rows_go_only_after_delivery_and_archives_after_retention(tmp_path: Path, db_url: str) -> None:
    node = await Node.open(make_settings(tmp_path / "data", db_url, as4__payload_retention_s="3600"))
    try:
        store = open_payload_store(node)
        kept = store.put("m-delivered", Part.from_bytes("p", "text/plain", b"evidence"))
        await _received(node, "m-delivered", [kept.payload_id], window=timedelta(days=1))
        await _received(node, "m-waiting", [], window=timedelta(days=1))
        assert await acknowledge(node, store, "m-delivered", client_id="c-1", mode="pull", now=T0)
        assert store.open(kept.payload_id).read_all() == b"evidence"  # retention keeps it for an hour

        early = await housekeeping(node, store, now=T0 + timedelta(minutes=30))
        assert early.as_dict() == {"duplicate_rows": 0, "payloads": 0, "archive_entries": 0}

        later = await housekeeping(node, store, now=T0 + timedelta(hours=2))
        assert later.payloads == 1 and later.duplicate_rows == 0
        assert store.list_for("m-delivered") == []

        after_window = await housekeeping(node, store, now=T0 + timedelta(days=2))
        assert after_window.duplicate_rows == 1  # the delivered one; the waiting one stays
        async with node.engine.connect() as conn:
            left = (await conn.execute(select(as4_inbound.c.message_id))).scalars().all()
        assert left == ["m-waiting"]
        assert len(await evidence_for(node.engine, "m-delivered")) == 1  # the archive outlives the row

        final = await housekeeping(node, store, now=T0 + timedelta(days=31))
        assert final.archive_entries == 2
        assert await evidence_for(node.engine, "m-delivered") == []
    finally:
        await node.close()
