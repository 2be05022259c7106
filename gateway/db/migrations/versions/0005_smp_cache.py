"""SML/SMP discovery cache shared by all node processes (last good answer per key, or a negative answer).

Revision ID: 0005_smp
Revises: 0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_smp"
down_revision = "0005_eidas"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "smp_cache",
        sa.Column("cache_key", sa.String(64), nullable=False),  # sha256 hex of network|participant|doc|process
        sa.Column("network", sa.String(64), nullable=False),
        sa.Column("participant", sa.String(1100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),  # "ok" or "negative"
        sa.Column("payload", sa.Text, nullable=True),  # the discovery as JSON (ok)
        sa.Column("error_code", sa.String(64), nullable=True),  # negative answers
        sa.Column("error_text", sa.Text, nullable=True),
        sa.Column("fetched_at", sa.Float, nullable=False),  # epoch seconds
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("cache_key", name="pk_smp_cache"),
    )
    op.create_index("ix_smp_cache_network", "smp_cache", ["network", "participant"])


def downgrade() -> None:
    op.drop_index("ix_smp_cache_network", table_name="smp_cache")
    op.drop_table("smp_cache")
