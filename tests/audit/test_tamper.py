"""Tampering with the stored log is detected and the first bad record is named (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from gateway.audit.merkle import Frontier
from gateway.audit.record import build_record
from gateway.audit.treehead import TreeHead
from gateway.audit.verify import verify_log
from gateway.db.schema import audit_head, audit_record, audit_tree_head
from gateway.runtime import Node
from tests.audit.conftest import fill


async def _verify(node: Node, checkpoint: TreeHead | None = None):
    return await verify_log(node.engine, node.audit_keys, checkpoint=checkpoint)


async def _row(node: Node, seq: int):
    async with node.engine.connect() as conn:
        return dict((await conn.execute(select(audit_record).where(audit_record.c.seq == seq))).mappings().one())


async def _sql(node: Node, *statements) -> None:
    async with node.engine.begin() as conn:
        for statement in statements:
            await conn.execute(statement)


async def _disable_chain_trigger(node: Node) -> None:
    """What an attacker with administrator access to the database does first."""
    if node.engine.dialect.name == "sqlite":
        statements = [text("DROP TRIGGER audit_record_chain_guard"), text("DROP TRIGGER audit_record_chain_advance")]
    else:
        statements = [text("ALTER TABLE audit_record DISABLE TRIGGER audit_record_chain")]
    await _sql(node, *statements)


async def test_database_refuses_records_that_do_not_extend_the_chain(node: Node) -> None:
    await fill(node, 5)
    head = await _row(node, 4)
    for seq, prev in ((3, head["prev_hash"]), (6, head["hash"]), (5, "ab" * 32)):
        forged = build_record(seq, head["ts"], "test.record", "forger", None, None, "{}", prev)
        with pytest.raises(DBAPIError, match="audit chain head moved"):
            await _sql(node, audit_record.insert().values(**{k: getattr(forged, k) for k in forged.__slots__}))
    assert (await _verify(node)).ok


async def test_untouched_log_verifies(node: Node) -> None:
    await fill(node, 35)
    report = await _verify(node)
    assert report.ok, report.problem
    assert report.records_checked == 35 and report.tree_heads_checked >= 3


async def test_edited_record_is_named(node: Node) -> None:
    await fill(node, 25)
    await _sql(node, update(audit_record).where(audit_record.c.seq == 7).values(details='{"n":999}'))
    report = await _verify(node)
    assert not report.ok
    assert (report.problem.code, report.problem.seq) == ("AUDIT_RECORD_MODIFIED", 7)


async def test_edit_with_recomputed_hash_breaks_the_chain(node: Node) -> None:
    await fill(node, 25)
    row = await _row(node, 7)
    forged = build_record(7, row["ts"], row["event"], "someone-else", row["subject_hash"], row["correlation_id"],
                          row["details"], row["prev_hash"])
    await _sql(node, update(audit_record).where(audit_record.c.seq == 7).values(actor=forged.actor, hash=forged.hash))
    report = await _verify(node)
    assert (report.problem.code, report.problem.seq) == ("AUDIT_CHAIN_BROKEN", 8)


async def test_rewritten_chain_is_caught_by_signed_tree_head(node: Node) -> None:
    await fill(node, 25)
    async with node.engine.connect() as conn:
        rows = [dict(r) for r in (await conn.execute(
            select(audit_record).where(audit_record.c.seq >= 12).order_by(audit_record.c.seq))).mappings()]
    # The attacker rewrites record 12 and every hash after it, so the chain itself is consistent again.
    prev = rows[0]["prev_hash"]
    statements = []
    for row in rows:
        actor = "forger" if row["seq"] == 12 else row["actor"]
        rec = build_record(row["seq"], row["ts"], row["event"], actor, row["subject_hash"], row["correlation_id"],
                           row["details"], prev)
        statements.append(update(audit_record).where(audit_record.c.seq == rec.seq)
                          .values(actor=actor, prev_hash=rec.prev_hash, hash=rec.hash))
        prev = rec.hash
    statements.append(update(audit_head).values(last_hash=prev))
    await _sql(node, *statements)
    async with node.engine.connect() as conn:
        sizes = (await conn.execute(select(audit_tree_head.c.tree_size))).scalars().all()
    first_covering = min(size for size in sizes if size > 12)
    report = await _verify(node)
    assert report.problem.code == "AUDIT_TREE_HEAD_MISMATCH"
    assert report.problem.seq == first_covering - 1


async def test_deleted_record_is_named(node: Node) -> None:
    await fill(node, 25)
    await _sql(node, delete(audit_record).where(audit_record.c.seq == 9))
    report = await _verify(node)
    assert (report.problem.code, report.problem.seq) == ("AUDIT_RECORD_MISSING", 9)


async def test_deleted_last_record_is_detected(node: Node) -> None:
    await fill(node, 25)
    await _sql(node, delete(audit_record).where(audit_record.c.seq == 24))
    report = await _verify(node)
    assert not report.ok
    assert report.problem.code in {"AUDIT_HEAD_MISMATCH", "AUDIT_TRUNCATED"}


async def test_inserted_record_is_named(node: Node) -> None:
    await fill(node, 25)
    before = await _row(node, 4)
    await _disable_chain_trigger(node)
    # Make room at 5 (two steps, so neither database trips over its primary key mid-update)...
    await _sql(
        node,
        update(audit_record).where(audit_record.c.seq >= 5).values(seq=-audit_record.c.seq - 1),
        update(audit_record).where(audit_record.c.seq < 0).values(seq=-audit_record.c.seq),
    )
    # ...and insert a well-formed record that follows record 4 correctly.
    forged = build_record(5, before["ts"], "test.record", "forger", None, None, '{"n":-1}', before["hash"])
    await _sql(node, audit_record.insert().values(
        seq=5, ts=forged.ts, event=forged.event, actor=forged.actor, subject_hash=None, correlation_id=None,
        details=forged.details, prev_hash=forged.prev_hash, hash=forged.hash))
    report = await _verify(node)
    assert not report.ok
    assert report.problem.seq == 6
    assert report.problem.code in {"AUDIT_CHAIN_BROKEN", "AUDIT_RECORD_MODIFIED"}


async def test_reordered_records_are_named(node: Node) -> None:
    await fill(node, 25)
    await _sql(
        node,
        update(audit_record).where(audit_record.c.seq == 5).values(seq=-5),
        update(audit_record).where(audit_record.c.seq == 6).values(seq=5),
        update(audit_record).where(audit_record.c.seq == -5).values(seq=6),
    )
    report = await _verify(node)
    assert (report.problem.code, report.problem.seq) == ("AUDIT_CHAIN_BROKEN", 5)


async def test_forged_tree_head_signature_is_detected(node: Node) -> None:
    await fill(node, 25)
    async with node.engine.connect() as conn:
        target = (await conn.execute(select(audit_tree_head.c.tree_size).where(audit_tree_head.c.tree_size > 5)
                                     .order_by(audit_tree_head.c.tree_size).limit(1))).scalar_one()
    await _sql(node, update(audit_tree_head).where(audit_tree_head.c.tree_size == target)
               .values(ts="2020-01-01T00:00:00.000000Z"))
    report = await _verify(node)
    assert (report.problem.code, report.problem.seq) == ("AUDIT_TREE_HEAD_BAD_SIGNATURE", target)


async def _truncate(node: Node, keep: int) -> None:
    """What an attacker with database access does: cut the tail and make the head consistent again."""
    async with node.engine.connect() as conn:
        leaves = [bytes.fromhex(h) for h in (await conn.execute(
            select(audit_record.c.hash).where(audit_record.c.seq < keep).order_by(audit_record.c.seq))).scalars()]
        last_sth = (await conn.execute(select(audit_tree_head.c.tree_size, audit_tree_head.c.ts)
                                       .where(audit_tree_head.c.tree_size <= keep)
                                       .order_by(audit_tree_head.c.tree_size.desc()).limit(1))).one()
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    await _sql(
        node,
        delete(audit_record).where(audit_record.c.seq >= keep),
        delete(audit_tree_head).where(audit_tree_head.c.tree_size > keep),
        update(audit_head).values(size=keep, last_hash=leaves[-1].hex(), frontier=json.dumps(frontier.to_json()),
                                  last_sth_size=last_sth[0], last_sth_at=last_sth[1]),
    )


async def test_truncation_is_detected_against_exported_checkpoint(node: Node) -> None:
    await fill(node, 40)
    checkpoint = await node.audit.sign_tree_head(force=True)
    await _truncate(node, 30)
    report = await _verify(node, checkpoint)
    assert (report.problem.code, report.problem.seq) == ("AUDIT_TRUNCATED", 30)


async def test_truncate_then_append_is_detected_by_consistency_proof(node: Node) -> None:
    await fill(node, 40)
    checkpoint = await node.audit.sign_tree_head(force=True)
    assert checkpoint is not None and checkpoint.tree_size == 40
    await _truncate(node, 30)
    await fill(node, 20, start=1000)  # the node happily signs the rewritten history
    internal = await _verify(node)
    assert internal.ok, "internally consistent: only the third party's checkpoint can reveal it"
    report = await _verify(node, checkpoint)
    assert (report.problem.code, report.problem.seq) == ("AUDIT_CHECKPOINT_INCONSISTENT", 40)


async def test_checkpoint_of_honest_log_is_consistent(node: Node) -> None:
    await fill(node, 17)
    checkpoint = await node.audit.sign_tree_head(force=True)
    await fill(node, 30, start=17)
    report = await _verify(node, checkpoint)
    assert report.ok, report.problem
    assert report.checkpoint["status"] == "consistent" and report.checkpoint["proof_length"] > 0


async def test_checkpoint_with_bad_signature_is_refused(node: Node) -> None:
    await fill(node, 12)
    checkpoint = await node.audit.sign_tree_head(force=True)
    forged = TreeHead(checkpoint.tree_size, "ab" * 32, checkpoint.ts, checkpoint.key_id, checkpoint.signature)
    report = await _verify(node, forged)
    assert report.problem.code == "AUDIT_CHECKPOINT_BAD_SIGNATURE"


async def test_raw_sql_edit_of_details_text_is_detected(node: Node) -> None:
    # Whitespace-only change: the JSON means the same, the bytes do not - and bytes are what is signed.
    await fill(node, 12)
    await _sql(node, text("UPDATE audit_record SET details = '{\"n\": 3}' WHERE seq = 3"))
    report = await _verify(node)
    assert (report.problem.code, report.problem.seq) == ("AUDIT_RECORD_MODIFIED", 3)
