"""eIDAS connector: pending AuthnRequests, assertion replay cache, national (portal) sessions, person register
and its eIDAS identifier links.

Revision ID: 0005_eidas
Revises: 0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_eidas"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eidas_pending_request",
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("request_id", name="pk_eidas_pending_request"),
    )
    op.create_table(
        "eidas_replay",
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_eidas_replay"),
    )
    op.create_index("ix_eidas_replay_expires_at", "eidas_replay", ["expires_at"])
    op.create_table(
        "eidas_session",
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("session_id", name="pk_eidas_session"),
    )
    op.create_table(
        "person_register",
        sa.Column("national_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("family_name", sa.String(256), nullable=False),
        sa.Column("given_name", sa.String(256), nullable=False),
        sa.Column("family_key", sa.String(256), nullable=False),
        sa.Column("given_key", sa.String(256), nullable=False),
        sa.Column("date_of_birth", sa.String(10), nullable=True),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("national_id", name="pk_person_register"),
    )
    op.create_index("ix_person_register_match", "person_register", ["date_of_birth", "family_key"])
    op.create_table(
        "person_eidas_link",
        sa.Column("eidas_identifier", sa.String(512), nullable=False),
        sa.Column("national_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("eidas_identifier", name="pk_person_eidas_link"),
    )


def downgrade() -> None:
    op.drop_table("person_eidas_link")
    op.drop_index("ix_person_register_match", table_name="person_register")
    op.drop_table("person_register")
    op.drop_table("eidas_session")
    op.drop_index("ix_eidas_replay_expires_at", table_name="eidas_replay")
    op.drop_table("eidas_replay")
    op.drop_table("eidas_pending_request")
