"""Operator actions on the AS4 side beyond resend: pause and resume a partner, ping it, and housekeeping.

Pause is per partner (the responder PartyId of the outbound PModes): the sender claims nothing for a paused
partner, so its messages wait, accepted and durable, with their time to live still running. Ping sends an
ebMS test message (core §5.2.2.9) under the partner's PMode and waits for the signed receipt; the partner
answers it like any message but never delivers it. Housekeeping purges what has outlived its purpose: the
duplicate-detection rows past their window (only once the message was delivered to its backend: an
undelivered message is never forgotten), delivered payloads past their retention, and archive entries past
theirs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from as4.model import CollaborationInfo, MessageInfo, PartyInfo, Service, UserMessage
from as4.payload_store import PayloadStore
from as4.pipeline import new_message_id
from as4.pmode import TEST_ACTION, TEST_SERVICE
from gateway.as4_archive import purge_archive
from gateway.as4_documents import pmode_party
from gateway.as4_sender import As4Sender
from gateway.db.schema import as4_inbound, as4_partner_pause
from gateway.runtime import Node

log = logging.getLogger("gateway.as4_ops")


class OperatorRefused(Exception):
    """An operator action that cannot be done (the text says why); ``code`` is stable."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


async def pause_partner(node: Node, partner: str, *, actor: str = "operator", reason: str | None = None,
                        now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    try:
        async with node.engine.begin() as conn:
            await conn.execute(insert(as4_partner_pause).values(partner=partner, paused_at=_ts(now), actor=actor,
                                                                reason=reason))
    except IntegrityError:
        raise OperatorRefused("already-paused", f"partner {partner!r} is already paused") from None
    await node.audit.append("as4.partner.paused", actor, None, {"partner": partner, "reason": reason})


async def resume_partner(node: Node, partner: str, *, actor: str = "operator") -> None:
    async with node.engine.begin() as conn:
        done = await conn.execute(delete(as4_partner_pause).where(as4_partner_pause.c.partner == partner))
    if done.rowcount != 1:
        raise OperatorRefused("not-paused", f"partner {partner!r} is not paused")
    await node.audit.append("as4.partner.resumed", actor, None, {"partner": partner})


async def paused_partners(node: Node) -> list[dict[str, Any]]:
    async with node.engine.connect() as conn:
        rows = (await conn.execute(select(as4_partner_pause).order_by(as4_partner_pause.c.partner))).mappings()
        return [dict(row) for row in rows]


@dataclass(frozen=True)
class PingResult:
    message_id: str
    pmode_id: str
    endpoint: str
    round_trip_ms: float

    def as_dict(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "pmode_id": self.pmode_id, "endpoint": self.endpoint,
                "round_trip_ms": round(self.round_trip_ms, 2), "receipt": "valid"}


async def ping(node: Node, sender: As4Sender, pmode_id: str, *, actor: str = "operator") -> PingResult:
    """An ebMS test message to the PMode's partner, sent now (not through the outbox); its signed receipt checked.
    Raises OperatorRefused (unknown PMode) or the sender's SendFailed / EbmsError."""
    pmode = next((p for p in await sender.pmodes.active() if p.id == pmode_id), None)
    if pmode is None:
        raise OperatorRefused("unknown-pmode", f"no active PMode {pmode_id!r}")
    message_id = new_message_id(sender.domain)
    message = UserMessage(
        MessageInfo(datetime.now(UTC), message_id),
        PartyInfo(pmode_party(pmode.initiator), pmode_party(pmode.responder)),
        CollaborationInfo(Service(TEST_SERVICE), TEST_ACTION, message_id),
    )
    started = time.perf_counter()
    try:
        await sender.exchange(message, list, pmode)
    except Exception as exc:
        await node.audit.append("as4.partner.ping", actor, None, {
            "pmode_id": pmode_id, "message_id": message_id, "outcome": "failed",
            "code": getattr(exc, "code", type(exc).__name__)})
        raise
    result = PingResult(message_id, pmode_id, pmode.endpoint, (time.perf_counter() - started) * 1000)
    await node.audit.append("as4.partner.ping", actor, None, {
        "pmode_id": pmode_id, "message_id": message_id, "outcome": "receipt",
        "round_trip_us": int(result.round_trip_ms * 1000)})
    return result


@dataclass(frozen=True)
class Housekeeping:
    duplicate_rows: int
    payloads: int
    archive_entries: int

    def as_dict(self) -> dict[str, int]:
        return {"duplicate_rows": self.duplicate_rows, "payloads": self.payloads,
                "archive_entries": self.archive_entries}


async def housekeeping(node: Node, payloads: PayloadStore, *, now: datetime | None = None) -> Housekeeping:
    now = now or datetime.now(UTC)
    async with node.engine.begin() as conn:
        expired = (await conn.execute(select(as4_inbound.c.message_id, as4_inbound.c.payload_ids)
                                      .where(as4_inbound.c.expires_at < _ts(now),
                                             as4_inbound.c.status == "delivered"))).all()
        if expired:
            await conn.execute(delete(as4_inbound).where(
                as4_inbound.c.message_id.in_([row.message_id for row in expired]),
                as4_inbound.c.status == "delivered"))
    # Normally deleted at delivery already; a kept copy (retention) goes with its row.
    removed = await asyncio.to_thread(_delete_payloads, payloads, [json.loads(row.payload_ids) for row in expired])
    retention = timedelta(seconds=node.settings.as4.payload_retention_s)
    removed += await _purge_retained(node, payloads, now - retention)
    archived = await purge_archive(node.engine, now)
    result = Housekeeping(len(expired), removed, archived)
    if any(result.as_dict().values()):
        await node.audit.append("as4.housekeeping", "node", None, result.as_dict())
    return result


async def _purge_retained(node: Node, payloads: PayloadStore, before: datetime) -> int:
    """Payloads of messages delivered before ``before`` that retention kept (payload_ids emptied once gone)."""
    async with node.engine.begin() as conn:
        rows = (await conn.execute(select(as4_inbound.c.message_id, as4_inbound.c.payload_ids)
                                   .where(as4_inbound.c.status == "delivered",
                                          as4_inbound.c.delivered_at < _ts(before),
                                          as4_inbound.c.payload_ids != "[]"))).all()
        for row in rows:
            await conn.execute(update(as4_inbound).where(as4_inbound.c.message_id == row.message_id)
                               .values(payload_ids="[]"))
    return await asyncio.to_thread(_delete_payloads, payloads, [json.loads(row.payload_ids) for row in rows])


def _delete_payloads(payloads: PayloadStore, groups: list[list[str]]) -> int:
    """Blocking (the store may be the database): run in a worker thread."""
    count = 0
    for payload_ids in groups:
        for payload_id in payload_ids:
            try:
                payloads.delete(payload_id)
                count += 1
            except Exception:
                log.warning("payload %s could not be deleted; a later purge retries", payload_id)
    return count
