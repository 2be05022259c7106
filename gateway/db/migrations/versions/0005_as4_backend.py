"""AS4 backend API: message ownership, inbound delivery state, partner pause, webhooks, the NR archive.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("as4_outbound") as batch:
        batch.add_column(sa.Column("client_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("partner", sa.String(512), nullable=True))
    op.create_index("ix_as4_outbound_client_id", "as4_outbound", ["client_id"])
    with op.batch_alter_table("as4_inbound") as batch:
        batch.add_column(sa.Column("client_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("user_message", sa.Text, nullable=True))
        batch.add_column(sa.Column("payloads", sa.Text, nullable=True))
        batch.add_column(sa.Column("delivery_attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_delivery_at", sa.String(32), nullable=True))
        batch.add_column(sa.Column("delivered_at", sa.String(32), nullable=True))
        batch.add_column(sa.Column("last_delivery_error", sa.Text, nullable=True))
    op.create_index("ix_as4_inbound_client_status", "as4_inbound", ["client_id", "status"])
    op.create_table(
        "as4_partner_pause",
        sa.Column("partner", sa.String(512), nullable=False),
        sa.Column("paused_at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("partner", name="pk_as4_partner_pause"),
    )
    op.create_table(
        "as4_webhook",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name="pk_as4_webhook"),
    )
    op.create_table(
        "as4_archive",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(512), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("content_type", sa.String(200), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("archived_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_as4_archive"),
    )
    op.create_index("ix_as4_archive_message_id", "as4_archive", ["message_id"])
    op.create_index("ix_as4_archive_expires_at", "as4_archive", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_as4_archive_expires_at", table_name="as4_archive")
    op.drop_index("ix_as4_archive_message_id", table_name="as4_archive")
    op.drop_table("as4_archive")
    op.drop_table("as4_webhook")
    op.drop_table("as4_partner_pause")
    op.drop_index("ix_as4_inbound_client_status", table_name="as4_inbound")
    with op.batch_alter_table("as4_inbound") as batch:
        for column in ("last_delivery_error", "delivered_at", "next_delivery_at", "delivery_attempts", "payloads",
                       "user_message", "client_id"):
            batch.drop_column(column)
    op.drop_index("ix_as4_outbound_client_id", table_name="as4_outbound")
    with op.batch_alter_table("as4_outbound") as batch:
        batch.drop_column("partner")
        batch.drop_column("client_id")
