"""OOTS over AS4: portal evidence requests, their exchanges and evidence, inbound messages taken.

Revision ID: 0006_oots_requests
Revises: 0005_oots
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_oots_requests"
down_revision = "0005_smp"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oots_request",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("procedure", sa.String(128), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("specification", sa.Text, nullable=False),
        sa.Column("person", sa.Text, nullable=True),
        sa.Column("answers", sa.Text, nullable=False, server_default="{}"),
        sa.Column("input_required", sa.Text, nullable=True),
        sa.Column("return_url", sa.Text, nullable=True),
        sa.Column("notify_url", sa.Text, nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_detail", sa.Text, nullable=True),
        sa.Column("correlation_id", sa.String(128), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("notified_state", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_oots_request"),
    )
    op.create_index("ix_oots_request_client", "oots_request", ["client_id", "created_at"])
    op.create_index("ix_oots_request_state", "oots_request", ["state"])
    op.create_table(
        "oots_exchange",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("evidence_type", sa.Text, nullable=False),
        sa.Column("provider", sa.String(256), nullable=False),
        sa.Column("access_service", sa.String(256), nullable=False),
        sa.Column("pmode_id", sa.String(128), nullable=False),
        sa.Column("edm_version", sa.String(32), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("request1", sa.LargeBinary, nullable=True),
        sa.Column("edm_request_id", sa.String(128), nullable=False),
        sa.Column("message_id", sa.String(512), nullable=False),
        sa.Column("exchange_uuid", sa.String(64), nullable=False),
        sa.Column("preview_location", sa.Text, nullable=True),
        sa.Column("second", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_detail", sa.Text, nullable=True),
        sa.Column("deadline", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_oots_exchange"),
    )
    op.create_index("ix_oots_exchange_request", "oots_exchange", ["request_id"])
    op.create_index("ix_oots_exchange_edm_request", "oots_exchange", ["edm_request_id"])
    op.create_index("ix_oots_exchange_state", "oots_exchange", ["state", "deadline"])
    op.create_table(
        "oots_evidence",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("exchange_id", sa.String(64), nullable=False),
        sa.Column("content_id", sa.String(512), nullable=False),
        sa.Column("media_type", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_oots_evidence"),
    )
    op.create_index("ix_oots_evidence_request", "oots_evidence", ["request_id"])
    op.create_table(
        "oots_inbound",
        sa.Column("message_id", sa.String(512), nullable=False),
        sa.Column("taken_at", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("message_id", name="pk_oots_inbound"),
    )


def downgrade() -> None:
    op.drop_table("oots_inbound")
    op.drop_index("ix_oots_evidence_request", table_name="oots_evidence")
    op.drop_table("oots_evidence")
    for name in ("ix_oots_exchange_state", "ix_oots_exchange_edm_request", "ix_oots_exchange_request"):
        op.drop_index(name, table_name="oots_exchange")
    op.drop_table("oots_exchange")
    op.drop_index("ix_oots_request_state", table_name="oots_request")
    op.drop_index("ix_oots_request_client", table_name="oots_request")
    op.drop_table("oots_request")
