"""The AS4 receiving endpoint: ``POST /as4`` → as4.pipeline.receive → duplicate check → durable store → signal.

Partners authenticate by their message signature (checked against the PMode), not by API credentials, so the
route lives outside ``/api/``. Order of work for an accepted message: the payloads go into the payload store,
then the ``as4_inbound`` row with the receipt bytes is committed, and only then is the receipt returned —
nothing is acknowledged before it is durable. A resent message (same ebMS MessageId) gets the very receipt
stored the first time and is neither stored nor delivered again; two copies arriving at once meet at the
primary key, and the loser answers with the winner's receipt.

HTTP status of refusals: an ebMS error signal is a normal SOAP response (an ``eb:SignalMessage``, no SOAP
Fault), so it goes back with HTTP 200, as phase4 answers inside a valid SOAP exchange; the sender's
``check_response`` raises the EbmsError it carries. HTTP errors are kept for what never became an ebMS
exchange: a body over ``as4.max_message_bytes`` is 413 problem JSON.

The body is never held whole: the pipeline runs in a worker thread and pulls the request stream chunk by
chunk (``gateway.web.streams``), attachments spool to disk, payloads stream into the payload store. The
accepted row names its backend (the PMode's ``backend`` client) and waits there for delivery
(``gateway.as4_delivery``); the signed envelope and the receipt go into the NR archive in the same
transaction. An ebMS test message (``as4 ping``) is answered and archived but never delivered.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select

from as4.errors import EbmsError
from as4.model import Party, UserMessage
from as4.payload_store import KEY_BYTES, LocalDirectoryStore, PayloadStore, StoredPayload
from as4.pipeline import Received, receive
from as4.pmode import PMode, agreement_for, is_test_message, select_pmode
from as4.profiles import As4Profile
from gateway import correlation
from gateway.as4_archive import INBOUND, MESSAGE, RECEIPT, Evidence, archive
from gateway.as4_documents import message_document
from gateway.as4_dynamic import DynamicInbound, InboundDiscovery
from gateway.as4_pmodes import PModeStore
from gateway.as4_state import As4State
from gateway.audit.keys import create_private_once
from gateway.db.schema import as4_archive, as4_inbound
from gateway.runtime import Node
from gateway.web.problem import problem
from gateway.web.streams import BodyTooLarge, pull_chunks
from pki.keys.port import KeyNotFound, KeyPurpose, Signer

ACTOR = "as4-receiver"
PAYLOAD_KEY_FILE = "as4-payload-store.key"
STATUS_RECEIVED = "received"  # durable and acknowledged; delivery to the national backend comes next
SMALL_BODY = 1024 * 1024  # bodies up to this size (with a Content-Length) are read whole; larger ones stream
STATUS_DELIVERED = "delivered"  # the backend acknowledged it (test messages start here: nothing to deliver)


def open_payload_store(node: Node) -> PayloadStore:
    """The node's payload store (``as4.payload_store``); its 32-byte at-rest key is made once under the keys dir
    (0600). Hosts sharing a database store must share that key file. The database store must be opened on the
    event loop it will use (it runs its queries there)."""
    settings = node.settings
    key_file = settings.keys_dir / PAYLOAD_KEY_FILE
    create_private_once(key_file, secrets.token_bytes(KEY_BYTES))
    if settings.as4.payload_store == "database":
        from gateway.as4_db_payload_store import DatabasePayloadStore

        spool = settings.node.data_dir / "spool"
        spool.mkdir(parents=True, exist_ok=True, mode=0o700)
        return DatabasePayloadStore(node.engine, key_file.read_bytes(), asyncio.get_running_loop(), spool_dir=spool)
    return LocalDirectoryStore(settings.node.data_dir / "payloads", key_file.read_bytes())


def _payload_view(record: StoredPayload) -> dict[str, Any]:
    return {"payload_id": record.payload_id, "content_id": record.content_id, "content_type": record.content_type,
            "size": record.size, "sha256": record.sha256}


def _party(party: Party) -> str:
    return ",".join(pid.value for pid in party.party_ids)


def _facts(message: UserMessage | None) -> dict[str, Any]:
    if message is None:
        return {}
    collab = message.collaboration_info
    return {"message_id": message.message_id, "from_party": _party(message.party_info.from_party),
            "service": collab.service.value, "action": collab.action}


@dataclass
class _Stored:
    receipt: bytes
    content_type: str
    payload_ids: list[str]


class As4Receiver:
    def __init__(self, node: Node, pmodes: PModeStore, payloads: PayloadStore, *, path: str = "/as4") -> None:
        if node.key_store is None:
            raise ValueError("the AS4 receiver needs the node's key store (pki.dir)")
        self.node = node
        self.key_store = node.key_store
        self.pmodes = pmodes
        self.payloads = payloads
        self.path = path
        self.max_body = node.settings.as4.max_message_bytes
        # Received attachments over the in-memory threshold spool here (the data volume, not a shared /tmp).
        self.spool_dir = node.settings.node.data_dir / "spool"
        self.spool_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.on_accepted: list[Callable[[], None]] = []  # wake-ups for the delivery worker
        self.discovered = InboundDiscovery.from_node(node)  # senders found through the network's PKI
        self.state = As4State(node)  # group commit of accepted messages

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(self.path, self.handle)

    def _signer_for(self, profile: As4Profile) -> Signer | None:
        try:
            return self.key_store.signer(KeyPurpose.AS4_SIGNING, family=profile.signing_family)
        except KeyNotFound:
            return None  # the signal goes out unsigned; the partner's check refuses it, which is the truth

    async def handle(self, request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > self.max_body:
            return await self._too_large()
        pmodes = await self.pmodes.active()
        content_type = request.headers.get("Content-Type", "")
        body: Iterable[bytes]
        if request.content_length is not None and request.content_length <= SMALL_BODY:
            body = [await request.read()]  # small: one read, no per-chunk hops between threads
        else:
            body = pull_chunks(asyncio.get_running_loop(), request.content.readany, self.max_body)
        try:
            finder = agreement_for(pmodes)
            if self.discovered is not None:
                finder = self.discovered.finder(finder)
            received = await asyncio.to_thread(
                receive, content_type, body, agreement_for=finder, key_store=self.key_store,
                signer_for=self._signer_for, spool_dir=self.spool_dir)
        except BodyTooLarge:
            return await self._too_large()
        try:
            if not received.accepted or received.user_message is None:
                assert received.error is not None
                await self._audit("as4.message.refused", {**_facts(received.user_message), "code": received.error.code,
                                                          "reason": received.error.detail})
                return self._answer(received.response_content_type, received.response_body)
            return await self._accept(received, self._route(pmodes, received.user_message))
        finally:
            received.close()

    def _route(self, pmodes: list[PMode], message: UserMessage) -> DynamicInbound:
        """Where an accepted message belongs: its static PMode, else (the pipeline accepted it through the
        network's PKI) the dynamic inbound route."""
        try:
            pmode = select_pmode(pmodes, message)
        except EbmsError:
            if self.discovered is None:
                raise
            return self.discovered.meta
        return DynamicInbound(pmode.id, pmode.backend, pmode.duplicate_detection_window_s)

    async def _too_large(self) -> web.Response:
        await self._audit("as4.message.refused", {"code": "http-413", "limit_bytes": self.max_body})
        return problem(413, "http-413", "Request Entity Too Large", f"the AS4 message exceeds {self.max_body} bytes")

    async def _accept(self, received: Received, pmode: DynamicInbound) -> web.Response:
        message = received.user_message
        assert message is not None
        # No look-up first: the primary key finds a duplicate (rare) when the row is inserted, and the common
        # case saves a query.
        test = is_test_message(message)
        records: list[StoredPayload] = [] if test else await asyncio.to_thread(
            lambda: [self.payloads.put(message.message_id, part) for part in received.payloads])
        now = datetime.now(UTC)
        stamp = now.isoformat(timespec="milliseconds")
        facts = _facts(message)
        row = dict(
            message_id=message.message_id, from_party=facts["from_party"], service=facts["service"],
            action=facts["action"], pmode_id=pmode.pmode_id, received_at=stamp,
            expires_at=(now + timedelta(seconds=pmode.duplicate_window_s)).isoformat(timespec="milliseconds"),
            status=STATUS_DELIVERED if test else STATUS_RECEIVED, receipt=received.response_body,
            receipt_content_type=received.response_content_type,
            payload_ids=json.dumps([r.payload_id for r in records]),
            correlation_id=correlation.current(), client_id=None if test else pmode.backend,
            user_message=json.dumps(message_document(message), separators=(",", ":")),
            payloads=json.dumps([_payload_view(r) for r in records], separators=(",", ":")),
            delivery_attempts=0, next_delivery_at=None if test else stamp, delivered_at=stamp if test else None,
            last_delivery_error=None)
        evidence = [Evidence(MESSAGE, "application/soap+xml", received.envelope),
                    Evidence(RECEIPT, received.response_content_type, received.response_body)]
        if not await self.state.insert_inbound(row, evidence, now):
            # This MessageId was stored before (or by a concurrent copy): keep that one, drop ours.
            await asyncio.to_thread(lambda: [self.payloads.delete(r.payload_id) for r in records])
            stored = await self._stored(message.message_id)
            if stored is None:
                raise RuntimeError(f"duplicate {message.message_id!r} vanished")
            return await self._duplicate(received, stored)
        await self._audit("as4.message.received", {
            **facts, "pmode_id": pmode.pmode_id, "payload_count": len(records), "test": test, "backend": pmode.backend,
            "payload_sizes": [r.size for r in records], "payload_ids": [r.payload_id for r in records]})
        for wake in self.on_accepted:
            wake()
        return self._answer(received.response_content_type, received.response_body)

    async def _duplicate(self, received: Received, stored: _Stored) -> web.Response:
        """A MessageId seen before: never stored or delivered again. A byte-identical resend gets the stored
        receipt; a re-built one (a sender that crashed and rebuilt the message: new CEK, new signature) gets the
        fresh receipt made for this transmission, since the stored one names digests this copy does not have;
        it is archived beside the first."""
        message = received.user_message
        assert message is not None
        first = await self._first_envelope(message.message_id)
        same = first is None or first == received.envelope
        await self._audit("as4.message.duplicate", {**_facts(message), "payload_ids": stored.payload_ids,
                                                    "retransmission": "identical" if same else "rebuilt"})
        if same:
            return self._answer(stored.content_type, stored.receipt)
        async with self.node.engine.begin() as conn:
            await archive(conn, message.message_id, INBOUND, [
                Evidence(MESSAGE, "application/soap+xml", received.envelope),
                Evidence(RECEIPT, received.response_content_type, received.response_body)],
                now=datetime.now(UTC), retention_days=self.node.settings.as4.archive_retention_days)
        return self._answer(received.response_content_type, received.response_body)

    async def _first_envelope(self, message_id: str) -> bytes | None:
        async with self.node.engine.connect() as conn:
            body = (await conn.execute(select(as4_archive.c.body).where(
                as4_archive.c.message_id == message_id, as4_archive.c.direction == INBOUND,
                as4_archive.c.kind == MESSAGE).order_by(as4_archive.c.id).limit(1))).scalar()
        return None if body is None else bytes(body)

    async def _stored(self, message_id: str) -> _Stored | None:
        async with self.node.engine.connect() as conn:
            row = (await conn.execute(select(as4_inbound.c.receipt, as4_inbound.c.receipt_content_type,
                                             as4_inbound.c.payload_ids)
                                      .where(as4_inbound.c.message_id == message_id))).first()
        return None if row is None else _Stored(bytes(row.receipt), row.receipt_content_type,
                                                 json.loads(row.payload_ids))

    async def _audit(self, event: str, details: dict[str, Any]) -> None:
        await self.node.audit.append(event, ACTOR, None, details)

    @staticmethod
    def _answer(content_type: str, body: bytes) -> web.Response:
        return web.Response(body=body, status=200, headers={"Content-Type": content_type})


AS4_RECEIVER_KEY: web.AppKey[As4Receiver] = web.AppKey("as4_receiver", As4Receiver)


def add_as4_receiver(app: web.Application, node: Node, *, path: str | None = None) -> As4Receiver:
    """Mount the receiver on ``app`` (the node must have a key store) at ``path`` (default ``as4.path``)."""
    receiver = As4Receiver(node, PModeStore(node.engine, recheck_s=1.0), open_payload_store(node),
                           path=path or node.settings.as4.path)
    receiver.add_routes(app)
    app[AS4_RECEIVER_KEY] = receiver
    return receiver
