"""The AS4 sending side: a durable outbox (``as4_outbound``) with reception awareness.

``submit`` stores the payloads (payload store) and the row (status ``pending``) and commits before it returns:
a message the caller was told about is never only in memory. ``run_once`` claims due rows, marks them
``sending`` and commits (PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED``, so several processes share one
outbox; SQLite: ``BEGIN IMMEDIATE``, the single writer lock), then sends each outside any transaction:
rebuild the UserMessage, ``build_outbound`` (our AS4 signing key for the profile's family, the partner's
encryption certificate from the PMode), POST to the PMode's endpoint, ``check_response`` (the receipt must be
signed by the partner and name what we signed).

Outcomes (notes/as4-sml-smp.md §1.7): a valid receipt → ``delivered`` (receipt bytes kept); no valid receipt
(transport failure, timeout, HTTP error, bad receipt) → the next attempt after the PMode's retry delay
(attempt n failed → wait ``retry[n-1]``), and after the last retry → ``failed`` with EBMS:0301 MissingReceipt;
the time to live passed → ``failed`` with EBMS:0301 (expired); an ebMS error signal → ``failed`` with the
partner's code at once (a refusal is not retried). A claim is a lease: ``next_attempt_at`` moves to the lease's
end, so a row whose sender died comes back; the receiver's duplicate detection absorbs the rare double send.

Error signals are not signature-checked (a refusal for an unknown partner cannot be signed by profile), so a
forged refusal on the path can fail a message; TLS to the endpoint is what protects that.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from as4 import codec
from as4.errors import CONNECTION_FAILURE, MISSING_RECEIPT, OTHER, PROCESSING_MODE_MISMATCH, EbmsError
from as4.model import (
    AgreementRef,
    CollaborationInfo,
    EbmsErrorSignal,
    MessageInfo,
    PartyInfo,
    Property,
    Service,
    UserMessage,
)
from as4.parts import Part
from as4.payload_store import PayloadStore, StoredPayload
from as4.pipeline import build_outbound, check_response, new_message_id
from as4.pmode import PMode, signer_resolver
from gateway import correlation
from gateway.as4_archive import MESSAGE, RECEIPT, Evidence
from gateway.as4_documents import message_document, message_from_document, pmode_party
from gateway.as4_pmodes import PModeStore
from gateway.as4_state import As4State
from gateway.db.engine import is_sqlite, writer_connection
from gateway.db.schema import as4_inbound, as4_outbound, as4_partner_pause
from gateway.runtime import Node
from pki.keys.port import KeyPurpose

ACTOR = "as4-sender"
log = logging.getLogger("gateway.as4_sender")
PENDING, SENDING, DELIVERED, FAILED = "pending", "sending", "delivered", "failed"


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _utc_now() -> datetime:
    return datetime.now(UTC)


# --- the sender ----------------------------------------------------------------------------------------------

class SendFailed(Exception):
    """No valid receipt this time: try again later (code and text for last_error)."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.code, self.text = code, text


class _Unbuildable(SendFailed):
    """The message cannot be built as stored (final)."""


class _Retry(SendFailed):
    """Raised inside the sender; callers outside see :class:`SendFailed`."""


