"""The preview loop over a store: open a session for request #1, hold request #2, take decisions.

Any node process can continue a session: all state is in the store, and a held request #2 polls it, so the
decision may arrive through another process."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from urllib.parse import urlsplit

from oots.audit import AuditSink, NoAudit
from oots.preview import machine as M
from oots.preview.port import PreviewStore

Clock = Callable[[], datetime]


class PreviewService:
    """Implements the decision port too (the preview space calls user_arrived / decide / abandon)."""

    def __init__(self, store: PreviewStore, *, base_url: str, clock: Clock, timing: M.Timing | None = None,
                 poll_interval_s: float = 0.2, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 audit: AuditSink | None = None) -> None:
        if urlsplit(base_url).scheme != "https":
            raise ValueError("the preview space base URL must be https (PreviewLocation, R-EDM-ERR-C019)")
        self._store = store
        self._base = base_url.rstrip("/")
        self._clock = clock
        self.timing = timing or M.Timing()
        self._poll = poll_interval_s
        self._sleep = sleep
        self._audit = audit or NoAudit()

    async def _record(self, event: str, session: M.PreviewSession, **details: object) -> None:
        # The subject is the person reference (never evidence): the person's access log selects by it.
        await self._audit.append(f"oots.preview.{event}", "oots-provider", session.person_ref, {
            "session": session.id, "request_id": session.request1_id, "requester": session.requester,
            "evidence_type": session.evidence_type, "state": str(session.state), **details},
            correlation_id=session.request1_id)

    def location(self, token: str) -> str:
        return f"{self._base}/{token}"

    def token_of(self, preview_location: str) -> str | None:
        prefix = self._base + "/"
        if not preview_location.startswith(prefix):
            return None
        token = preview_location[len(prefix):]
        return token if token and "/" not in token and "?" not in token else None

    async def open(self, *, request_id: str, requester: str, evidence_type: str,
                   subject: str, person_ref: str | None = None, procedure: str | None = None
                   ) -> tuple[M.PreviewSession, str]:
        """A new session for request #1; returns it and the PreviewLocation for EDM:ERR:0002."""
        token = secrets.token_urlsafe(32)  # 256 bits
        session = M.open_session(session_id=str(uuid.uuid4()), token=token, request_id=request_id,
                                 requester=requester, evidence_type=evidence_type, subject=subject,
                                 now=self._clock(), timing=self.timing, person_ref=person_ref)
        await self._store.create(session)
        await self._record("opened", session, deadline=session.deadline.isoformat(), procedure=procedure)
        return session, self.location(token)

    async def _by_token(self, token: str) -> M.PreviewSession:
        session = await self._store.find_by_token(M.token_hash(token))
        if session is None:
            raise M.PreviewError("PREVIEW_TOKEN_UNKNOWN", "no preview session has this token")
        return session

    # --- decision port ---------------------------------------------------------------------------------------
    async def user_arrived(self, token: str) -> M.PreviewSession:
        session = await self._by_token(token)
        try:
            arrived = await self._store.update(session.id,
                                               lambda s: M.user_arrives(s, token, self._clock(), self.timing))
        except M.PreviewError as exc:
            await self._record("refused", session, code=exc.code)
            raise
        await self._record("user_arrived", arrived)
        return arrived

    async def decide(self, session_id: str, accepted: bool) -> M.PreviewSession:
        decided = await self._store.update(session_id, lambda s: M.decide(s, accepted, self._clock()))
        await self._record("decided", decided)
        return decided

    async def abandon(self, session_id: str) -> M.PreviewSession:
        abandoned = await self._store.update(session_id, lambda s: M.abandon(s, self._clock()))
        await self._record("abandoned", abandoned)
        return abandoned

    # --- request #2 ------------------------------------------------------------------------------------------
    async def second_request(self, preview_location: str, request_id: str, *, subject: str | None = None
                             ) -> tuple[M.PreviewSession, M.Outcome]:
        """Hold request #2 until the decision or the deadline; the outcome says what to answer."""
        token = self.token_of(preview_location)
        if token is None:
            raise M.PreviewError("PREVIEW_LOCATION_FOREIGN", "the PreviewLocation is not one of this provider's")
        session = await self._by_token(token)
        session = await self._store.update(session.id, lambda s: M.second_request(s, request_id, self._clock(),
                                                                                         subject))
        if session.answered_at is not None:
            raise M.PreviewError("PREVIEW_REQUEST_REPLAYED", "request #2 of this session was already answered")
        while True:
            now = self._clock()
            result = M.outcome(session, now)
            if result is not M.Outcome.PENDING:
                session = await self._store.update(session.id, lambda s: M.answered(M.expire(s, self._clock()),
                                                                                     self._clock()))
                await self._record("answered", session, request2_id=request_id, outcome=str(result))
                return session, result
            await self._sleep(min(self._poll, max((session.deadline - now).total_seconds(), 0.0)))
            refreshed = await self._store.get(session.id)
            assert refreshed is not None
            session = refreshed
