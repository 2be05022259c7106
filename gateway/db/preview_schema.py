"""Preview-space tables on the shared metadata (migration 0007_preview); found by the schema-drift test."""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table, Text

from gateway.db.schema import metadata

preview_web_session = Table(
    "preview_web_session",
    metadata,
    Column("id_hash", String(64), primary_key=True),  # SHA-256 of the cookie value, never the value
    Column("expires_at", String(32), nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_preview_web_session_expires_at", "expires_at"),
)

# What the preview pages show about one preview session, kept from request #1 (migration 0008_preview_web): the
# requested person's minimum data set (for the MDS check and to fetch the evidence when the user looks),
# procedure, requester and evidence type names. Never evidence content. Deleted with the session's purge.
oots_preview_context = Table(
    "oots_preview_context",
    metadata,
    Column("session_id", String(64), primary_key=True),
    Column("created_at", String(32), nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_oots_preview_context_created_at", "created_at"),
)
