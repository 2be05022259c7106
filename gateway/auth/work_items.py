"""Work items: pieces of work a client starts through the APIs, keyed by the request's correlation id.

The first API on top of the auth layer and the model of isolation for later ones: every read goes
through :func:`gateway.auth.ownership.load_owned` / :func:`owned_by`, so a client never sees another
client's items, not even whether they exist.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from gateway.audit.record import format_ts
from gateway.auth.access import current_client, requires
from gateway.auth.ownership import load_owned, owned_by
from gateway.auth.services import node_of, record_refusal
from gateway.db.schema import work_item
from gateway.web.keys import CORRELATION_KEY
from gateway.web.problem import ProblemError

WORK_ITEM_ROLES = ("portal", "register")
INITIAL_STATUS = "open"
_KIND = re.compile(r"^[a-z][a-z0-9._-]{0,63}$")
_DEFAULT_LIMIT, _MAX_LIMIT = 100, 1000


def item_view(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["correlation_id"], "client_id": row["client_id"], "kind": row["kind"],
        "status": row["status"], "created_at": row["created_at"], "updated_at": row["updated_at"],
    }


async def _read_kind(request: web.Request) -> str:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ProblemError(400, "invalid-request", "Bad request", "the body must be JSON") from None
    kind = body.get("kind") if isinstance(body, dict) else None
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise ProblemError(400, "invalid-request", "Bad request",
                           'expected {"kind": "..."}: lowercase letters, digits, ".", "_" or "-", at most 64')
    return kind


@requires(*WORK_ITEM_ROLES)
async def create_work_item(request: web.Request) -> web.Response:
    client = current_client(request)
    kind = await _read_kind(request)
    node = node_of(request)
    item_id = request[CORRELATION_KEY]
    now = format_ts(datetime.now(UTC))
    row = {"correlation_id": item_id, "client_id": client.client_id, "kind": kind, "status": INITIAL_STATUS,
           "created_at": now, "updated_at": now}
    try:
        async with node.engine.begin() as conn:
            await conn.execute(insert(work_item).values(**row))
    except IntegrityError:
        return await _existing(request, item_id, kind)
    await node.audit.append("api.work_item.created", client.client_id, details={"id": item_id, "kind": kind})
    return web.json_response(item_view(row), status=201)


async def _existing(request: web.Request, item_id: str, kind: str) -> web.Response:
    """A correlation id that is already a work item: a retry of the caller's own request gets the item
    back (200); anything else is a conflict, worded the same whoever owns the other item."""
    client = current_client(request)
    async with node_of(request).engine.connect() as conn:
        row = (await conn.execute(select(work_item).where(work_item.c.correlation_id == item_id))).mappings().first()
    if row is not None and row["client_id"] == client.client_id and row["kind"] == kind:
        return web.json_response(item_view(row), status=200)
    if row is not None and row["client_id"] != client.client_id:
        await record_refusal(request, "not-owner", actor=client.client_id, auth_method=client.method,
                             event="api.access.denied", resource="work_item", id=item_id,
                             owner=row["client_id"])
    raise ProblemError(409, "correlation-id-conflict", "Conflict",
                       "this correlation id already names a work item; send a fresh X-Correlation-ID")


@requires(*WORK_ITEM_ROLES)
async def list_work_items(request: web.Request) -> web.Response:
    client = current_client(request)
    try:
        limit = int(request.query.get("limit", _DEFAULT_LIMIT))
    except ValueError:
        limit = -1
    if not 1 <= limit <= _MAX_LIMIT:
        raise ProblemError(400, "invalid-request", "Bad request", f"limit must be 1-{_MAX_LIMIT}")
    query = (
        select(work_item).where(owned_by(work_item, client))
        .order_by(work_item.c.created_at.desc(), work_item.c.correlation_id).limit(limit)
    )
    async with node_of(request).engine.connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return web.json_response({"items": [item_view(row) for row in rows]})


@requires(*WORK_ITEM_ROLES)
async def get_work_item(request: web.Request) -> web.Response:
    row = await load_owned(request, work_item, request.match_info["id"], resource="work_item")
    return web.json_response(item_view(row))
