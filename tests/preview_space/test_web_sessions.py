"""Web sessions on the real databases (SQLite and PostgreSQL): two engines stand for two node processes."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from gateway.db.engine import create_engine
from gateway.db.migrate import upgrade
from gateway.preview_sessions import DbWebSessions, preview_web_session
from tests.conftest import make_settings

NOW = datetime(2026, 1, 1, 10, tzinfo=UTC)


async def test_sessions_shared_expiring_and_hashed(tmp_path: Path, db_url: str) -> None:
    settings = make_settings(tmp_path / "data", db_url)
    first, second = create_engine(settings), create_engine(settings)
    try:
        await upgrade(first)
        a, b = DbWebSessions(first), DbWebSessions(second)
        sid = await a.create({"who": "anna"}, NOW)
        other = await a.create({"who": "ilze"}, NOW)
        assert await b.get(sid, NOW) == {"who": "anna"}
        assert await b.get(other, NOW) == {"who": "ilze"}
        assert await b.get(sid + "x", NOW) is None
        async with first.connect() as conn:
            stored = (await conn.execute(select(preview_web_session.c.id_hash))).scalars().all()
        assert sid not in stored and len(stored) == 2

        later = NOW + timedelta(minutes=20)
        assert await b.save(sid, {"who": "anna", "preview": "s1"}, later)
        assert await a.get(sid, NOW + timedelta(minutes=45)) == {"who": "anna", "preview": "s1"}  # slid
        assert await a.get(other, NOW + timedelta(minutes=45)) is None  # expired
        assert not await a.save(other, {"who": "mallory"}, NOW + timedelta(minutes=45))
        assert await a.purge(NOW + timedelta(minutes=45)) == 1
        await b.end(sid)
        assert await a.get(sid, later) is None
    finally:
        await first.dispose()
        await second.dispose()
