"""Delivery of received AS4 messages to their national backend: webhook push (with its own retries) or pull.

An accepted message waits in ``as4_inbound`` (status ``received``) for the API client its PMode's ``backend``
names. It becomes ``delivered`` exactly once, when the backend acknowledged it: a 2xx answer to the webhook
push, or ``POST /api/as4/inbox/{id}/ack`` after a pull. The state change commits before the payloads are
deleted (per ``as4.payload_retention_s``), so a crash in between leaves at most an orphan payload for
housekeeping, never a lost message. A push whose answer was lost is pushed again: every push carries the ebMS
MessageId (``X-Gateway-Message-Id``) for the backend to recognise it.

A push is a ``multipart/mixed`` POST: a JSON part (the message header, the payload list with sizes and
SHA-256), then each payload with its Content-Type and Content-ID. ``X-Gateway-Signature: t=<unix>,v1=<hex>``
is HMAC-SHA256 under the webhook's secret over ``"<t>." + <the JSON part>``; the JSON names every payload's
digest, so the signature covers the whole delivery. After the last retry the message waits for pull.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import and_, select, update

from as4.payload_store import PayloadStore
from gateway.as4_documents import backend_view, message_from_document
from gateway.db.engine import is_sqlite, writer_connection
from gateway.db.schema import as4_inbound, as4_webhook
from gateway.runtime import Node
from gateway.workers import poll_until_stopped

log = logging.getLogger("gateway.as4_delivery")
ACTOR = "as4-delivery"
RECEIVED, DELIVERED = "received", "delivered"
SIGNATURE_HEADER = "X-Gateway-Signature"
MESSAGE_ID_HEADER = "X-Gateway-Message-Id"


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def delivery_document(row: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON a backend gets for one received message (webhook part 1, and the pull API's view)."""
    message = message_from_document(json.loads(row["user_message"]))
    payloads = json.loads(row["payloads"] or "[]")
    return {
        **backend_view(message),
        "pmode_id": row["pmode_id"], "received_at": row["received_at"], "status": row["status"],
        "payloads": [{"index": i, "content_id": p["content_id"], "content_type": p["content_type"],
                      "size": p["size"], "sha256": p["sha256"]} for i, p in enumerate(payloads)],
    }


def sign_push(secret: str, timestamp: int, document: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + document, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_push(secret: str, header: str, document: bytes, *, now: float | None = None,
                tolerance_s: int = 300) -> bool:
    """For backends (and our tests): the signature header matches and is fresh."""
    try:
        fields = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign_push(secret, timestamp, document), header)


async def acknowledge(node: Node, payloads: PayloadStore, message_id: str, *, client_id: str, mode: str,
                      now: datetime | None = None) -> bool:
    """Mark a received message delivered (the caller checked ownership); False if it already was."""
    now = now or datetime.now(UTC)
    async with node.engine.begin() as conn:
        row = (await conn.execute(select(as4_inbound.c.payload_ids, as4_inbound.c.status)
                                  .where(as4_inbound.c.message_id == message_id))).first()
        if row is None or row.status != RECEIVED:
            return False
        keep = node.settings.as4.payload_retention_s > 0
        done = await conn.execute(update(as4_inbound)
                                  .where(as4_inbound.c.message_id == message_id, as4_inbound.c.status == RECEIVED)
                                  .values(status=DELIVERED, delivered_at=_ts(now), next_delivery_at=None,
                                          **({} if keep else {"payload_ids": "[]"})))
        if done.rowcount != 1:
            return False
    if not keep:
        await asyncio.to_thread(_delete_all, payloads, json.loads(row.payload_ids))
    await node.audit.append("as4.message.delivered", ACTOR, None,
                            {"message_id": message_id, "backend": client_id, "mode": mode})
    return True


def _delete_all(payloads: PayloadStore, payload_ids: Iterable[str]) -> None:
    for payload_id in payload_ids:
        payloads.delete(payload_id)


