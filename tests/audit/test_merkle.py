"""RFC 9162 Merkle trees: hashing, the frontier, inclusion and consistency proofs."""

from __future__ import annotations

import json

import pytest

from gateway.audit.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    Frontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)
from tests.audit.merkle_helpers import (
    CT_CONSISTENCY,
    CT_ENTRIES,
    CT_INCLUSION,
    CT_ROOTS,
    FULL,
    LEAVES,
    ROOTS,
    N,
    flip,
    hashes,
    ref_mth,
    sha256,
    source_for,
)

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


