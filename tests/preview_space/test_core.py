from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from oots.preview import machine as M
from oots.preview.service import PreviewService
from preview_space.core import PreviewSpace
from preview_space.mds import Mds, MdsMismatch
from preview_space.websec import ReturnUrlRefused

ANNA = Mds("Bērziņa", "Anna", date(1990, 1, 1))
ALLOWED = ["https://portal.example.de"]


class Store:
    def __init__(self) -> None:
        self.sessions: dict[str, M.PreviewSession] = {}

    async def create(self, session: M.PreviewSession) -> None:
        self.sessions[session.id] = session

    async def get(self, session_id: str) -> M.PreviewSession | None:
        return self.sessions.get(session_id)

    async def find_by_token(self, token_hash: str) -> M.PreviewSession | None:
        return next((s for s in self.sessions.values() if s.token_hash == token_hash), None)

    async def update(self, sid: str, change: Callable[[M.PreviewSession], M.PreviewSession]) -> M.PreviewSession:
        self.sessions[sid] = change(self.sessions[sid])
        return self.sessions[sid]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 10, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def opened() -> tuple[PreviewService, Clock, str]:
    clock = Clock()
    service = PreviewService(Store(), base_url="https://gw.example.lv/preview", clock=clock)
    _, location = await service.open(request_id="r1", requester="DE/portal", evidence_type="Birth", subject="h")
    return service, clock, service.token_of(location) or ""


@pytest.mark.parametrize(("accepted", "outcome"), [(True, M.Outcome.RELEASE), (False, M.Outcome.NOTHING)])
async def test_accept_or_decline(accepted: bool, outcome: M.Outcome) -> None:
    service, clock, token = await opened()
    space = PreviewSpace(service)
    session = await space.arrive(token, requested=ANNA, authenticated=Mds("BERZINA", "Anna", date(1990, 1, 1)))
    session, url = await space.decide(session.id, accepted, return_url="https://portal.example.de/back",
                                      allowed_origins=ALLOWED)
    assert url == "https://portal.example.de/back"
    assert M.outcome(session, clock.now) is outcome


async def test_mds_mismatch_shows_nothing_and_keeps_the_link() -> None:
    service, _, token = await opened()
    space = PreviewSpace(service)
    with pytest.raises(MdsMismatch):
        await space.arrive(token, requested=ANNA, authenticated=Mds("Berzina", "Anna", date(1991, 1, 1)))
    session = await space.arrive(token, requested=ANNA, authenticated=ANNA)
    assert session.state is M.PreviewState.USER_PRESENT


async def test_replayed_and_forged_links() -> None:
    service, _, token = await opened()
    space = PreviewSpace(service)
    await space.arrive(token, requested=ANNA, authenticated=ANNA)
    for bad, code in ((token, "PREVIEW_TOKEN_REPLAYED"), ("forged" + token[6:], "PREVIEW_TOKEN_UNKNOWN")):
        with pytest.raises(M.PreviewError) as err:
            await space.arrive(bad, requested=ANNA, authenticated=ANNA)
        assert err.value.code == code


async def test_open_redirect_refused_before_deciding() -> None:
    service, clock, token = await opened()
    space = PreviewSpace(service)
    session = await space.arrive(token, requested=ANNA, authenticated=ANNA)
    with pytest.raises(ReturnUrlRefused):
        await space.decide(session.id, True, return_url="https://evil.example/", allowed_origins=ALLOWED)
    assert M.outcome(await service._store.get(session.id), clock.now) is M.Outcome.PENDING  # type: ignore[arg-type]


async def test_timeout_and_abandon_release_nothing() -> None:
    service, clock, token = await opened()
    space = PreviewSpace(service)
    session = await space.arrive(token, requested=ANNA, authenticated=ANNA)
    clock.now += timedelta(hours=2)
    with pytest.raises(M.PreviewError) as err:
        await space.decide(session.id, True, return_url="https://portal.example.de/", allowed_origins=ALLOWED)
    assert err.value.code == "PREVIEW_STATE"
    assert M.outcome(session, clock.now) is M.Outcome.TIMEOUT
    service2, clock2, token2 = await opened()
    s2 = await PreviewSpace(service2).arrive(token2, requested=ANNA, authenticated=ANNA)
    s2 = await PreviewSpace(service2).leave(s2.id)
    assert M.outcome(s2, clock2.now) is M.Outcome.TIMEOUT
