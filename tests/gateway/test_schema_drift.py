"""The migrations and the table definitions describe the same schema: after `db upgrade`, Alembic's autogenerate
comparison finds nothing to add, drop or alter (tables, columns, types, nullability, indexes). Every module that
defines tables on the shared metadata is imported first, so a table missing from either side is found."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import gateway.db
from gateway.db.schema import metadata
from gateway.runtime import Node
from tests.conftest import make_settings


def _import_table_modules() -> None:
    for module in pkgutil.iter_modules(gateway.db.__path__):
        if module.name.endswith("schema"):
            importlib.import_module(f"gateway.db.{module.name}")


async def test_migrations_match_the_table_definitions(tmp_path: Path, db_url: str) -> None:
    _import_table_modules()
    node = await Node.open(make_settings(tmp_path / "data", db_url), start_audit=False)
    try:
        async with node.engine.connect() as conn:
            diff = await conn.run_sync(lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), metadata))
    finally:
        await node.close()
    # SQLite cannot report server defaults reliably; the rest must agree everywhere.
    assert diff == [], "schema.py and the migrations disagree:\n" + "\n".join(map(str, diff))
