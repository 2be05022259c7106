"""Crash tests on two real node processes: SIGKILL the sender, then the receiver, in the middle of a stream of
1,000 messages submitted through the backend API. After a restart every message whose submit was answered 202
is delivered, exactly once (one inbox row, one ``as4.message.received`` record each); resends caused by the
crash are absorbed by duplicate detection."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from gateway.db.schema import as4_inbound, as4_outbound, audit_record
from gateway.devnet import BackendClient, DevNode, NodeProcess, free_port, prepare_pair

pytestmark = pytest.mark.slow
TOTAL = 1000
PMODE = "to-EE-GW-edelivery-2.0"


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[NodeProcess, NodeProcess]]:
    lv = DevNode("LV-GW", tmp_path / "lv", free_port())
    ee = DevNode("EE-GW", tmp_path / "ee", free_port())
    await prepare_pair(lv, ee, retry=(0.5, 0.5, 1.0, 1.0, 2.0, 2.0, 4.0, 4.0))
    procs = (NodeProcess(lv), NodeProcess(ee))
    for proc in procs:
        await asyncio.to_thread(proc.start)
    try:
        yield procs
    finally:
        for proc in procs:
            await asyncio.to_thread(proc.stop)


async def _submit_stream(api: BackendClient, accepted: list[str], total: int, *, concurrency: int = 16) -> int:
    """Submit until ``total`` were tried; accepted ids go to ``accepted``; how many submits failed."""
    counter = iter(range(total))
    failures = 0

    async def worker() -> None:
        nonlocal failures
        for index in counter:
            try:
                accepted.append(await api.submit(PMODE, [("application/json", json.dumps({"n": index}).encode())]))
            except (aiohttp.ClientError, RuntimeError, OSError):
                failures += 1
                await asyncio.sleep(0.05)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return failures


async def _inbox(node: DevNode) -> tuple[list[str], Counter[str]]:
    opened = await node.open()
    try:
        async with opened.engine.connect() as conn:
            ids = list((await conn.execute(select(as4_inbound.c.message_id))).scalars())
            details = (await conn.execute(select(audit_record.c.details)
                                          .where(audit_record.c.event == "as4.message.received"))).scalars()
            received = Counter(json.loads(d)["message_id"] for d in details)
    finally:
        await opened.close()
    return ids, received


async def _outbox_states(node: DevNode) -> Counter[str]:
    opened = await node.open()
    try:
        async with opened.engine.connect() as conn:
            return Counter((await conn.execute(select(as4_outbound.c.status))).scalars())
    finally:
        await opened.close()


async def _failures(node: DevNode) -> list[tuple[str, str, str]]:
    opened = await node.open()
    try:
        async with opened.engine.connect() as conn:
            rows = await conn.execute(select(as4_outbound.c.message_id, as4_outbound.c.last_error_code,
                                             as4_outbound.c.last_error_text).where(as4_outbound.c.status == "failed"))
            return [tuple(row) for row in rows]
    finally:
        await opened.close()


async def _wait_settled(sender: DevNode, receiver: DevNode, wanted: set[str], timeout_s: float = 240.0) -> None:
    """Until every accepted message arrived and the sender recorded an outcome for every row (a row the killed
    sender had claimed comes back when its lease ends, is sent again and meets duplicate detection)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        ids, _ = await _inbox(receiver)
        states = await _outbox_states(sender)
        if wanted <= set(ids) and states["pending"] == states["sending"] == 0:
            return
        await asyncio.sleep(1.0)


async def _kill_when(api_target: list[str], count: int, proc: NodeProcess) -> None:
    while len(api_target) < count:  # noqa: ASYNC110 - polls the list the submit workers fill
        await asyncio.sleep(0.01)
    await asyncio.to_thread(proc.kill)


@pytest.mark.parametrize("victim", ["sender", "receiver"])
async def test_sigkill_mid_stream_loses_and_duplicates_nothing(pair, victim) -> None:
    lv_proc, ee_proc = pair
    killed = lv_proc if victim == "sender" else ee_proc
    accepted: list[str] = []
    async with aiohttp.ClientSession() as http:
        api = BackendClient(lv_proc.node, http)
        await api.token()
        first = TOTAL // 2
        killer = asyncio.create_task(_kill_when(accepted, first // 2, killed))
        failures = await _submit_stream(api, accepted, first)
        await killer
        await asyncio.to_thread(killed.start)
        api = BackendClient(lv_proc.node, http)  # a fresh token: the sender's process restarted
        failures += await _submit_stream(api, accepted, TOTAL - first)
    wanted = set(accepted)
    assert len(wanted) == len(accepted) >= TOTAL - failures
    await _wait_settled(lv_proc.node, ee_proc.node, wanted)
    ids, received = await _inbox(ee_proc.node)
    missing = wanted - set(ids)
    assert not missing, f"{len(missing)} accepted messages never arrived; outbox: {await _outbox_states(lv_proc.node)}"
    assert len(ids) == len(set(ids))
    twice = [mid for mid, n in received.items() if n > 1]
    assert not twice, f"{len(twice)} messages accepted twice by the receiver"
    states = await _outbox_states(lv_proc.node)
    assert states["failed"] == 0 and states["delivered"] >= len(wanted), (states, await _failures(lv_proc.node))
    if victim == "sender":
        assert failures > 0 or len(accepted) == TOTAL  # the kill cut some submits off (or none was in flight)
