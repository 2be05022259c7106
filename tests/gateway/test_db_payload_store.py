"""The payload store in the database (as4.payload_store = "database"), on SQLite and PostgreSQL: the same
contract as the local directory store — streamed, encrypted at rest, verified before release — plus what a
shared store adds: another process (another store instance on the same database) reads what one stored."""

from __future__ import annotations

import asyncio
import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from as4.parts import Part
from as4.payload_store import PAYLOAD_CORRUPT, PAYLOAD_ID_INVALID, PAYLOAD_NOT_FOUND, PayloadStoreError
from gateway.as4_db_payload_store import CHUNK_ROW_BYTES, DatabasePayloadStore
from gateway.db.schema import as4_payload, as4_payload_chunk
from gateway.runtime import Node
from tests.conftest import make_settings

KEY = os.urandom(32)


@pytest.fixture
async def node(tmp_path: Path, db_url: str):
    opened = await Node.open(make_settings(tmp_path / "data", db_url), start_audit=False)
    try:
        yield opened
    finally:
        await opened.close()


def _store(node: Node, key: bytes = KEY) -> DatabasePayloadStore:
    return DatabasePayloadStore(node.engine, key, asyncio.get_running_loop())


def _big(size: int) -> Part:
    block = os.urandom(64 * 1024)

    def chunks():
        left = size
        while left > 0:
            piece = block[: min(len(block), left)]
            left -= len(piece)
            yield piece

    return Part("scan@partner.test", "application/pdf", chunks, {"Content-Description": "Diploma"})


async def test_round_trip_over_several_chunks_and_a_second_host(node: Node) -> None:
    size = 3 * CHUNK_ROW_BYTES + 12345
    part = _big(size)
    record = await asyncio.to_thread(_store(node).put, "msg-1@ee", part)
    expected = hashlib.sha256(b"".join(part.chunks())).hexdigest()
    assert (record.size, record.sha256, record.content_id) == (size, expected, "scan@partner.test")
    other_host = _store(node)  # another instance over the same database
    opened = await asyncio.to_thread(other_host.open, record.payload_id)
    assert hashlib.sha256(opened.read_all()).hexdigest() == expected
    assert opened.content_type == "application/pdf" and opened.extra_headers == {"Content-Description": "Diploma"}
    listed = await asyncio.to_thread(other_host.list_for, "msg-1@ee")
    assert [r.payload_id for r in listed] == [record.payload_id]
    async with node.engine.connect() as conn:
        stored = b"".join((await conn.execute(select(as4_payload_chunk.c.data))).scalars())
        meta = (await conn.execute(select(as4_payload.c.meta))).scalar()
    assert b"Diploma" not in stored + meta and b"scan@partner.test" not in meta  # encrypted at rest


async def test_tampering_missing_chunks_and_a_wrong_key_are_refused(node: Node) -> None:
    store = _store(node)
    record = await asyncio.to_thread(store.put, "m", _big(2 * CHUNK_ROW_BYTES))
    async with node.engine.begin() as conn:
        data = (await conn.execute(select(as4_payload_chunk.c.data).where(as4_payload_chunk.c.seq == 1))).scalar()
        flipped = bytes(data[:100]) + bytes([data[100] ^ 1]) + bytes(data[101:])
        await conn.execute(update(as4_payload_chunk).where(as4_payload_chunk.c.seq == 1).values(data=flipped))
    with pytest.raises(PayloadStoreError) as refused:
        await asyncio.to_thread(store.open, record.payload_id)
    assert refused.value.code == PAYLOAD_CORRUPT
    with pytest.raises(PayloadStoreError) as wrong_key:
        await asyncio.to_thread(_store(node, os.urandom(32)).open, record.payload_id)
    assert wrong_key.value.code == PAYLOAD_CORRUPT
    second = await asyncio.to_thread(store.put, "m", _big(CHUNK_ROW_BYTES + 10))
    async with node.engine.begin() as conn:
        await conn.execute(as4_payload_chunk.delete().where(as4_payload_chunk.c.payload_id == second.payload_id,
                                                            as4_payload_chunk.c.seq == 1))
    with pytest.raises(PayloadStoreError) as missing:
        await asyncio.to_thread(store.open, second.payload_id)
    assert missing.value.code == PAYLOAD_CORRUPT


async def test_not_found_bad_ids_delete_and_the_loop_thread_guard(node: Node) -> None:
    store = _store(node)
    with pytest.raises(PayloadStoreError) as absent:
        await asyncio.to_thread(store.open, "20261123-" + "0" * 32)
    assert absent.value.code == PAYLOAD_NOT_FOUND
    with pytest.raises(PayloadStoreError) as bad:
        await asyncio.to_thread(store.open, "../../etc/passwd")
    assert bad.value.code == PAYLOAD_ID_INVALID
    record = await asyncio.to_thread(store.put, "m", Part.from_bytes("a", "text/plain", b"x"))
    await asyncio.to_thread(store.delete, record.payload_id)
    await asyncio.to_thread(store.delete, record.payload_id)  # twice: not an error
    with pytest.raises(RuntimeError, match="worker thread"):
        store.open(record.payload_id)  # on the event loop it would deadlock: refused instead


async def test_purge_takes_old_payloads_and_orphan_chunks(node: Node) -> None:
    store = _store(node)
    kept = await asyncio.to_thread(store.put, "m", Part.from_bytes("a", "text/plain", b"new"))
    old = await asyncio.to_thread(store.put, "m", Part.from_bytes("b", "text/plain", b"old"))
    async with node.engine.begin() as conn:
        await conn.execute(update(as4_payload).where(as4_payload.c.payload_id == old.payload_id)
                           .values(stored_at="2020-01-01T00:00:00.000+00:00"))
        await conn.execute(as4_payload_chunk.insert().values(payload_id="20200101-" + "f" * 32, seq=0, data=b"x"))
    removed = await asyncio.to_thread(store.purge, datetime.now(UTC) - timedelta(days=1))
    assert removed == 1
    async with node.engine.connect() as conn:
        left = set((await conn.execute(select(as4_payload_chunk.c.payload_id))).scalars())
    assert left == {kept.payload_id}
