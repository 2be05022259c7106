"""Re-check the whole audit log: record hashes, the chain, Merkle roots of signed tree heads, signatures.

Verification stops at the first problem and names it (code, sequence number, what is wrong), which is
what an operator needs to start an investigation. Given an exported tree head it also proves, with an
RFC 9162 consistency proof, that the current log extends the exported one: truncating the log and
appending new records afterwards is detected even when the attacker also rewrote the stored tree heads.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.audit.merkle import Frontier, NodeSource, consistency_proof, verify_consistency
from gateway.audit.record import GENESIS_HASH, AuditRecord
from gateway.audit.treehead import HeadVerifier, PruneBase, TreeHead
from gateway.db.schema import audit_base, audit_head, audit_record, audit_tree_head

CHUNK = 5000


@dataclass(frozen=True)
class Problem:
    code: str
    seq: int | None
    message: str


@dataclass
class VerifyReport:
    ok: bool = True
    size: int = 0
    first_seq: int = 0
    root_hash: str = ""
    records_checked: int = 0
    tree_heads_checked: int = 0
    unsigned_tail: int = 0
    problem: Problem | None = None
    checkpoint: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    def fail(self, code: str, seq: int | None, message: str) -> VerifyReport:
        self.ok = False
        self.problem = Problem(code, seq, message)
        return self

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class ChainChecker:
    """Feeds records in order and checks each against the chain, the tree and the signed heads."""

    def __init__(
        self,
        first_seq: int,
        prev_hash: str,
        frontier: Frontier,
        heads: Iterable[TreeHead],
        verifier: HeadVerifier,
        report: VerifyReport,
        keep_leaves: bool = False,
    ) -> None:
        self.expected_seq = first_seq
        self.prev_hash = prev_hash
        self.frontier = frontier
        self._heads = sorted((h for h in heads if h.tree_size >= frontier.size), key=lambda h: h.tree_size)
        self._next_head = 0
        self._verifier = verifier
        self.report = report
        self.leaves: list[bytes] | None = [] if keep_leaves else None
        self._check_heads_at_current_size()

    def feed(self, record: AuditRecord) -> bool:
        report = self.report
        if record.seq != self.expected_seq:
            if record.seq > self.expected_seq:
                return not report.fail(
                    "AUDIT_RECORD_MISSING", self.expected_seq,
                    f"record {self.expected_seq} is missing (next stored record is {record.seq}): deleted",
                ).problem
            return not report.fail("AUDIT_SEQUENCE_DISORDER", record.seq, f"record {record.seq} out of order")
        if record.prev_hash != self.prev_hash:
            return not report.fail(
                "AUDIT_CHAIN_BROKEN", record.seq,
                f"record {record.seq} does not follow record {record.seq - 1} (previous-hash mismatch): "
                "a record was inserted, reordered or replaced",
            ).problem
        if record.computed_hash() != record.hash:
            return not report.fail(
                "AUDIT_RECORD_MODIFIED", record.seq, f"record {record.seq} was modified (its hash does not match)"
            ).problem
        leaf = bytes.fromhex(record.hash)
        self.frontier.append(leaf)
        if self.leaves is not None:
            self.leaves.append(leaf)
        self.prev_hash = record.hash
        self.expected_seq += 1
        report.records_checked += 1
        return self._check_heads_at_current_size()

    def _check_heads_at_current_size(self) -> bool:
        report = self.report
        while self._next_head < len(self._heads) and self._heads[self._next_head].tree_size == self.frontier.size:
            head = self._heads[self._next_head]
            self._next_head += 1
            if not head.verify(self._verifier):
                return not report.fail(
                    "AUDIT_TREE_HEAD_BAD_SIGNATURE", head.tree_size,
                    f"signed tree head at size {head.tree_size}: signature invalid or key unknown",
                ).problem
            if head.root_hash != self.frontier.root().hex():
                return not report.fail(
                    "AUDIT_TREE_HEAD_MISMATCH", head.tree_size - 1,
                    f"records before {head.tree_size} do not match the signed tree head at size {head.tree_size}: "
                    "records were rewritten",
                ).problem
            report.tree_heads_checked += 1
        return True

    def finish(self) -> bool:
        """Signed heads beyond the last record mean records were cut off the end."""
        if self._next_head < len(self._heads):
            head = self._heads[self._next_head]
            return not self.report.fail(
                "AUDIT_TRUNCATED", self.frontier.size,
                f"a signed tree head covers {head.tree_size} records but the log ends at {self.frontier.size}",
            ).problem
        return True

    @property
    def last_signed_size(self) -> int:
        return self._heads[self._next_head - 1].tree_size if self._next_head else 0


async def load_base(conn: AsyncConnection) -> PruneBase | None:
    row = (
        await conn.execute(select(audit_base).order_by(audit_base.c.first_seq.desc()).limit(1))
    ).mappings().first()
    return PruneBase.from_row(row) if row else None


async def load_heads(conn: AsyncConnection) -> list[TreeHead]:
    rows = (await conn.execute(select(audit_tree_head).order_by(audit_tree_head.c.tree_size))).mappings()
    return [TreeHead.from_row(row) for row in rows]


async def iter_records(conn: AsyncConnection, start: int, end: int | None = None, chunk: int = CHUNK):
    """Records in sequence order from ``start`` (keyset pagination, constant memory)."""
    after = start - 1
    while True:
        query = select(audit_record).where(audit_record.c.seq > after).order_by(audit_record.c.seq).limit(chunk)
        if end is not None:
            query = query.where(audit_record.c.seq < end)
        rows = (await conn.execute(query)).mappings().all()
        if not rows:
            return
        for row in rows:
            yield AuditRecord.from_row(row)
        after = rows[-1]["seq"]


async def start_state(
    conn: AsyncConnection, verifier: HeadVerifier, report: VerifyReport
) -> tuple[int, str, Frontier] | None:
    base = await load_base(conn)
    if base is None:
        return 0, GENESIS_HASH, Frontier()
    if not base.verify(verifier):
        report.fail(
            "AUDIT_PRUNE_BASE_BAD_SIGNATURE", base.first_seq, "the retention (prune) base is not validly signed"
        )
        return None
    frontier = Frontier.from_json(json.loads(base.frontier))
    if frontier.size != base.first_seq:
        report.fail("AUDIT_PRUNE_BASE_INVALID", base.first_seq, "the prune base frontier does not match its position")
        return None
    return base.first_seq, base.prev_hash, frontier


async def verify_log(
    engine: AsyncEngine,
    verifier: HeadVerifier,
    *,
    checkpoint: TreeHead | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> VerifyReport:
    report = VerifyReport()
    async with engine.connect() as conn:
        head = (await conn.execute(select(audit_head).where(audit_head.c.id == 1))).mappings().one()
        state = await start_state(conn, verifier, report)
        if state is None:
            return report
        first_seq, prev_hash, frontier = state
        base_frontier = frontier.copy()
        report.first_seq = first_seq
        checker = ChainChecker(
            first_seq, prev_hash, frontier, await load_heads(conn), verifier, report,
            keep_leaves=checkpoint is not None,
        )
        total = max(head["size"] - first_seq, 0)
        async for record in iter_records(conn, first_seq):
            if not checker.feed(record):
                return report
            if progress is not None and report.records_checked % CHUNK == 0:
                progress(report.records_checked, total)
    if not checker.finish():
        return report
    size = checker.frontier.size
    report.size = size
    report.root_hash = checker.frontier.root().hex()
    report.unsigned_tail = size - checker.last_signed_size
    if head["size"] != size or head["last_hash"] != checker.prev_hash:
        return report.fail(
            "AUDIT_HEAD_MISMATCH", size,
            f"the chain head says {head['size']} records but {size} verify: records were deleted or added "
            "behind the log's back",
        )
    if checkpoint is not None:
        _check_checkpoint(report, checkpoint, verifier, base_frontier, checker.leaves or [])
    return report


def _check_checkpoint(
    report: VerifyReport, checkpoint: TreeHead, verifier: HeadVerifier, base: Frontier, leaves: list[bytes]
) -> None:
    summary: dict[str, Any] = {"tree_size": checkpoint.tree_size, "root_hash": checkpoint.root_hash}
    report.checkpoint = summary
    if not checkpoint.verify(verifier):
        report.fail("AUDIT_CHECKPOINT_BAD_SIGNATURE", None, "the exported tree head is not signed by a known audit key")
        return
    if checkpoint.tree_size > report.size:
        report.fail(
            "AUDIT_TRUNCATED", report.size,
            f"the exported tree head covers {checkpoint.tree_size} records but the log has only {report.size}",
        )
        return
    if checkpoint.tree_size < base.size:
        summary["status"] = "predates-prune"
        report.warnings.append(
            f"the exported head (size {checkpoint.tree_size}) predates the retention prune at {base.size}; "
            "export a new checkpoint after each prune"
        )
        return

    def get_leaves(start: int, end: int) -> list[bytes]:
        return leaves[start - base.size:end - base.size]

    source = NodeSource(report.size, get_leaves, base if base.size else None)
    proof = consistency_proof(checkpoint.tree_size, report.size, source)
    summary["proof_length"] = len(proof)
    if not verify_consistency(
        checkpoint.tree_size, report.size, bytes.fromhex(checkpoint.root_hash), bytes.fromhex(report.root_hash), proof
    ):
        report.fail(
            "AUDIT_CHECKPOINT_INCONSISTENT", checkpoint.tree_size,
            f"the log is not an extension of the exported head at size {checkpoint.tree_size}: "
            "it was truncated or rewritten",
        )
        return
    summary["status"] = "consistent"
