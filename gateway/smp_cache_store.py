"""The shared level of the SMP discovery cache: table ``smp_cache`` (migration 0005_smp), SQLite or PostgreSQL."""

from __future__ import annotations

import json

from sqlalchemy import Column, Float, MetaData, String, Table, Text, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from smp_client.cache import CacheEntry, discovery_from_json, discovery_to_json

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
)


class DbSmpCache:
    """Implements :class:`smp_client.cache.SharedCache` over the node's database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert

    async def get(self, key: str) -> CacheEntry | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(smp_cache).where(smp_cache.c.cache_key == key))).first()
        if row is None:
            return None
        ok = row.status == "ok"
        discovery = discovery_from_json(json.loads(row.payload)) if ok and row.payload else None
        return CacheEntry(row.cache_key, row.network, row.participant, ok, discovery, row.error_code,
                          row.error_text, row.fetched_at, row.expires_at)

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
