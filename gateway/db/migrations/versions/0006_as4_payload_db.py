"""AS4 payload store in the database (as4.payload_store = "database"): payloads and their encrypted chunks.

Revision ID: 0006
Revises: 0005_oots
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005_oots"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "as4_payload",
        sa.Column("payload_id", sa.String(48), nullable=False),
        sa.Column("message_id", sa.String(512), nullable=False),
        sa.Column("stored_at", sa.String(32), nullable=False),
        sa.Column("chunks", sa.Integer, nullable=False),
        sa.Column("meta", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("payload_id", name="pk_as4_payload"),
    )
    op.create_index("ix_as4_payload_message_id", "as4_payload", ["message_id"])
    op.create_index("ix_as4_payload_stored_at", "as4_payload", ["stored_at"])
    op.create_table(
        "as4_payload_chunk",
        sa.Column("payload_id", sa.String(48), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("payload_id", "seq", name="pk_as4_payload_chunk"),
    )


def downgrade() -> None:
    op.drop_table("as4_payload_chunk")
    op.drop_index("ix_as4_payload_stored_at", table_name="as4_payload")
    op.drop_index("ix_as4_payload_message_id", table_name="as4_payload")
    op.drop_table("as4_payload")
