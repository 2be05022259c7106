"""Preview space: web sessions in the database (any node process serves any user).

Revision ID: 0007_preview
Revises: 0005_eidas
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_preview"
down_revision = "0006_oots_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "preview_web_session",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name="pk_preview_web_session"),
    )
    op.create_index("ix_preview_web_session_expires_at", "preview_web_session", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_preview_web_session_expires_at", table_name="preview_web_session")
    op.drop_table("preview_web_session")
