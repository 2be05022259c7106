"""Async database engine: SQLite (WAL) for the embedded default, PostgreSQL for production and clusters."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from gateway.config import ConfigError, Settings, mask_url

# Execution option that makes the next transaction on an SQLite connection take the write lock at
# BEGIN. A writer that reads then writes (the audit chain head) must not start as a reader: under WAL a
# concurrent commit would turn its later write into SQLITE_BUSY_SNAPSHOT.
SQLITE_IMMEDIATE = "gateway_sqlite_immediate"


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def create_engine(settings: Settings) -> AsyncEngine:
    url = settings.database_url
    sa_url = make_url(url)
    kwargs: dict[str, Any] = {"echo": settings.database.echo, "pool_pre_ping": False}
    if sa_url.get_backend_name() == "sqlite":
        database = sa_url.database or ""
        if database and database != ":memory:":
            from pathlib import Path

            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": settings.database.connect_timeout_s}
        engine = create_async_engine(url, **kwargs)
        _install_sqlite_hooks(engine, settings.database.sqlite_synchronous)
        return engine
    kwargs["pool_size"] = settings.database.pool_size
    kwargs["connect_args"] = {"timeout": settings.database.connect_timeout_s}
    return create_async_engine(url, **kwargs)


def _install_sqlite_hooks(engine: AsyncEngine, synchronous: str) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us emit BEGIN ourselves (pysqlite's implicit transactions get in the way of BEGIN IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(SQLITE_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


async def writer_connection(engine: AsyncEngine) -> AsyncConnection:
    """A connection whose transactions start as writers (matters on SQLite only)."""
    conn = await engine.connect()
    if is_sqlite(engine):
        conn = await conn.execution_options(**{SQLITE_IMMEDIATE: True})
    return conn


async def check_reachable(engine: AsyncEngine, timeout_s: float = 10.0) -> None:
    """Raise ConfigError naming ``database.url`` when the database cannot be reached."""
    try:
        async with asyncio.timeout(timeout_s):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception as exc:
        shown = mask_url(engine.url.render_as_string(hide_password=False))
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError("database.url", f"cannot connect to {shown}: {reason}") from None
