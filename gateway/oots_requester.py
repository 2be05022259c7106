"""The requester side of the OOTS exchange (issue #9 points 4–5): a portal's evidence request → Evidence Broker →
Data Service Directory (DSD:ERR:0005: the user's answers, then a second query) → one EDM exchange per evidence
type: request #1 over AS4 → evidence, or EDM:ERR:0002 → request #2 at once (the user is redirected to the
PreviewLocation with the portal's return URL) → evidence or error. All state is in the database.

Request states: ``input-required`` (DSD asks the user) → ``exchanging`` → ``preview-required`` (some exchange
waits for the user's preview) → ``completed`` (every exchange answered; evidence may be empty: TC02) or
``failed`` (an exchange failed: EDM exception, AS4 delivery failure, timeout; the codes are kept).
Exchange states: ``sent`` → (``preview``) → ``evidence`` | ``no-evidence`` | ``failed``.

Timeouts: request #1 waits T1 + margin, request #2 T2 + T3 + margin (the requester's longer than the provider's).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import aiohttp
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from as4.model import UserMessage
from as4.parts import Part
from gateway import correlation
from gateway.db.engine import writer_connection
from gateway.db.oots_requests_schema import oots_evidence, oots_exchange, oots_request
from gateway.db.schema import as4_outbound
from gateway.oots_services import common_services_client
from oots.commonservices.client import CommonServicesClient
from oots.commonservices.model import AdditionalInputRequired, CommonServicesError, RequirementInfo
from oots.edm import parse_message, to_bytes
from oots.edm.errors import EdmCodecError
from oots.edm.model import Address, Agent, ExceptionResponse, Identifier, NaturalPerson, QueryRequest, Text
from oots.requester.requests import RequestBuildError, choose_version, first_request, second_request
from oots.transport import REGREP_MIME, check_header
from oots.validation import validate_bytes

if TYPE_CHECKING:
    from gateway.oots_node import OotsNode

log = logging.getLogger("gateway.oots.requester")
ACTOR = "oots-requester"
FINAL = frozenset({"evidence", "no-evidence", "failed"})
LOAS = ("Low", "Substantial", "High")


class RequesterError(Exception):
    """A refused portal request: ``code`` stable, ``status`` the HTTP status the API answers with."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def person_from(data: Any) -> NaturalPerson:
    """The MDS + LoA the portal gives (from its eIDAS session)."""
    if not isinstance(data, Mapping):
        raise RequesterError("OOTS_REQ_PERSON", "person: expected an object with the MDS and the LoA")
    missing = [k for k in ("family_name", "given_name", "date_of_birth", "identifier", "level_of_assurance")
               if not isinstance(data.get(k), str) or not data.get(k)]
    if missing:
        raise RequesterError("OOTS_REQ_PERSON", f"person: missing {', '.join(missing)}")
    if data["level_of_assurance"] not in LOAS:
        raise RequesterError("OOTS_REQ_LOA", f"person.level_of_assurance must be one of {', '.join(LOAS)}")
    try:
        datetime.strptime(data["date_of_birth"], "%Y-%m-%d")
    except ValueError:
        raise RequesterError("OOTS_REQ_PERSON", "person.date_of_birth: expected YYYY-MM-DD") from None
    return NaturalPerson(data["family_name"], data["given_name"], data["date_of_birth"],
                         Identifier(data["identifier"], "eidas"), data["level_of_assurance"])


def redirect_url(preview_location: str, return_url: str | None) -> str:
    """Where the portal sends the user: the PreviewLocation with the return URL appended (UJ4)."""
    if not return_url:
        return preview_location
    joiner = "&" if "?" in preview_location else "?"
    return f"{preview_location}{joiner}returnurl={quote(return_url, safe='')}"


