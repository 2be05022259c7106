"""Merkle tree properties (hypothesis) and proofs over a pruned prefix."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.audit.merkle import (
    HASH_SIZE,
    Frontier,
    NodeSource,
    PrunedRangeError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)
from tests.audit.merkle_helpers import FULL, LEAVES, ROOTS, N, flip, source_for

# --------------------------------------------------------------------------- properties


def _tree(n: int, seed: int) -> list[bytes]:
    return [leaf_hash(seed.to_bytes(8, "big") + i.to_bytes(4, "big")) for i in range(n)]


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 500), seed=st.integers(0, 2**32), data=st.data())
def test_property_inclusion(n: int, seed: int, data: st.DataObject) -> None:
    leaves = _tree(n, seed)
    root = root_from_leaves(leaves)
    i = data.draw(st.integers(0, n - 1))
    proof = inclusion_proof(i, n, source_for(leaves))
    assert len(proof) <= (n - 1).bit_length()
    assert verify_inclusion(i, n, leaves[i], proof, root)
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        j = data.draw(st.integers(0, HASH_SIZE - 1))
        assert not verify_inclusion(i, n, leaves[i], proof[:k] + [flip(proof[k], j)] + proof[k + 1 :], root)
    other = data.draw(st.integers(0, n - 1))
    if other != i:
        assert not verify_inclusion(other, n, leaves[i], proof, root)
        assert not verify_inclusion(i, n, leaves[other], proof, root)


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 500), seed=st.integers(0, 2**32), data=st.data())
def test_property_consistency(n: int, seed: int, data: st.DataObject) -> None:
    leaves = _tree(n, seed)
    m = data.draw(st.integers(1, n))
    f = Frontier()
    for h in leaves[:m]:
        f.append(h)
    old_root = f.root()
    for h in leaves[m:]:
        f.append(h)
    new_root = f.root()
    assert new_root == root_from_leaves(leaves)
    proof = consistency_proof(m, n, source_for(leaves))
    assert verify_consistency(m, n, old_root, new_root, proof)
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        assert not verify_consistency(
            m, n, old_root, new_root, proof[:k] + [flip(proof[k], 7)] + proof[k + 1 :]
        )
        assert not verify_consistency(m, n, old_root, new_root, proof[:-1])
    # A log that forked at some index < m is caught.
    if m >= 2:
        fork = data.draw(st.integers(0, m - 1))
        forked = leaves[:fork] + _tree(n - fork, seed + 1)
        forked_proof = consistency_proof(m, n, source_for(forked))
        assert not verify_consistency(m, n, old_root, root_from_leaves(forked), forked_proof)


@settings(max_examples=100, deadline=None)
@given(n=st.integers(0, 500), seed=st.integers(0, 2**32))
def test_property_frontier(n: int, seed: int) -> None:
    leaves = _tree(n, seed)
    f = Frontier()
    for h in leaves:
        f.append(h)
    assert f.root() == root_from_leaves(leaves) == source_for(leaves).subtree_hash(0, n)
    assert Frontier.from_json(f.to_json()) == f


# --------------------------------------------------------------------------- pruned prefix


class RecordingLeaves:
    """get_leaves over a list that fails on any index below the pruned prefix and records calls."""

    def __init__(self, leaves: list[bytes], pruned: int) -> None:
        self.leaves, self.pruned, self.calls = leaves, pruned, []

    def __call__(self, start: int, end: int) -> list[bytes]:
        assert self.pruned <= start < end <= len(self.leaves), (start, end)
        self.calls.append((start, end))
        return self.leaves[start:end]


def frontier_of(leaves: list[bytes]) -> Frontier:
    f = Frontier()
    for h in leaves:
        f.append(h)
    return f


def base_subtrees(p: int) -> list[tuple[int, int]]:
    out, start = [], 0
    for bit in reversed(range(p.bit_length())):
        if p >> bit & 1:
            out.append((start, start + (1 << bit)))
            start += 1 << bit
    return out


@pytest.mark.parametrize("p", range(34))
def test_pruned_inclusion_proofs_match_full(p: int) -> None:
    base = Frontier.from_json(frontier_of(LEAVES[:p]).to_json())
    for n in range(max(p, 1), N + 1):
        pruned = NodeSource(n, RecordingLeaves(LEAVES[:n], p), base)
        for i in range(n):
            full = inclusion_proof(i, n, FULL)
            if i >= p:
                assert inclusion_proof(i, n, pruned) == full, (p, n, i)
                continue
            lo, hi = next(r for r in base_subtrees(p) if r[0] <= i < r[1])
            if hi - lo == 1:  # the leaf is itself a kept node: its path needs nothing pruned
                assert inclusion_proof(i, n, pruned) == full
            else:
                with pytest.raises(PrunedRangeError):
                    inclusion_proof(i, n, pruned)


@pytest.mark.parametrize("p", range(34))
def test_pruned_consistency_proofs_match_full(p: int) -> None:
    base = frontier_of(LEAVES[:p])
    boundaries = {hi for _, hi in base_subtrees(p)}
    for n in range(max(p, 1), N + 1):
        pruned = NodeSource(n, RecordingLeaves(LEAVES[:n], p), base)
        for m in range(n + 1):
            full = consistency_proof(m, n, FULL)
            if m >= p or m == 0 or m in boundaries:
                assert consistency_proof(m, n, pruned) == full, (p, n, m)
            else:  # the old tree's last subtree cuts through a pruned subtree
                with pytest.raises(PrunedRangeError):
                    consistency_proof(m, n, pruned)


def test_pruned_subtree_hash_equal_or_refused() -> None:
    for p in (0, 1, 5, 8, 13, 22):
        base = frontier_of(LEAVES[:p])
        pruned = NodeSource(30, RecordingLeaves(LEAVES[:30], p), base)
        for start in range(31):
            for end in range(start, 31):
                expected = root_from_leaves(LEAVES[start:end])
                if start >= p or (start, end) in base_subtrees(p):
                    assert pruned.subtree_hash(start, end) == expected
                else:
                    try:
                        assert pruned.subtree_hash(start, end) == expected
                    except PrunedRangeError:
                        pass


def test_pruned_error_is_value_error_and_arguments_checked() -> None:
    assert issubclass(PrunedRangeError, ValueError)
    base = frontier_of(LEAVES[:8])
    with pytest.raises(ValueError):
        NodeSource(7, lambda s, e: LEAVES[s:e], base)
    src = NodeSource(10, RecordingLeaves(LEAVES[:10], 8), base)
    with pytest.raises(PrunedRangeError):
        src.subtree_hash(0, 4)
    with pytest.raises(ValueError):
        src.subtree_hash(5, 11)
    with pytest.raises(ValueError):
        src.subtree_hash(6, 5)
    assert src.subtree_hash(0, 8) == ROOTS[8]
    assert src.subtree_hash(0, 10) == ROOTS[10]


def test_get_leaves_returning_wrong_count_is_an_error() -> None:
    src = NodeSource(10, lambda s, e: LEAVES[s : e - 1])
    with pytest.raises(ValueError):
        src.subtree_hash(0, 10)


def test_fetches_are_few_and_linear() -> None:
    n = (1 << 16) + 3
    leaves = _tree(n, 42)
    root = root_from_leaves(leaves)
    rec = RecordingLeaves(leaves, 0)
    src = NodeSource(n, rec)
    assert src.subtree_hash(0, n) == root and rec.calls == [(0, n)]

    rec.calls.clear()
    proof = inclusion_proof(12345, n, src)
    assert verify_inclusion(12345, n, leaves[12345], proof, root)
    assert len(rec.calls) == len(proof) <= 17
    assert sum(e - s for s, e in rec.calls) == n - 1  # every leaf but the proven one, once

    rec.calls.clear()
    proof = consistency_proof(40000, n, src)
    assert verify_consistency(40000, n, root_from_leaves(leaves[:40000]), root, proof)
    assert len(rec.calls) == len(proof) <= 18
    assert sum(e - s for s, e in rec.calls) <= n

    # With a pruned prefix, nothing below it is read.
    p = 50000
    rec = RecordingLeaves(leaves, p)
    src = NodeSource(n, rec, frontier_of(leaves[:p]))
    proof = inclusion_proof(60000, n, src)
    assert verify_inclusion(60000, n, leaves[60000], proof, root)
    assert sum(e - s for s, e in rec.calls) == n - p - 1

