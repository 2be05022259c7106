"""Foundation: audit log, API clients, work items.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_record",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("event", sa.String(128), nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("subject_hash", sa.String(64), nullable=True),
        sa.Column("correlation_id", sa.String(128), nullable=True),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_record_subject_hash", "audit_record", ["subject_hash"])
    op.create_index("ix_audit_record_correlation_id", "audit_record", ["correlation_id"])
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("frontier", sa.Text, nullable=False),
        sa.Column("last_sth_size", sa.BigInteger, nullable=False),
        sa.Column("last_sth_at", sa.String(32), nullable=False),
    )
    # The chain head exists from the start so concurrent first appenders only ever UPDATE it under a lock.
    op.bulk_insert(
        sa.table(
            "audit_head",
            sa.column("id", sa.Integer), sa.column("size", sa.BigInteger), sa.column("last_hash", sa.String),
            sa.column("frontier", sa.Text), sa.column("last_sth_size", sa.BigInteger),
            sa.column("last_sth_at", sa.String),
        ),
        [{"id": 1, "size": 0, "last_hash": "00" * 32, "frontier": '{"size": 0, "nodes": []}',
          "last_sth_size": 0, "last_sth_at": ""}],
    )
    op.create_table(
        "audit_tree_head",
        sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(200), nullable=False),
    )
    op.create_table(
        "audit_base",
        sa.Column("first_seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("frontier", sa.Text, nullable=False),
        sa.Column("pruned_before", sa.String(32), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(200), nullable=False),
    )
    op.create_table(
        "api_client",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("roles", sa.String(200), nullable=False),
        sa.Column("cert_sha256", sa.String(64), nullable=True, unique=True),
        sa.Column("secret_hash", sa.String(200), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32), nullable=True),
    )
    op.create_table(
        "work_item",
        sa.Column("correlation_id", sa.String(128), primary_key=True),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_work_item_client_id", "work_item", ["client_id"])


def downgrade() -> None:
    for table in ("work_item", "api_client", "audit_base", "audit_tree_head", "audit_head", "audit_record"):
        op.drop_table(table)
