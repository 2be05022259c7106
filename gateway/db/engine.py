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
        # 512 KiB page cache per connection (default 2 MiB): each pooled connection keeps its own.
        cursor.execute("PRAGMA cache_size=-512")
        cursor.close()

    turns = _TransactionTurns()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.info[_HOLDS_TURN] = turns.take()
        immediate = conn.get_execution_options().get(SQLITE_IMMEDIATE, False)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        except BaseException:
            _give_back(conn, turns)
            raise

    # We end transactions ourselves, so the turn passes on only after COMMIT returned (its fsync done); the
    # DBAPI commit()/rollback() that SQLAlchemy calls next is a no-op outside a transaction.
    @event.listens_for(engine.sync_engine, "commit")
    def _on_commit(conn: Any) -> None:
        try:
            conn.exec_driver_sql("COMMIT")
        finally:
            _give_back(conn, turns)

    # A connection can go back to the pool with its transaction still open (the pool's reset rolls it back
    # on the DBAPI connection, past the events above): the turn must come back then too.
    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None and record.info.pop(_HOLDS_TURN, False):
            turns.give_back()

    @event.listens_for(engine.sync_engine, "rollback")
    def _on_rollback(conn: Any) -> None:
        try:
            conn.exec_driver_sql("ROLLBACK")
        except Exception as exc:  # nothing to roll back (BEGIN itself failed, or SQLite already ended it)
            if "no transaction" not in str(exc):
                raise
        finally:
            _give_back(conn, turns)


_HOLDS_TURN = "gateway_sqlite_turn"
# How long a transaction waits for its turn before it goes ahead anyway (SQLite's own locking keeps it
# correct; the wait only orders transactions). Bounds the cost of a connection that holds a transaction
# open while it waits for another one (it would otherwise wait forever for a turn it holds itself).
TURN_WAIT_S = 0.25


class _TransactionTurns:
    """One transaction at a time per process on an SQLite database, in FIFO order.

    SQLite has one writer; a second writer that collides with it is put to sleep by the busy handler
    (1, 2, 5 … 100 ms), so under load most of a message's latency would be sleeping. Taking turns in the event
    loop instead hands the database over the moment the previous transaction ends.
    """

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def take(self) -> bool:
        """Wait for the turn (inside SQLAlchemy's greenlet); False when none was taken (no loop, or timed out)."""
        from sqlalchemy.util import await_only
        from sqlalchemy.util.concurrency import in_greenlet

        if not in_greenlet():
            return False
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        lock = self._lock

        async def acquire() -> bool:
            waiting = asyncio.ensure_future(lock.acquire())
            done, _ = await asyncio.wait({waiting}, timeout=TURN_WAIT_S)
            if waiting in done:
                return True
            waiting.cancel()
            try:
                return await waiting  # granted in the same instant it timed out: keep it
            except asyncio.CancelledError:
                return False

        return bool(await_only(acquire()))

    def give_back(self) -> None:
        if self._lock is not None and self._lock.locked():
            self._lock.release()


def _give_back(conn: Any, turns: _TransactionTurns) -> None:
    if conn.info.pop(_HOLDS_TURN, False):
        turns.give_back()


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
