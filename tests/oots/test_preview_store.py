"""The preview loop over the node database, on SQLite and PostgreSQL: request #2 held until the decision,
which may come through another process (here: another engine); timeouts, replays and forgeries refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from gateway.db.engine import create_engine
from gateway.oots_preview_store import SqlPreviewStore
from gateway.runtime import Node
from oots.preview import machine as M
from oots.preview.service import PreviewService

BASE = "https://preview.gw.example.lv/p"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def other_engine(node: Node) -> AsyncIterator[object]:
    engine = create_engine(node.settings)  # a second connection pool: stands for another node process
    yield engine
    await engine.dispose()


def service(engine, clock, **kwargs) -> PreviewService:  # type: ignore[no-untyped-def]
    return PreviewService(SqlPreviewStore(engine), base_url=BASE, clock=clock, poll_interval_s=0.01, **kwargs)


async def opened(svc: PreviewService) -> tuple[M.PreviewSession, str]:
    return await svc.open(request_id="urn:uuid:11111111-1111-4111-8111-111111111111", requester="LV-ER",
                          evidence_type="https://sr.example/et", subject="mds-hash")


async def test_request_two_is_held_until_the_decision_from_another_process(node: Node, other_engine) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    provider, preview_space = service(node.engine, clock), service(other_engine, clock)
    session, location = await opened(provider)
    assert location.startswith(BASE + "/") and len(location) > len(BASE) + 40
    held = asyncio.create_task(provider.second_request(location, "urn:uuid:22222222-2222-4222-8222-222222222222"))
    await asyncio.sleep(0.1)
    assert not held.done()  # nobody decided yet
    token = location.rsplit("/", 1)[1]
    arrived = await preview_space.user_arrived(token)
    assert arrived.state is M.PreviewState.USER_PRESENT
    await preview_space.decide(session.id, True)
    final, result = await asyncio.wait_for(held, 5)
    assert result is M.Outcome.RELEASE and final.answered_at is not None


async def test_user_before_request_two_and_decline(node: Node) -> None:
    clock = Clock()
    svc = service(node.engine, clock)
    session, location = await opened(svc)
    await svc.user_arrived(location.rsplit("/", 1)[1])
    await svc.decide(session.id, False)
    _, result = await svc.second_request(location, "urn:uuid:22222222-2222-4222-8222-222222222222")
    assert result is M.Outcome.NOTHING


async def test_t3_expires_into_timeout(node: Node) -> None:
    clock = Clock()

    async def sleep(seconds: float) -> None:  # time passes only when the held request waits
        clock.now += timedelta(minutes=5)
        await asyncio.sleep(0)

    svc = service(node.engine, clock, sleep=sleep)
    session, location = await opened(svc)
    await svc.user_arrived(location.rsplit("/", 1)[1])
    final, result = await svc.second_request(location, "urn:uuid:22222222-2222-4222-8222-222222222222")
    assert result is M.Outcome.TIMEOUT and final.state is M.PreviewState.TIMED_OUT
    with pytest.raises(M.PreviewError) as late:
        await svc.decide(session.id, True)
    assert late.value.code == "PREVIEW_STATE"


async def test_abandon_releases_nothing(node: Node) -> None:
    svc = service(node.engine, Clock())
    session, location = await opened(svc)
    await svc.abandon(session.id)
    _, result = await svc.second_request(location, "urn:uuid:22222222-2222-4222-8222-222222222222")
    assert result is M.Outcome.TIMEOUT


async def test_replayed_and_forged_tokens(node: Node) -> None:
    svc = service(node.engine, Clock())
    session, location = await opened(svc)
    token = location.rsplit("/", 1)[1]

    async def code(coro) -> str:  # type: ignore[no-untyped-def]
        with pytest.raises(M.PreviewError) as caught:
            await coro
        return caught.value.code

    await svc.user_arrived(token)
    assert await code(svc.user_arrived(token)) == "PREVIEW_TOKEN_REPLAYED"
    assert await code(svc.user_arrived(token[:-2] + "AA")) == "PREVIEW_TOKEN_UNKNOWN"
    forged = await code(svc.second_request(f"{BASE}/forged-token", "urn:uuid:r2"))
    assert forged == "PREVIEW_TOKEN_UNKNOWN"
    foreign = await code(svc.second_request("https://evil.example/p/" + token, "urn:uuid:r2"))
    assert foreign == "PREVIEW_LOCATION_FOREIGN"
    await svc.decide(session.id, True)
    await svc.second_request(location, "urn:uuid:22222222-2222-4222-8222-222222222222")
    again = await code(svc.second_request(location, "urn:uuid:22222222-2222-4222-8222-222222222222"))
    assert again == "PREVIEW_REQUEST_REPLAYED"
    async with node.engine.connect() as conn:
        dumped = str((await conn.execute(sa.text("SELECT * FROM oots_preview_session"))).all())
    assert token not in dumped  # only the hash is stored


async def test_concurrent_decisions_one_wins(node: Node, other_engine) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    one, two = service(node.engine, clock), service(other_engine, clock)
    session, location = await opened(one)
    await one.user_arrived(location.rsplit("/", 1)[1])
    results = await asyncio.gather(one.decide(session.id, True), two.decide(session.id, False),
                                   return_exceptions=True)
    errors = [r for r in results if isinstance(r, M.PreviewError)]
    assert len(errors) == 1 and errors[0].code == "PREVIEW_STATE"
    stored = await SqlPreviewStore(node.engine).get(session.id)
    assert stored is not None and stored.state in (M.PreviewState.ACCEPTED, M.PreviewState.DECLINED)
    assert stored.version == 2
