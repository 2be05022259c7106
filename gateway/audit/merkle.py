"""Merkle trees as defined by RFC 9162 (Certificate Transparency 2.0), section 2.1, with SHA-256.

Pure functions and small value classes, no I/O. Notation follows the RFC: ``D[n]`` is the list of
``n`` entries, ``D[a:b]`` the slice ``a <= i < b``, ``MTH`` the Merkle Tree Hash:

* ``MTH({}) = SHA-256()``
* ``MTH({d0}) = SHA-256(0x00 || d0)``                              (leaf hash)
* ``MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))``      (node hash), where ``k`` is the
  largest power of two smaller than ``n``.

Everything here works on *leaf hashes* (``leaf_hash(entry)``), never on raw entries, so callers can
store and fetch 32-byte values only. A tree size is bound to a root only through that root: a
verifier must take ``size`` and ``root`` from the same (signed) tree head.
"""

import hashlib
import re
from collections.abc import Callable, Sequence
from typing import Any

HASH_SIZE = 32
_HEX_HASH = re.compile(r"[0-9a-fA-F]{64}")


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``: the hash of one log entry (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``: an interior node. The distinct prefixes keep a leaf
    from ever being reinterpreted as an interior node (second-preimage resistance)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()  # MTH({}): the root of a log with no entries


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes | bytearray) and len(value) == HASH_SIZE


def _is_path(proof: object) -> bool:
    return isinstance(proof, Sequence) and all(_is_hash(p) for p in proof)


def _split(n: int) -> int:
    """The RFC's ``k``: the largest power of two strictly smaller than ``n`` (requires n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _push(nodes: list[bytes], size: int, leaf: bytes) -> None:
    """Append ``leaf`` to the frontier ``nodes`` of a tree of ``size`` leaves, in place.

    Each trailing 1-bit of ``size`` is a perfect subtree as large as the one being built, so the
    binary carry of ``size + 1`` is exactly the sequence of merges."""
    node = leaf
    while size & 1:
        node = node_hash(nodes.pop(), node)
        size >>= 1
    nodes.append(node)


def _fold(nodes: Sequence[bytes]) -> bytes:
    """Root of a tree given its frontier. The RFC split of a size ``2^a + 2^b + ...`` (a > b > ...)
    puts ``2^a`` on the left and recurses on the rest, so the root folds from the right."""
    if not nodes:
        return EMPTY_ROOT
    root = nodes[-1]
    for node in reversed(nodes[:-1]):
        root = node_hash(node, root)
    return root


def _mth(leaves: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes in O(n) hashing, without recursion."""
    nodes: list[bytes] = []
    for i, leaf in enumerate(leaves):
        if not _is_hash(leaf):
            raise ValueError(f"leaf hash {i} is not {HASH_SIZE} bytes")
        _push(nodes, i, bytes(leaf))
    return _fold(nodes)


