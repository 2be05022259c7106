"""OOTS: provider-side preview sessions.

Revision ID: 0005_oots
Revises: 0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_oots"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oots_preview_session",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("request1_id", sa.String(128), nullable=False),
        sa.Column("requester", sa.String(256), nullable=False),
        sa.Column("evidence_type", sa.String(512), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("deadline", sa.String(32), nullable=False),
        sa.Column("user_arrived_at", sa.String(32), nullable=True),
        sa.Column("decided_at", sa.String(32), nullable=True),
        sa.Column("request2_id", sa.String(128), nullable=True),
        sa.Column("answered_at", sa.String(32), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_oots_preview_session"),
        sa.UniqueConstraint("token_hash", name="uq_oots_preview_session_token_hash"),
    )
    op.create_index("ix_oots_preview_session_state", "oots_preview_session", ["state", "deadline"])


def downgrade() -> None:
    op.drop_index("ix_oots_preview_session_state", table_name="oots_preview_session")
    op.drop_table("oots_preview_session")
