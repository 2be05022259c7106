"""The connector's shared state on the node database: pending AuthnRequests and the assertion replay cache.

Both are written by one process and read by any other (a response may reach another process than the one
that sent the request). ``take`` and ``add_once`` are single statements, so exactly one process wins.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, MetaData, String, Table, Text, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from eidas_node.stores import PendingRequest

metadata = MetaData()

eidas_pending = Table(
    "eidas_pending_request",
    metadata,
    Column("request_id", String(128), primary_key=True),
    Column("expires_at", String(32), nullable=False),
    Column("body", Text, nullable=False),
)

eidas_replay = Table(
    "eidas_replay",
    metadata,
    Column("key", String(512), primary_key=True),
    Column("expires_at", String(32), nullable=False),
    Index("ix_eidas_replay_expires_at", "expires_at"),
)


eidas_session = Table(
    "eidas_session",
    metadata,
    Column("session_id", String(128), primary_key=True),
    Column("expires_at", String(32), nullable=False),
    Column("body", Text, nullable=False),
)


def _ts(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


class DbPendingRequests:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def put(self, request: PendingRequest) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(insert(eidas_pending).values(
                request_id=request.request_id, expires_at=_ts(request.expires_at), body=request.to_json()))

    async def get(self, request_id: str) -> PendingRequest | None:
        async with self.engine.connect() as conn:
            body = (await conn.execute(
                select(eidas_pending.c.body).where(eidas_pending.c.request_id == request_id))).scalar()
        return PendingRequest.from_json(body) if body else None

    async def take(self, request_id: str) -> PendingRequest | None:
        # DELETE ... RETURNING: SQLite ≥ 3.35 and PostgreSQL; the row goes to exactly one caller.
        async with self.engine.begin() as conn:
            body = (await conn.execute(delete(eidas_pending).where(eidas_pending.c.request_id == request_id)
                                       .returning(eidas_pending.c.body))).scalar()
        return PendingRequest.from_json(body) if body else None

    async def purge(self, now: datetime) -> int:
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(eidas_pending).where(eidas_pending.c.expires_at <= _ts(now)))
        return result.rowcount or 0


class DbReplayCache:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add_once(self, key: str, expires_at: datetime, now: datetime) -> bool:
        """One transaction per response: an expired row of this same key is cleared first (so an entry past its
        window never blocks), the table-wide purge is the periodic ``purge_expired`` of every node process."""
        try:
            async with self.engine.begin() as conn:
                await conn.execute(delete(eidas_replay).where(eidas_replay.c.key == key,
                                                              eidas_replay.c.expires_at <= _ts(now)))
                await conn.execute(insert(eidas_replay).values(key=key, expires_at=_ts(expires_at)))
        except IntegrityError:  # the primary key says someone (any process) recorded it first
            return False
        return True


class DbSessions:
    """The national side's login sessions (which portal asked, its request ID and RelayState), by random id."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def put(self, session_id: str, body: dict[str, Any], expires_at: datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(insert(eidas_session).values(session_id=session_id, expires_at=_ts(expires_at),
                                                            body=json.dumps(body, sort_keys=True)))

    async def get(self, session_id: str, now: datetime) -> dict[str, Any] | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(eidas_session.c.body, eidas_session.c.expires_at)
                                      .where(eidas_session.c.session_id == session_id))).first()
        if row is None or row.expires_at <= _ts(now):
            return None
        return json.loads(row.body)

    async def take(self, session_id: str) -> dict[str, Any] | None:
        async with self.engine.begin() as conn:
            body = (await conn.execute(delete(eidas_session).where(eidas_session.c.session_id == session_id)
                                       .returning(eidas_session.c.body))).scalar()
        return json.loads(body) if body else None

    async def purge(self, now: datetime) -> int:
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(eidas_session).where(eidas_session.c.expires_at <= _ts(now)))
        return result.rowcount or 0


async def purge_expired(engine: AsyncEngine, now: datetime) -> int:
    """Drop expired pending requests, sessions and replay entries (any process may run it: plain DELETEs)."""
    removed = await DbPendingRequests(engine).purge(now) + await DbSessions(engine).purge(now)
    async with engine.begin() as conn:
        result = await conn.execute(delete(eidas_replay).where(eidas_replay.c.expires_at <= _ts(now)))
    return removed + (result.rowcount or 0)