class Frontier:
    """Compact state of a Merkle tree of `size` leaves: the roots of the perfect subtrees that
    decompose [0, size) by the binary representation of size, left (largest) first. Lets an
    append-only log extend the tree and compute the root in O(log n) without re-reading leaves."""

    def __init__(self, size: int = 0, nodes: Sequence[bytes] = ()) -> None:
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError(f"frontier size must be a non-negative integer, got {size!r}")
        nodes = list(nodes)
        if len(nodes) != size.bit_count():
            raise ValueError(f"a frontier of size {size} needs {size.bit_count()} nodes, got {len(nodes)}")
        for i, node in enumerate(nodes):
            if not _is_hash(node):
                raise ValueError(f"frontier node {i} is not a {HASH_SIZE}-byte hash")
        self._size = size
        self._nodes = [bytes(node) for node in nodes]

    @property
    def size(self) -> int:
        return self._size

    @property
    def nodes(self) -> tuple[bytes, ...]:
        return tuple(self._nodes)

    def append(self, leaf_hash: bytes) -> None:
        """Add one leaf (its leaf hash) at index ``size``; O(log n) node hashes."""
        if not _is_hash(leaf_hash):
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes")
        _push(self._nodes, self._size, bytes(leaf_hash))
        self._size += 1

    def root(self) -> bytes:
        """MTH of all ``size`` leaves (``EMPTY_ROOT`` when empty)."""
        return _fold(self._nodes)

    def copy(self) -> "Frontier":
        return Frontier(self._size, self._nodes)

    def to_json(self) -> dict[str, Any]:
        return {"size": self._size, "nodes": [node.hex() for node in self._nodes]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Frontier":
        """Inverse of :meth:`to_json`; raises ``ValueError`` on anything malformed."""
        if not isinstance(data, dict):
            raise ValueError("frontier JSON must be an object")
        nodes = data.get("nodes")
        if not isinstance(nodes, list):
            raise ValueError("frontier JSON 'nodes' must be a list of hex strings")
        decoded = []
        for i, node in enumerate(nodes):
            if not isinstance(node, str) or not _HEX_HASH.fullmatch(node):
                raise ValueError(f"frontier JSON node {i} is not {HASH_SIZE} bytes of hex: {node!r}")
            decoded.append(bytes.fromhex(node))
        return cls(data.get("size"), decoded)  # __init__ validates the size

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frontier):
            return NotImplemented
        return self._size == other._size and self._nodes == other._nodes

    def __repr__(self) -> str:
        return f"Frontier(size={self._size}, nodes={len(self._nodes)})"


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH straight from the RFC's recursive definition (the reference implementation)."""

    def mth(start: int, end: int) -> bytes:
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        if n == 1:
            if not _is_hash(leaf_hashes[start]):
                raise ValueError(f"leaf hash {start} is not {HASH_SIZE} bytes")
            return bytes(leaf_hashes[start])
        k = _split(n)
        return node_hash(mth(start, start + k), mth(start + k, end))

    return mth(0, len(leaf_hashes))


class PrunedRangeError(ValueError):
    """The requested hash needs a node strictly inside a pruned (base) subtree."""


