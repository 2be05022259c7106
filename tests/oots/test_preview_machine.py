"""The preview state machine alone (pure): every transition and refusal, time passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from oots.preview import machine as M

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TIMING = M.Timing(t2=timedelta(minutes=15), t3=timedelta(minutes=40))
TOKEN = "tok-" + "x" * 40


def opened() -> M.PreviewSession:
    return M.open_session(session_id="s1", token=TOKEN, request_id="urn:uuid:r1", requester="ER",
                          evidence_type="https://sr/x", subject="h", now=T0, timing=TIMING)


def test_token_is_stored_hashed_and_deadline_is_t2_plus_t3() -> None:
    session = opened()
    assert TOKEN not in repr(session) and session.token_hash == M.token_hash(TOKEN)
    assert session.deadline == T0 + timedelta(minutes=55) and session.state is M.PreviewState.AWAITING_USER


def test_accepted_releases_and_arrival_starts_t3() -> None:
    arrived = M.user_arrives(opened(), TOKEN, T0 + timedelta(minutes=1), TIMING)
    assert arrived.deadline == T0 + timedelta(minutes=41)
    assert M.outcome(arrived, T0 + timedelta(minutes=2)) is M.Outcome.PENDING
    accepted = M.decide(arrived, True, T0 + timedelta(minutes=3))
    assert M.outcome(accepted, T0 + timedelta(hours=5)) is M.Outcome.RELEASE  # a decision taken stays


def test_declined_abandoned_and_timed_out_release_nothing() -> None:
    arrived = M.user_arrives(opened(), TOKEN, T0, TIMING)
    assert M.outcome(M.decide(arrived, False, T0), T0) is M.Outcome.NOTHING
    assert M.outcome(M.abandon(arrived, T0), T0) is M.Outcome.TIMEOUT
    assert M.outcome(arrived, T0 + timedelta(minutes=40)) is M.Outcome.TIMEOUT
    assert M.expire(opened(), T0 + timedelta(minutes=55)).state is M.PreviewState.TIMED_OUT


def test_refusals_have_codes() -> None:
    def code(fn) -> str:  # type: ignore[no-untyped-def]
        with pytest.raises(M.PreviewError) as caught:
            fn()
        return caught.value.code

    session = opened()
    arrived = M.user_arrives(session, TOKEN, T0, TIMING)
    assert code(lambda: M.user_arrives(session, "forged", T0, TIMING)) == "PREVIEW_TOKEN_UNKNOWN"
    assert code(lambda: M.user_arrives(arrived, TOKEN, T0, TIMING)) == "PREVIEW_TOKEN_REPLAYED"
    assert code(lambda: M.user_arrives(session, TOKEN, T0 + timedelta(hours=1), TIMING)) == "PREVIEW_EXPIRED"
    assert code(lambda: M.decide(session, True, T0)) == "PREVIEW_STATE"  # nobody has looked yet
    assert code(lambda: M.decide(arrived, True, T0 + timedelta(hours=1))) == "PREVIEW_STATE"  # too late
    assert code(lambda: M.decide(M.decide(arrived, False, T0), True, T0)) == "PREVIEW_STATE"
    second = M.second_request(arrived, "urn:uuid:r2", T0)
    assert code(lambda: M.second_request(second, "urn:uuid:r3", T0)) == "PREVIEW_REQUEST_REPLAYED"
    assert code(lambda: M.second_request(arrived, "urn:uuid:r1", T0)) == "PREVIEW_REQUEST_REPLAYED"
    assert code(lambda: M.answered(M.answered(second, T0), T0)) == "PREVIEW_REQUEST_REPLAYED"
