"""The payload store in the node's database (``as4.payload_store = "database"``): for a node served by several
hosts, which then share payloads through PostgreSQL the way they share everything else.

Same port and guarantees as :class:`as4.payload_store.LocalDirectoryStore`: streamed in bounded memory,
AES-256-GCM at rest with per-payload keys (HKDF of the store key and the payload id; a chunk moved to another
payload does not decrypt), the SHA-256 of the plaintext checked before anything is released.

Layout: the ciphertext stream (IV ‖ C ‖ tag) is cut into 1 MiB rows of ``as4_payload_chunk``; ``as4_payload``
holds the payload's id, message id, time stored, chunk count and its metadata (content id and type, MIME headers,
size, digest), encrypted, since content ids and headers can name people. Chunks are written in small
transactions and the ``as4_payload`` row last, so a payload exists only once it is whole; chunks a crashed
``put`` left behind are removed by ``purge``.

The port is synchronous (the node calls it from worker threads); this store runs its queries on the node's event
loop and waits for them, so it must never be called on the loop's own thread (it raises instead of deadlocking).
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from as4.parts import Part
from as4.payload_store import (
    KEY_BYTES,
    PAYLOAD_CORRUPT,
    PAYLOAD_ID_INVALID,
    PAYLOAD_INFO,
    PAYLOAD_NOT_FOUND,
    MeasuredPart,
    PayloadStoreError,
    StoredPayload,
    derive_key,
    is_payload_id,
    new_payload_id,
    open_metadata,
    seal_metadata,
    spooled_part,
)
from gateway.db.schema import as4_payload, as4_payload_chunk
from pki.xml.gcm_stream import GcmAuthenticationError, decrypt_stream, encrypt_stream

T = TypeVar("T")
CHUNK_ROW_BYTES = 1024 * 1024


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


class DatabasePayloadStore:
    def __init__(self, engine: AsyncEngine, key: bytes, loop: asyncio.AbstractEventLoop, *,
                 spool_dir: Any = None) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"the payload store key is {KEY_BYTES} bytes")
        self._engine = engine
        self._key = key
        self._loop = loop
        self._spool_dir = spool_dir

    def __repr__(self) -> str:
        return "DatabasePayloadStore()"

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if threading.get_ident() == getattr(self._loop, "_thread_id", None):
            coro.close()
            raise RuntimeError("DatabasePayloadStore is blocking: call it from a worker thread (asyncio.to_thread)")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    # -- the port ------------------------------------------------------------------------------------------

    def put(self, message_id: str, part: Part) -> StoredPayload:
        stored_at = datetime.now(UTC)
        payload_id = new_payload_id(stored_at)
        measured = MeasuredPart(part)
        seq = 0
        row = bytearray()
        try:
            for piece in encrypt_stream(derive_key(self._key, payload_id, PAYLOAD_INFO), measured.chunks()):
                row += piece
                while len(row) >= CHUNK_ROW_BYTES:
                    self._run(self._insert_chunk(payload_id, seq, bytes(row[:CHUNK_ROW_BYTES])))
                    del row[:CHUNK_ROW_BYTES]
                    seq += 1
            if row:
                self._run(self._insert_chunk(payload_id, seq, bytes(row)))
                seq += 1
            record = measured.record(payload_id, message_id, stored_at)
            meta = seal_metadata(self._key, record, part.extra_headers)
            self._run(self._insert_payload(payload_id, message_id, stored_at, seq, meta))
        except BaseException:
            self._run(self._delete(payload_id))
            raise
        return record

    def open(self, payload_id: str) -> Part:
        _check_id(payload_id)
        found = self._run(self._payload_row(payload_id))
        if found is None:
            raise PayloadStoreError(PAYLOAD_NOT_FOUND, f"no payload {payload_id}")
        chunks, meta = found
        record, headers = open_metadata(self._key, payload_id, meta)
        try:
            spooled = decrypt_stream(derive_key(self._key, payload_id, PAYLOAD_INFO),
                                     self._read_chunks(payload_id, chunks), spool_dir=self._spool_dir)
        except GcmAuthenticationError:
            raise PayloadStoreError(PAYLOAD_CORRUPT, f"payload {payload_id} failed authentication") from None
        if spooled.size != record.size or not secrets.compare_digest(spooled.sha256, record.sha256):
            spooled.close()
            raise PayloadStoreError(PAYLOAD_CORRUPT, f"payload {payload_id} does not match its SHA-256")
        return spooled_part(record, headers, spooled)

    def delete(self, payload_id: str) -> None:
        _check_id(payload_id)
        self._run(self._delete(payload_id))

    def list_for(self, message_id: str) -> list[StoredPayload]:
        rows = self._run(self._rows_for(message_id))
        records = [open_metadata(self._key, payload_id, meta)[0] for payload_id, meta in rows]
        return sorted(records, key=lambda record: (record.stored_at, record.payload_id))

    def purge(self, older_than: datetime) -> int:
        if older_than.tzinfo is None:
            raise ValueError("older_than must be timezone-aware")
        return self._run(self._purge(older_than))

    # -- queries (on the loop) -------------------------------------------------------------------------------

    async def _insert_chunk(self, payload_id: str, seq: int, data: bytes) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(insert(as4_payload_chunk).values(payload_id=payload_id, seq=seq, data=data))

    async def _insert_payload(self, payload_id: str, message_id: str, stored_at: datetime, chunks: int,
                              meta: bytes) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(insert(as4_payload).values(payload_id=payload_id, message_id=message_id,
                                                          stored_at=_ts(stored_at), chunks=chunks, meta=meta))

    async def _payload_row(self, payload_id: str) -> tuple[int, bytes] | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(as4_payload.c.chunks, as4_payload.c.meta)
                                      .where(as4_payload.c.payload_id == payload_id))).first()
        return None if row is None else (int(row.chunks), bytes(row.meta))

    async def _chunk(self, payload_id: str, seq: int) -> bytes | None:
        async with self._engine.connect() as conn:
            data = (await conn.execute(select(as4_payload_chunk.c.data).where(
                as4_payload_chunk.c.payload_id == payload_id, as4_payload_chunk.c.seq == seq))).scalar()
        return None if data is None else bytes(data)

    async def _delete(self, payload_id: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(delete(as4_payload).where(as4_payload.c.payload_id == payload_id))
            await conn.execute(delete(as4_payload_chunk).where(as4_payload_chunk.c.payload_id == payload_id))

    async def _rows_for(self, message_id: str) -> list[tuple[str, bytes]]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(select(as4_payload.c.payload_id, as4_payload.c.meta)
                                      .where(as4_payload.c.message_id == message_id))
            return [(row.payload_id, bytes(row.meta)) for row in rows]

    async def _purge(self, older_than: datetime) -> int:
        cutoff = _ts(older_than)
        # Orphans: chunks of a put that never finished. Payload ids start with the day they were made.
        orphan_day = older_than.strftime("%Y%m%d")
        async with self._engine.begin() as conn:
            done = await conn.execute(delete(as4_payload).where(as4_payload.c.stored_at < cutoff)
                                      .returning(as4_payload.c.payload_id))
            gone = [row.payload_id for row in done]
            if gone:
                await conn.execute(delete(as4_payload_chunk).where(as4_payload_chunk.c.payload_id.in_(gone)))
            whole = select(as4_payload.c.payload_id)
            await conn.execute(delete(as4_payload_chunk).where(
                as4_payload_chunk.c.payload_id.not_in(whole),
                func.substr(as4_payload_chunk.c.payload_id, 1, 8) < orphan_day))
        return len(gone)

    # -- helpers --------------------------------------------------------------------------------------------

    def _read_chunks(self, payload_id: str, count: int) -> Iterator[bytes]:
        for seq in range(count):
            data = self._run(self._chunk(payload_id, seq))
            if data is None:
                raise PayloadStoreError(PAYLOAD_CORRUPT, f"payload {payload_id} is missing chunk {seq}")
            yield data


def _check_id(payload_id: str) -> None:
    if not is_payload_id(payload_id):
        raise PayloadStoreError(PAYLOAD_ID_INVALID, f"not a payload id: {payload_id!r}")