class NodeSource:
    """Computes MTH(D[start:end]) for any range of a tree of `size` leaves from
    (a) leaf hashes for indices >= base.size, fetched through a callable
        `get_leaves(start, end) -> Sequence[bytes]`, and
    (b) an optional `base: Frontier` describing the pruned prefix [0, base.size) whose
        individual leaves are gone.
    A range that would need a node strictly inside one of base's perfect subtrees raises
    PrunedRangeError. Ranges at/after base.size cost one get_leaves call and O(n) hashing."""

    def __init__(
        self, size: int, get_leaves: Callable[[int, int], Sequence[bytes]], base: Frontier | None = None
    ) -> None:
        base = base if base is not None else Frontier()
        if size < base.size:
            raise ValueError(f"tree size {size} is smaller than the pruned prefix {base.size}")
        self._size = size
        self._get_leaves = get_leaves
        self._base = base.copy()
        # (start, end, hash) of each perfect subtree of the pruned prefix, left to right.
        self._pruned: list[tuple[int, int, bytes]] = []
        start = 0
        for node in base.nodes:
            width = 1 << ((base.size - start).bit_length() - 1)  # highest remaining 1-bit of size
            self._pruned.append((start, start + width, node))
            start += width

    @property
    def size(self) -> int:
        return self._size

    def subtree_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) (``EMPTY_ROOT`` for an empty range)."""
        if not 0 <= start <= end <= self._size:
            raise ValueError(f"range [{start}, {end}) is outside the tree of size {self._size}")
        if start == end:
            return EMPTY_ROOT
        return self._hash(start, end)

    def _hash(self, start: int, end: int) -> bytes:
        if start >= self._base.size:
            # Entirely in the stored part: one fetch, then O(n) hashing in memory.
            leaves = self._get_leaves(start, end)
            if len(leaves) != end - start:
                raise ValueError(f"get_leaves({start}, {end}) returned {len(leaves)} leaf hashes")
            return _mth(leaves)
        lo, hi, node = next(p for p in self._pruned if p[0] <= start < p[1])
        if (lo, hi) == (start, end):
            return node
        if end <= hi:
            raise PrunedRangeError(f"MTH(D[{start}:{end}]) needs leaves inside pruned subtree D[{lo}:{hi}]")
        # Straddles a pruned subtree boundary: follow the RFC split. Ranges produced by the RFC
        # recursion are aligned, so each side either is a pruned subtree, lies past the prefix,
        # or (for unaligned requests) ends up strictly inside one and raises.
        k = _split(end - start)
        return node_hash(self._hash(start, start + k), self._hash(start + k, end))


def inclusion_proof(index: int, size: int, source: NodeSource) -> list[bytes]:
    """RFC 9162 §2.1.3.1 ``PATH(index, D[size])``: sibling hashes from the leaf up to the root."""
    if not 0 <= index < size <= source.size:
        raise ValueError(f"no leaf {index} in a tree of size {size} (source has {source.size})")
    path: list[bytes] = []  # collected top-down, returned bottom-up as the RFC orders it
    start, end = 0, size
    while end - start > 1:
        mid = start + _split(end - start)
        if index < mid:  # PATH(m, D[0:k]) : MTH(D[k:n])
            path.append(source.subtree_hash(mid, end))
            end = mid
        else:  # PATH(m - k, D[k:n]) : MTH(D[0:k])
            path.append(source.subtree_hash(start, mid))
            start = mid
    path.reverse()
    return path


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show leaf hash ``leaf`` at ``index`` in the tree of
    ``size`` leaves with ``root``? Malformed input yields False, never an exception."""
    if not (isinstance(index, int) and isinstance(size, int) and 0 <= index < size):
        return False
    if not (_is_hash(leaf) and _is_hash(root) and _is_path(proof)):
        return False
    fn, sn, r = index, size - 1, bytes(leaf)
    for p in proof:
        if sn == 0:
            return False  # proof longer than the path
        if fn & 1 or fn == sn:  # we are a right child, or the last node of a ragged level
            r = node_hash(p, r)
            while fn and not fn & 1:  # on the right edge: skip the levels that have no sibling
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def consistency_proof(old_size: int, new_size: int, source: NodeSource) -> list[bytes]:
    """RFC 9162 §2.1.4.1 ``PROOF(old_size, D[new_size])``; empty when old_size is 0 or new_size."""
    if not 0 <= old_size <= new_size <= source.size:
        raise ValueError(f"bad consistency range {old_size} -> {new_size} (source has {source.size})")
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []  # collected top-down, returned bottom-up
    start, end, complete = 0, new_size, True  # `complete` is the RFC's boolean b
    while old_size != end:
        mid = start + _split(end - start)
        if old_size <= mid:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            proof.append(source.subtree_hash(mid, end))
            end = mid
        else:  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            proof.append(source.subtree_hash(start, mid))
            start, complete = mid, False
    if not complete:  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
        proof.append(source.subtree_hash(start, end))
    proof.reverse()
    return proof


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree (new_size, new_root) an extension of (old_size, old_root)?
    Malformed input yields False, never an exception."""
    if not (isinstance(old_size, int) and isinstance(new_size, int) and 0 <= old_size <= new_size):
        return False
    if not (_is_hash(old_root) and _is_hash(new_root) and _is_path(proof)):
        return False
    if old_size == 0:  # everything extends the empty tree
        return len(proof) == 0 and old_root == EMPTY_ROOT
    if old_size == new_size:
        return len(proof) == 0 and old_root == new_root
    if not proof:
        return False
    path = [bytes(p) for p in proof]
    if old_size & (old_size - 1) == 0:  # old tree is a perfect subtree: its root starts the path
        path.insert(0, bytes(old_root))
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:  # climb to the largest perfect subtree that ends at old_size
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:  # c is a left sibling, shared by both trees
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:  # c is a right sibling, only in the new tree
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
