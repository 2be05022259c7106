"""One node served by two processes (two hosts) sharing its PostgreSQL database, with the payload store in the
database: a message one process accepted is downloaded through the other; messages submitted through either
are sent exactly once by the two sender workers (FOR UPDATE SKIP LOCKED) and arrive once."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from as4.profiles import EDELIVERY_2_0
from gateway.db.schema import audit_record
from gateway.devnet import BackendClient, DevNode, NodeProcess, free_port, prepare_pair

pytestmark = pytest.mark.slow


async def test_two_processes_share_one_node(tmp_path: Path, pg_database: str) -> None:
    shared = {"as4__payload_store": "database"}
    lv_a = DevNode("LV-GW", tmp_path / "lv", free_port(), pg_database, dict(shared))
    lv_b = DevNode("LV-GW", tmp_path / "lv", free_port(), pg_database, dict(shared))
    ee = DevNode("EE-GW", tmp_path / "ee", free_port())
    await prepare_pair(lv_a, ee, profiles=[EDELIVERY_2_0])
    procs = [NodeProcess(lv_a), NodeProcess(lv_b), NodeProcess(ee)]
    for proc in procs:
        await asyncio.to_thread(proc.start)
    try:
        async with aiohttp.ClientSession() as http:
            via_a, via_b, remote = BackendClient(lv_a, http), BackendClient(lv_b, http), BackendClient(ee, http)
            # Inbound: EE sends to host A (the PMode's endpoint); the backend downloads through host B.
            inbound = await remote.submit("to-LV-GW-edelivery-2.0", [("application/xml", b"<diploma/>" * 500)])
            await remote.wait_for(f"/api/as4/messages/{inbound}", lambda s: s["status"] == "delivered")
            got = await via_b.wait_for(f"/api/as4/inbox/{inbound}", lambda m: m["status"] == "received")
            async with http.get(f"{lv_b.url}/api/as4/inbox/{inbound}/payloads/0", headers=await via_b.headers()) as r:
                assert r.status == 200 and await r.read() == b"<diploma/>" * 500
            assert got["payloads"][0]["size"] == 5000
            # Outbound: submitted through both hosts, claimed by both sender workers, each sent once.
            ids = await asyncio.gather(*(api.submit("to-EE-GW-edelivery-2.0", [("text/plain", f"n{i}".encode())])
                                         for i in range(20) for api in (via_a, via_b)))
            for message_id in ids:
                await via_a.wait_for(f"/api/as4/messages/{message_id}", lambda s: s["status"] == "delivered")
        opened = await ee.open()
        try:
            async with opened.engine.connect() as conn:
                details = (await conn.execute(select(audit_record.c.details).where(
                    audit_record.c.event.in_(("as4.message.received", "as4.message.duplicate"))))).scalars().all()
        finally:
            await opened.close()
        arrivals = [json.loads(d)["message_id"] for d in details]
        assert sorted(arrivals) == sorted(ids)  # each once: no double send between the two workers
    finally:
        for proc in procs:
            await asyncio.to_thread(proc.stop)
