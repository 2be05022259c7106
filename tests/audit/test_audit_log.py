"""Appending: ordering, durability contract, tree heads, subject hashing, refused input."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import func, select, text

from gateway import correlation
from gateway.audit.merkle import root_from_leaves
from gateway.audit.record import AuditInputError
from gateway.audit.verify import verify_log
from gateway.db.schema import audit_record, audit_tree_head
from gateway.runtime import Node
from tests.audit.conftest import fill


async def test_concurrent_appends_get_contiguous_sequence_and_verify(node: Node) -> None:
    seqs = await asyncio.gather(*(node.audit.append("test.burst", f"a{i % 16}", details={"i": i})
                                  for i in range(500)))
    assert sorted(seqs) == list(range(500))
    async with node.engine.connect() as conn:
        count = (await conn.execute(select(func.count()).select_from(audit_record))).scalar()
        leaves = [bytes.fromhex(h) for h in (await conn.execute(
            select(audit_record.c.hash).order_by(audit_record.c.seq))).scalars()]
        heads = (await conn.execute(select(audit_tree_head).order_by(audit_tree_head.c.tree_size))).mappings().all()
    assert count == 500
    # Every signed head's root is the RFC 9162 root of the first tree_size leaves.
    assert heads, "tree heads are signed every 10 records"
    for head in heads:
        assert head["root_hash"] == root_from_leaves(leaves[: head["tree_size"]]).hex()
    report = await verify_log(node.engine, node.audit_keys)
    assert report.ok, report.problem
    assert report.records_checked == 500
    # Group commit really batched: fewer commits than records.
    batches = node.metrics.audit_batch_size.collect()[0].samples
    commits = next(s.value for s in batches if s.name.endswith("_count"))
    assert commits < 500


async def test_append_returns_only_committed_records(node: Node, settings) -> None:
    seq = await node.audit.append("test.durable", "tester", details={"k": "v"})
    # A separate engine (another connection, as another process would) sees it at once.
    from gateway.db.engine import create_engine

    other = create_engine(settings)
    try:
        async with other.connect() as conn:
            row = (await conn.execute(select(audit_record).where(audit_record.c.seq == seq))).mappings().one()
    finally:
        await other.dispose()
    assert row["event"] == "test.durable"
    assert json.loads(row["details"]) == {"k": "v"}


async def test_subject_is_stored_only_as_keyed_hash(node: Node) -> None:
    await node.audit.append("oots.evidence.requested", "portal-1", subject="LV/LV/12345678901", details={})
    async with node.engine.connect() as conn:
        dump = " ".join(str(v) for row in (await conn.execute(text("SELECT * FROM audit_record"))).all() for v in row)
        stored = (await conn.execute(select(audit_record.c.subject_hash))).scalar_one()
    assert "12345678901" not in dump
    assert stored == node.audit.hash_subject("LV/LV/12345678901")
    assert stored != node.audit.hash_subject("LV/LV/12345678902")


async def test_correlation_id_is_taken_from_context(node: Node) -> None:
    with correlation.bound("corr-abc-1"):
        seq = await node.audit.append("test.corr", "tester")
    explicit = await node.audit.append("test.corr", "tester", correlation_id="corr-explicit")
    async with node.engine.connect() as conn:
        rows = dict((await conn.execute(select(audit_record.c.seq, audit_record.c.correlation_id))).all())
    assert rows[seq] == "corr-abc-1"
    assert rows[explicit] == "corr-explicit"


@pytest.mark.parametrize(
    ("event", "actor", "details", "message"),
    [
        ("NoDots", "a", {}, "expected <area>.<event>"),
        ("as4.Message", "a", {}, "expected <area>.<event>"),
        ("as4.sent", "", {}, "actor"),
        ("as4.sent", "a", {"amount": 1.5}, "floats"),
        ("as4.sent", "a", {"big": 2**60}, "safe range"),
        ("as4.sent", "a", {"blob": b"raw"}, "not JSON"),
        ("as4.sent", "a", {"text": "x" * 20000}, "larger than"),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_stored(node: Node, event, actor, details, message) -> None:
    with pytest.raises(AuditInputError, match=message):
        await node.audit.append(event, actor, details=details)
    async with node.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(audit_record))).scalar() == 0


async def test_checkpoint_signs_current_size(node: Node) -> None:
    await fill(node, 13)
    head = await node.audit.sign_tree_head(force=True)
    assert head is not None and head.tree_size == 13
    assert head.verify(node.audit_keys)
    again = await node.audit.sign_tree_head(force=True)
    assert again == head  # nothing new: the same head is returned, not a new one


async def test_close_commits_queued_appends(settings) -> None:
    node = await Node.open(settings)
    pending = [asyncio.create_task(node.audit.append("test.shutdown", "t", details={"i": i})) for i in range(50)]
    await asyncio.sleep(0)
    await node.close()
    seqs = await asyncio.gather(*pending)
    assert sorted(seqs) == list(range(50))
    reopened = await Node.open(settings)
    try:
        report = await verify_log(reopened.engine, reopened.audit_keys)
        assert report.ok and report.size == 50
    finally:
        await reopened.close()


async def test_two_writers_on_one_database_retry_and_keep_one_chain(node: Node, settings) -> None:
    other = await Node.open(settings)  # a second appender with its own cached head, as another process has
    try:
        for round_no in range(5):
            mine = asyncio.gather(*(node.audit.append("test.a", "a", details={"r": round_no}) for _ in range(7)))
            theirs = asyncio.gather(*(other.audit.append("test.b", "b", details={"r": round_no}) for _ in range(5)))
            await asyncio.gather(mine, theirs)
        await other.audit.sign_tree_head(force=True)
        await node.audit.sign_tree_head(force=True)
    finally:
        await other.close()
    report = await verify_log(node.engine, node.audit_keys)
    assert report.ok, report.problem
    assert report.size == 60
