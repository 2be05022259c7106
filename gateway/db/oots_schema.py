"""Tables of the OOTS capability (migration 0005_oots). Kept beside schema.py, on the same metadata."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table

from gateway.db.schema import metadata

# Provider-side preview sessions (oots/preview/machine.py). Only the hash of the PreviewLocation token is kept.
oots_preview_session = Table(
    "oots_preview_session",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("request1_id", String(128), nullable=False),
    Column("requester", String(256), nullable=False),
    Column("evidence_type", String(512), nullable=False),
    Column("subject", String(128), nullable=False),
    Column("state", String(32), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("deadline", String(32), nullable=False),
    Column("user_arrived_at", String(32), nullable=True),
    Column("decided_at", String(32), nullable=True),
    Column("request2_id", String(128), nullable=True),
    Column("answered_at", String(32), nullable=True),
    Column("version", Integer, nullable=False),
    Column("person_ref", String(80), nullable=True),  # migration 0008_preview_web
    Index("ix_oots_preview_session_state", "state", "deadline"),
)
