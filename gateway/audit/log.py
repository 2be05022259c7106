"""The signed, tamper-evident audit log: appends with group commit, periodic signed tree heads.

Appenders from every process take the chain head row under a lock (``FOR UPDATE`` on PostgreSQL,
``BEGIN IMMEDIATE`` on SQLite), so several ``gateway-node serve`` processes sharing one database extend one
chain. ``append`` returns only after the transaction holding the record has committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway import correlation
from gateway.audit.keys import AuditKeys
from gateway.audit.merkle import Frontier
from gateway.audit.record import (
    AuditInputError,
    build_record,
    canonical_json,
    check_details,
    format_ts,
    parse_ts,
    subject_hash,
)
from gateway.audit.treehead import TreeHead
from gateway.db.group_commit import GroupCommitter
from gateway.db.schema import audit_head, audit_record, audit_tree_head

log = logging.getLogger(__name__)

_EVENT = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


@dataclass(frozen=True, slots=True)
class _Append:
    event: str
    actor: str
    subject_hash: str | None
    correlation_id: str | None
    details_json: str


@dataclass(frozen=True, slots=True)
class _SignHead:
    force: bool  # sign even when no record arrived since the last head


async def lock_head(conn: AsyncConnection) -> Mapping[str, Any]:
    """Read the chain head inside the caller's transaction, holding the append lock."""
    query = select(audit_head).where(audit_head.c.id == 1)
    if conn.dialect.name != "sqlite":  # SQLite: BEGIN IMMEDIATE already holds the database write lock
        query = query.with_for_update()
    return (await conn.execute(query)).mappings().one()


class AuditLog:
    def __init__(
        self,
        engine: AsyncEngine,
        keys: AuditKeys,
        *,
        sth_every_records: int = 1000,
        sth_every_seconds: float = 60.0,
        max_batch: int = 1000,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_batch: Callable[[int, float], None] | None = None,
    ) -> None:
        self._engine = engine
        self._keys = keys
        self._sth_every_records = sth_every_records
        self._sth_every_seconds = sth_every_seconds
        self._clock = clock
        self._committer: GroupCommitter[_Append | _SignHead, int | TreeHead | None] = GroupCommitter(
            engine, self._write_batch, max_batch=max_batch, name="audit-append", on_batch=on_batch
        )
        self._ticker: asyncio.Task[None] | None = None

    @property
    def keys(self) -> AuditKeys:
        return self._keys

    async def start(self) -> None:
        await self._committer.start()
        if self._ticker is None:
            self._ticker = asyncio.create_task(self._tick(), name="audit-sth-ticker")

    async def close(self) -> None:
        """Commit what is queued; after this, append raises."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await self._committer.close()

    def hash_subject(self, subject: str) -> str:
        return subject_hash(self._keys.subject_secret, subject)

    async def append(
        self,
        event: str,
        actor: str,
        subject: str | None = None,
        details: Mapping[str, Any] | None = None,
        *,
        correlation_id: str | None = None,
    ) -> int:
        """Store one record durably and return its sequence number.

        ``subject`` is a person identifier; only its keyed hash is stored. ``details`` holds facts
        (ids, codes, decisions), never evidence content. The correlation id defaults to the current one.
        """
        if not _EVENT.match(event) or len(event) > 128:
            raise AuditInputError(f"event {event!r}: expected <area>.<event>, lowercase, e.g. as4.message.received")
        if not actor or len(actor) > 256:
            raise AuditInputError("actor: expected 1-256 characters")
        details_json = canonical_json(check_details(details or {})).decode()
        item = _Append(
            event,
            actor,
            self.hash_subject(subject) if subject else None,
            correlation_id or correlation.current(),
            details_json,
        )
        result = await self._committer.submit(item)
        assert isinstance(result, int)
        return result

    async def sign_tree_head(self, *, force: bool = True) -> TreeHead | None:
        """Sign a head over everything committed so far (``audit checkpoint export`` uses this)."""
        result = await self._committer.submit(_SignHead(force))
        assert result is None or isinstance(result, TreeHead)
        return result

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self._sth_every_seconds)
            try:
                await self.sign_tree_head(force=False)
            except Exception as exc:  # noqa: BLE001 - the next tick tries again
                log.warning("periodic tree head failed: %s", exc)

    async def _write_batch(
        self, conn: AsyncConnection, items: Sequence[_Append | _SignHead]
    ) -> list[int | TreeHead | None]:
        head = await lock_head(conn)
        frontier = Frontier.from_json(json.loads(head["frontier"]))
        prev_hash: str = head["last_hash"]
        seq: int = head["size"]
        last_sth_size: int = head["last_sth_size"]
        last_sth_at: str = head["last_sth_at"]
        now = self._clock()
        ts = format_ts(now)
        rows: list[dict[str, Any]] = []
        heads: list[dict[str, Any]] = []
        results: list[int | TreeHead | None] = []
        signed_in_batch: list[TreeHead] = []

        def sign_now() -> TreeHead:
            nonlocal last_sth_size, last_sth_at
            sth = TreeHead.sign(self._keys, frontier.size, frontier.root().hex(), ts)
            heads.append({"tree_size": sth.tree_size, "root_hash": sth.root_hash, "ts": sth.ts,
                          "key_id": sth.key_id, "signature": sth.signature})
            last_sth_size, last_sth_at = frontier.size, ts
            signed_in_batch.append(sth)
            return sth

        for item in items:
            if isinstance(item, _SignHead):
                if frontier.size > last_sth_size:
                    results.append(sign_now())
                elif item.force:  # nothing new: the latest head already covers every record
                    results.append(signed_in_batch[-1] if signed_in_batch else await self._latest_head(conn))
                else:
                    results.append(None)
                continue
            record = build_record(
                seq, ts, item.event, item.actor, item.subject_hash, item.correlation_id,
                item.details_json, prev_hash,
            )
            rows.append({"seq": record.seq, "ts": record.ts, "event": record.event, "actor": record.actor,
                         "subject_hash": record.subject_hash, "correlation_id": record.correlation_id,
                         "details": record.details, "prev_hash": record.prev_hash, "hash": record.hash})
            frontier.append(bytes.fromhex(record.hash))
            prev_hash = record.hash
            results.append(seq)
            seq += 1
            if frontier.size - last_sth_size >= self._sth_every_records:
                sign_now()

        if rows and frontier.size > last_sth_size and self._head_is_old(last_sth_at, now):
            sign_now()
        if rows:
            await conn.execute(insert(audit_record), rows)
        if heads:
            await conn.execute(insert(audit_tree_head), heads)
        if rows or heads:
            await conn.execute(
                update(audit_head)
                .where(audit_head.c.id == 1)
                .values(size=frontier.size, last_hash=prev_hash, frontier=json.dumps(frontier.to_json()),
                        last_sth_size=last_sth_size, last_sth_at=last_sth_at)
            )
        return results

    def _head_is_old(self, last_sth_at: str, now: datetime) -> bool:
        if not last_sth_at:
            return True
        return (now - parse_ts(last_sth_at)).total_seconds() >= self._sth_every_seconds

    @staticmethod
    async def _latest_head(conn: AsyncConnection) -> TreeHead | None:
        row = (
            await conn.execute(select(audit_tree_head).order_by(audit_tree_head.c.tree_size.desc()).limit(1))
        ).mappings().first()
        return TreeHead.from_row(row) if row else None
