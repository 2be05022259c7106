"""The audit port of the OOTS package (the node passes its signed audit log, see gateway/audit): every exchange
step with ids, parties, evidence type and outcome; never evidence content."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class AuditSink(Protocol):
    async def append(self, event: str, actor: str, subject: str | None = None,
                     details: Mapping[str, Any] | None = None, *, correlation_id: str | None = None) -> int: ...


class NoAudit:
    """For pure tests and tools: records nothing."""

    async def append(self, event: str, actor: str, subject: str | None = None,
                     details: Mapping[str, Any] | None = None, *, correlation_id: str | None = None) -> int:
        return 0
