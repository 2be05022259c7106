"""The shared level of the SMP discovery cache: table ``smp_cache`` (migration 0005_smp), SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import Column, Float, Index, MetaData, String, Table, Text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from smp_client.cache import CacheEntry, discovery_from_json, discovery_to_json
from smp_client.lookup import Discovery

metadata = MetaData()
smp_cache = Table(
    "smp_cache", metadata,
    Column("cache_key", String(64), primary_key=True),
    Column("network", String(64), nullable=False),
    Column("participant", String(1100), nullable=False),
    Column("status", String(16), nullable=False),
    Column("payload", Text),
    Column("error_code", String(64)),
    Column("error_text", Text),
    Column("fetched_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("ix_smp_cache_network", "network", "participant"),
)


_COLUMNS = "cache_key, network, participant, status, payload, error_code, error_text, fetched_at, expires_at"


class DbSmpCache:
    """Implements :class:`smp_client.cache.SharedCache` over the node's database.

    Reads are the hot path (every process asks here when its memory level misses): they go through one held
    connection, in autocommit, with the driver's own query call. A pooled SQLAlchemy round trip (checkout,
    BEGIN, execute, ROLLBACK, checkin) is several times slower on aiosqlite, where each step is a thread hop.
    The parsed answer is reused while the row is unchanged (same ``fetched_at``), so certificates are not
    re-parsed on every read. Writes use SQLAlchemy's upsert on a pooled connection.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._postgres = engine.dialect.name == "postgresql"
        self._insert = pg_insert if self._postgres else sqlite_insert
        self._conn: AsyncConnection | None = None
        self._driver: Any = None
        self._lock = asyncio.Lock()
        self._parsed: dict[str, tuple[float, Discovery]] = {}

    async def _fetch(self, key: str) -> Any:
        if self._driver is None:
            self._conn = await self.engine.connect()
            raw = await self._conn.get_raw_connection()
            self._driver = raw.driver_connection
        if self._postgres:
            return await self._driver.fetchrow(f"SELECT {_COLUMNS} FROM smp_cache WHERE cache_key = $1", key)
        async with self._driver.execute(f"SELECT {_COLUMNS} FROM smp_cache WHERE cache_key = ?", (key,)) as cursor:
            return await cursor.fetchone()

    async def get(self, key: str) -> CacheEntry | None:
        async with self._lock:
            try:
                row = await self._fetch(key)
            except Exception:
                await self.close()  # a broken connection is replaced on the next read
                raise
        if row is None:
            return None
        cache_key_, network, participant, status, payload, error_code, error_text, fetched_at, expires_at = row
        ok = status == "ok"
        discovery = None
        if ok and payload:
            known = self._parsed.get(key)
            if known is not None and known[0] == fetched_at:
                discovery = known[1]
            else:
                discovery = discovery_from_json(json.loads(payload))
                self._parsed[key] = (fetched_at, discovery)
                if len(self._parsed) > 10_000:
                    self._parsed.pop(next(iter(self._parsed)))
        return CacheEntry(cache_key_, network, participant, ok, discovery, error_code, error_text, fetched_at,
                          expires_at)

    async def close(self) -> None:
        conn, self._conn, self._driver = self._conn, None, None
        if conn is not None:
            await conn.close()

    async def put(self, entry: CacheEntry) -> None:
        values = {
            "cache_key": entry.key, "network": entry.network, "participant": entry.participant,
            "status": "ok" if entry.ok else "negative",
            "payload": json.dumps(discovery_to_json(entry.discovery)) if entry.discovery else None,
            "error_code": entry.error_code, "error_text": entry.error_text,
            "fetched_at": entry.fetched_at, "expires_at": entry.expires_at,
        }
        statement = self._insert(smp_cache).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[smp_cache.c.cache_key], set_={k: v for k, v in values.items() if k != "cache_key"})
        async with self.engine.begin() as conn:
            await conn.execute(statement)

    async def clear(self, network: str | None = None) -> int:
        async with self.engine.begin() as conn:
            statement = smp_cache.delete()
            if network is not None:
                statement = statement.where(smp_cache.c.network == network)
            return (await conn.execute(statement)).rowcount or 0
