"""Tests for gateway.audit.merkle (RFC 9162 §2.1 Merkle trees).

Expected values come from an independent inline implementation of the RFC definition and from the
published Certificate Transparency (RFC 6962) reference vectors, not from the module under test.
"""

import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.audit.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    Frontier,
    NodeSource,
    PrunedRangeError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)

# --------------------------------------------------------------------------- helpers


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def ref_mth(entries: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH over raw entries, written independently of the module."""
    n = len(entries)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + entries[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return sha256(b"\x01" + ref_mth(entries[:k]) + ref_mth(entries[k:]))


def entries(n: int, tag: bytes = b"e") -> list[bytes]:
    """Distinct entries of varying length; the default set starts with the empty entry."""
    out = [tag + i.to_bytes(2, "big") * (1 + i % 3) for i in range(n)]
    if tag == b"e" and n:
        out[0] = b""
    return out


def hashes(n: int, tag: bytes = b"e") -> list[bytes]:
    return [leaf_hash(e) for e in entries(n, tag)]


def source_for(leaves: list[bytes], size: int | None = None) -> NodeSource:
    return NodeSource(len(leaves) if size is None else size, lambda s, e: leaves[s:e])


def flip(b: bytes, i: int, bit: int = 0x01) -> bytes:
    out = bytearray(b)
    out[i] ^= bit
    return bytes(out)


N = 40
LEAVES = hashes(70)
ROOTS = [ref_mth(entries(70)[:n]) for n in range(71)]
FULL = source_for(LEAVES)

# RFC 6962 / Certificate Transparency reference test data.
CT_ENTRIES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    bytes.fromhex(h)
    for h in (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
CT_INCLUSION = [  # (index, size, proof)
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
CT_CONSISTENCY = [  # (old size, new size, proof)
    (
        2,
        8,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


# --------------------------------------------------------------------------- hashing


def test_leaf_and_node_hash_definitions() -> None:
    a, b = sha256(b"a"), sha256(b"b")
    assert leaf_hash(b"xyz") == sha256(b"\x00xyz")
    assert node_hash(a, b) == sha256(b"\x01" + a + b)
    assert HASH_SIZE == 32 == len(leaf_hash(b"")) == len(node_hash(a, b))


def test_domain_separation() -> None:
    a, b = sha256(b"a"), sha256(b"b")
    # The same 64 bytes hashed as a leaf and as an interior node must differ.
    assert leaf_hash(a + b) != node_hash(a, b)
    assert leaf_hash(b"\x01" + a + b) != node_hash(a, b)
    assert leaf_hash(b"") != EMPTY_ROOT
    assert node_hash(a, b) != node_hash(b, a)
    # A one-leaf tree whose entry is an encoded node is not the two-leaf tree.
    assert root_from_leaves([leaf_hash(a + b)]) != root_from_leaves([a, b])


def test_empty_root_known_answer() -> None:
    assert EMPTY_ROOT == sha256(b"")
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root_from_leaves([]) == EMPTY_ROOT
    assert Frontier().root() == EMPTY_ROOT
    assert source_for([]).subtree_hash(0, 0) == EMPTY_ROOT


def test_ct_reference_roots() -> None:
    leaves = [leaf_hash(e) for e in CT_ENTRIES]
    for n in range(len(CT_ROOTS)):
        assert root_from_leaves(leaves[:n]) == CT_ROOTS[n], n
        assert ref_mth(CT_ENTRIES[:n]) == CT_ROOTS[n], n  # the inline reference agrees too


def test_ct_reference_proofs() -> None:
    leaves = [leaf_hash(e) for e in CT_ENTRIES]
    src = source_for(leaves)
    for index, size, hex_proof in CT_INCLUSION:
        proof = [bytes.fromhex(h) for h in hex_proof]
        assert inclusion_proof(index, size, src) == proof
        assert verify_inclusion(index, size, leaves[index], proof, CT_ROOTS[size])
    for old, new, hex_proof in CT_CONSISTENCY:
        proof = [bytes.fromhex(h) for h in hex_proof]
        assert consistency_proof(old, new, src) == proof
        assert verify_consistency(old, new, CT_ROOTS[old], CT_ROOTS[new], proof)


@pytest.mark.parametrize("n", range(71))
def test_roots_match_independent_reference(n: int) -> None:
    expected = ROOTS[n]
    assert root_from_leaves(LEAVES[:n]) == expected
    f = Frontier()
    for h in LEAVES[:n]:
        f.append(h)
    assert f.root() == expected
    assert source_for(LEAVES, n).subtree_hash(0, n) == expected


def test_root_from_leaves_rejects_bad_hash() -> None:
    with pytest.raises(ValueError):
        root_from_leaves([LEAVES[0], b"short"])


# --------------------------------------------------------------------------- Frontier


def test_frontier_append_matches_reference_each_step() -> None:
    leaves = hashes(300, b"f")
    f = Frontier()
    for n, h in enumerate(leaves, start=1):
        f.append(h)
        assert f.size == n
        assert len(f.nodes) == n.bit_count()
        assert f.root() == root_from_leaves(leaves[:n]), n


def test_frontier_nodes_are_perfect_subtree_roots() -> None:
    leaves = hashes(45, b"f")
    f = Frontier()
    for h in leaves:
        f.append(h)
    expected, start = [], 0
    for bit in reversed(range((45).bit_length())):
        if 45 >> bit & 1:
            expected.append(root_from_leaves(leaves[start : start + (1 << bit)]))
            start += 1 << bit
    assert f.nodes == tuple(expected)


def test_frontier_json_round_trip_and_copy() -> None:
    leaves = hashes(77, b"f")
    f = Frontier()
    for n, h in enumerate(leaves):
        data = json.loads(json.dumps(f.to_json()))
        assert data["size"] == n and all(isinstance(x, str) for x in data["nodes"])
        g = Frontier.from_json(data)
        assert g == f and g.size == f.size and g.nodes == f.nodes and g.root() == f.root()
        f.append(h)
    c = f.copy()
    c.append(leaves[0])
    assert c.size == f.size + 1 and f.root() == root_from_leaves(leaves)


@pytest.mark.parametrize(
    "data",
    [
        {"size": 3, "nodes": [LEAVES[0].hex()]},  # popcount(3) == 2
        {"size": 4, "nodes": [LEAVES[0].hex(), LEAVES[1].hex()]},
        {"size": 0, "nodes": [LEAVES[0].hex()]},
        {"size": 1, "nodes": ["zz" * 32]},  # not hex
        {"size": 1, "nodes": [LEAVES[0].hex()[:-2]]},  # 31 bytes
        {"size": 1, "nodes": [LEAVES[0].hex() + "00"]},  # 33 bytes
        {"size": 1, "nodes": [" " + LEAVES[0].hex()[1:]]},
        {"size": 1, "nodes": [LEAVES[0].hex(" ")]},  # bytes.fromhex would accept this
        {"size": 1, "nodes": [LEAVES[0].hex() + "\n"]},
        {"size": 1, "nodes": [1]},
        {"size": -1, "nodes": []},
        {"size": "1", "nodes": [LEAVES[0].hex()]},
        {"size": True, "nodes": [LEAVES[0].hex()]},
        {"size": 1, "nodes": LEAVES[0].hex()},
        {"nodes": []},
        [],
    ],
)
def test_frontier_from_json_rejects(data: object) -> None:
    with pytest.raises(ValueError):
        Frontier.from_json(data)  # type: ignore[arg-type]


def test_frontier_constructor_validates() -> None:
    with pytest.raises(ValueError):
        Frontier(3, [LEAVES[0]])
    with pytest.raises(ValueError):
        Frontier(1, [b"x" * 31])
    with pytest.raises(ValueError):
        Frontier().append(b"x" * 33)
    assert Frontier(2, [node_hash(LEAVES[0], LEAVES[1])]).root() == root_from_leaves(LEAVES[:2])


# --------------------------------------------------------------------------- inclusion


def test_inclusion_all_indices_and_tampering() -> None:
    for n in range(1, N + 1):
        root = ROOTS[n]
        for i in range(n):
            leaf = LEAVES[i]
            proof = inclusion_proof(i, n, FULL)
            assert verify_inclusion(i, n, leaf, proof, root), (i, n)
            for k, p in enumerate(proof):
                for j in range(HASH_SIZE):
                    bad = proof[:k] + [flip(p, j)] + proof[k + 1 :]
                    assert not verify_inclusion(i, n, leaf, bad, root)
            for j in range(HASH_SIZE):
                assert not verify_inclusion(i, n, flip(leaf, j, 0x80), proof, root)
                assert not verify_inclusion(i, n, leaf, proof, flip(root, j, 0x80))
            for other in range(n):
                if other != i:
                    assert not verify_inclusion(other, n, leaf, proof, root), (other, i, n)
            for other_n in range(i + 1, N + 3):
                if other_n != n:  # the proof does not lead to any other tree head
                    assert not verify_inclusion(i, other_n, leaf, proof, ROOTS[other_n])
            assert not verify_inclusion(i, n, LEAVES[(i + 1) % 70], proof, root)
            k = 1 << ((n - 1).bit_length() - 1) if n > 1 else 0
            if k and i >= k:
                # The proof minus its last element proves leaf i - k in the right subtree D[k:n],
                # whose parent is the root: a verifier that let the path run past the top of a
                # tree of size n - k would accept this as a claim about that smaller tree.
                assert not verify_inclusion(i - k, n - k, leaf, proof, root), (i, n)
            if proof:
                assert not verify_inclusion(i, n, leaf, proof[:-1], root)
                assert not verify_inclusion(i, n, leaf, proof[1:], root)
                if len(proof) > 1:
                    assert not verify_inclusion(i, n, leaf, proof[::-1], root)
            assert not verify_inclusion(i, n, leaf, [*proof, LEAVES[0]], root)
            assert not verify_inclusion(i, n, leaf, [LEAVES[0], *proof], root)
            assert not verify_inclusion(i, n, leaf, [*proof, root], root)


def test_inclusion_single_leaf_tree() -> None:
    assert inclusion_proof(0, 1, FULL) == []
    assert verify_inclusion(0, 1, LEAVES[0], [], LEAVES[0])
    assert not verify_inclusion(0, 1, LEAVES[0], [], LEAVES[1])


def test_inclusion_proof_for_older_tree_size() -> None:
    for n in range(1, 30):
        for i in range(n):
            proof = inclusion_proof(i, n, FULL)  # FULL holds 70 leaves
            assert proof == inclusion_proof(i, n, source_for(LEAVES[:n]))
            assert verify_inclusion(i, n, LEAVES[i], proof, ROOTS[n])


def test_inclusion_malformed_inputs_are_false() -> None:
    proof = inclusion_proof(5, 8, FULL)
    root, leaf = ROOTS[8], LEAVES[5]
    assert verify_inclusion(5, 8, leaf, proof, root)
    assert not verify_inclusion(8, 8, leaf, proof, root)
    assert not verify_inclusion(9, 8, leaf, proof, root)
    assert not verify_inclusion(-1, 8, leaf, proof, root)
    assert not verify_inclusion(0, 0, leaf, [], EMPTY_ROOT)
    assert not verify_inclusion(5, 8, leaf[:31], proof, root)
    assert not verify_inclusion(5, 8, leaf, proof, root + b"\x00")
    assert not verify_inclusion(5, 8, leaf, [proof[0][:31], *proof[1:]], root)
    assert not verify_inclusion(5, 8, leaf, [*proof[:-1], proof[-1] + b"\x00"], root)
    assert not verify_inclusion(5, 8, leaf, b"".join(proof), root)  # type: ignore[arg-type]
    assert not verify_inclusion(5, 8, leaf, None, root)  # type: ignore[arg-type]
    assert not verify_inclusion(5, 8, None, proof, root)  # type: ignore[arg-type]
    assert not verify_inclusion("5", 8, leaf, proof, root)  # type: ignore[arg-type]
    assert not verify_inclusion(5, 8, leaf, [*proof, *[LEAVES[0]] * 100], root)


def test_inclusion_proof_rejects_bad_arguments() -> None:
    for index, size in [(0, 0), (5, 5), (-1, 5), (0, 71)]:
        with pytest.raises(ValueError):
            inclusion_proof(index, size, FULL)


# --------------------------------------------------------------------------- consistency


def test_consistency_all_pairs_and_tampering() -> None:
    for n in range(1, N + 1):
        for m in range(1, n + 1):
            proof = consistency_proof(m, n, FULL)
            old, new = ROOTS[m], ROOTS[n]
            assert verify_consistency(m, n, old, new, proof), (m, n)
            if m == n:
                assert proof == []
                continue
            assert proof
            for k, p in enumerate(proof):
                for j in range(0, HASH_SIZE, 3):
                    bad = proof[:k] + [flip(p, j)] + proof[k + 1 :]
                    assert not verify_consistency(m, n, old, new, bad), (m, n, k, j)
            for j in range(HASH_SIZE):
                assert not verify_consistency(m, n, flip(old, j), new, proof)
                assert not verify_consistency(m, n, old, flip(new, j), proof)
            assert not verify_consistency(m, n, old, ROOTS[n - 1], proof)
            assert not verify_consistency(m, n, ROOTS[m - 1], new, proof)
            assert not verify_consistency(m, n, old, new, proof[:-1])
            assert not verify_consistency(m, n, old, new, proof[1:])
            assert not verify_consistency(m, n, old, new, [*proof, LEAVES[0]])
            assert not verify_consistency(m, n, old, new, [LEAVES[0], *proof])
            assert not verify_consistency(m, n, old, new, [])
            if len(proof) > 1 and proof[0] != proof[1]:
                assert not verify_consistency(m, n, old, new, [proof[1], proof[0], *proof[2:]])
            k = 1 << ((n - 1).bit_length() - 1)
            if m > k:  # same trick as for inclusion: reinterpret as a proof about D[k:n]
                assert not verify_consistency(m - k, n - k, old, new, proof), (m, n)
            for other_m in range(1, n):
                if other_m != m:
                    assert not verify_consistency(other_m, n, ROOTS[other_m], new, proof), (other_m, m, n)
            assert not verify_consistency(n, m, new, old, proof)


def test_consistency_degenerate_sizes() -> None:
    assert consistency_proof(0, 0, FULL) == []
    assert consistency_proof(0, 9, FULL) == []
    assert consistency_proof(9, 9, FULL) == []
    # old_size == new_size: empty proof and equal roots
    assert verify_consistency(9, 9, ROOTS[9], ROOTS[9], [])
    assert not verify_consistency(9, 9, ROOTS[9], ROOTS[10], [])
    assert not verify_consistency(9, 9, ROOTS[9], ROOTS[9], [LEAVES[0]])
    # old_size == 0: only the empty proof, from the empty root
    assert verify_consistency(0, 9, EMPTY_ROOT, ROOTS[9], [])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert not verify_consistency(0, 9, EMPTY_ROOT, ROOTS[9], [LEAVES[0]])
    assert not verify_consistency(0, 9, ROOTS[1], ROOTS[9], [])


def test_consistency_malformed_inputs_are_false() -> None:
    proof = consistency_proof(6, 8, FULL)
    old, new = ROOTS[6], ROOTS[8]
    assert verify_consistency(6, 8, old, new, proof)
    assert not verify_consistency(8, 6, new, old, proof)
    assert not verify_consistency(-1, 8, old, new, proof)
    assert not verify_consistency(6, 8, old[:31], new, proof)
    assert not verify_consistency(6, 8, old, new + b"\x00", proof)
    assert not verify_consistency(6, 8, old, new, [proof[0][:31], *proof[1:]])
    assert not verify_consistency(6, 8, old, new, b"".join(proof))  # type: ignore[arg-type]
    assert not verify_consistency(6, 8, old, new, None)  # type: ignore[arg-type]
    assert not verify_consistency(6, 8, None, new, proof)  # type: ignore[arg-type]
    assert not verify_consistency(6.0, 8, old, new, proof)  # type: ignore[arg-type]
    assert not verify_consistency(6, 8, old, new, [*proof, *[LEAVES[0]] * 100])
    for old_size, new_size in [(5, 4), (-1, 4), (3, 71)]:
        with pytest.raises(ValueError):
            consistency_proof(old_size, new_size, FULL)


def test_truncate_then_append_is_not_consistent() -> None:
    a = hashes(10, b"a")
    b = a[:7] + hashes(5, b"b")
    root_a, root_b = root_from_leaves(a), root_from_leaves(b)
    src_b = source_for(b)
    # B rewrote history after entry 7: no proof B can produce links A to it.
    for m in range(1, 13):
        assert not verify_consistency(10, 12, root_a, root_b, consistency_proof(m, 12, src_b)), m
    assert not verify_consistency(10, 12, root_a, root_b, consistency_proof(10, 12, source_for(a + b[10:])))
    # ... while the shared prefix is genuinely consistent, and B with itself.
    assert verify_consistency(7, 12, root_from_leaves(a[:7]), root_b, consistency_proof(7, 12, src_b))
    assert verify_consistency(10, 12, root_from_leaves(b[:10]), root_b, consistency_proof(10, 12, src_b))


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
