"""The non-repudiation archive: every signed envelope we send or accept and every receipt, kept for
``as4.archive_retention_days`` (12 months by default), found by ebMS MessageId (the same id the audit log's
``as4.message.*`` records carry in their details).

Rows are written in the same transaction as the message state they prove, so a message the node acknowledged
always has its evidence; payloads are not archived (their digests are inside the signed envelope).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.db.schema import as4_archive

INBOUND, OUTBOUND = "inbound", "outbound"
MESSAGE, RECEIPT, ERROR = "message", "receipt", "error"


@dataclass(frozen=True)
class Evidence:
    kind: str  # message | receipt | error
    content_type: str
    body: bytes


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


async def archive(conn: AsyncConnection, message_id: str, direction: str, items: Iterable[Evidence], *,
                  now: datetime, retention_days: int) -> None:
    """Add evidence inside the caller's transaction."""
    rows = [{"message_id": message_id, "direction": direction, "kind": item.kind,
             "content_type": item.content_type, "body": item.body, "archived_at": _ts(now),
             "expires_at": _ts(now + timedelta(days=retention_days))} for item in items if item.body]
    if rows:
        await conn.execute(insert(as4_archive), rows)


async def evidence_for(engine: AsyncEngine, message_id: str) -> list[dict[str, Any]]:
    """Everything archived for a MessageId, oldest first."""
    async with engine.connect() as conn:
        rows = (await conn.execute(select(as4_archive).where(as4_archive.c.message_id == message_id)
                                   .order_by(as4_archive.c.id))).mappings().all()
    return [{"direction": r["direction"], "kind": r["kind"], "content_type": r["content_type"],
             "body": bytes(r["body"]), "archived_at": r["archived_at"], "expires_at": r["expires_at"]} for r in rows]


async def purge_archive(engine: AsyncEngine, now: datetime) -> int:
    async with engine.begin() as conn:
        done = await conn.execute(delete(as4_archive).where(as4_archive.c.expires_at < _ts(now)))
    return done.rowcount or 0
