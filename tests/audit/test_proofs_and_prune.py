"""Inclusion proofs checked offline; retention keeps the rest verifiable."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from gateway.audit.keys import PublicKeyRing, load_public_keys
from gateway.audit.proofs import ProofError, prove_inclusion, verify_inclusion_document
from gateway.audit.prune import PruneRefused, prune
from gateway.audit.verify import verify_log
from gateway.db.schema import audit_base, audit_record
from gateway.runtime import Node
from tests.audit.conftest import fill


async def test_inclusion_proof_verifies_offline_with_public_key_only(node: Node, settings) -> None:
    await fill(node, 33)
    await node.audit.sign_tree_head(force=True)
    ring = PublicKeyRing(load_public_keys(settings.keys_dir))  # no private key involved
    for seq in (0, 1, 16, 31, 32):
        document = await prove_inclusion(node.engine, seq)
        ok, reason = verify_inclusion_document(document, ring)
        assert ok, reason


async def test_tampered_proof_documents_fail(node: Node) -> None:
    await fill(node, 21)
    await node.audit.sign_tree_head(force=True)
    good = await prove_inclusion(node.engine, 6)
    ring = node.audit_keys

    edited = copy.deepcopy(good)
    edited["record"]["actor"] = "someone-else"
    assert verify_inclusion_document(edited, ring) == (False, "the record's content does not match its hash")

    wrong_path = copy.deepcopy(good)
    wrong_path["audit_path"][0] = "00" * 32
    assert verify_inclusion_document(wrong_path, ring)[0] is False

    wrong_root = copy.deepcopy(good)
    wrong_root["tree_head"]["root_hash"] = "11" * 32
    ok, reason = verify_inclusion_document(wrong_root, ring)
    assert not ok and "signature" in reason

    assert verify_inclusion_document({"type": "nonsense"}, ring)[0] is False


async def test_proof_against_tampered_log_fails(node: Node) -> None:
    await fill(node, 21)
    head = await node.audit.sign_tree_head(force=True)
    async with node.engine.begin() as conn:
        await conn.execute(update(audit_record).where(audit_record.c.seq == 3).values(hash="ab" * 32))
    document = await prove_inclusion(node.engine, 9, head)
    ok, reason = verify_inclusion_document(document, node.audit_keys)
    assert not ok and "not included" in reason


async def test_unknown_record_has_no_proof(node: Node) -> None:
    await fill(node, 3)
    await node.audit.sign_tree_head(force=True)
    with pytest.raises(ProofError):
        await prove_inclusion(node.engine, 99)


class _Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


async def test_prune_keeps_log_verifiable_and_proofs_working(node: Node) -> None:
    clock = _Clock(datetime(2025, 1, 1, tzinfo=UTC))
    node.audit._clock = clock  # records get old timestamps, as they would after a year of running
    await fill(node, 23)
    clock.now = datetime(2026, 6, 1, tzinfo=UTC)
    await fill(node, 9, start=23)
    checkpoint_before = await node.audit.sign_tree_head(force=True)

    result = await prune(node.engine, node.audit, datetime(2026, 1, 1, tzinfo=UTC))
    assert (result.removed, result.first_seq) == (23, 23)

    report = await verify_log(node.engine, node.audit_keys)
    assert report.ok, report.problem
    assert report.first_seq == 23 and report.size == 33  # 9 kept + the signed prune record
    async with node.engine.connect() as conn:
        assert (await conn.execute(select(func.min(audit_record.c.seq)))).scalar() == 23
        last = (await conn.execute(select(audit_record).order_by(audit_record.c.seq.desc()).limit(1))).mappings().one()
    assert last["event"] == "audit.pruned"

    # A checkpoint taken after the cut still proves consistency; proofs of kept records still verify.
    report = await verify_log(node.engine, node.audit_keys, checkpoint=checkpoint_before)
    assert report.ok and report.checkpoint["status"] == "consistent"
    await node.audit.sign_tree_head(force=True)
    ok, reason = verify_inclusion_document(await prove_inclusion(node.engine, 25), node.audit_keys)
    assert ok, reason

    # Pruning again at the same date removes nothing.
    again = await prune(node.engine, node.audit, datetime(2026, 1, 1, tzinfo=UTC))
    assert again.removed == 0


async def test_tampered_prune_base_is_detected(node: Node) -> None:
    clock = _Clock(datetime(2025, 1, 1, tzinfo=UTC))
    node.audit._clock = clock
    await fill(node, 12)
    clock.now = datetime(2026, 6, 1, tzinfo=UTC)
    await fill(node, 3)
    await prune(node.engine, node.audit, datetime(2026, 1, 1, tzinfo=UTC))
    async with node.engine.begin() as conn:
        await conn.execute(update(audit_base).values(prev_hash="cd" * 32))
    report = await verify_log(node.engine, node.audit_keys)
    assert report.problem.code == "AUDIT_PRUNE_BASE_BAD_SIGNATURE"


async def test_prune_refuses_a_log_that_does_not_verify(node: Node) -> None:
    clock = _Clock(datetime(2025, 1, 1, tzinfo=UTC))
    node.audit._clock = clock
    await fill(node, 12)
    async with node.engine.begin() as conn:
        await conn.execute(update(audit_record).where(audit_record.c.seq == 4).values(actor="x"))
    with pytest.raises(PruneRefused, match="AUDIT_RECORD_MODIFIED"):
        await prune(node.engine, node.audit, datetime.now(UTC) - timedelta(days=1))
    async with node.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(audit_record))).scalar() == 12
