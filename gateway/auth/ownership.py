"""Per-client isolation: a client sees only rows it owns; anything else does not exist for it.

APIs of other packages reuse these with their own tables (any table with an owner column):

    row = await load_owned(request, my_table, item_id)        # 404 unless the caller owns it
    rows = select(my_table).where(owned_by(my_table, client))  # lists

Someone else's row answers exactly like a missing one (same status, code and text), so ids cannot be
probed; the attempt is audited as ``api.access.denied`` naming the caller and the owner.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import ColumnElement, Table, select
from sqlalchemy.engine import RowMapping

from gateway.auth.access import AuthenticatedClient, current_client
from gateway.auth.services import node_of, record_refusal
from gateway.web.problem import ProblemError

OWNER_COLUMN = "client_id"


def not_found(resource: str) -> ProblemError:
    return ProblemError(404, "not-found", "Not found", f"no such {resource.replace('_', ' ')}")


def owned_by(table: Table, client: AuthenticatedClient, owner_column: str = OWNER_COLUMN) -> ColumnElement[bool]:
    return table.c[owner_column] == client.client_id


def _key_column(table: Table, id_column: str | None) -> Any:
    if id_column is not None:
        return table.c[id_column]
    keys = list(table.primary_key.columns)
    if len(keys) != 1:
        raise ValueError(f"{table.name}: name id_column, the primary key is not a single column")
    return keys[0]


async def load_owned(
    request: web.Request,
    table: Table,
    item_id: str,
    *,
    id_column: str | None = None,
    owner_column: str = OWNER_COLUMN,
    resource: str | None = None,
) -> RowMapping:
    """The row ``item_id`` of ``table`` if the authenticated caller owns it; else 404 ``not-found``."""
    client = current_client(request)
    node = node_of(request)
    resource = resource or table.name
    async with node.engine.connect() as conn:
        row = (
            await conn.execute(select(table).where(_key_column(table, id_column) == item_id))
        ).mappings().first()
    if row is None:
        raise not_found(resource)
    if row[owner_column] != client.client_id:
        await record_refusal(
            request, "not-owner", actor=client.client_id, auth_method=client.method,
            event="api.access.denied", resource=resource, id=item_id[:128], owner=str(row[owner_column]),
        )
        raise not_found(resource)
    return row