class Requester:
    def __init__(self, oots: OotsNode) -> None:
        self.oots = oots
        self.node = oots.node
        self.settings = oots.settings
        self._cs: CommonServicesClient | None = None
        self._cache: dict[tuple[str, ...], tuple[float, Any]] = {}
        self.cache_ttl_s = 300.0
        self.housekeeping_every_s = 0.5
        self._next_housekeeping = 0.0

    @property
    def agent(self) -> Agent:
        s = self.settings
        return Agent(Identifier(s.requester_id, s.requester_scheme), (Text(s.requester_name or s.requester_id, "EN"),),
                     Address(admin_unit_level_1=self.node.settings.node.country), "ER")

    def cs(self) -> CommonServicesClient:
        if self._cs is None:
            if self.oots.http is None:
                raise RequesterError("OOTS_REQ_NOT_RUNNING", "the node's OOTS service is not running", 503)
            self._cs = common_services_client(self.node.settings, self.oots.http)
        return self._cs

    async def _cached(self, key: tuple[str, ...], fetch: Callable[[], Any]) -> Any:
        """EB/DSD answers change rarely: kept ``cache_ttl_s`` per process (errors are not cached)."""
        hit = self._cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        value = await fetch()
        self._cache[key] = (time.monotonic() + self.cache_ttl_s, value)
        return value

    # --- portal operations --------------------------------------------------------------------------------------

    async def create(self, client_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        if not self.settings.requester_id:
            raise RequesterError("OOTS_REQ_DISABLED", "this node has no requester identity (oots.requester_id)", 503)
        procedure, country = body.get("procedure"), body.get("country")
        if not isinstance(procedure, str) or not procedure:
            raise RequesterError("OOTS_REQ_PROCEDURE", "procedure: expected the procedure code (e.g. T2)")
        if not isinstance(country, str) or len(country) != 2 or not country.isupper():
            raise RequesterError("OOTS_REQ_COUNTRY", "country: expected an ISO 3166-1 alpha-2 code")
        person = person_from(body.get("person"))
        requirements = body.get("requirements") or []
        if not isinstance(requirements, list) or not all(isinstance(r, str) for r in requirements):
            raise RequesterError("OOTS_REQ_REQUIREMENTS", "requirements: expected a list of requirement ids")
        for key in ("return_url", "notify_url"):
            value = body.get(key)
            if value is not None and (not isinstance(value, str) or not value.startswith(("https://", "http://"))):
                raise RequesterError("OOTS_REQ_URL", f"{key}: expected an absolute http(s) URL")
        now = self.oots.clock()
        request_id = str(uuid.uuid4())
        spec = {"requirements": requirements, "preview": bool(body.get("preview_allowed", True)),
                "notify_secret": secrets.token_urlsafe(24) if body.get("notify_url") else None}
        async with self.node.engine.begin() as conn:
            await conn.execute(insert(oots_request).values(
                id=request_id, client_id=client_id, state="discovering", procedure=procedure, country=country,
                specification=json.dumps(spec), person=json.dumps(_person_doc(person)), answers="{}",
                return_url=body.get("return_url"), notify_url=body.get("notify_url"),
                correlation_id=correlation.current(), created_at=_iso(now), updated_at=_iso(now)))
        await self._audit("oots.request.created", request_id, {"procedure": procedure, "country": country,
                                                               "portal": client_id})
        await self._discover(request_id)
        view = await self.view(request_id)
        if spec["notify_secret"]:
            view["notify_secret"] = spec["notify_secret"]  # shown once, to verify the webhook's signatures
        return view

    async def provide_input(self, request_id: str, answers: Any) -> dict[str, Any]:
        row = await self._row(request_id)
        if row.state != "input-required":
            raise RequesterError("OOTS_REQ_STATE", f"the request is {row.state}, not input-required", 409)
        if not isinstance(answers, Mapping) or not all(isinstance(v, str) for v in answers.values()):
            raise RequesterError("OOTS_REQ_ANSWERS", "answers: expected {concept id: value}")
        merged = {**json.loads(row.answers), **answers}
        await self._set(request_id, state="discovering", answers=json.dumps(merged), input_required=None)
        await self._discover(request_id)
        return await self.view(request_id)

    async def view(self, request_id: str) -> dict[str, Any]:
        row = await self._row(request_id)
        async with self.node.engine.connect() as conn:
            exchanges = (await conn.execute(select(oots_exchange).where(oots_exchange.c.request_id == request_id)
                                            .order_by(oots_exchange.c.id))).all()
            evidence = (await conn.execute(select(oots_evidence.c.id, oots_evidence.c.exchange_id,
                                                  oots_evidence.c.media_type, oots_evidence.c.size,
                                                  oots_evidence.c.sha256, oots_evidence.c.metadata)
                                           .where(oots_evidence.c.request_id == request_id)
                                           .order_by(oots_evidence.c.id))).all()
        return {
            "id": row.id, "state": row.state, "procedure": row.procedure, "country": row.country,
            "created_at": row.created_at, "updated_at": row.updated_at, "correlation_id": row.correlation_id,
            "error": {"code": row.error_code, "detail": row.error_detail} if row.error_code else None,
            "input_required": json.loads(row.input_required) if row.input_required else None,
            "exchanges": [{
                "id": x.id, "state": x.state, "evidence_type": x.evidence_type, "provider": x.provider,
                "access_service": x.access_service, "edm_version": x.edm_version, "message_id": x.message_id,
                "edm_request_id": x.edm_request_id, "second_request": bool(x.second),
                "preview_location": x.preview_location,
                "redirect_url": redirect_url(x.preview_location, row.return_url) if x.preview_location else None,
                "error": {"code": x.error_code, "detail": x.error_detail} if x.error_code else None,
                "deadline": x.deadline} for x in exchanges],
            "evidence": [{"id": e.id, "exchange_id": e.exchange_id, "media_type": e.media_type, "size": e.size,
                          "sha256": e.sha256, "metadata": json.loads(e.metadata)} for e in evidence],
        }

    async def evidence_bytes(self, request_id: str, evidence_id: str) -> tuple[bytes, str, str] | None:
        async with self.node.engine.connect() as conn:
            row = (await conn.execute(select(oots_evidence).where(oots_evidence.c.id == evidence_id,
                                                                  oots_evidence.c.request_id == request_id))).first()
        return None if row is None else (bytes(row.content), row.media_type, row.sha256)

    # --- discovery and request #1 ---------------------------------------------------------------------------

    async def _discover(self, request_id: str) -> None:
        row = await self._row(request_id)
        spec = json.loads(row.specification)
        answers = json.loads(row.answers)
        cs = self.cs()
        try:
            requirements: list[RequirementInfo] = await self._cached(
                ("eb-req", row.procedure, row.country), lambda: cs.requirements(row.procedure, row.country))
            if spec["requirements"]:
                requirements = [r for r in requirements if r.identifier in spec["requirements"]]
                if not requirements:
                    raise RequesterError("OOTS_REQ_REQUIREMENTS", "none of the requirements belongs to the procedure")
            wanted = []
            for requirement in requirements:
                typed = await self._cached(("eb-types", requirement.identifier, row.country),
                                           lambda r=requirement: cs.evidence_types(r.identifier, row.country))
                lists = [lst for info in typed for lst in info.evidence_type_lists]
                chosen = next((lst for lst in lists if lst.jurisdiction == row.country), lists[0] if lists else None)
                if chosen is None:
                    raise RequesterError("OOTS_REQ_NO_EVIDENCE_TYPE", f"no evidence type for {requirement.identifier}")
                wanted += [(requirement, t.classification) for t in chosen.evidence_types]
            offers = []
            asked = []
            relevant = dict(answers)
            for requirement, classification in wanted:
                try:
                    found = await self._cached(
                        ("dsd", classification, row.country, json.dumps(relevant, sort_keys=True)),
                        lambda c=classification: cs.data_services(c, row.country, additional=relevant or None))
                except AdditionalInputRequired as exc:
                    asked += [{"identifier": c.identifier, "type": c.type, "values": list(c.supported_values),
                               "description": [{"lang": t.lang, "value": t.value} for t in c.descriptions],
                               "evidence_type": classification} for c in exc.concepts]
                    continue
                offers.append((requirement, found[0]))
        except CommonServicesError as exc:
            await self._fail_request(request_id, exc.code, exc.message)
            return
        except RequesterError as exc:
            await self._fail_request(request_id, exc.code, exc.message)
            return
        if asked:
            await self._set(request_id, state="input-required", input_required=json.dumps(asked))
            await self._audit("oots.request.input_required", request_id, {"outcome": "DSD:ERR:0005"})
            await self._notify(request_id)
            return
        await self._set(request_id, state="exchanging")
        for requirement, offer in offers:
            try:
                await self._send_first(row, requirement, offer, answers, spec["preview"])
            except (RequestBuildError, RequesterError) as exc:
                await self._fail_request(request_id, exc.code, exc.message)
                return
        await self._refresh(request_id)

    async def _send_first(self, row: Any, requirement: RequirementInfo, offer: Any, answers: Mapping[str, str],
                          preview: bool) -> None:
        service = offer.access_services[0]
        routes = self.settings.routes.get(service.identifier.value, {})
        version = choose_version(service, [v for v in ("oots-edm:v2.0", "oots-edm:v1.2") if v in routes])
        person = _person(json.loads(row.person))
        now = self.oots.clock()
        request = first_request(offer=offer, service=service, requirements=[requirement], procedure=row.procedure,
                                person=person, requesters=[self.agent, self.oots.node_agent],
                                possibility_for_preview=preview, now=now, new_id=lambda: str(uuid.uuid4()),
                                answers=answers or None, version=version)
        exchange_id = str(uuid.uuid4())
        exchange_uuid = str(uuid.uuid4())
        message_id = await self._send(request, routes[version], exchange_uuid, conversation_id=exchange_uuid)
        async with self.node.engine.begin() as conn:
            await conn.execute(insert(oots_exchange).values(
                id=exchange_id, request_id=row.id, evidence_type=offer.evidence_type.classification,
                provider=request.evidence_provider.identifier.value, access_service=service.identifier.value,
                pmode_id=routes[version], edm_version=version, state="sent", request1=to_bytes(request),
                edm_request_id=request.id, message_id=message_id, exchange_uuid=exchange_uuid, second=False,
                deadline=_iso(now + timedelta(seconds=self.settings.t1_s + self.settings.requester_margin_s)),
                updated_at=_iso(now)))
        await self._audit("oots.exchange.requested", row.id, {
            "exchange": exchange_id, "message_id": message_id, "edm_request_id": request.id,
            "requester": self.agent.identifier.value, "provider": request.evidence_provider.identifier.value,
            "evidence_type": offer.evidence_type.classification, "outcome": "sent", "second_request": False})

    async def _send(self, request: QueryRequest, pmode_id: str, exchange_uuid: str, *, conversation_id: str) -> str:
        from gateway.oots_node import corner_properties

        properties = corner_properties(self.agent, request.evidence_provider, request.specification_id, exchange_uuid)
        part = Part.from_bytes(f"regrep-{uuid.uuid4()}@{self.node.settings.node.id}", REGREP_MIME, to_bytes(request))
        return await self.oots.submit(pmode_id, [part], action="ExecuteQueryRequest", conversation_id=conversation_id,
                                      properties=properties)

    # --- responses ------------------------------------------------------------------------------------------

    async def on_response(self, user_message: UserMessage, document: bytes, others: Mapping[str, Any],
                          read: Callable[[str], bytes]) -> str:
        try:
            answer = parse_message(document)
        except EdmCodecError as exc:
            return f"unreadable:{exc.code}"
        async with self.node.engine.connect() as conn:
            x = (await conn.execute(select(oots_exchange).where(
                oots_exchange.c.edm_request_id == answer.request_id))).first()
        if x is None or x.state in FINAL:
            await self._audit("oots.response.unmatched", None, {"message_id": user_message.message_id,
                                                                "edm_request_id": answer.request_id})
            return "unmatched"
        problems = check_header(user_message, answer)
        report = await asyncio.to_thread(validate_bytes, document)  # our rules for its version
        problems += [f"{f.rule}: {f.message}" for f in report.findings if f.fatal]
        now = self.oots.clock()
        if problems:
            await self._finish(x, "failed", now, error=("OOTS_REQ_INVALID_RESPONSE", "; ".join(problems)[:2000]))
            return "OOTS_REQ_INVALID_RESPONSE"
        if isinstance(answer, ExceptionResponse):
            error = answer.exception
            if error.code == "EDM:ERR:0002" and error.preview_location and not x.second:
                first = parse_message(bytes(x.request1))
                assert isinstance(first, QueryRequest)
                row = await self._row(x.request_id)
                second = second_request(first, answer, now=now, new_id=lambda: str(uuid.uuid4()),
                                        return_location=row.return_url)
                message_id = await self._send(second, x.pmode_id, x.exchange_uuid,
                                              conversation_id=user_message.collaboration_info.conversation_id)
                deadline = now + timedelta(seconds=self.settings.t2_s + self.settings.t3_s
                                           + 2 * self.settings.requester_margin_s)
                async with self.node.engine.begin() as conn:
                    await conn.execute(update(oots_exchange).where(oots_exchange.c.id == x.id).values(
                        state="preview", second=True, edm_request_id=second.id, message_id=message_id,
                        preview_location=error.preview_location, deadline=_iso(deadline), updated_at=_iso(now)))
                await self._audit("oots.exchange.requested", x.request_id, {
                    "exchange": x.id, "message_id": message_id, "edm_request_id": second.id,
                    "requester": self.agent.identifier.value, "provider": x.provider, "evidence_type": x.evidence_type,
                    "outcome": "preview-required", "second_request": True,
                    "response_message_id": user_message.message_id})
                await self._refresh(x.request_id)
                return "preview-required"
            await self._finish(x, "failed", now, error=(error.code, (error.detail or error.message)[:2000]),
                               message_id=user_message.message_id)
            return error.code
        stored = []
        for item in answer.evidence:
            cid = item.repository_item.content_id if item.repository_item else None
            view = others.get(cid or "")
            if view is None:
                await self._finish(x, "failed", now, error=("OOTS_REQ_PART_MISSING", f"no part for evidence {item.id}"))
                return "OOTS_REQ_PART_MISSING"
            content = await asyncio.to_thread(read, view["payload_id"])
            meta = item.metadata
            stored.append(dict(
                id=str(uuid.uuid4()), request_id=x.request_id, exchange_id=x.id, content_id=cid,
                media_type=view["content_type"], sha256=hashlib.sha256(content).hexdigest(), size=len(content),
                content=content, metadata=json.dumps({
                    "evidence_id": meta.identifier, "evidence_type": meta.classification,
                    "title": [{"lang": t.lang, "value": t.value} for t in meta.titles],
                    "issuing_authority": meta.issuing_authority.identifier.value, "issuing_date": meta.issuing_date,
                    "format": meta.distribution.format, "classification_node": item.classification_node})))
        await self._finish(x, "evidence" if stored else "no-evidence", now, message_id=user_message.message_id,
                           count=len(stored), evidence=stored)
        return f"evidence:{len(stored)}"

    async def _finish(self, x: Any, state: str, now: datetime, *, error: tuple[str, str] | None = None,
                      message_id: str | None = None, count: int = 0, evidence: list[dict[str, Any]] | None = None
                      ) -> None:
        """The exchange's final state, its evidence and the request's resulting state in one transaction (only
        the first answer counts): one write per answer, not one per table."""
        async with self.node.engine.begin() as conn:
            done = await conn.execute(update(oots_exchange).where(oots_exchange.c.id == x.id,
                                                                  oots_exchange.c.state.notin_(FINAL)).values(
                state=state, request1=None, updated_at=_iso(now),
                error_code=error[0] if error else None, error_detail=error[1] if error else None))
            if done.rowcount != 1:  # answered already: nothing was changed
                return
            if evidence:
                await conn.execute(insert(oots_evidence), evidence)
            changed = await self._settle(conn, x.request_id)
        await self._audit("oots.exchange.answered", x.request_id, {
            "exchange": x.id, "message_id": message_id or x.message_id, "request_message_id": x.message_id,
            "edm_request_id": x.edm_request_id, "requester": self.agent.identifier.value, "provider": x.provider,
            "evidence_type": x.evidence_type, "outcome": error[0] if error else f"{state}:{count}"})
        if changed:
            await self._notify(x.request_id)

    # --- states, timeouts, AS4 failures, notifications ----------------------------------------------------

    async def _refresh(self, request_id: str) -> None:
        # A writer from the start: on SQLite a transaction that reads first cannot become a writer once another
        # process committed meanwhile (SQLITE_BUSY_SNAPSHOT, no waiting).
        conn = await writer_connection(self.node.engine)
        try:
            async with conn.begin():
                changed = await self._settle(conn, request_id)
        finally:
            await conn.close()
        if changed:
            await self._notify(request_id)

    async def _settle(self, conn: AsyncConnection, request_id: str) -> bool:
        """The request's state from its exchanges' states, in the caller's transaction; True when it was set
        (the portal is then notified)."""
        states = [r.state for r in (await conn.execute(select(oots_exchange.c.state).where(
            oots_exchange.c.request_id == request_id))).all()]
        failed = (await conn.execute(select(oots_exchange.c.error_code, oots_exchange.c.error_detail).where(
            oots_exchange.c.request_id == request_id, oots_exchange.c.state == "failed"))).first()
        current = (await conn.execute(select(oots_request.c.state).where(oots_request.c.id == request_id))).first()
        if current is None:
            raise RequesterError("not-found", "no such evidence request", 404)
        if current.state in ("completed", "failed", "input-required", "discovering") or not states:
            return False
        values: dict[str, Any]
        if all(s in FINAL for s in states):
            if failed is not None:
                values = dict(state="failed", error_code=failed.error_code, error_detail=failed.error_detail,
                              person=None)
            else:
                values = dict(state="completed", person=None)
        else:
            values = dict(state="preview-required" if "preview" in states else "exchanging")
        await conn.execute(update(oots_request).where(oots_request.c.id == request_id)
                           .values(**values, updated_at=_iso(self.oots.clock())))
        return True

    async def housekeeping(self) -> None:
        """Exchanges whose AS4 message failed (dead letter: the partner unreachable, TC04) or whose deadline
        passed fail; portals are notified of changes they were not told yet."""
        if time.monotonic() < self._next_housekeeping:
            return
        self._next_housekeeping = time.monotonic() + self.housekeeping_every_s
        now = self.oots.clock()
        waiting = oots_exchange.c.state.in_(("sent", "preview"))
        async with self.node.engine.connect() as conn:
            dead = (await conn.execute(
                select(oots_exchange, as4_outbound.c.last_error_code, as4_outbound.c.last_error_text)
                .join(as4_outbound, as4_outbound.c.message_id == oots_exchange.c.message_id)
                .where(waiting, as4_outbound.c.status == "failed"))).all()
            late = (await conn.execute(select(oots_exchange).where(waiting, oots_exchange.c.deadline < _iso(now))
                                       )).all()
        for x in dead:
            await self._finish(x, "failed", now, error=(x.last_error_code or "EBMS:0301",
                                                        f"AS4 delivery failed: {x.last_error_text}"))
        for x in late:
            await self._finish(x, "failed", now,
                               error=("OOTS_REQ_TIMEOUT", f"no answer before the deadline {x.deadline}"))

    async def _notify(self, request_id: str) -> None:
        row = await self._row(request_id)
        if not row.notify_url or row.notified_state == row.state or self.oots.http is None:
            return
        secret = json.loads(row.specification).get("notify_secret") or ""
        body = json.dumps({"id": request_id, "state": row.state, "updated_at": row.updated_at}).encode()
        stamp = int(time.time())
        signature = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        try:
            async with self.oots.http.post(row.notify_url, data=body, headers={
                    "Content-Type": "application/json", "X-OOTS-Signature": f"t={stamp},v1={signature}"},
                    timeout=_timeout(5)) as resp:
                ok = 200 <= resp.status < 300
        except Exception as exc:  # polling still works; the next change notifies again
            log.warning("portal webhook for %s failed: %r", request_id, exc)
            ok = False
        if ok:
            await self._set(request_id, notified_state=row.state, touch=False)

    async def _fail_request(self, request_id: str, code: str, detail: str) -> None:
        await self._set(request_id, state="failed", error_code=code, error_detail=detail[:2000], person=None)
        await self._audit("oots.request.failed", request_id, {"outcome": code})
        await self._notify(request_id)

    async def _row(self, request_id: str) -> Any:
        async with self.node.engine.connect() as conn:
            row = (await conn.execute(select(oots_request).where(oots_request.c.id == request_id))).first()
        if row is None:
            raise RequesterError("not-found", "no such evidence request", 404)
        return row

    async def _set(self, request_id: str, *, touch: bool = True, **values: Any) -> None:
        if touch:
            values["updated_at"] = _iso(self.oots.clock())
        async with self.node.engine.begin() as conn:
            await conn.execute(update(oots_request).where(oots_request.c.id == request_id).values(**values))

    async def _audit(self, event: str, request_id: str | None, details: dict[str, Any]) -> None:
        await self.node.audit.append(event, ACTOR, None, {"request": request_id, **details},
                                     correlation_id=request_id)


def _timeout(seconds: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=seconds)


def _person_doc(person: NaturalPerson) -> dict[str, Any]:
    return {"family_name": person.family_name, "given_name": person.given_name, "date_of_birth": person.date_of_birth,
            "identifier": person.identifier.value if person.identifier else None,
            "level_of_assurance": person.level_of_assurance}


def _person(doc: Mapping[str, Any]) -> NaturalPerson:
    return NaturalPerson(doc["family_name"], doc["given_name"], doc["date_of_birth"],
                         Identifier(doc["identifier"], "eidas"), doc["level_of_assurance"])
