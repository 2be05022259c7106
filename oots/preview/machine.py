"""The preview session as a pure state machine (h11 style: values in, new values out; time passed in).

Request #1 with preview opens a session and is answered EDM:ERR:0002 with a PreviewLocation carrying an
unguessable single-use token. The user may arrive before or after request #2. Request #2 (matched by its
PreviewLocation) waits for the decision: accepted → the evidence is released; declined → an answer without
evidence (TC08); abandoned or past the deadline → EDM:ERR:0005 (TC09). Nothing is released without "accepted".
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class PreviewState(StrEnum):
    AWAITING_USER = "awaiting_user"
    USER_PRESENT = "user_present"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ABANDONED = "abandoned"
    TIMED_OUT = "timed_out"


FINAL = frozenset({PreviewState.ACCEPTED, PreviewState.DECLINED, PreviewState.ABANDONED, PreviewState.TIMED_OUT})


class Outcome(StrEnum):
    PENDING = "pending"  # hold request #2
    RELEASE = "release"  # answer with the evidence
    NOTHING = "nothing"  # declined: a response without evidence
    TIMEOUT = "timeout"  # EDM:ERR:0005


class PreviewError(Exception):
    """A refused preview step. ``code`` is stable; ``edm_code`` is what request #2 is answered with when the
    refusal concerns it (an unknown or reused PreviewLocation cannot be resolved: EDM:ERR:0006)."""

    def __init__(self, code: str, message: str, edm_code: str = "EDM:ERR:0006") -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.edm_code = edm_code


@dataclass(frozen=True)
class Timing:
    """T2: the user follows the link; T3: the user previews and decides (TDD 4.4.3 defaults 15 and 40 min).
    The provider's values; the requester's must be longer."""

    t2: timedelta = timedelta(minutes=15)
    t3: timedelta = timedelta(minutes=40)


def token_hash(token: str) -> str:
    """Only the hash of a token is stored: a copy of the database does not yield live PreviewLocations."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PreviewSession:
    id: str
    token_hash: str
    request1_id: str
    requester: str  # requester party / agent id (for the audit and the preview page)
    evidence_type: str  # classification
    subject: str  # hash of the person's MDS: re-authentication in the preview space must match it
    state: PreviewState
    created_at: datetime
    deadline: datetime
    user_arrived_at: datetime | None = None
    decided_at: datetime | None = None
    request2_id: str | None = None
    answered_at: datetime | None = None
    version: int = 0  # optimistic concurrency in the store
    # oots.identity.person_reference of the person (audit subject, so the access log finds the session)
    person_ref: str | None = None

    @property
    def final(self) -> bool:
        return self.state in FINAL


def open_session(*, session_id: str, token: str, request_id: str, requester: str, evidence_type: str,
                 subject: str, now: datetime, timing: Timing, person_ref: str | None = None) -> PreviewSession:
    return PreviewSession(session_id, token_hash(token), request_id, requester, evidence_type, subject,
                          PreviewState.AWAITING_USER, now, now + timing.t2 + timing.t3, person_ref=person_ref)


def expire(session: PreviewSession, now: datetime) -> PreviewSession:
    if not session.final and now >= session.deadline:
        return replace(session, state=PreviewState.TIMED_OUT, decided_at=session.deadline)
    return session


def user_arrives(session: PreviewSession, token: str, now: datetime, timing: Timing) -> PreviewSession:
    if not hmac.compare_digest(session.token_hash, token_hash(token)):
        raise PreviewError("PREVIEW_TOKEN_UNKNOWN", "no preview session has this token")
    session = expire(session, now)
    if session.user_arrived_at is not None:
        raise PreviewError("PREVIEW_TOKEN_REPLAYED", "this preview link was already used")
    if session.final:
        raise PreviewError("PREVIEW_EXPIRED", f"the preview session is {session.state}")
    return replace(session, state=PreviewState.USER_PRESENT, user_arrived_at=now,
                   deadline=min(session.deadline, now + timing.t3))


def decide(session: PreviewSession, accepted: bool, now: datetime) -> PreviewSession:
    session = expire(session, now)
    if session.state is not PreviewState.USER_PRESENT:
        raise PreviewError("PREVIEW_STATE", f"no decision can be taken in state {session.state}")
    return replace(session, state=PreviewState.ACCEPTED if accepted else PreviewState.DECLINED, decided_at=now)


def abandon(session: PreviewSession, now: datetime) -> PreviewSession:
    session = expire(session, now)
    if session.final:
        raise PreviewError("PREVIEW_STATE", f"the preview session is already {session.state}")
    return replace(session, state=PreviewState.ABANDONED, decided_at=now)


def second_request(session: PreviewSession, request_id: str, now: datetime, subject: str | None = None
                   ) -> PreviewSession:
    if subject is not None and not hmac.compare_digest(subject, session.subject):
        raise PreviewError("PREVIEW_SUBJECT_MISMATCH", "request #2 names another person than request #1",
                           edm_code="EDM:ERR:0003")
    if session.request2_id is not None and session.request2_id != request_id:
        raise PreviewError("PREVIEW_REQUEST_REPLAYED", "this PreviewLocation was already used by another request")
    if request_id == session.request1_id:
        raise PreviewError("PREVIEW_REQUEST_REPLAYED", "request #2 reuses the id of request #1",
                           edm_code="EDM:ERR:0003")
    return replace(expire(session, now), request2_id=request_id)


def outcome(session: PreviewSession, now: datetime) -> Outcome:
    state = expire(session, now).state
    if state is PreviewState.ACCEPTED:
        return Outcome.RELEASE
    if state is PreviewState.DECLINED:
        return Outcome.NOTHING
    if state in (PreviewState.ABANDONED, PreviewState.TIMED_OUT):
        return Outcome.TIMEOUT
    return Outcome.PENDING


def answered(session: PreviewSession, now: datetime) -> PreviewSession:
    if session.answered_at is not None:
        raise PreviewError("PREVIEW_REQUEST_REPLAYED", "request #2 of this session was already answered")
    return replace(session, answered_at=now)
