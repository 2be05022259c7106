"""Ports for the connector's shared state, and in-memory versions for one process and tests.

Several node processes share one database: the gateway implements these ports on it
(gateway/eidas_store.py), so a response may arrive at another process than the one that sent the request,
and an assertion replayed to any process is refused.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class PendingRequest:
    """What we asked a proxy service, keyed by the AuthnRequest ID (the response's InResponseTo)."""

    request_id: str
    country: str
    idp_entity_id: str
    loa: str
    required_attributes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    session: dict[str, Any] = field(default_factory=dict)  # the national side's state (portal, its request)

    def to_json(self) -> str:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["expires_at"] = self.expires_at.isoformat()
        data["required_attributes"] = list(self.required_attributes)
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PendingRequest:
        data = json.loads(text)
        data["created_at"] = datetime.fromisoformat(data["created_at"])
        data["expires_at"] = datetime.fromisoformat(data["expires_at"])
        data["required_attributes"] = tuple(data["required_attributes"])
        return cls(**data)


class PendingRequests(Protocol):
    async def put(self, request: PendingRequest) -> None: ...

    async def get(self, request_id: str) -> PendingRequest | None:
        """Look up without consuming (the response is checked before the request is used up)."""
        ...

    async def take(self, request_id: str) -> PendingRequest | None:
        """Consume atomically: exactly one caller (in any process) gets it, the others None."""
        ...


class ReplayCache(Protocol):
    async def add_once(self, key: str, expires_at: datetime, now: datetime) -> bool:
        """Record ``key`` until ``expires_at``; False when it is already there (a replay)."""
        ...


class MemoryPendingRequests:
    def __init__(self) -> None:
        self._items: dict[str, PendingRequest] = {}

    async def put(self, request: PendingRequest) -> None:
        self._items[request.request_id] = request

    async def get(self, request_id: str) -> PendingRequest | None:
        return self._items.get(request_id)

    async def take(self, request_id: str) -> PendingRequest | None:
        return self._items.pop(request_id, None)


class MemoryReplayCache:
    def __init__(self) -> None:
        self._seen: dict[str, datetime] = {}

    async def add_once(self, key: str, expires_at: datetime, now: datetime) -> bool:
        for old in [k for k, until in self._seen.items() if until <= now]:
            del self._seen[old]
        if key in self._seen:
            return False
        self._seen[key] = expires_at
        return True
