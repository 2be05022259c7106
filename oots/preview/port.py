"""Ports of the preview loop: where sessions persist (implemented by gateway/ over the database) and how the
user's decision comes in (the preview space calls :class:`DecisionPort`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from oots.preview.machine import PreviewSession


class PreviewStore(Protocol):
    async def create(self, session: PreviewSession) -> None: ...

    async def get(self, session_id: str) -> PreviewSession | None: ...

    async def find_by_token(self, token_hash: str) -> PreviewSession | None: ...

    async def update(self, session_id: str, change: Callable[[PreviewSession], PreviewSession]) -> PreviewSession:
        """Apply ``change`` atomically (re-read and re-applied on a concurrent update; its errors propagate)."""
        ...


class DecisionPort(Protocol):
    async def user_arrived(self, token: str) -> PreviewSession: ...

    async def decide(self, session_id: str, accepted: bool) -> PreviewSession: ...

    async def abandon(self, session_id: str) -> PreviewSession: ...
