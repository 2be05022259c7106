"""Group commit of AS4 message state: the writes of many in-flight messages share transactions.

A commit costs an fsync plus several database round trips, so one transaction per message state change caps the
node well below what its crypto allows (../shared/notes/measured-baselines.md §4). Each kind of change goes
through a :class:`gateway.db.group_commit.GroupCommitter`: concurrent callers' changes are written together and
every caller resumes only after the transaction holding its change committed, so nothing is acknowledged to a
partner or a backend before its state is durable.

- :meth:`As4State.insert_outbound`: a submitted message (outbox row), before the API answers 202.
- :meth:`As4State.finish_outbound`: an attempt's outcome (delivered + evidence, retry, failed).
- :meth:`As4State.insert_inbound`: an accepted message (inbox row + evidence), before the receipt goes back;
  a MessageId already stored (or twice in one batch) comes back as ``False``: a duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.as4_archive import INBOUND, OUTBOUND, Evidence, archive
from gateway.db.group_commit import GroupCommitter, RetryBatch
from gateway.db.schema import as4_inbound, as4_outbound
from gateway.runtime import Node


@dataclass(frozen=True)
class _Outcome:
    message_id: str
    from_status: str
    values: dict[str, Any]
    evidence: Sequence[Evidence] = ()
    now: datetime | None = None


@dataclass(frozen=True)
class _Inbound:
    row: dict[str, Any]
    evidence: Sequence[Evidence] = field(default_factory=tuple)
    now: datetime | None = None


class As4State:
    def __init__(self, node: Node, *, max_batch: int = 256) -> None:
        self.node = node
        self.archive_days = node.settings.as4.archive_retention_days
        self._new_outbound: GroupCommitter[dict[str, Any], None] = GroupCommitter(
            node.engine, self._write_new_outbound, max_batch=max_batch, name="as4-outbox")
        self._outcomes: GroupCommitter[_Outcome, bool] = GroupCommitter(
            node.engine, self._write_outcomes, max_batch=max_batch, name="as4-outcomes")
        self._inbound: GroupCommitter[_Inbound, bool] = GroupCommitter(
            node.engine, self._write_inbound, max_batch=max_batch, name="as4-inbox")
        node.closers.append(self.close)

    async def close(self) -> None:
        for committer in (self._new_outbound, self._outcomes, self._inbound):
            await committer.close()

    async def insert_outbound(self, row: dict[str, Any]) -> None:
        await self._new_outbound.submit(row)

    async def finish_outbound(self, message_id: str, from_status: str, values: dict[str, Any], *,
                              evidence: Sequence[Evidence] = (), now: datetime | None = None) -> bool:
        """Apply ``values`` if the row is still in ``from_status``; whether it was."""
        return await self._outcomes.submit(_Outcome(message_id, from_status, values, evidence, now))

    async def insert_inbound(self, row: dict[str, Any], evidence: Sequence[Evidence], now: datetime) -> bool:
        """True when stored; False when the MessageId is already there (a duplicate)."""
        return await self._inbound.submit(_Inbound(row, tuple(evidence), now))

    # --- batch writers ---------------------------------------------------------------------------------------

    async def _write_new_outbound(self, conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> list[None]:
        await conn.execute(insert(as4_outbound), list(rows))
        return [None] * len(rows)

    async def _write_outcomes(self, conn: AsyncConnection, outcomes: Sequence[_Outcome]) -> list[bool]:
        results = []
        for outcome in outcomes:
            done = await conn.execute(update(as4_outbound)
                                      .where(as4_outbound.c.message_id == outcome.message_id,
                                             as4_outbound.c.status == outcome.from_status)
                                      .values(**outcome.values))
            applied = done.rowcount == 1
            if applied and outcome.evidence:
                assert outcome.now is not None
                await archive(conn, outcome.message_id, OUTBOUND, outcome.evidence, now=outcome.now,
                              retention_days=self.archive_days)
            results.append(applied)
        return results

    async def _write_inbound(self, conn: AsyncConnection, items: Sequence[_Inbound]) -> list[bool]:
        ids = [item.row["message_id"] for item in items]
        existing = set((await conn.execute(select(as4_inbound.c.message_id)
                                           .where(as4_inbound.c.message_id.in_(ids)))).scalars())
        results, fresh = [], []
        for item in items:
            message_id = item.row["message_id"]
            new = message_id not in existing
            existing.add(message_id)  # a second copy in the same batch is a duplicate too
            results.append(new)
            if new:
                fresh.append(item)
        if fresh:
            try:
                await conn.execute(insert(as4_inbound), [item.row for item in fresh])
            except IntegrityError:
                raise RetryBatch() from None  # another process stored one of them meanwhile: look again
            for item in fresh:
                assert item.now is not None
                await archive(conn, item.row["message_id"], INBOUND, item.evidence, now=item.now,
                              retention_days=self.archive_days)
        return results
