"""A 1 GB payload between two node processes through the backend API (submit streamed in, AS4 compressed,
signed and encrypted on the way, decrypted, inflated and checked on arrival, downloaded streamed out): the
SHA-256 of what the receiving backend downloads equals the input's, and each node's peak resident memory
(VmHWM) stays under 100 MB. Set GATEWAY_TEST_LARGE_MB to change the size (default 1024)."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from gateway.devnet import BackendClient, DevNode, NodeProcess, free_port, prepare_pair

pytestmark = pytest.mark.slow
SIZE_MB = int(os.environ.get("GATEWAY_TEST_LARGE_MB", "1024"))
PEAK_LIMIT_KB = 100 * 1024
BLOCK = os.urandom(1024 * 1024)  # repeated 1 MiB apart: gzip's 32 KiB window finds nothing, like real scans


async def _source(digest: hashlib._Hash) -> AsyncIterator[bytes]:
    for index in range(SIZE_MB):
        chunk = index.to_bytes(8, "big") + BLOCK[8:]
        digest.update(chunk)
        yield chunk
        if index % 64 == 0:
            await asyncio.sleep(0)


async def test_one_gigabyte_in_bounded_memory(tmp_path: Path) -> None:
    overrides = {"as4__sender_timeout_s": "1200", "as4__delivery_timeout_s": "1200"}
    lv = DevNode("LV-GW", tmp_path / "lv", free_port(), settings_overrides=overrides)
    ee = DevNode("EE-GW", tmp_path / "ee", free_port(), settings_overrides=overrides)
    await prepare_pair(lv, ee, retry=(30.0,), ttl_s=7200)
    procs = (NodeProcess(lv), NodeProcess(ee))
    for proc in procs:
        await asyncio.to_thread(proc.start)
    try:
        sent = hashlib.sha256()
        timeout = aiohttp.ClientTimeout(total=1800)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            sender, receiver = BackendClient(lv, http), BackendClient(ee, http)
            message_id = await sender.submit("to-EE-GW-edelivery-2.0", [("application/octet-stream", _source(sent))])
            state = await sender.wait_for(f"/api/as4/messages/{message_id}",
                                          lambda s: s["status"] in ("delivered", "failed"), timeout_s=1500,
                                          every_s=1.0)
            assert state["status"] == "delivered", state
            got = await receiver.wait_for(f"/api/as4/inbox/{message_id}", lambda m: m["status"] == "received")
            assert got["payloads"][0]["size"] == SIZE_MB * 1024 * 1024
            assert got["payloads"][0]["sha256"] == sent.hexdigest()
            received = hashlib.sha256()
            async with http.get(f"{ee.url}/api/as4/inbox/{message_id}/payloads/0",
                                headers=await receiver.headers()) as resp:
                assert resp.status == 200
                async for chunk in resp.content.iter_chunked(1024 * 1024):
                    received.update(chunk)
            assert received.hexdigest() == sent.hexdigest()
        peaks = {proc.node.name: proc.peak_rss_kb() for proc in procs}
        print(f"peak VmHWM kB: {peaks}")
        assert all(peak is not None and peak < PEAK_LIMIT_KB for peak in peaks.values()), peaks
    finally:
        for proc in procs:
            await asyncio.to_thread(proc.stop)
