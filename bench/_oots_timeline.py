"""Where the wall time of the OOTS exchanges goes, from the timestamps both nodes store (same machine, same
clock; millisecond resolution): each exchange's steps from the portal's API call to the request completing,
as medians and 95th percentiles over the exchanges of a run. Reads the two nodes' SQLite databases after the
run (read-only)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

STEPS = (
    ("api_to_request1_submitted", "portal API call → EB/DSD (cached) → request #1 in the requester's AS4 outbox"),
    ("outbox_to_claimed", "request #1 waits in the outbox until the requester's AS4 sender claims it"),
    ("claimed_to_provider_received", "the sender builds, signs, encrypts, POSTs → the provider decrypted, verified "
                                     "and stored it"),
    ("provider_received_to_taken", "the provider's OOTS service takes the inbound message"),
    ("taken_to_response_submitted", "admission, EDM validation, register lookup, response built, in the outbox"),
    ("response_outbox_to_requester_received", "provider's AS4 sender → requester decrypted, verified, stored"),
    ("requester_received_to_taken", "the requester's OOTS service takes the answer"),
    ("taken_to_completed", "answer checked, validated, evidence stored, request completed"),
)


def _t(value: str | None) -> float | None:
    return datetime.fromisoformat(value).timestamp() * 1000 if value else None


def _rows(db: Path, sql: str) -> list[sqlite3.Row]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return list(conn.execute(sql))
    finally:
        conn.close()


def timeline(requester_db: Path, provider_db: Path, request_ids: set[str]) -> dict[str, list[float]]:
    """Per step, the milliseconds of every exchange of ``request_ids`` (one exchange per request)."""
    exchanges = {r["request_id"]: r for r in _rows(requester_db, """
        SELECT r.id AS request_id, r.created_at AS created, r.updated_at AS completed, x.message_id,
               o.created_at AS submitted, o.updated_at AS claimed
        FROM oots_request r JOIN oots_exchange x ON x.request_id = r.id
        JOIN as4_outbound o ON o.message_id = x.message_id""") if r["request_id"] in request_ids}
    p_in = {r["message_id"]: r for r in _rows(provider_db, """
        SELECT i.message_id, i.received_at, t.taken_at FROM as4_inbound i
        JOIN oots_inbound t ON t.message_id = i.message_id""")}
    p_out = {json.loads(r["user_message"]).get("ref_to_message_id"): r for r in _rows(provider_db, """
        SELECT message_id, created_at, updated_at, user_message FROM as4_outbound""")}
    r_in = {r["message_id"]: r for r in _rows(requester_db, """
        SELECT i.message_id, i.received_at, t.taken_at FROM as4_inbound i
        JOIN oots_inbound t ON t.message_id = i.message_id""")}
    steps: dict[str, list[float]] = {name: [] for name, _ in STEPS}
    for x in exchanges.values():
        request_in, answer = p_in.get(x["message_id"]), p_out.get(x["message_id"])
        answer_in = r_in.get(answer["message_id"]) if answer is not None else None
        if request_in is None or answer is None or answer_in is None:
            continue
        # The outbox row's updated_at is the claim time: the sender records the outcome with its claim's clock.
        points = [_t(x["created"]), _t(x["submitted"]), _t(x["claimed"]), _t(request_in["received_at"])]
        steps["api_to_request1_submitted"].append(points[1] - points[0])  # type: ignore[operator]
        steps["outbox_to_claimed"].append(points[2] - points[1])  # type: ignore[operator]
        steps["claimed_to_provider_received"].append(points[3] - points[2])  # type: ignore[operator]
        taken = _t(request_in["taken_at"])
        steps["provider_received_to_taken"].append(taken - points[2])  # type: ignore[operator]
        steps["taken_to_response_submitted"].append(_t(answer["created_at"]) - taken)  # type: ignore[operator]
        steps["response_outbox_to_requester_received"].append(
            _t(answer_in["received_at"]) - _t(answer["created_at"]))  # type: ignore[operator]
        steps["requester_received_to_taken"].append(_t(answer_in["taken_at"]) - _t(answer_in["received_at"]))  # type: ignore[operator]
        steps["taken_to_completed"].append(_t(x["completed"]) - _t(answer_in["taken_at"]))  # type: ignore[operator]
    return steps
