"""The signed, tamper-evident audit log: appends with group commit, periodic signed tree heads.

Appenders from every process take the chain head row under a lock (``FOR UPDATE`` on PostgreSQL,
``BEGIN IMMEDIATE`` on SQLite), so several ``gateway-node serve`` processes sharing one database extend one
chain. ``append`` returns only after the transaction holding the record has committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway import correlation
from gateway.audit.head import ChainHead, is_chain_guard_error, read_chain_head
from gateway.audit.keys import AuditKeys
from gateway.audit.record import (
    AuditInputError,
    build_record,
    encode_details,
    format_ts,
    parse_ts,
    subject_hash,
)
from gateway.audit.treehead import TreeHead
from gateway.db.group_commit import GroupCommitter, RetryBatch
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


@dataclass
class _BatchPlan:
    rows: list[dict[str, Any]] = field(default_factory=list)
    heads: list[dict[str, Any]] = field(default_factory=list)
    signed: list[TreeHead] = field(default_factory=list)
    results: list[int | TreeHead | None] = field(default_factory=list)
    latest_head_wanted: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _SignHead:
    force: bool  # sign even when no record arrived since the last head


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
            engine, self._write_batch, max_batch=max_batch, name="audit-append", on_batch=on_batch,
            after_commit=self._after_commit,
        )
        self._head: ChainHead | None = None
        self._uncommitted_head: ChainHead | None = None
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
        details_json = encode_details(details or {})
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
            except Exception as exc:
                log.warning("periodic tree head failed: %s", exc)

    async def _write_batch(
        self, conn: AsyncConnection, items: Sequence[_Append | _SignHead]
    ) -> list[int | TreeHead | None]:
        # The head this process committed last is cached: the database's chain trigger checks it as the
        # records go in, so the common case costs no extra round trip (round trips, not hashing, are what an
        # append costs; see bench/audit_append.py). Batches without records always read the head afresh.
        cached, self._head = self._head, None
        has_records = any(isinstance(item, _Append) for item in items)
        state = cached.copy() if cached and has_records else await read_chain_head(conn)
        plan = self._plan(state, items)
        try:
            if plan.rows:
                await conn.execute(insert(audit_record), plan.rows)
            if plan.heads:
                await conn.execute(insert(audit_tree_head), plan.heads)
        except DBAPIError as exc:
            if cached is not None and (is_chain_guard_error(exc) or isinstance(exc, IntegrityError)):
                # Another process appended (or signed) since our last batch: redo under the lock.
                raise RetryBatch(str(exc)) from exc
            raise
        if plan.heads:
            await conn.execute(update(audit_head).where(audit_head.c.id == 1).values(**state.checkpoint_values()))
        for index in plan.latest_head_wanted:
            plan.results[index] = await self._latest_head(conn)
        self._uncommitted_head = state
        return plan.results

    def _after_commit(self) -> None:
        self._head, self._uncommitted_head = self._uncommitted_head, None

    def _plan(self, state: ChainHead, items: Sequence[_Append | _SignHead]) -> _BatchPlan:
        """Pure part of a batch: records, hashes and tree heads, advancing ``state`` in place."""
        now = self._clock()
        ts = format_ts(now)
        plan = _BatchPlan()

        def sign_now() -> TreeHead:
            sth = TreeHead.sign(self._keys, state.frontier.size, state.frontier.root().hex(), ts)
            plan.heads.append({"tree_size": sth.tree_size, "root_hash": sth.root_hash, "ts": sth.ts,
                               "key_id": sth.key_id, "signature": sth.signature})
            state.last_sth_size, state.last_sth_at = sth.tree_size, ts
            plan.signed.append(sth)
            return sth

        for item in items:
            if isinstance(item, _SignHead):
                if state.frontier.size > state.last_sth_size:
                    plan.results.append(sign_now())
                elif item.force and plan.signed:
                    plan.results.append(plan.signed[-1])
                else:  # nothing new: the latest stored head already covers every record
                    plan.results.append(None)
                    if item.force:
                        plan.latest_head_wanted.append(len(plan.results) - 1)
                continue
            record = build_record(
                state.size, ts, item.event, item.actor, item.subject_hash, item.correlation_id,
                item.details_json, state.last_hash,
            )
            plan.rows.append({"seq": record.seq, "ts": record.ts, "event": record.event, "actor": record.actor,
                              "subject_hash": record.subject_hash, "correlation_id": record.correlation_id,
                              "details": record.details, "prev_hash": record.prev_hash, "hash": record.hash})
            state.frontier.append(bytes.fromhex(record.hash))
            state.last_hash = record.hash
            state.size += 1
            plan.results.append(record.seq)
            if state.size - state.last_sth_size >= self._sth_every_records:
                sign_now()
        if plan.rows and state.size > state.last_sth_size and self._head_is_old(state.last_sth_at, now):
            sign_now()
        return plan

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