class DeliveryWorker:
    """Pushes received messages to backends that registered a webhook."""

    def __init__(self, node: Node, payloads: PayloadStore, http: aiohttp.ClientSession, *,
                 batch_size: int = 20) -> None:
        self.node = node
        self.payloads = payloads
        self.http = http
        self.batch_size = batch_size
        self.retry = list(node.settings.as4.delivery_retry_s)
        self.timeout_s = node.settings.as4.delivery_timeout_s
        self.lease = timedelta(seconds=self.timeout_s + 30)
        self.wake = asyncio.Event()

    async def _claim(self, now: datetime) -> list[Any]:
        due = _ts(now)
        query = (select(as4_inbound, as4_webhook.c.url, as4_webhook.c.secret)
                 .join(as4_webhook, and_(as4_webhook.c.client_id == as4_inbound.c.client_id))
                 .where(as4_inbound.c.status == RECEIVED, as4_inbound.c.next_delivery_at.is_not(None),
                        as4_inbound.c.next_delivery_at <= due)
                 .order_by(as4_inbound.c.next_delivery_at).limit(self.batch_size))
        if not is_sqlite(self.node.engine):
            query = query.with_for_update(of=as4_inbound, skip_locked=True)
        conn = await writer_connection(self.node.engine)
        try:
            async with conn.begin():
                rows = list((await conn.execute(query)).all())
                if rows:
                    await conn.execute(update(as4_inbound)
                                       .where(as4_inbound.c.message_id.in_([r.message_id for r in rows]))
                                       .values(next_delivery_at=_ts(now + self.lease)))
        finally:
            await conn.close()
        return rows

    async def run_once(self, now: datetime | None = None) -> int:
        now = now or datetime.now(UTC)
        rows = await self._claim(now)
        await asyncio.gather(*(self._push(row, now) for row in rows))
        return len(rows)

    async def run_forever(self, interval_s: float = 1.0, *, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        await poll_until_stopped(self.run_once, self.wake, stop, interval_s=interval_s, name="AS4 delivery",
                                 log=log)

    async def _push(self, row: Any, now: datetime) -> None:
        document = json.dumps(delivery_document(row._mapping), separators=(",", ":")).encode()
        payload_ids = json.loads(row.payload_ids)
        meta = json.loads(row.payloads or "[]")
        with aiohttp.MultipartWriter("mixed") as writer:
            writer.append(document, {"Content-Type": "application/json"})
            for payload_id, info in zip(payload_ids, meta, strict=True):
                writer.append(_stream_payload(self.payloads, payload_id), {
                    "Content-Type": info["content_type"], "Content-ID": f"<{info['content_id']}>"})
        headers = {SIGNATURE_HEADER: sign_push(row.secret, int(time.time()), document),
                   MESSAGE_ID_HEADER: row.message_id}
        error: str | None = None
        try:
            async with self.http.post(row.url, data=writer, headers=headers,
                                      timeout=aiohttp.ClientTimeout(total=self.timeout_s)) as resp:
                await resp.read()
                if not 200 <= resp.status < 300:
                    error = f"webhook answered HTTP {resp.status}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        if error is None:
            await acknowledge(self.node, self.payloads, row.message_id, client_id=row.client_id, mode="webhook")
            return
        await self._retry(row, now, error)

    async def _retry(self, row: Any, now: datetime, error: str) -> None:
        attempt = row.delivery_attempts + 1
        next_at = _ts(now + timedelta(seconds=self.retry[attempt - 1])) if attempt <= len(self.retry) else None
        async with self.node.engine.begin() as conn:
            await conn.execute(update(as4_inbound)
                               .where(as4_inbound.c.message_id == row.message_id,
                                      as4_inbound.c.status == RECEIVED)
                               .values(delivery_attempts=attempt, next_delivery_at=next_at,
                                       last_delivery_error=error))
        await self.node.audit.append(
            "as4.delivery.retry" if next_at else "as4.delivery.failed", ACTOR, None,
            {"message_id": row.message_id, "backend": row.client_id, "attempt": attempt, "error": error,
             "next_attempt_at": next_at, "waits_for_pull": next_at is None})


async def _stream_payload(payloads: PayloadStore, payload_id: str) -> AsyncIterator[bytes]:
    part = await asyncio.to_thread(payloads.open, payload_id)
    chunks = iter(part.chunks())
    while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
        yield chunk


def reschedule_for_webhook(now: datetime) -> dict[str, Any]:
    """Values that make a client's waiting messages due for push at once (after it registered a webhook)."""
    return {"next_delivery_at": _ts(now), "delivery_attempts": 0}