class As4Sender:
    def __init__(self, node: Node, pmode_store: PModeStore, payload_store: PayloadStore,
                 http_session: aiohttp.ClientSession | None, *, timeout_s: float = 60.0, batch_size: int = 20,
                 message_id_domain: str = "gateway.lv", concurrency: int = 8) -> None:
        if node.key_store is None:
            raise ValueError("the AS4 sender needs the node's key store (pki.dir)")
        self.node = node
        self.key_store = node.key_store
        self.pmodes = pmode_store
        self.payloads = payload_store
        self.http = http_session  # None: this instance only submits (the API); a worker's sends need one
        self.wake = asyncio.Event()  # set after a submit in this process: the worker claims at once
        self.state = As4State(node)  # group commit of outbox rows and attempt outcomes
        self.timeout_s = timeout_s
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.domain = message_id_domain
        # A claimed row comes back after this long if its sender never recorded an outcome (crash).
        self.lease = timedelta(seconds=timeout_s + 30)

    @property
    def engine(self) -> AsyncEngine:
        return self.node.engine

    async def _pmode(self, pmode_id: str) -> PMode | None:
        return next((p for p in await self.pmodes.active() if p.id == pmode_id), None)

    def new_message_id(self) -> str:
        return new_message_id(self.domain)

    async def submit(self, pmode_id: str, payloads: Sequence[Part] = (), *, action: str | None = None,
                     service: str | None = None, service_type: str | None = None, conversation_id: str | None = None,
                     properties: Sequence[Property] = (), now: datetime | None = None, client_id: str | None = None,
                     ref_to_message_id: str | None = None, message_id: str | None = None,
                     stored: Sequence[StoredPayload] | None = None) -> str:
        """Store the payloads and the message (pending); the MessageId once it is committed. ``client_id``: the
        API client that owns it (None for the operator's CLI). Payloads the caller already streamed into the
        payload store come as ``stored`` (with the ``message_id`` they were stored under) and are not copied;
        on failure they are deleted like our own."""
        pmode = await self._pmode(pmode_id)
        if pmode is None:
            raise ValueError(f"no active PMode {pmode_id!r}")
        now = now or _utc_now()
        message_id = message_id or new_message_id(self.domain)
        svc = Service(service, service_type) if service is not None else Service(pmode.service.value,
                                                                                   pmode.service.type)
        agreement = pmode.agreement_ref or pmode.profile.agreement_ref
        message = UserMessage(
            MessageInfo(now, message_id, ref_to_message_id),
            PartyInfo(pmode_party(pmode.initiator), pmode_party(pmode.responder)),
            CollaborationInfo(svc, action or pmode.action, conversation_id or message_id,
                              AgreementRef(agreement) if agreement else None),
            tuple(properties),
        )
        records = list(stored) if stored is not None else await asyncio.to_thread(
            lambda: [self.payloads.put(message_id, part) for part in payloads])
        try:
            await self.state.insert_outbound(dict(
                message_id=message_id, pmode_id=pmode.id, status=PENDING, attempts=0,
                next_attempt_at=_ts(now), expires_at=_ts(now + timedelta(seconds=pmode.time_to_live_s)),
                created_at=_ts(now), updated_at=_ts(now),
                payload_ids=json.dumps([r.payload_id for r in records]),
                user_message=json.dumps(message_document(message), separators=(",", ":")),
                correlation_id=correlation.current(), client_id=client_id, partner=pmode.responder.party_id,
                receipt=None, receipt_content_type=None, last_error_code=None, last_error_text=None))
        except BaseException:
            await asyncio.to_thread(lambda: [self.payloads.delete(r.payload_id) for r in records])
            raise
        return message_id

    async def _claim(self, now: datetime, limit: int | None = None) -> list[Any]:
        due = _ts(now)
        paused = select(as4_partner_pause.c.partner)
        query = (select(as4_outbound).where(as4_outbound.c.status.in_((PENDING, SENDING)),
                                            as4_outbound.c.next_attempt_at <= due,
                                            or_(as4_outbound.c.partner.is_(None),
                                                as4_outbound.c.partner.not_in(paused)))
                 .order_by(as4_outbound.c.next_attempt_at).limit(limit or self.batch_size))
        if not is_sqlite(self.engine):
            query = query.with_for_update(skip_locked=True)
        conn = await writer_connection(self.engine)
        try:
            async with conn.begin():
                rows = list((await conn.execute(query)).all())
                if rows:
                    await conn.execute(update(as4_outbound)
                                       .where(as4_outbound.c.message_id.in_([r.message_id for r in rows]))
                                       .values(status=SENDING, next_attempt_at=_ts(now + self.lease),
                                               updated_at=due))
        finally:
            await conn.close()
        return rows

    async def run_once(self, now: datetime | None = None, *, stop: asyncio.Event | None = None) -> int:
        """Claim the due messages and try each once, up to ``concurrency`` at a time; how many were claimed.
        Once ``stop`` is set, the sends in flight finish and the claimed rows not yet started go back to pending
        (due at once)."""
        now = now or _utc_now()
        rows = await self._claim(now)
        gate = asyncio.Semaphore(self.concurrency)

        async def one(row: Any) -> Any | None:
            async with gate:
                if stop is not None and stop.is_set():
                    return row
                await self._attempt(row, now)
                return None

        unstarted = [row for row in await asyncio.gather(*(one(row) for row in rows)) if row is not None]
        if unstarted:
            await self._release(unstarted, now)
        return len(rows)

    async def run_forever(self, interval_s: float = 1.0, *, stop: asyncio.Event | None = None) -> None:
        """Send from the outbox until ``stop`` is set (never, without one), pipelined: up to ``concurrency``
        sends are in flight, and a message submitted meanwhile (``wake``) is claimed as soon as a slot is free,
        not after the whole previous batch (under load a batch's slowest send was every new message's floor).
        The poll interval only catches retries coming due and other processes' messages. A failing claim is
        logged, not fatal; once ``stop`` is set nothing new is claimed and the sends in flight finish."""
        stop = stop or asyncio.Event()
        inflight: set[asyncio.Task[None]] = set()
        slot_freed = asyncio.Event()

        def finished(task: asyncio.Task[None]) -> None:
            inflight.discard(task)
            slot_freed.set()
            if not task.cancelled() and task.exception() is not None:
                log.error("AS4 send failed unexpectedly", exc_info=task.exception())

        while not stop.is_set():
            self.wake.clear()
            slot_freed.clear()
            free = self.concurrency - len(inflight)
            claimed = 0
            if free > 0:
                now = _utc_now()
                try:
                    rows = await self._claim(now, limit=free)
                except Exception:
                    log.exception("AS4 sender claim failed; retrying in %.1f s", interval_s)
                    rows = []
                for row in rows:
                    task = asyncio.create_task(self._attempt(row, now), name=f"as4-send-{row.message_id}")
                    inflight.add(task)
                    task.add_done_callback(finished)
                claimed = len(rows)
                if claimed == free:
                    continue  # maybe more are due: claim again once a slot is free (the loop waits for it below)
            # Full: wait for a slot. Otherwise: for new work, a retry coming due, or stop.
            events = [stop, slot_freed] if free <= 0 else [stop, self.wake]
            waiters = {asyncio.ensure_future(e.wait()) for e in events}
            _, pending = await asyncio.wait(waiters, timeout=interval_s, return_when=asyncio.FIRST_COMPLETED)
            for waiter in pending:
                waiter.cancel()
        if inflight:
            await asyncio.gather(*inflight, return_exceptions=True)

    async def _release(self, rows: Sequence[Any], now: datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(as4_outbound)
                               .where(as4_outbound.c.message_id.in_([r.message_id for r in rows]),
                                      as4_outbound.c.status == SENDING)
                               .values(status=PENDING, next_attempt_at=_ts(now), updated_at=_ts(now)))

    async def _attempt(self, row: Any, now: datetime) -> None:
        attempt = row.attempts + 1
        facts = {"message_id": row.message_id, "pmode_id": row.pmode_id, "attempt": attempt}
        if now >= datetime.fromisoformat(row.expires_at):
            await self._fail(row, now, row.attempts, MISSING_RECEIPT,
                             f"time to live expired at {row.expires_at} without a receipt", {**facts, "expired": True})
            return
        pmode = await self._pmode(row.pmode_id)
        if pmode is None:
            await self._fail(row, now, row.attempts, PROCESSING_MODE_MISMATCH,
                             f"PMode {row.pmode_id!r} is no longer active", facts)
            return
        try:
            content_type, receipt, envelope = await self._send(row, pmode)
        except EbmsError as refusal:  # the partner's error signal: final
            await self._fail(row, now, attempt, refusal.code, refusal.detail, {**facts, "refused": True})
        except _Retry as problem:
            await self._retry(row, now, attempt, pmode, problem, facts)
        except _Unbuildable as problem:  # no later attempt can fix it: a dead letter now, not a retry loop
            await self._fail(row, now, attempt, problem.code, problem.text, {**facts, "unbuildable": True})
        else:
            await self._finish(row, now, attempt, status=DELIVERED, receipt=receipt,
                               receipt_content_type=content_type, last_error_code=None, last_error_text=None,
                               evidence=[Evidence(MESSAGE, "application/soap+xml", envelope),
                                         Evidence(RECEIPT, content_type, receipt)])
            await self._audit("as4.message.sent", {**facts, "endpoint": pmode.endpoint})

    async def _send(self, row: Any, pmode: PMode) -> tuple[str, bytes, bytes]:
        message = message_from_document(json.loads(row.user_message))
        payload_ids = json.loads(row.payload_ids)
        return await self.exchange(message, lambda: [self.payloads.open(pid) for pid in payload_ids], pmode)

    async def exchange(self, message: UserMessage, open_parts: Callable[[], list[Part]],
                       pmode: PMode) -> tuple[str, bytes, bytes]:
        """One try: build, POST, check the answer. ``(content type, receipt, signed envelope sent)``; raises
        EbmsError for the partner's error signal and _Retry for anything else without a valid receipt."""
        if self.http is None:
            raise RuntimeError("this As4Sender was made without an HTTP session: it can submit, not send")
        profile = pmode.profile
        signer = self.key_store.signer(KeyPurpose.AS4_SIGNING, family=profile.signing_family)

        def build() -> tuple[Any, bytes, Iterator[bytes] | None]:
            outbound = build_outbound(message, open_parts(), profile, signer=signer,
                                      recipient_certificate=pmode.encryption_certificate)
            return (outbound, *_first_bytes(outbound.body, SMALL_BODY))

        try:
            outbound, head, rest = await asyncio.to_thread(build)
        except (ValueError, KeyError) as exc:  # e.g. a Peppol SBDH that contradicts the header, a lost payload
            raise _Unbuildable(OTHER, f"cannot build the message: {exc}") from None
        # A small message goes as one body with a Content-Length (the receiver reads it in one go); a large one
        # streams, produced chunk by chunk off the event loop.
        data: Any = head if rest is None else _stream(itertools.chain((head,), rest))
        try:
            async with self.http.post(pmode.endpoint, data=data,
                                      headers={"Content-Type": outbound.content_type},
                                      timeout=aiohttp.ClientTimeout(total=self.timeout_s)) as resp:
                status, content_type, body = resp.status, resp.headers.get("Content-Type", ""), await resp.read()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise _Retry(CONNECTION_FAILURE, f"{pmode.endpoint}: {type(exc).__name__}: {exc}") from None
        if status != 200:
            raise _Retry(MISSING_RECEIPT, f"{pmode.endpoint} answered HTTP {status}")
        try:
            await asyncio.to_thread(check_response, content_type, body, outbound, profile=profile,
                                    signer_resolver=signer_resolver(pmode), key_store=self.key_store)
        except EbmsError as exc:
            if _is_error_signal(body):
                raise
            raise _Retry(exc.code, exc.detail) from None
        except Exception as exc:  # an answer that is not a SOAP signal at all
            raise _Retry(MISSING_RECEIPT, f"unreadable answer: {type(exc).__name__}: {exc}") from None
        return content_type, body, outbound.envelope

    async def _retry(self, row: Any, now: datetime, attempt: int, pmode: PMode, problem: _Retry,
                     facts: dict[str, Any]) -> None:
        if attempt > len(pmode.retry):
            await self._fail(row, now, attempt, MISSING_RECEIPT,
                             f"no receipt after {attempt} attempts; last: {problem.code} {problem.text}",
                             {**facts, "last_code": problem.code})
            return
        next_at = now + timedelta(seconds=pmode.retry[attempt - 1])
        await self._finish(row, now, attempt, status=PENDING, next_attempt_at=_ts(next_at),
                           last_error_code=problem.code, last_error_text=problem.text)
        await self._audit("as4.message.retry", {**facts, "code": problem.code, "next_attempt_at": _ts(next_at)})

    async def _fail(self, row: Any, now: datetime, attempts: int, code: str, text: str,
                    facts: dict[str, Any]) -> None:
        await self._finish(row, now, attempts, status=FAILED, last_error_code=code, last_error_text=text)
        await self._audit("as4.message.failed", {**facts, "code": code, "reason": text})

    async def _finish(self, row: Any, now: datetime, attempts: int, *, evidence: Sequence[Evidence] = (),
                      **values: Any) -> None:
        await self.state.finish_outbound(row.message_id, SENDING, {"attempts": attempts, "updated_at": _ts(now),
                                                                   **values}, evidence=evidence, now=now)

    async def _audit(self, event: str, details: dict[str, Any]) -> None:
        await self.node.audit.append(event, ACTOR, None, details)


