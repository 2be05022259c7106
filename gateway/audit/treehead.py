"""Signed tree heads (RFC 9162 §4.10 in spirit): the audit key signs (size, root, time).

An exported head is a small JSON document a third party keeps; handed back to ``audit verify`` later,
it lets the node prove, with an RFC 9162 consistency proof, that today's log extends what was exported.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from gateway.audit.record import canonical_json

STH_TYPE = "gateway-audit-sth/1"
BASE_TYPE = "gateway-audit-base/1"


class HeadSigner(Protocol):
    @property
    def key_id(self) -> str: ...

    def sign(self, message: bytes) -> bytes: ...


class HeadVerifier(Protocol):
    def verify(self, key_id: str, signature: bytes, message: bytes) -> bool: ...


@dataclass(frozen=True, slots=True)
class TreeHead:
    tree_size: int
    root_hash: str
    ts: str
    key_id: str
    signature: str  # base64

    @staticmethod
    def signed_bytes(tree_size: int, root_hash: str, ts: str, key_id: str) -> bytes:
        return canonical_json(
            {"type": STH_TYPE, "tree_size": tree_size, "root_hash": root_hash, "ts": ts, "key_id": key_id}
        )

    @classmethod
    def sign(cls, signer: HeadSigner, tree_size: int, root_hash: str, ts: str) -> TreeHead:
        signature = signer.sign(cls.signed_bytes(tree_size, root_hash, ts, signer.key_id))
        return cls(tree_size, root_hash, ts, signer.key_id, base64.b64encode(signature).decode())

    def verify(self, verifier: HeadVerifier) -> bool:
        try:
            signature = base64.b64decode(self.signature, validate=True)
        except ValueError:
            return False
        message = self.signed_bytes(self.tree_size, self.root_hash, self.ts, self.key_id)
        return verifier.verify(self.key_id, signature, message)

    def to_json(self) -> dict[str, Any]:
        return {"type": STH_TYPE, **asdict(self)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TreeHead:
        if data.get("type") != STH_TYPE:
            raise ValueError(f"not a signed tree head (type must be {STH_TYPE!r})")
        try:
            head = cls(
                int(data["tree_size"]), str(data["root_hash"]), str(data["ts"]), str(data["key_id"]),
                str(data["signature"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed signed tree head: {exc}") from None
        if head.tree_size < 0 or len(head.root_hash) != 64:
            raise ValueError("malformed signed tree head: bad size or root hash")
        return head

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> TreeHead:
        return cls(row["tree_size"], row["root_hash"], row["ts"], row["key_id"], row["signature"])

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2)


@dataclass(frozen=True, slots=True)
class PruneBase:
    """What verification needs once records before first_seq are gone; signed like a tree head."""

    first_seq: int
    prev_hash: str
    frontier: str  # Frontier JSON text
    pruned_before: str
    ts: str
    key_id: str
    signature: str

    @staticmethod
    def signed_bytes(first_seq: int, prev_hash: str, frontier: str, pruned_before: str, ts: str, key_id: str) -> bytes:
        return canonical_json(
            {
                "type": BASE_TYPE, "first_seq": first_seq, "prev_hash": prev_hash, "frontier": frontier,
                "pruned_before": pruned_before, "ts": ts, "key_id": key_id,
            }
        )

    @classmethod
    def sign(
        cls, signer: HeadSigner, first_seq: int, prev_hash: str, frontier: str, pruned_before: str, ts: str
    ) -> PruneBase:
        message = cls.signed_bytes(first_seq, prev_hash, frontier, pruned_before, ts, signer.key_id)
        signature = base64.b64encode(signer.sign(message)).decode()
        return cls(first_seq, prev_hash, frontier, pruned_before, ts, signer.key_id, signature)

    def verify(self, verifier: HeadVerifier) -> bool:
        try:
            signature = base64.b64decode(self.signature, validate=True)
        except ValueError:
            return False
        message = self.signed_bytes(
            self.first_seq, self.prev_hash, self.frontier, self.pruned_before, self.ts, self.key_id
        )
        return verifier.verify(self.key_id, signature, message)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PruneBase:
        return cls(**{name: row[name] for name in cls.__slots__})  # type: ignore[attr-defined]
