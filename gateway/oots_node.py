"""The node's OOTS service over AS4 (issue #9 point 4): it consumes, in the node process, the AS4 messages the
OOTS PModes deliver to the configured service client (``oots.service_client``), and

* as provider answers ExecuteQueryRequest: admission (requester registered, EDM valid, LoA), data-service
  adapter, preview loop (request #2 held until the decision or T3) → ExecuteQueryResponse with the evidence as
  further parts, or ExceptionResponse — sent back over AS4 on the PMode of the reverse direction, referring to
  the request's MessageId, in its conversation, with originalSender/finalRecipient (v2.0: ExchangeId and
  SpecificationId);
* as requester hands ExecuteQueryResponse / ExceptionResponse to :class:`gateway.oots_requester.Requester`,
  which correlates them with the portal's evidence requests.

A message is taken once across node processes (``oots_inbound`` keyed by MessageId), answered, then
acknowledged in the AS4 inbox like a backend would. Request #2 is held by its own task, so a held preview never
blocks other messages.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from as4.model import MIME_TYPE, PartInfo, Property
from as4.parts import Part
from as4.payload_store import PayloadStore
from as4.pmode import PMode
from gateway import correlation
from gateway.as4_delivery import acknowledge
from gateway.as4_documents import message_from_document
from gateway.as4_pmodes import PModeStore
from gateway.as4_sender import As4Sender
from gateway.db.oots_requests_schema import oots_inbound
from gateway.db.schema import as4_inbound
from gateway.oots_dataservices import DataServices, build_data_services
from gateway.oots_preview_store import SqlPreviewStore
from gateway.runtime import Node
from oots.dataservice.router import DataServiceRouter
from oots.edm import parse_message, to_bytes
from oots.edm.errors import EdmCodecError
from oots.edm.model import Agent, ExceptionResponse, Identifier, QueryRequest, QueryResponse, Text
from oots.preview.machine import Timing
from oots.preview.service import PreviewService
from oots.provider.admission import Admission, RequesterRegistry
from oots.provider.preview_flow import PreviewFlow
from oots.provider.service import EvidenceProviderService
from oots.transport import ACTIONS, EXCHANGE_ID, REGREP_MIME, SERVICE, SPECIFICATION_ID

log = logging.getLogger("gateway.oots")
REQUEST_ACTION = "ExecuteQueryRequest"
RESPONSE_ACTIONS = frozenset({"ExecuteQueryResponse", "ExceptionResponse"})
ACTOR = "oots-node"


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return str(uuid.uuid4())


class OotsError(Exception):
    """``code``: stable OOTS_NODE_* code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def corner_properties(original_sender: Agent, final_recipient: Agent, specification_id: str,
                      exchange_id: str | None) -> list[Property]:
    """originalSender / finalRecipient typed with the agents' schemes; v2.0 also ExchangeId, SpecificationId."""
    props = [Property("originalSender", original_sender.identifier.value, original_sender.identifier.scheme_id),
             Property("finalRecipient", final_recipient.identifier.value, final_recipient.identifier.scheme_id)]
    if specification_id == "oots-edm:v2.0":
        if not exchange_id:
            raise OotsError("OOTS_NODE_EXCHANGE_ID", "oots-edm:v2.0 needs an ExchangeId")
        props += [Property(EXCHANGE_ID, exchange_id), Property(SPECIFICATION_ID, specification_id)]
    return props


def reply_pmode(pmodes: list[PMode], inbound: PMode, action: str) -> PMode:
    """The PMode of the reverse direction of ``inbound`` (same partner and profile) for ``action``."""
    for pmode in pmodes:
        if (pmode.initiator.party_id == inbound.responder.party_id
                and pmode.responder.party_id == inbound.initiator.party_id
                and pmode.service.value == SERVICE.value and pmode.action == action
                and pmode.profile.name == inbound.profile.name and pmode.backend is None):
            return pmode
    raise OotsError("OOTS_NODE_NO_REPLY_PMODE", f"no PMode for {action} to {inbound.initiator.party_id} "
                                                f"on {inbound.profile.name}")


