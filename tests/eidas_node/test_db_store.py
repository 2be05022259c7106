"""The shared-state ports on the real databases (SQLite and PostgreSQL), and the full check with them."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from eidas_node.service import check_response
from eidas_node.simulator.responses import build_response
from gateway.db.engine import create_engine
from gateway.db.migrate import upgrade
from gateway.eidas_store import DbPendingRequests, DbReplayCache
from tests.conftest import make_settings
from tests.eidas_node.conftest import NOW, World


async def _stores(tmp_path: Path, db_url: str):  # type: ignore[no-untyped-def]
    engine = create_engine(make_settings(tmp_path / "data", db_url))
    await upgrade(engine)
    return engine, DbPendingRequests(engine), DbReplayCache(engine)


async def test_pending_request_taken_once_across_connections(tmp_path: Path, db_url: str, ec_world: World) -> None:
    engine, pending, _ = await _stores(tmp_path, db_url)
    try:
        await pending.put(ec_world.pending)
        assert await pending.get(ec_world.pending.request_id) == ec_world.pending
        results = await asyncio.gather(*(pending.take(ec_world.pending.request_id) for _ in range(5)))
        assert [r for r in results if r is not None] == [ec_world.pending]
        assert await pending.get(ec_world.pending.request_id) is None
        await pending.put(replace(ec_world.pending, request_id="_old", expires_at=NOW - timedelta(seconds=1)))
        assert await pending.purge(NOW) == 1
    finally:
        await engine.dispose()


async def test_replay_cache_add_once_and_expiry(tmp_path: Path, db_url: str) -> None:
    engine, _, replay = await _stores(tmp_path, db_url)
    try:
        assert await replay.add_once("idp|_a1", NOW + timedelta(minutes=5), NOW)
        assert not await replay.add_once("idp|_a1", NOW + timedelta(minutes=5), NOW)
        assert await replay.add_once("idp|_a2", NOW + timedelta(minutes=5), NOW)
        # After expiry the key is forgotten (the assertion itself is expired by then, so this is safe).
        assert await replay.add_once("idp|_a1", NOW + timedelta(minutes=20), NOW + timedelta(minutes=6))
    finally:
        await engine.dispose()


async def test_replayed_response_refused(tmp_path: Path, db_url: str, ec_world: World) -> None:
    engine, pending, replay = await _stores(tmp_path, db_url)
    try:
        await pending.put(ec_world.pending)
        data = build_response(ec_world.idp, ec_world.request, ec_world.user, ec_world.sp_key.certificate, NOW)

        async def run():  # type: ignore[no-untyped-def]
            return await check_response(ec_world.checker, data, metadata_for=lambda c: ec_world.metadata,
                                        metadata_by_issuer=lambda i: ec_world.metadata, pending=pending,
                                        replay=replay, now=NOW)

        first, taken = await run()
        assert first.ok and taken == ec_world.pending
        assert [c.name for c in first.checks][-2:] == ["replay.assertion_id", "request.used_once"]
        second, _ = await run()  # the same bytes again: the request is gone, and the assertion is known
        assert not second.ok and second.failure is not None
        assert second.failure.code == "EIDAS_IN_RESPONSE_TO"
        await pending.put(ec_world.pending)  # even if the request were pending again, the assertion is known
        third, _ = await run()
        assert third.failure is not None and third.failure.code == "EIDAS_REPLAY"
    finally:
        await engine.dispose()


async def test_replay_cache_shared_between_processes(tmp_path: Path, db_url: str) -> None:
    """Two engines stand for two node processes on one database: what one recorded, the other refuses."""
    engine_a, _, replay_a = await _stores(tmp_path, db_url)
    engine_b = create_engine(make_settings(tmp_path / "data", db_url))
    replay_b = DbReplayCache(engine_b)
    try:
        assert await replay_a.add_once("idp|_shared", NOW + timedelta(minutes=5), NOW)
        assert not await replay_b.add_once("idp|_shared", NOW + timedelta(minutes=5), NOW)
        results = await asyncio.gather(*(r.add_once("idp|_race", NOW + timedelta(minutes=5), NOW)
                                         for r in (replay_a, replay_b, replay_a, replay_b)))
        assert sorted(results) == [False, False, False, True]
    finally:
        await engine_a.dispose()
        await engine_b.dispose()


async def test_purge_expired_state(tmp_path: Path, db_url: str, ec_world: World) -> None:
    from gateway.eidas_store import DbSessions, purge_expired

    engine, pending, replay = await _stores(tmp_path, db_url)
    try:
        sessions = DbSessions(engine)
        await pending.put(ec_world.pending)  # expires NOW + 10 min
        await sessions.put("s-old", {"portal": "p"}, NOW - timedelta(seconds=1))
        await sessions.put("s-new", {"portal": "p"}, NOW + timedelta(minutes=10))
        await replay.add_once("idp|_x", NOW + timedelta(minutes=5), NOW)
        assert await sessions.get("s-old", NOW) is None and await sessions.get("s-new", NOW) == {"portal": "p"}
        assert await purge_expired(engine, NOW) == 1
        assert await purge_expired(engine, NOW + timedelta(hours=1)) == 3
        assert await pending.get(ec_world.pending.request_id) is None
    finally:
        await engine.dispose()
