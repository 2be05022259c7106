"""Foundation: audit log, API clients, work items.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

# The database itself keeps the audit chain head: an insert that does not extend it exactly (right sequence
# number, right previous hash) is refused, and an accepted one advances it. Appenders rely on this to detect
# that another process appended meanwhile (gateway/audit/head.py), and no writer can fork the chain.
SQLITE_CHAIN_TRIGGERS = [
    """
    CREATE TRIGGER audit_record_chain_guard BEFORE INSERT ON audit_record
    WHEN NEW.seq != (SELECT size FROM audit_head WHERE id = 1)
      OR NEW.prev_hash != (SELECT last_hash FROM audit_head WHERE id = 1)
    BEGIN
      SELECT RAISE(ABORT, 'audit chain head moved');
    END
    """,
    """
    CREATE TRIGGER audit_record_chain_advance AFTER INSERT ON audit_record
    BEGIN
      UPDATE audit_head SET size = NEW.seq + 1, last_hash = NEW.hash WHERE id = 1;
    END
    """,
]
POSTGRES_CHAIN_TRIGGERS = [
    """
    CREATE FUNCTION audit_record_chain() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      head_size bigint;
      head_hash varchar;
    BEGIN
      SELECT size, last_hash INTO head_size, head_hash FROM audit_head WHERE id = 1 FOR UPDATE;
      IF NEW.seq <> head_size OR NEW.prev_hash <> head_hash THEN
        RAISE EXCEPTION 'audit chain head moved (record %, head %)', NEW.seq, head_size;
      END IF;
      UPDATE audit_head SET size = NEW.seq + 1, last_hash = NEW.hash WHERE id = 1;
      RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER audit_record_chain BEFORE INSERT ON audit_record
    FOR EACH ROW EXECUTE FUNCTION audit_record_chain()
    """,
]

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
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_CHAIN_TRIGGERS if sqlite else POSTGRES_CHAIN_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_record_chain_guard")
        op.execute("DROP TRIGGER IF EXISTS audit_record_chain_advance")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_record_chain ON audit_record")
        op.execute("DROP FUNCTION IF EXISTS audit_record_chain()")
    for table in ("work_item", "api_client", "audit_base", "audit_tree_head", "audit_head", "audit_record"):
        op.drop_table(table)
