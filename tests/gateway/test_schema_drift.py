"""The migrations and the table definitions describe the same schema: after `db upgrade`, Alembic's autogenerate
comparison finds nothing to add, drop or alter (tables, columns, types, nullability, indexes). Every module of
gateway/ that defines tables (on the shared metadata or its own) is imported and all its tables compared, so a
table missing from either side is found."""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData

from gateway.runtime import Node
from tests.conftest import make_settings

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"


def _all_tables() -> MetaData:
    combined = MetaData()
    for path in sorted(GATEWAY.rglob("*.py")):
        if "migrations" in path.parts or "Table(" not in path.read_text(encoding="utf-8"):
            continue
        module = importlib.import_module(".".join(path.relative_to(GATEWAY.parent).with_suffix("").parts))
        for value in vars(module).values():
            if isinstance(value, MetaData):
                for table in value.tables.values():
                    if table.name not in combined.tables:
                        table.to_metadata(combined)
    return combined


async def test_migrations_match_the_table_definitions(tmp_path: Path, db_url: str) -> None:
    metadata = _all_tables()
    node = await Node.open(make_settings(tmp_path / "data", db_url), start_audit=False)
    try:
        async with node.engine.connect() as conn:
            diff = await conn.run_sync(lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), metadata))
    finally:
        await node.close()
    # SQLite cannot report server defaults reliably; the rest must agree everywhere.
    assert diff == [], "schema.py and the migrations disagree:\n" + "\n".join(map(str, diff))
