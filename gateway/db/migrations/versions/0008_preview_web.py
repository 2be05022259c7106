"""Preview space pages: the person reference of a preview session (audit subject of preview events, so the
person's access log finds them) and what the pages show about a session (from request #1).

Revision ID: 0008_preview_web
Revises: 0007_preview
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_preview_web"
down_revision = "0007_preview"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oots_preview_session") as batch:
        batch.add_column(sa.Column("person_ref", sa.String(80), nullable=True))
    op.create_table(
        "oots_preview_context",
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("session_id", name="pk_oots_preview_context"),
    )
    op.create_index("ix_oots_preview_context_created_at", "oots_preview_context", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_oots_preview_context_created_at", table_name="oots_preview_context")
    op.drop_table("oots_preview_context")
    with op.batch_alter_table("oots_preview_session") as batch:
        batch.drop_column("person_ref")