# --- operator views and actions (gateway-node as4 status / resend) -------------------------------------------

async def message_status(engine: AsyncEngine, message_id: str) -> dict[str, Any] | None:
    """The outbox row (direction ``outbound``) or else the inbox row (``inbound``) of a MessageId; None if neither."""
    async with engine.connect() as conn:
        out = (await conn.execute(select(as4_outbound).where(as4_outbound.c.message_id == message_id))).first()
        if out is not None:
            return {"direction": "outbound", "message_id": out.message_id, "pmode_id": out.pmode_id,
                    "status": out.status, "attempts": out.attempts, "next_attempt_at": out.next_attempt_at,
                    "expires_at": out.expires_at, "last_error_code": out.last_error_code,
                    "last_error_text": out.last_error_text, "created_at": out.created_at,
                    "updated_at": out.updated_at, "receipt": out.receipt is not None}
        inn = (await conn.execute(select(as4_inbound).where(as4_inbound.c.message_id == message_id))).first()
    if inn is None:
        return None
    return {"direction": "inbound", "message_id": inn.message_id, "pmode_id": inn.pmode_id, "status": inn.status,
            "from_party": inn.from_party, "service": inn.service, "action": inn.action,
            "received_at": inn.received_at, "expires_at": inn.expires_at}


class ResendRefused(Exception):
    """Only an outbound message that failed can be resent (the text says why this one cannot)."""


