"""The AS4 backend API for national systems (``/api/as4/…``), behind the foundation's client authentication.

Sending: ``POST /api/as4/messages`` (multipart/form-data: a ``metadata`` JSON field first, then one or more
payload file fields) stores the message durably and answers 202 with its ebMS MessageId; the sender worker
takes it from there. ``GET /api/as4/messages[/{id}]`` shows the caller's own messages and their state.

Receiving: a message for a PMode whose ``backend`` is the caller waits in its inbox. Pull with
``GET /api/as4/inbox``, ``GET /api/as4/inbox/{id}``, ``GET /api/as4/inbox/{id}/payloads/{n}`` and
``POST /api/as4/inbox/{id}/ack``; or register ``PUT /api/as4/webhook`` and get pushes (gateway.as4_delivery).

Isolation: every row carries its owner; another client's message answers exactly like a missing one (404,
audited ``api.access.denied``). A PMode that names a ``backend`` can only be used by that client for sending.
Payloads stream from the request into the payload store (never whole in memory) and back out on download.
The OpenAPI description is ``GET /api/as4/openapi.json`` (public).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from aiohttp import BodyPartReader, web
from sqlalchemy import delete, select, update

from as4.model import Property
from as4.parts import Part
from as4.payload_store import PayloadStore, StoredPayload
from gateway.as4_delivery import acknowledge, delivery_document, reschedule_for_webhook
from gateway.as4_dynamic import DiscoveryUnavailable, DynamicRouting
from gateway.as4_openapi import OPENAPI
from gateway.as4_pmodes import PModeStore
from gateway.as4_sender import As4Sender, message_status
from gateway.auth.access import current_client, requires
from gateway.auth.ownership import load_owned, owned_by
from gateway.config import ConfigError
from gateway.db.schema import as4_inbound, as4_outbound, as4_webhook
from gateway.runtime import Node
from gateway.web.problem import ProblemError
from gateway.web.streams import BodyTooLarge, pull_chunks

BACKEND_ROLES = ("portal", "register")
PREFIX = "/api/as4"
_DEFAULT_LIMIT, _MAX_LIMIT = 100, 1000
_READ_CHUNK = 256 * 1024
_SMALL_PART = 1024 * 1024
_CONTENT_ID = re.compile(r"^[A-Za-z0-9!#$%&'*+\-./=?^_`{|}~@]{1,200}$")
_METADATA_KEYS = {"pmode_id", "action", "service", "service_type", "conversation_id", "ref_to_message_id",
                  "properties", "participant", "document_type", "process", "network"}


def _bad(detail: str, code: str = "invalid-request") -> ProblemError:
    return ProblemError(400, code, "Bad request", detail)


def _optional_text(meta: Mapping[str, Any], key: str) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 512:
        raise _bad(f"metadata.{key}: expected a non-empty string of at most 512 characters")
    return value


def _properties(meta: Mapping[str, Any]) -> list[Property]:
    raw = meta.get("properties", [])
    if not isinstance(raw, list):
        raise _bad("metadata.properties: expected a list of {name, value[, type]}")
    out = []
    for index, item in enumerate(raw):
        if (not isinstance(item, dict) or set(item) - {"name", "value", "type"}
                or not all(isinstance(item.get(k), str) and item.get(k) for k in ("name", "value"))
                or not isinstance(item.get("type", ""), str)):
            raise _bad(f"metadata.properties[{index}]: expected {{name, value[, type]}} with string values")
        out.append(Property(item["name"], item["value"], item.get("type") or None))
    return out


def _limit(request: web.Request) -> int:
    try:
        limit = int(request.query.get("limit", _DEFAULT_LIMIT))
    except ValueError:
        raise _bad("limit: expected an integer") from None
    if not 1 <= limit <= _MAX_LIMIT:
        raise _bad(f"limit: expected 1..{_MAX_LIMIT}")
    return limit


class BackendApi:
    def __init__(self, node: Node, pmodes: PModeStore, payloads: PayloadStore) -> None:
        self.node = node
        self.pmodes = pmodes
        self.payloads = payloads
        self.outbox = As4Sender(node, pmodes, payloads, None,
                                message_id_domain=node.settings.as4.message_id_domain)
        self.routing = DynamicRouting(node, pmodes)  # participant ids → PModes through SML/SMP
        self.on_submitted: list[Callable[[], None]] = []
        self.on_webhook: list[Callable[[], None]] = []
        self.max_submit = node.settings.as4.max_submit_bytes

    def add_routes(self, app: web.Application) -> None:
        r = app.router
        r.add_get(f"{PREFIX}/openapi.json", self.openapi)
        r.add_post(f"{PREFIX}/messages", self.submit)
        r.add_get(f"{PREFIX}/messages", self.list_sent)
        r.add_get(f"{PREFIX}/messages/{{message_id}}", self.sent_status)
        r.add_get(f"{PREFIX}/inbox", self.list_inbox)
        r.add_get(f"{PREFIX}/inbox/{{message_id}}", self.inbox_message)
        r.add_get(f"{PREFIX}/inbox/{{message_id}}/payloads/{{index}}", self.download)
        r.add_post(f"{PREFIX}/inbox/{{message_id}}/ack", self.ack)
        r.add_get(f"{PREFIX}/webhook", self.get_webhook)
        r.add_put(f"{PREFIX}/webhook", self.put_webhook)
        r.add_delete(f"{PREFIX}/webhook", self.delete_webhook)

    async def openapi(self, _request: web.Request) -> web.Response:
        return web.json_response(OPENAPI)

    # --- sending -----------------------------------------------------------------------------------------

    @requires(*BACKEND_ROLES)
    async def submit(self, request: web.Request) -> web.Response:
        client = current_client(request)
        if not request.content_type.startswith("multipart/form-data"):
            raise _bad("expected multipart/form-data: a 'metadata' JSON field, then payload file fields")
        reader = await request.multipart()
        first = await reader.next()
        if not isinstance(first, BodyPartReader) or first.name != "metadata":
            raise _bad("the first field must be 'metadata' (JSON)")
        try:
            meta = json.loads(await first.text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _bad("metadata: not JSON") from None
        if not isinstance(meta, dict):
            raise _bad("metadata: expected a JSON object")
        unknown = sorted(set(meta) - _METADATA_KEYS)
        if unknown:
            raise _bad(f"metadata: unknown key(s) {', '.join(unknown)}; expected {', '.join(sorted(_METADATA_KEYS))}")
        pmode_id = meta.get("pmode_id")
        if pmode_id is None and meta.get("participant") is not None:
            pmode_id = await self._discover(meta)
        if not isinstance(pmode_id, str) or not pmode_id:
            raise _bad("metadata.pmode_id (or participant + document_type for discovery): required")
        pmode = next((p for p in await self.pmodes.active() if p.id == pmode_id), None)
        if pmode is None or (pmode.backend is not None and pmode.backend != client.client_id):
            # Someone else's PMode looks exactly like a missing one.
            raise ProblemError(404, "unknown-pmode", "Not found", f"no PMode {pmode_id!r} for this client")
        properties = _properties(meta)
        texts = {key: _optional_text(meta, key) for key in ("action", "service", "service_type", "conversation_id",
                                                              "ref_to_message_id")}
        message_id = self.outbox.new_message_id()
        staged = await self._stage_payloads(reader, message_id, pmode.max_payload_bytes)
        # submit owns the staged payloads from here (it deletes them if the row cannot be committed).
        await self.outbox.submit(
            pmode.id, message_id=message_id, stored=staged, action=texts["action"], service=texts["service"],
            service_type=texts["service_type"], conversation_id=texts["conversation_id"],
            ref_to_message_id=texts["ref_to_message_id"], properties=properties, client_id=client.client_id)
        await self.node.audit.append("as4.message.submitted", client.client_id, None, {
            "message_id": message_id, "pmode_id": pmode.id, "payload_count": len(staged),
            "payload_sizes": [r.size for r in staged]})
        for wake in self.on_submitted:
            wake()
        return web.json_response({"message_id": message_id, "status": "pending",
                                  "links": {"status": f"{PREFIX}/messages/{message_id}"}}, status=202)

    async def _discover(self, meta: Mapping[str, Any]) -> str:
        """A PMode to the participant's access point, found through SML/SMP (gateway.as4_dynamic)."""
        ids = {key: _optional_text(meta, key) for key in ("participant", "document_type", "process", "network")}
        if ids["document_type"] is None:
            raise _bad("metadata.document_type: required with participant")
        try:
            return await self.routing.pmode_for(
                participant=ids["participant"] or "", document_type=ids["document_type"], process=ids["process"],
                network=ids["network"], action=_optional_text(meta, "action"))
        except DiscoveryUnavailable as exc:
            raise ProblemError(409, exc.code, "Discovery not configured", str(exc)) from None
        except ConfigError as exc:
            raise ProblemError(400, "unknown-network", "Bad request", str(exc)) from None
        except Exception as exc:  # smp_client.errors.SmpError and its subclasses carry a code
            code = getattr(exc, "code", None)
            if code is None:
                raise
            raise ProblemError(502, "discovery-failed", "Partner discovery failed", str(exc)[:500]) from None

    async def _stage_payloads(self, reader: Any, message_id: str, max_payload: int) -> list[StoredPayload]:
        """Each payload field streamed into the payload store under the coming message's id."""
        loop = asyncio.get_running_loop()
        staged: list[StoredPayload] = []
        total = 0
        try:
            while (field := await reader.next()) is not None:
                if not isinstance(field, BodyPartReader) or field.name != "payload":
                    raise _bad("after 'metadata' only 'payload' file fields may follow")
                content_type = field.headers.get("Content-Type", "application/octet-stream")
                content_id = (field.headers.get("Content-ID", "").strip("<> ")
                              or f"payload-{len(staged) + 1}@{self.node.settings.as4.message_id_domain}")
                if not _CONTENT_ID.match(content_id):
                    raise _bad(f"payload {len(staged) + 1}: invalid Content-ID {content_id!r}")
                limit = min(max_payload, self.max_submit - total)
                head, complete = await _read_head(field, _SMALL_PART)
                if len(head) > limit:
                    raise BodyTooLarge(limit)
                if complete:  # small: stored from memory, no per-chunk hops between threads
                    part = Part.from_bytes(content_id, content_type, head)
                else:
                    rest = pull_chunks(loop, lambda field=field: field.read_chunk(_READ_CHUNK), limit - len(head))
                    chunks = itertools.chain((head,), rest)
                    part = Part(content_id, content_type, lambda chunks=chunks: chunks)
                record = await asyncio.to_thread(self.payloads.put, message_id, part)
                staged.append(record)
                total += record.size
        except BodyTooLarge as exc:
            await asyncio.to_thread(lambda: [self.payloads.delete(r.payload_id) for r in staged])
            raise ProblemError(413, "payload-too-large", "Payload too large",
                               f"payloads exceed {exc.limit} bytes (PMode or as4.max_submit_bytes)") from None
        except BaseException:
            await asyncio.to_thread(lambda: [self.payloads.delete(r.payload_id) for r in staged])
            raise
        if not staged:
            raise _bad("at least one 'payload' field is required")
        return staged

    @requires(*BACKEND_ROLES)
    async def sent_status(self, request: web.Request) -> web.Response:
        message_id = request.match_info["message_id"]
        await load_owned(request, as4_outbound, message_id, resource="as4_message")
        status = await message_status(self.node.engine, message_id)
        return web.json_response(status)

    @requires(*BACKEND_ROLES)
    async def list_sent(self, request: web.Request) -> web.Response:
        client = current_client(request)
        query = select(as4_outbound.c.message_id).where(owned_by(as4_outbound, client))
        if status := request.query.get("status"):
            query = query.where(as4_outbound.c.status == status)
        query = query.order_by(as4_outbound.c.created_at.desc()).limit(_limit(request))
        async with self.node.engine.connect() as conn:
            ids = [row.message_id for row in await conn.execute(query)]
        return web.json_response({"messages": [await message_status(self.node.engine, i) for i in ids]})

    # --- receiving -----------------------------------------------------------------------------------------

    @requires(*BACKEND_ROLES)
    async def list_inbox(self, request: web.Request) -> web.Response:
        client = current_client(request)
        status = request.query.get("status", "received")
        if status not in ("received", "delivered"):
            raise _bad("status: expected received or delivered")
        query = (select(as4_inbound).where(owned_by(as4_inbound, client), as4_inbound.c.status == status)
                 .order_by(as4_inbound.c.received_at).limit(_limit(request)))
        async with self.node.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return web.json_response({"messages": [delivery_document(row._mapping) for row in rows]})

    async def _owned_inbound(self, request: web.Request) -> Mapping[str, Any]:
        return await load_owned(request, as4_inbound, request.match_info["message_id"], resource="as4_message")

    @requires(*BACKEND_ROLES)
    async def inbox_message(self, request: web.Request) -> web.Response:
        return web.json_response(delivery_document(await self._owned_inbound(request)))

    @requires(*BACKEND_ROLES)
    async def download(self, request: web.Request) -> web.StreamResponse:
        row = await self._owned_inbound(request)
        payload_ids = json.loads(row["payload_ids"])
        meta = json.loads(row["payloads"] or "[]")
        try:
            index = int(request.match_info["index"])
        except ValueError:
            raise _bad("payload index: expected an integer") from None
        if not 0 <= index < len(meta):
            raise ProblemError(404, "not-found", "Not found", "no such payload")
        if index >= len(payload_ids):
            raise ProblemError(410, "payload-gone", "Gone", "the payload was deleted after delivery (retention)")
        part = await asyncio.to_thread(self.payloads.open, payload_ids[index])
        response = web.StreamResponse(headers={
            "Content-Type": meta[index]["content_type"], "Content-Length": str(meta[index]["size"]),
            "X-Content-SHA256": meta[index]["sha256"], "Content-ID": f"<{meta[index]['content_id']}>"})
        await response.prepare(request)
        chunks = iter(part.chunks())
        while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
            await response.write(chunk)
        await response.write_eof()
        return response

    @requires(*BACKEND_ROLES)
    async def ack(self, request: web.Request) -> web.Response:
        client = current_client(request)
        row = await self._owned_inbound(request)
        changed = await acknowledge(self.node, self.payloads, row["message_id"], client_id=client.client_id,
                                    mode="pull")
        return web.json_response({"message_id": row["message_id"], "status": "delivered",
                                  "acknowledged_now": changed})

    # --- webhook registration ---------------------------------------------------------------------------

    @requires(*BACKEND_ROLES)
    async def get_webhook(self, request: web.Request) -> web.Response:
        client = current_client(request)
        async with self.node.engine.connect() as conn:
            row = (await conn.execute(select(as4_webhook.c.url, as4_webhook.c.updated_at)
                                      .where(as4_webhook.c.client_id == client.client_id))).first()
        if row is None:
            raise ProblemError(404, "not-found", "Not found", "no webhook registered")
        return web.json_response({"url": row.url, "updated_at": row.updated_at})

    @requires(*BACKEND_ROLES)
    async def put_webhook(self, request: web.Request) -> web.Response:
        client = current_client(request)
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _bad("the body must be JSON: {\"url\": \"https://…\"}") from None
        url = body.get("url") if isinstance(body, dict) else None
        if not isinstance(url, str) or not _webhook_url_ok(url):
            raise _bad("url: expected an absolute https URL (http only to loopback)", "invalid-webhook-url")
        secret = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        stamp = now.isoformat(timespec="milliseconds")
        async with self.node.engine.begin() as conn:
            await conn.execute(delete(as4_webhook).where(as4_webhook.c.client_id == client.client_id))
            await conn.execute(as4_webhook.insert().values(client_id=client.client_id, url=url, secret=secret,
                                                           updated_at=stamp))
            # What waited for pull (or for a webhook) becomes due for push now.
            await conn.execute(update(as4_inbound).where(owned_by(as4_inbound, client),
                                                         as4_inbound.c.status == "received")
                               .values(**reschedule_for_webhook(now)))
        await self.node.audit.append("as4.webhook.registered", client.client_id, None, {"url": url})
        for wake in self.on_webhook:
            wake()
        return web.json_response({"url": url, "secret": secret, "updated_at": stamp})

    @requires(*BACKEND_ROLES)
    async def delete_webhook(self, request: web.Request) -> web.Response:
        client = current_client(request)
        async with self.node.engine.begin() as conn:
            done = await conn.execute(delete(as4_webhook).where(as4_webhook.c.client_id == client.client_id))
        if done.rowcount != 1:
            raise ProblemError(404, "not-found", "Not found", "no webhook registered")
        await self.node.audit.append("as4.webhook.removed", client.client_id, None, {})
        return web.Response(status=204)


async def _read_head(field: BodyPartReader, limit: int) -> tuple[bytes, bool]:
    """Up to about ``limit`` bytes of a form field, and whether that was all of it."""
    head = bytearray()
    while len(head) <= limit:
        chunk = await field.read_chunk(_READ_CHUNK)
        if not chunk:
            return bytes(head), True
        head += chunk
    return bytes(head), False


def _webhook_url_ok(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if not parts.hostname or any(c.isspace() for c in url):
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1",
                                                                                    "localhost"))


BACKEND_API_KEY: web.AppKey[BackendApi] = web.AppKey("as4_backend_api", BackendApi)


def add_backend_api(app: web.Application, node: Node, payloads: PayloadStore) -> BackendApi:
    api = BackendApi(node, PModeStore(node.engine, recheck_s=1.0), payloads)
    api.add_routes(app)
    app[BACKEND_API_KEY] = api
    return api
