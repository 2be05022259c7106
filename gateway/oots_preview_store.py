"""The preview-session store over the node database (SQLite or PostgreSQL): optimistic concurrency on a
version column, so several node processes can continue one session safely."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.db.oots_schema import oots_preview_session as table
from oots.preview.machine import PreviewSession, PreviewState

_TIMES = ("created_at", "deadline", "user_arrived_at", "decided_at", "answered_at")


class PreviewConflict(RuntimeError):
    code = "PREVIEW_STORE_CONFLICT"


def _row(session: PreviewSession) -> dict[str, Any]:
    values = asdict(session)
    values["state"] = str(session.state)
    for name in _TIMES:
        value = values[name]
        values[name] = None if value is None else value.isoformat()
    return values


def _session(row: Any) -> PreviewSession:
    return _session_from(dict(row._mapping))


class SqlPreviewStore:
    def __init__(self, engine: AsyncEngine, *, max_retries: int = 20) -> None:
        self._engine = engine
        self._retries = max_retries

    async def create(self, session: PreviewSession) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(table.insert().values(**_row(session)))

    async def get(self, session_id: str) -> PreviewSession | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(table).where(table.c.id == session_id))).first()
        return None if row is None else _session(row)

    async def find_by_token(self, token_hash: str) -> PreviewSession | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(table).where(table.c.token_hash == token_hash))).first()
        return None if row is None else _session(row)

    async def update(self, session_id: str, change: Callable[[PreviewSession], PreviewSession]) -> PreviewSession:
        for _ in range(self._retries):
            current = await self.get(session_id)
            if current is None:
                raise KeyError(session_id)
            changed = change(current)
            if changed == current:
                return current
            values = _row(changed)
            values["version"] = current.version + 1
            async with self._engine.begin() as conn:
                result = await conn.execute(
                    table.update().where(table.c.id == session_id, table.c.version == current.version).values(**values))
            if result.rowcount == 1:
                return _session_from(values)
        raise PreviewConflict(f"preview session {session_id} kept changing under us")


def _session_from(values: dict[str, Any]) -> PreviewSession:
    converted = dict(values)
    converted["state"] = PreviewState(converted["state"])
    for name in _TIMES:
        if converted[name] is not None:
            converted[name] = datetime.fromisoformat(converted[name])
    return PreviewSession(**converted)
