"""AS4 outbound messages: the sender's durable outbox with retry state and receipts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "as4_outbound",
        sa.Column("message_id", sa.String(512), nullable=False),
        sa.Column("pmode_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("last_error_code", sa.String(64), nullable=True),
        sa.Column("last_error_text", sa.Text, nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("payload_ids", sa.Text, nullable=False),
        sa.Column("user_message", sa.Text, nullable=False),
        sa.Column("receipt", sa.LargeBinary, nullable=True),
        sa.Column("receipt_content_type", sa.String(200), nullable=True),
        sa.Column("correlation_id", sa.String(128), nullable=True),
        sa.PrimaryKeyConstraint("message_id", name="pk_as4_outbound"),
    )
    op.create_index("ix_as4_outbound_status_next_attempt_at", "as4_outbound", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_as4_outbound_status_next_attempt_at", table_name="as4_outbound")
    op.drop_table("as4_outbound")
