"""The requester REST API for procedure portals (issue #9 point 5), under ``/api/oots``, behind the node's client
authentication (role ``portal``); a portal sees only its own requests. OpenAPI at ``/api/oots/openapi.json``
(gateway/oots_openapi.py).

    POST /api/oots/requests                       create: procedure, country, person (MDS + LoA), options
    GET  /api/oots/requests                       the caller's requests (newest first)
    GET  /api/oots/requests/{id}                  state, exchanges (PreviewLocation + redirect URL), evidence
    POST /api/oots/requests/{id}/input            the user's answers to DSD:ERR:0005 → second DSD query
    GET  /api/oots/requests/{id}/evidence/{eid}   the evidence bytes (metadata in the request resource)

Changes are also pushed to the request's ``notify_url`` (signed: X-OOTS-Signature t=<unix>,v1=HMAC-SHA256(
notify_secret, '<t>.' + body)).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from gateway.auth.access import current_client, requires
from gateway.auth.ownership import load_owned, owned_by
from gateway.db.oots_requests_schema import oots_request
from gateway.oots_node import OotsNode
from gateway.oots_openapi import OPENAPI
from gateway.oots_requester import RequesterError
from gateway.web.problem import ProblemError

PREFIX = "/api/oots"
OOTS_KEY: web.AppKey[OotsNode] = web.AppKey("oots", OotsNode)


def _problem(exc: RequesterError) -> ProblemError:
    return ProblemError(exc.status, exc.code, "Evidence request refused", exc.message)


async def _json(request: web.Request) -> Any:
    try:
        return await request.json()
    except (ValueError, UnicodeDecodeError):
        raise ProblemError(400, "invalid-request", "Bad request", "expected a JSON body") from None


class RequesterApi:
    def __init__(self, oots: OotsNode) -> None:
        self.oots = oots

    def add_routes(self, app: web.Application) -> None:
        r = app.router
        r.add_get(f"{PREFIX}/openapi.json", self.openapi)
        r.add_post(f"{PREFIX}/requests", self.create)
        r.add_get(f"{PREFIX}/requests", self.list_requests)
        r.add_get(f"{PREFIX}/requests/{{request_id}}", self.get_request)
        r.add_post(f"{PREFIX}/requests/{{request_id}}/input", self.input)
        r.add_get(f"{PREFIX}/requests/{{request_id}}/evidence/{{evidence_id}}", self.evidence)

    async def openapi(self, _request: web.Request) -> web.Response:
        return web.json_response(OPENAPI)

    @requires("portal")
    async def create(self, request: web.Request) -> web.Response:
        body = await _json(request)
        if not isinstance(body, dict):
            raise ProblemError(400, "invalid-request", "Bad request", "expected a JSON object")
        try:
            view = await self.oots.requester.create(current_client(request).client_id, body)
        except RequesterError as exc:
            raise _problem(exc) from None
        return web.json_response(view, status=201, headers={"Location": f"{PREFIX}/requests/{view['id']}"})

    @requires("portal")
    async def list_requests(self, request: web.Request) -> web.Response:
        client = current_client(request)
        async with self.oots.node.engine.connect() as conn:
            rows = (await conn.execute(select(oots_request.c.id, oots_request.c.state, oots_request.c.procedure,
                                              oots_request.c.created_at, oots_request.c.updated_at)
                                       .where(owned_by(oots_request, client))
                                       .order_by(oots_request.c.created_at.desc()).limit(200))).all()
        return web.json_response({"requests": [dict(r._mapping) for r in rows]})

    @requires("portal")
    async def get_request(self, request: web.Request) -> web.Response:
        row = await load_owned(request, oots_request, request.match_info["request_id"], resource="evidence_request")
        return web.json_response(await self.oots.requester.view(row["id"]))

    @requires("portal")
    async def input(self, request: web.Request) -> web.Response:
        row = await load_owned(request, oots_request, request.match_info["request_id"], resource="evidence_request")
        body = await _json(request)
        try:
            view = await self.oots.requester.provide_input(row["id"], body.get("answers") if isinstance(body, dict)
                                                           else None)
        except RequesterError as exc:
            raise _problem(exc) from None
        return web.json_response(view)

    @requires("portal")
    async def evidence(self, request: web.Request) -> web.Response:
        row = await load_owned(request, oots_request, request.match_info["request_id"], resource="evidence_request")
        found = await self.oots.requester.evidence_bytes(row["id"], request.match_info["evidence_id"])
        if found is None:
            raise ProblemError(404, "not-found", "Not found", "no such evidence")
        content, media_type, digest = found
        await self.oots.node.audit.append("oots.evidence.downloaded", current_client(request).client_id, None,
                                          {"request": row["id"], "evidence": request.match_info["evidence_id"]},
                                          correlation_id=row["id"])
        return web.Response(body=content, headers={"Content-Type": media_type, "X-Content-SHA256": digest})


def add_oots(app: web.Application, oots: OotsNode) -> RequesterApi:
    app[OOTS_KEY] = oots
    api = RequesterApi(oots)
    api.add_routes(app)
    return api
