"""Tables of the OOTS exchange over AS4 (migration 0006_oots_requests), on the shared metadata.

* ``oots_request``: a portal's evidence request (owned by the API client that created it; states in
  gateway/oots_requester.py). The person's MDS stay only as long as the request runs: they are in the EDM
  request #1 the exchanges keep to build request #2.
* ``oots_exchange``: one EDM exchange of a request (one evidence type at one provider): request #1, and #2
  after a preview.
* ``oots_evidence``: evidence received, for the portal to download.
* ``oots_inbound``: inbound AS4 messages the OOTS service has taken (primary key = ebMS MessageId, so two
  node processes never both answer one request).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, LargeBinary, String, Table, Text

from gateway.db.schema import metadata

oots_request = Table(
    "oots_request",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("client_id", String(64), nullable=False),
    Column("state", String(32), nullable=False),
    Column("procedure", String(128), nullable=False),
    Column("country", String(2), nullable=False),
    Column("specification", Text, nullable=False),  # JSON: what the portal asked (no MDS)
    Column("person", Text, nullable=True),  # JSON MDS + LoA; cleared once the request is final
    Column("answers", Text, nullable=False, server_default="{}"),  # DSD:ERR:0005 answers, JSON
    Column("input_required", Text, nullable=True),  # JSON concepts the DSD asks for
    Column("return_url", Text, nullable=True),
    Column("notify_url", Text, nullable=True),
    Column("error_code", String(64), nullable=True),
    Column("error_detail", Text, nullable=True),
    Column("correlation_id", String(128), nullable=True),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Column("notified_state", String(32), nullable=True),
    Index("ix_oots_request_client", "client_id", "created_at"),
    Index("ix_oots_request_state", "state"),
)

oots_exchange = Table(
    "oots_exchange",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("request_id", String(64), nullable=False),
    Column("evidence_type", Text, nullable=False),
    Column("provider", String(256), nullable=False),
    Column("access_service", String(256), nullable=False),
    Column("pmode_id", String(128), nullable=False),
    Column("edm_version", String(32), nullable=False),
    Column("state", String(32), nullable=False),
    Column("request1", LargeBinary, nullable=True),  # EDM request #1 (cleared when final)
    Column("edm_request_id", String(128), nullable=False),  # the request currently awaited
    Column("message_id", String(512), nullable=False),  # its ebMS MessageId
    Column("exchange_uuid", String(64), nullable=False),  # v2.0 ExchangeId
    Column("preview_location", Text, nullable=True),
    Column("second", Boolean, nullable=False, server_default="0"),
    Column("error_code", String(64), nullable=True),
    Column("error_detail", Text, nullable=True),
    Column("deadline", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Index("ix_oots_exchange_request", "request_id"),
    Index("ix_oots_exchange_edm_request", "edm_request_id"),
    Index("ix_oots_exchange_state", "state", "deadline"),
)

oots_evidence = Table(
    "oots_evidence",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("request_id", String(64), nullable=False),
    Column("exchange_id", String(64), nullable=False),
    Column("content_id", String(512), nullable=False),
    Column("media_type", String(200), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("metadata", Text, nullable=False),  # JSON: evidence id, type, issuer, issuing date, title
    Column("content", LargeBinary, nullable=False),
    Index("ix_oots_evidence_request", "request_id"),
)

oots_inbound = Table(
    "oots_inbound",
    metadata,
    Column("message_id", String(512), primary_key=True),
    Column("taken_at", String(32), nullable=False),
    Column("outcome", String(64), nullable=True),
)
