"""Audit records and their canonical encoding.

A record's hash is its RFC 9162 Merkle leaf hash, SHA-256(0x00 || canonical bytes), and the canonical bytes
include the previous record's hash, so one value serves both the hash chain and the Merkle tree.

Canonical bytes: JSON, keys sorted, no whitespace, UTF-8, no floats (their text form is not canonical
across languages); integers within ±2^53 so any JSON reader gets the same number back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.audit.merkle import leaf_hash

GENESIS_HASH = "00" * 32
FORMAT_VERSION = 1
_MAX_SAFE_INT = 2**53 - 1
_MAX_DETAILS_BYTES = 16 * 1024


class AuditInputError(ValueError):
    """An append was refused before anything was stored (bad event name, unencodable details...)."""


# The C-accelerated JSON string encoder (ensure_ascii=False), the one json.dumps uses for str values.
_text = json.encoder.encode_basestring  # type: ignore[attr-defined]


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


class _Unencodable(Exception):
    def __init__(self, problem: str) -> None:
        self.problem = problem
        self.path: list[str] = []


def _checked(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        if -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
            return value
        raise _Unencodable("integer out of the safe range ±2^53")
    if kind is float:
        raise _Unencodable("floats have no canonical form; pass a string or an integer")
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _Unencodable("keys must be strings")
            try:
                out[key] = _checked(item)
            except _Unencodable as exc:
                exc.path.append(f".{key}")
                raise
        return out
    if isinstance(value, (list, tuple)):
        items = []
        for index, item in enumerate(value):
            try:
                items.append(_checked(item))
            except _Unencodable as exc:
                exc.path.append(f"[{index}]")
                raise
        return items
    raise _Unencodable(f"{kind.__name__} is not JSON")


def encode_details(details: Mapping[str, Any]) -> str:
    """The canonical JSON text of a record's details; refuses what has no canonical form."""
    try:
        checked = _checked(dict(details))
    except _Unencodable as exc:
        raise AuditInputError(f"details{''.join(reversed(exc.path))}: {exc.problem}") from None
    encoded = canonical_json(checked)
    if len(encoded) > _MAX_DETAILS_BYTES:
        raise AuditInputError(
            f"details: larger than {_MAX_DETAILS_BYTES} bytes; the audit log holds facts, not content"
        )
    return encoded.decode()


def format_ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def subject_hash(secret: bytes, subject: str) -> str:
    """Keyed hash of a person identifier: lookups work, the log never holds the identifier in clear."""
    return hmac.new(secret, subject.strip().encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    ts: str
    event: str
    actor: str
    subject_hash: str | None
    correlation_id: str | None
    details: str  # canonical JSON text, exactly as stored
    prev_hash: str
    hash: str

    def canonical_bytes(self) -> bytes:
        return encode_record(
            self.seq, self.ts, self.event, self.actor, self.subject_hash, self.correlation_id,
            self.details, self.prev_hash,
        )

    def computed_hash(self) -> str:
        return leaf_hash(self.canonical_bytes()).hex()

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> AuditRecord:
        return cls(**{name: row[name] for name in cls.__slots__})  # type: ignore[attr-defined]

    def as_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]
        data["details"] = json.loads(self.details)
        return data


def encode_record(
    seq: int, ts: str, event: str, actor: str, subject: str | None, correlation_id: str | None,
    details_json: str, prev_hash: str,
) -> bytes:
    """Exactly ``canonical_json`` of the record's fields, written out by hand because it is the hot path.

    details_json is already canonical; embedding it as a string keeps the encoding byte-exact on re-read
    whatever the database does to JSON columns. tests/audit/test_record.py checks the equivalence.
    """
    return (
        f'{{"actor":{_text(actor)},"corr":{_text_or_null(correlation_id)},"details":{_text(details_json)},"event":{_text(event)},'
        f'"prev":{_text(prev_hash)},"seq":{int(seq)},"subject":{_text_or_null(subject)},"ts":{_text(ts)},'
        f'"v":{FORMAT_VERSION}}}'
    ).encode()


def _text_or_null(value: str | None) -> str:
    return "null" if value is None else _text(value)


def build_record(
    seq: int, ts: str, event: str, actor: str, subject: str | None, correlation_id: str | None,
    details_json: str, prev_hash: str,
) -> AuditRecord:
    digest = leaf_hash(encode_record(seq, ts, event, actor, subject, correlation_id, details_json, prev_hash))
    return AuditRecord(seq, ts, event, actor, subject, correlation_id, details_json, prev_hash, digest.hex())
