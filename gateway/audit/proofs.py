"""Inclusion proofs a third party checks offline, and exported checkpoints.

An inclusion proof document carries the record itself, the signed tree head it is proven against and the
RFC 9162 audit path. ``verify_inclusion_document`` needs nothing but the document and the audit public
key: it recomputes the leaf from the record's fields, so the proof covers the record's content too.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.merkle import Frontier, NodeSource, inclusion_proof, verify_inclusion
from gateway.audit.record import AuditRecord
from gateway.audit.treehead import HeadVerifier, TreeHead
from gateway.audit.verify import iter_records, load_base
from gateway.db.schema import audit_record, audit_tree_head

INCLUSION_TYPE = "gateway-audit-inclusion/1"


class ProofError(Exception):
    """A proof cannot be produced (unknown record, no signed head covers it yet, record pruned)."""


async def latest_tree_head(engine: AsyncEngine) -> TreeHead | None:
    async with engine.connect() as conn:
        row = (
            await conn.execute(select(audit_tree_head).order_by(audit_tree_head.c.tree_size.desc()).limit(1))
        ).mappings().first()
    return TreeHead.from_row(row) if row else None


async def prove_inclusion(engine: AsyncEngine, seq: int, tree_head: TreeHead | None = None) -> dict[str, Any]:
    """Build the proof document for record ``seq`` against ``tree_head`` (default: the latest signed head)."""
    head = tree_head or await latest_tree_head(engine)
    if head is None or head.tree_size <= seq:
        raise ProofError(f"no signed tree head covers record {seq} yet; run `audit checkpoint export` first")
    async with engine.connect() as conn:
        row = (await conn.execute(select(audit_record).where(audit_record.c.seq == seq))).mappings().first()
        if row is None:
            raise ProofError(f"record {seq} does not exist (never written, or pruned)")
        record = AuditRecord.from_row(row)
        base = await load_base(conn)
        base_frontier = Frontier.from_json(json.loads(base.frontier)) if base else None
        first = base.first_seq if base else 0
        leaves = [bytes.fromhex(r.hash) async for r in iter_records(conn, first, head.tree_size)]
    if len(leaves) != head.tree_size - first:
        raise ProofError("the log has gaps; run `audit verify`")

    def get_leaves(start: int, end: int) -> list[bytes]:
        return leaves[start - first:end - first]

    path = inclusion_proof(seq, head.tree_size, NodeSource(head.tree_size, get_leaves, base_frontier))
    return {
        "type": INCLUSION_TYPE,
        "seq": seq,
        "record": record.as_dict(),
        "tree_head": head.to_json(),
        "audit_path": [node.hex() for node in path],
    }


def verify_inclusion_document(document: dict[str, Any], verifier: HeadVerifier) -> tuple[bool, str]:
    """Check a proof document offline; returns (ok, reason)."""
    try:
        if document.get("type") != INCLUSION_TYPE:
            return False, f"not an inclusion proof (type must be {INCLUSION_TYPE!r})"
        head = TreeHead.from_json(document["tree_head"])
        fields = dict(document["record"])
        fields["details"] = json.dumps(fields["details"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        record = AuditRecord(**fields)
        path = [bytes.fromhex(node) for node in document["audit_path"]]
    except (KeyError, TypeError, ValueError) as exc:
        return False, f"malformed proof document: {exc}"
    if record.computed_hash() != record.hash:
        return False, "the record's content does not match its hash"
    if not head.verify(verifier):
        return False, "the tree head signature is invalid or made by an unknown key"
    leaf, root = bytes.fromhex(record.hash), bytes.fromhex(head.root_hash)
    if not verify_inclusion(record.seq, head.tree_size, leaf, path, root):
        return False, f"record {record.seq} is not included in the tree of size {head.tree_size}"
    return True, f"record {record.seq} is included in the signed tree of size {head.tree_size}"