class OotsNode:
    """Created with the web app (the requester API needs it); ``attach`` gives it the node's AS4 sender."""

    def __init__(self, node: Node, payloads: PayloadStore, *, clock: Callable[[], datetime] = _now) -> None:
        from gateway.oots_requester import Requester

        self.node = node
        self.settings = node.settings.oots
        self.payloads = payloads
        self.pmodes = PModeStore(node.engine, recheck_s=1.0)
        self.clock = clock
        self.wake = asyncio.Event()
        self.sender: As4Sender | None = None
        self.http: aiohttp.ClientSession | None = None
        self.on_submitted: list[Callable[[], None]] = []
        self._held: dict[str, asyncio.Task[None]] = {}  # message id → its task (lease renewed by heartbeat)
        self._next_heartbeat = 0.0
        self.data_services: DataServices | None = None
        self.adapter: DataServiceRouter | None = None  # the preview space reads the evidence it shows through it
        self.provider: EvidenceProviderService | None = None
        self.admission: Admission | None = None
        self.previews: PreviewService | None = None
        self.preview_flow: PreviewFlow | None = None  # the preview space (gateway/preview_web.py) hooks on_open
        self.node_agent = Agent(Identifier(node.settings.node.id, "urn:oasis:names:tc:ebcore:partyid-type:"
                                           f"unregistered:{node.settings.node.country}"),
                                (Text(f"OOTS gateway {node.settings.node.id}", "EN"),), None, "IP")
        self.requester = Requester(self)
        self._open_provider()

    def _open_provider(self) -> None:
        """The provider role, when the node has data services (oots.registers_url and/or oots.data_services)."""
        s = self.settings
        if not s.registers_url and not s.data_services:
            return
        if not s.preview_base_url:
            raise OotsError("OOTS_NODE_CONFIG", "oots.preview_base_url is needed with oots.registers_url or "
                                                "oots.data_services")
        self.data_services = build_data_services(s)
        assert self.data_services is not None
        adapter = self.data_services.router
        self.previews = PreviewService(SqlPreviewStore(self.node.engine), base_url=s.preview_base_url,
                                       clock=self.clock, poll_interval_s=0.05, audit=self.node.audit,
                                       timing=Timing(t2=_td(s.t2_s), t3=_td(s.t3_s)))
        flow = PreviewFlow(self.previews, adapter, clock=self.clock, new_id=_new_id,
                           part_domain=self.node.settings.as4.message_id_domain or "oots.gateway")
        self.preview_flow = flow
        self.adapter = adapter
        self.provider = EvidenceProviderService(adapter, flow, clock=self.clock, new_id=_new_id, audit=self.node.audit,
                                                part_domain=self.node.settings.as4.message_id_domain or "oots.gateway")
        self.admission = Admission(RequesterRegistry(frozenset(s.requesters), frozenset(s.intermediaries)),
                                   adapter.required_loa)

    def attach(self, sender: As4Sender, http: aiohttp.ClientSession) -> None:
        self.sender = sender
        self.http = http
        self.on_submitted.append(sender.wake.set)

    async def close(self) -> None:
        tasks = list(self._held.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.data_services is not None:
            await self.data_services.close()

    async def submit(self, pmode_id: str, parts: list[Part], *, action: str, conversation_id: str,
                     properties: list[Property], ref_to_message_id: str | None = None) -> str:
        if self.sender is None:
            raise OotsError("OOTS_NODE_NOT_RUNNING", "the node's AS4 sender is not running")
        message_id = await self.sender.submit(pmode_id, parts, action=action, service=SERVICE.value,
                                              service_type=SERVICE.type, conversation_id=conversation_id,
                                              properties=properties, ref_to_message_id=ref_to_message_id,
                                              client_id=self.settings.service_client)
        for wake in self.on_submitted:
            wake()
        return message_id

    # --- the worker -------------------------------------------------------------------------------------------

    async def run_forever(self, interval_s: float, *, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.wake.clear()
            try:
                await self.run_once()
                await self._heartbeat()
                await self.requester.housekeeping()
            except Exception:
                log.exception("OOTS service round failed")
            try:
                await asyncio.wait_for(self.wake.wait(), interval_s)
            except TimeoutError:
                pass
        await self.close()

    async def run_once(self) -> int:
        """Take the waiting inbound OOTS messages (new ones, and ones whose taker's lease ran out: that process
        died) ; each is handled by its own task."""
        client = self.settings.service_client
        cutoff = (self.clock() - timedelta(seconds=self.settings.lease_s)).isoformat()
        async with self.node.engine.connect() as conn:
            rows = (await conn.execute(
                select(as4_inbound.c.message_id, oots_inbound.c.taken_at)
                .select_from(as4_inbound.outerjoin(oots_inbound,
                                                   oots_inbound.c.message_id == as4_inbound.c.message_id))
                .where(as4_inbound.c.client_id == client, as4_inbound.c.status == "received",
                       (oots_inbound.c.taken_at.is_(None)) | (oots_inbound.c.taken_at < cutoff))
                .order_by(as4_inbound.c.received_at).limit(200))).all()
        rows = [row for row in rows if row.message_id not in self._held]
        fresh = [row.message_id for row in rows if row.taken_at is None]
        # New messages are taken together (one write transaction, not one per message); if another process took
        # one of them meanwhile, each is tried on its own.
        mine = set(fresh) if fresh and await self._take_all(fresh) else set()
        taken = 0
        for row in rows:
            if row.message_id not in mine and not await self._take(row.message_id, row.taken_at):
                continue
            taken += 1
            task = asyncio.create_task(self._handle(row.message_id), name=f"oots-{row.message_id}")
            self._held[row.message_id] = task
            task.add_done_callback(lambda _t, m=row.message_id: self._held.pop(m, None))
        return taken

    async def _take_all(self, message_ids: list[str]) -> bool:
        now = self.clock().isoformat()
        try:
            async with self.node.engine.begin() as conn:
                await conn.execute(insert(oots_inbound), [{"message_id": m, "taken_at": now} for m in message_ids])
        except IntegrityError:
            return False
        return True

    async def _take(self, message_id: str, expired: str | None) -> bool:
        now = self.clock().isoformat()
        try:
            async with self.node.engine.begin() as conn:
                if expired is None:
                    await conn.execute(insert(oots_inbound).values(message_id=message_id, taken_at=now))
                    return True
                done = await conn.execute(update(oots_inbound).where(oots_inbound.c.message_id == message_id,
                                                                     oots_inbound.c.taken_at == expired)
                                          .values(taken_at=now))
        except IntegrityError:
            return False
        if done.rowcount == 1:
            log.warning("OOTS message %s taken again: its lease expired", message_id)
        return bool(done.rowcount == 1)

    async def _heartbeat(self) -> None:
        """Renew the leases of the messages this process holds (a request #2 may wait up to T3)."""
        if not self._held or time.monotonic() < self._next_heartbeat:
            return
        self._next_heartbeat = time.monotonic() + self.settings.lease_s / 3
        async with self.node.engine.begin() as conn:
            await conn.execute(update(oots_inbound).where(oots_inbound.c.message_id.in_(list(self._held)))
                               .values(taken_at=self.clock().isoformat()))

    async def _handle(self, message_id: str) -> None:
        correlation.set_current(correlation.new_id())  # this task's work (its AS4 answer) shares one id
        outcome = "error"
        try:
            outcome = await self._dispatch(message_id)
        except OotsError as exc:
            outcome = exc.code
            log.warning("OOTS message %s: %s", message_id, exc)
            await self.node.audit.append("oots.message.refused", ACTOR, None,
                                         {"message_id": message_id, "outcome": exc.code, "detail": exc.message[:500]},
                                         correlation_id=message_id)
        except Exception:
            log.exception("OOTS message %s failed", message_id)
        if not outcome.startswith(("evidence:", "preview-required")):  # failures are kept for the operator
            async with self.node.engine.begin() as conn:
                await conn.execute(update(oots_inbound).where(oots_inbound.c.message_id == message_id)
                                   .values(outcome=outcome[:64]))
        await acknowledge(self.node, self.payloads, message_id, client_id=self.settings.service_client, mode="oots")

    async def _dispatch(self, message_id: str) -> str:
        async with self.node.engine.connect() as conn:
            row = (await conn.execute(select(as4_inbound).where(as4_inbound.c.message_id == message_id))).first()
        assert row is not None
        views = json.loads(row.payloads or "[]")
        # The stored header has no PayloadInfo: rebuilt from the stored parts (what check_header compares).
        user_message = dataclasses.replace(
            message_from_document(json.loads(row.user_message)),
            payload_info=tuple(PartInfo(f"cid:{v['content_id']}", (Property(MIME_TYPE, v["content_type"]),))
                               for v in views))
        regrep = [v for v in views if (v["content_type"] or "").split(";")[0].strip() == REGREP_MIME]
        if len(regrep) != 1:
            raise OotsError("OOTS_NODE_REGREP_PART", f"{len(regrep)} parts of type {REGREP_MIME}; exactly one needed")
        document = await asyncio.to_thread(self._read, regrep[0]["payload_id"])
        others = {v["content_id"]: v for v in views if v is not regrep[0]}
        inbound_pmode = next((p for p in await self.pmodes.active() if p.id == row.pmode_id), None)
        if inbound_pmode is None:
            raise OotsError("OOTS_NODE_NO_PMODE", f"PMode {row.pmode_id} is no longer active")
        action = user_message.collaboration_info.action
        if action == REQUEST_ACTION:
            return await self._provide(user_message, inbound_pmode, document)
        if action in RESPONSE_ACTIONS:
            return await self.requester.on_response(user_message, document, others, self._read)
        raise OotsError("OOTS_NODE_ACTION", f"action {action!r} is not an OOTS action")

    def _read(self, payload_id: str) -> bytes:
        return self.payloads.open(payload_id).read_all()

    # --- provider ---------------------------------------------------------------------------------------------

    async def _provide(self, user_message: Any, inbound: PMode, document: bytes) -> str:
        if self.provider is None or self.admission is None:
            raise OotsError("OOTS_NODE_NOT_PROVIDER", "this node has no data service (oots.registers_url, "
                                                      "oots.data_services)")
        answer, parts = await self.provider.answer_bytes(document, self.admission, node_agent=self.node_agent)
        action = ACTIONS[type(answer)]
        provider = answer.error_provider if isinstance(answer, ExceptionResponse) else answer.evidence_providers[0]
        requester = answer.evidence_requester
        original = user_message.message_property("originalSender")
        if requester is None:  # unreadable request: answer whoever sent it
            requester = Agent(Identifier(original.value if original else user_message.party_info.from_party.ids[0]
                                         .value, original.type if original else None), ())
        exchange = user_message.message_property(EXCHANGE_ID)
        properties = corner_properties(provider, requester, answer.specification_id,
                                       exchange.value if exchange else _new_id())
        regrep_cid = f"regrep-{_new_id()}@{self.node.settings.node.id}"
        payload = [Part.from_bytes(regrep_cid, REGREP_MIME, to_bytes(answer))]
        payload += [Part.from_bytes(p.content_id, p.media_type, p.content) for p in parts]
        pmode = reply_pmode(await self.pmodes.active(), inbound, action)
        sent = await self.submit(pmode.id, payload, action=action,
                                 conversation_id=user_message.collaboration_info.conversation_id,
                                 properties=properties, ref_to_message_id=user_message.message_id)
        outcome = answer.exception.code if isinstance(answer, ExceptionResponse) else f"evidence:{len(parts)}"
        await self.node.audit.append("oots.exchange.answered", ACTOR, None, {
            "role": "provider", "request_message_id": user_message.message_id, "message_id": sent,
            "edm_request_id": answer.request_id, "requester": requester.identifier.value,
            "provider": provider.identifier.value, "evidence_type": _evidence_type(answer, document),
            "outcome": outcome, "action": action}, correlation_id=answer.request_id)
        return outcome


def _evidence_type(answer: QueryResponse | ExceptionResponse, request: bytes) -> str | None:
    """The evidence type asked for (from the answer, else from the request when it can be read)."""
    if isinstance(answer, QueryResponse) and answer.evidence:
        return answer.evidence[0].metadata.classification
    try:
        parsed = parse_message(request)
    except EdmCodecError:
        return None
    return parsed.evidence_request.classification if isinstance(parsed, QueryRequest) else None


def _td(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def oots_enabled(node: Node) -> bool:
    return bool(node.settings.oots.service_client) and node.key_store is not None