async def resend(node: Node, message_id: str, *, actor: str = "operator", now: datetime | None = None) -> None:
    """A failed outbound message back to pending: attempts reset, due now, a fresh time to live of the
    original length; audited ``as4.message.resend``. ResendRefused when unknown or not failed."""
    now = now or _utc_now()
    async with node.engine.begin() as conn:
        row = (await conn.execute(select(as4_outbound).where(as4_outbound.c.message_id == message_id))).first()
        if row is None:
            raise ResendRefused(f"no outbound AS4 message {message_id!r}")
        if row.status != FAILED:
            raise ResendRefused(f"message {message_id!r} is {row.status}; only a failed message can be resent")
        ttl = datetime.fromisoformat(row.expires_at) - datetime.fromisoformat(row.created_at)
        done = await conn.execute(update(as4_outbound)
                                  .where(as4_outbound.c.message_id == message_id, as4_outbound.c.status == FAILED)
                                  .values(status=PENDING, attempts=0, next_attempt_at=_ts(now),
                                          expires_at=_ts(now + ttl), last_error_code=None, last_error_text=None,
                                          updated_at=_ts(now)))
        if done.rowcount != 1:
            raise ResendRefused(f"message {message_id!r} changed meanwhile; try again")
    await node.audit.append("as4.message.resend", actor, None, {
        "message_id": message_id, "pmode_id": row.pmode_id, "previous_attempts": row.attempts,
        "previous_error_code": row.last_error_code})


def _is_error_signal(body: bytes) -> bool:
    try:
        return isinstance(codec.parse_envelope(codec.load_envelope(body)).signal, EbmsErrorSignal)
    except Exception:
        return False


SMALL_BODY = 1024 * 1024


def _first_bytes(body: Iterator[bytes], limit: int) -> tuple[bytes, Iterator[bytes] | None]:
    """Up to about ``limit`` bytes of ``body``, and the rest (None when that was all of it)."""
    head = bytearray()
    for chunk in body:
        head += chunk
        if len(head) > limit:
            return bytes(head), body
    return bytes(head), None


async def _stream(body: Iterator[bytes]) -> AsyncIterator[bytes]:
    """The MIME body, produced off the event loop chunk by chunk (encryption and reading payloads block)."""
    while (chunk := await asyncio.to_thread(next, body, None)) is not None:
        yield chunk
