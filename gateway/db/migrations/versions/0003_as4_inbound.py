"""AS4 inbound messages: duplicate detection and stored receipts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "as4_inbound",
        sa.Column("message_id", sa.String(512), nullable=False),
        sa.Column("from_party", sa.String(512), nullable=False),
        sa.Column("service", sa.String(512), nullable=False),
        sa.Column("action", sa.String(512), nullable=False),
        sa.Column("pmode_id", sa.String(128), nullable=False),
        sa.Column("received_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("receipt", sa.LargeBinary, nullable=False),
        sa.Column("receipt_content_type", sa.String(200), nullable=False),
        sa.Column("payload_ids", sa.Text, nullable=False),
        sa.Column("correlation_id", sa.String(128), nullable=True),
        sa.PrimaryKeyConstraint("message_id", name="pk_as4_inbound"),
    )
    op.create_index("ix_as4_inbound_expires_at", "as4_inbound", ["expires_at"])
    op.create_index("ix_as4_inbound_status", "as4_inbound", ["status"])


def downgrade() -> None:
    op.drop_index("ix_as4_inbound_status", table_name="as4_inbound")
    op.drop_index("ix_as4_inbound_expires_at", table_name="as4_inbound")
    op.drop_table("as4_inbound")
