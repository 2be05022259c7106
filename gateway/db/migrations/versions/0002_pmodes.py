"""AS4 PModes, versioned.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "as4_pmode",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("source_file", sa.String(1000), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("loaded_at", sa.String(32), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", "version", name="pk_as4_pmode"),
    )
    op.create_index("ix_as4_pmode_active", "as4_pmode", ["active"])


def downgrade() -> None:
    op.drop_index("ix_as4_pmode_active", table_name="as4_pmode")
    op.drop_table("as4_pmode")
