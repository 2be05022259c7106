"""Retention: remove records older than a date while keeping the log verifiable.

What verification needs to carry on without the removed records is the Merkle frontier at the cut and the
hash of the last removed record; both are signed into an ``audit_base`` row. The records being removed are
verified first: a log that does not verify is never pruned (that would destroy the evidence). A signed
``audit.pruned`` record then says what was removed, when and by whom.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.head import lock_head
from gateway.audit.log import AuditLog
from gateway.audit.merkle import Frontier
from gateway.audit.record import format_ts
from gateway.audit.treehead import PruneBase
from gateway.audit.verify import ChainChecker, VerifyReport, iter_records, load_heads, start_state
from gateway.db.engine import writer_connection
from gateway.db.schema import audit_base, audit_head, audit_record, audit_tree_head


class PruneRefused(Exception):
    """The log does not verify up to the cut, so nothing was removed."""


@dataclass(frozen=True)
class PruneResult:
    removed: int
    first_seq: int
    pruned_before: str
    audit_seq: int | None


async def prune(engine: AsyncEngine, audit: AuditLog, before: datetime, *, actor: str = "operator") -> PruneResult:
    cutoff = format_ts(before)
    keys = audit.keys
    conn = await writer_connection(engine)
    try:
        async with conn.begin():
            head = await lock_head(conn)
            report = VerifyReport()
            state = await start_state(conn, keys, report)
            if state is None:
                raise PruneRefused(report.problem.message if report.problem else "invalid prune base")
            start_seq, prev_hash, frontier = state
            first_kept = (
                await conn.execute(select(func.min(audit_record.c.seq)).where(audit_record.c.ts >= cutoff))
            ).scalar()
            cut = head["size"] if first_kept is None else int(first_kept)
            if cut <= start_seq:
                return PruneResult(0, start_seq, cutoff, None)
            checker = ChainChecker(start_seq, prev_hash, frontier, await load_heads(conn), keys, report)
            async for record in iter_records(conn, start_seq, cut):
                if not checker.feed(record):
                    raise PruneRefused(f"{report.problem.code}: {report.problem.message}")  # type: ignore[union-attr]
            if checker.frontier.size != cut:
                raise PruneRefused(f"records before {cut} are incomplete; run `audit verify`")
            base = PruneBase.sign(
                keys, cut, checker.prev_hash, json.dumps(checker.frontier.to_json()), cutoff,
                format_ts(datetime.now(UTC)),
            )
            await conn.execute(insert(audit_base).values(**{k: getattr(base, k) for k in PruneBase.__slots__}))
            stored = Frontier.from_json(json.loads(head["frontier"]))
            if stored.size < cut:  # appenders extend the stored frontier from the records: keep it past the cut
                await conn.execute(update(audit_head).where(audit_head.c.id == 1)
                                   .values(frontier=json.dumps(checker.frontier.to_json())))
            await conn.execute(delete(audit_record).where(audit_record.c.seq < cut))
            await conn.execute(delete(audit_tree_head).where(audit_tree_head.c.tree_size < cut))
            removed = cut - start_seq
    finally:
        await conn.close()
    seq = await audit.append(
        "audit.pruned", actor, details={"removed": removed, "first_seq": cut, "before": cutoff}
    )
    return PruneResult(removed, cut, cutoff, seq)
