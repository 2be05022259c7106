"""The preview space's web sessions on the node database: any node process serves any user.

The cookie carries a random 256-bit id; the table stores only its SHA-256, so a copy of the database does not
yield live sessions. Sessions expire (``expires_at``; a read past it returns nothing) and are purged by any
process with a plain DELETE. The body is JSON (who logged in, which preview session they arrived at); never
evidence — evidence is read from the provider's store on each page.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.db.preview_schema import preview_web_session

__all__ = ["DbWebSessions", "preview_web_session"]


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def _ts(moment: datetime) -> str:
    # Fixed-width UTC text compares correctly as a string on every database.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class DbWebSessions:
    def __init__(self, engine: AsyncEngine, *, ttl: timedelta = timedelta(minutes=30)) -> None:
        self.engine = engine
        self.ttl = ttl

    async def create(self, body: dict[str, Any], now: datetime) -> str:
        """A new session; returns the cookie value (shown to the browser only, never stored)."""
        session_id = secrets.token_urlsafe(32)
        async with self.engine.begin() as conn:
            await conn.execute(insert(preview_web_session).values(
                id_hash=_hash(session_id), expires_at=_ts(now + self.ttl), body=json.dumps(body, sort_keys=True)))
        return session_id

    async def get(self, session_id: str, now: datetime) -> dict[str, Any] | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(preview_web_session.c.body, preview_web_session.c.expires_at)
                                      .where(preview_web_session.c.id_hash == _hash(session_id)))).first()
        if row is None or row.expires_at <= _ts(now):
            return None
        return json.loads(row.body)

    async def save(self, session_id: str, body: dict[str, Any], now: datetime) -> bool:
        """Replace the body and extend the expiry (sliding); False if the session is gone or expired."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(preview_web_session)
                .where(preview_web_session.c.id_hash == _hash(session_id),
                       preview_web_session.c.expires_at > _ts(now))
                .values(body=json.dumps(body, sort_keys=True), expires_at=_ts(now + self.ttl)))
        return bool(result.rowcount)

    async def end(self, session_id: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(preview_web_session).where(preview_web_session.c.id_hash == _hash(session_id)))

    async def purge(self, now: datetime) -> int:
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(preview_web_session)
                                        .where(preview_web_session.c.expires_at <= _ts(now)))
        return result.rowcount or 0
