"""Shared fixtures: real databases (SQLite file and a fresh PostgreSQL database per test), node assembly."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gateway.config import Settings, load_settings
from gateway.runtime import Node

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _find_shared() -> Path:
    """The steering repository's shared/ (specs, vectors, notes): $GATEWAY_SHARED_DIR, else ../shared beside
    this checkout, else /work/shared (where CI clones may live elsewhere). Tests that need it say so when absent."""
    candidates = [os.environ.get("GATEWAY_SHARED_DIR"), Path(__file__).resolve().parents[2] / "shared", "/work/shared"]
    for candidate in candidates:
        if candidate and Path(candidate, "vectors").is_dir():
            return Path(candidate)
    return Path(__file__).resolve().parents[2] / "shared"


SHARED_DIR = _find_shared()
VECTORS_DIR = SHARED_DIR / "vectors"
# Production code finds the specs through $GATEWAY_SPECS_DIR (default ../shared/specs); point it at what we found.
os.environ.setdefault("GATEWAY_SPECS_DIR", str(SHARED_DIR / "specs"))
PG_ADMIN_URL = os.environ.get("GATEWAY_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_reachable() -> str | None:
    import asyncpg

    async def probe() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    problem = _pg_reachable()
    if problem:
        message = f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({problem})"
        if IN_CI:
            pytest.fail(message + " - under CI the PostgreSQL tests must run")
        pytest.skip(message + " - set GATEWAY_TEST_PG_URL to run these tests")
    return PG_ADMIN_URL


def _with_database(admin_url: str, name: str) -> str:
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


async def _admin(admin_url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def pg_database(pg_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    name = f"gw_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(pg_admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield _with_database(pg_admin_url, name)
    finally:
        asyncio.run(_admin(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs twice: on SQLite and on the real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gateway.db'}"
    return request.getfixturevalue("pg_database")


def make_settings(data_dir: Path, database_url: str, **overrides: str) -> Settings:
    environ = {"GATEWAY_NODE__DATA_DIR": str(data_dir), "GATEWAY_DATABASE__URL": database_url}
    environ.update({f"GATEWAY_{key.upper()}": value for key, value in overrides.items()})
    return load_settings(environ=environ, default_file=False)


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return make_settings(tmp_path / "data", db_url)


@pytest.fixture
async def node(settings: Settings) -> AsyncIterator[Node]:
    opened = await Node.open(settings)
    try:
        yield opened
    finally:
        await opened.close()
