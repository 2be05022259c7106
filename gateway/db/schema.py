"""Tables of the node shell (SQLAlchemy Core). Migrations in gateway/db/migrations create them."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, LargeBinary, MetaData, String, Table, Text

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# One row per audit record. Hashes are lowercase hex; details is canonical JSON (see gateway/audit/record.py).
audit_record = Table(
    "audit_record",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("ts", String(32), nullable=False),
    Column("event", String(128), nullable=False),
    Column("actor", String(256), nullable=False),
    Column("subject_hash", String(64), nullable=True),
    Column("correlation_id", String(128), nullable=True),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_record_subject_hash", "subject_hash"),
    Index("ix_audit_record_correlation_id", "correlation_id"),
)

# The chain head, one row (id=1). Appenders lock it (FOR UPDATE / BEGIN IMMEDIATE) so several processes
# extend one chain. frontier is the Merkle frontier as JSON so the root is known without re-reading leaves.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("frontier", Text, nullable=False),
    Column("last_sth_size", BigInteger, nullable=False),
    Column("last_sth_at", String(32), nullable=False),
)

# Signed tree heads: the audit key's signature over (log id, size, root, time).
audit_tree_head = Table(
    "audit_tree_head",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", String(64), nullable=False),
    Column("ts", String(32), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", String(200), nullable=False),
)

# Retention: after a prune, the records before `first_seq` are gone; what verification needs to carry on
# (the Merkle frontier at first_seq and the hash of the last pruned record) is kept here, signed.
audit_base = Table(
    "audit_base",
    metadata,
    Column("first_seq", BigInteger, primary_key=True, autoincrement=False),
    Column("prev_hash", String(64), nullable=False),
    Column("frontier", Text, nullable=False),
    Column("pruned_before", String(32), nullable=False),
    Column("ts", String(32), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", String(200), nullable=False),
)

# National systems allowed to call the node's APIs.
api_client = Table(
    "api_client",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("roles", String(200), nullable=False),
    Column("cert_sha256", String(64), nullable=True, unique=True),
    Column("secret_hash", String(200), nullable=True),
    Column("created_at", String(32), nullable=False),
    Column("revoked_at", String(32), nullable=True),
)

# Pieces of work started through the APIs, owned by one client: the key of per-client isolation.
work_item = Table(
    "work_item",
    metadata,
    Column("correlation_id", String(128), primary_key=True),
    Column("client_id", String(64), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("status", String(32), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Index("ix_work_item_client_id", "client_id"),
)

# AS4 PModes, versioned: a load adds a version for each changed PMode and keeps the old ones; the newest
# version of each PMode still in its file is active. content is the self-contained canonical JSON of
# as4.pmode.PMode.to_document (certificates as PEM).
as4_pmode = Table(
    "as4_pmode",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("source_file", String(1000), nullable=False),
    Column("content", Text, nullable=False),
    Column("loaded_at", String(32), nullable=False),
    Column("active", Boolean, nullable=False),
    Index("ix_as4_pmode_active", "active"),
)

# AS4 messages received: the duplicate-detection memory (ebMS MessageId is the primary key, so two copies
# arriving at once cannot both be accepted) and the exact receipt bytes a resent message gets back.
# expires_at = received_at + the PMode's duplicate_detection_window_s; payload_ids is a JSON list of ids in
# the payload store.
as4_inbound = Table(
    "as4_inbound",
    metadata,
    Column("message_id", String(512), primary_key=True),
    Column("from_party", String(512), nullable=False),
    Column("service", String(512), nullable=False),
    Column("action", String(512), nullable=False),
    Column("pmode_id", String(128), nullable=False),
    Column("received_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("receipt", LargeBinary, nullable=False),
    Column("receipt_content_type", String(200), nullable=False),
    Column("payload_ids", Text, nullable=False),
    Column("correlation_id", String(128), nullable=True),
    # Delivery to the national backend (gateway/as4_delivery.py): client_id is the API client the PMode's
    # ``backend`` names; status received → delivered once the backend acknowledged (webhook 2xx or pull ack).
    Column("client_id", String(64), nullable=True),
    Column("user_message", Text, nullable=True),
    Column("payloads", Text, nullable=True),
    Column("delivery_attempts", Integer, nullable=False, server_default="0"),
    Column("next_delivery_at", String(32), nullable=True),
    Column("delivered_at", String(32), nullable=True),
    Column("last_delivery_error", Text, nullable=True),
    Index("ix_as4_inbound_expires_at", "expires_at"),
    Index("ix_as4_inbound_status", "status"),
    Index("ix_as4_inbound_client_status", "client_id", "status"),
)

# AS4 messages we send (gateway/as4_sender.py): the durable outbox. A row is committed, with its payloads in
# the payload store, before submit returns. status: pending (due at next_attempt_at) → sending (claimed; a
# claim is a lease: next_attempt_at is pushed to the lease's end, so a crashed sender's rows come back) →
# delivered (receipt kept) or failed (dead letter, last_error_code says why: EBMS:0301 when no receipt came
# within the PMode's retries or time to live, the partner's code when it refused). user_message is the JSON
# the message is rebuilt from on every attempt; payload_ids a JSON list of payload store ids.
as4_outbound = Table(
    "as4_outbound",
    metadata,
    Column("message_id", String(512), primary_key=True),
    Column("pmode_id", String(128), nullable=False),
    Column("status", String(32), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("last_error_code", String(64), nullable=True),
    Column("last_error_text", Text, nullable=True),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Column("payload_ids", Text, nullable=False),
    Column("user_message", Text, nullable=False),
    Column("receipt", LargeBinary, nullable=True),
    Column("receipt_content_type", String(200), nullable=True),
    Column("correlation_id", String(128), nullable=True),
    Column("client_id", String(64), nullable=True),  # the API client that submitted it (None: the CLI)
    Column("partner", String(512), nullable=True),  # the responder's PartyId: what pause/resume act on
    Index("ix_as4_outbound_status_next_attempt_at", "status", "next_attempt_at"),
    Index("ix_as4_outbound_client_id", "client_id"),
)

# Partners whose outbound messages wait (gateway-node as4 pause/resume): nothing is claimed for them.
as4_partner_pause = Table(
    "as4_partner_pause",
    metadata,
    Column("partner", String(512), primary_key=True),
    Column("paused_at", String(32), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("reason", Text, nullable=True),
)

# Where a backend client wants inbound messages pushed; secret keys the HMAC signature of each push.
as4_webhook = Table(
    "as4_webhook",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("secret", String(128), nullable=False),
    Column("updated_at", String(32), nullable=False),
)

# Non-repudiation archive: signed envelopes sent and received, and the receipts, kept 12 months by default;
# joinable by message_id to the audit log's details.
as4_archive = Table(
    "as4_archive",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(512), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("archived_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Index("ix_as4_archive_message_id", "message_id"),
    Index("ix_as4_archive_expires_at", "expires_at"),
)

# The payload store in the database (gateway/as4_db_payload_store.py), for nodes served by several hosts: the
# encrypted metadata per payload, and its ciphertext in 1 MiB chunks (the payload row is written last).
as4_payload = Table(
    "as4_payload",
    metadata,
    Column("payload_id", String(48), primary_key=True),
    Column("message_id", String(512), nullable=False),
    Column("stored_at", String(32), nullable=False),
    Column("chunks", Integer, nullable=False),
    Column("meta", LargeBinary, nullable=False),
    Index("ix_as4_payload_message_id", "message_id"),
    Index("ix_as4_payload_stored_at", "stored_at"),
)

as4_payload_chunk = Table(
    "as4_payload_chunk",
    metadata,
    Column("payload_id", String(48), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
)
