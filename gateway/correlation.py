"""One correlation id follows a piece of work through every layer.

The id rides in a context variable so logs and audit records pick it up without every function passing it
on; API responses echo it in ``X-Correlation-ID``. Protocol packages receive it explicitly (they never
import gateway/): the shell passes ``current()`` into their ports.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

HEADER = "X-Correlation-ID"
# Accept what other systems commonly send (UUIDs, ebMS MessageIds, EDM ids) but nothing that could
# smuggle control characters into logs.
_VALID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$")

_current: ContextVar[str | None] = ContextVar("gateway_correlation_id", default=None)


def new_id() -> str:
    return str(uuid.uuid4())


def is_valid(value: str) -> bool:
    return bool(_VALID.match(value))


def current() -> str | None:
    return _current.get()


@contextmanager
def bound(correlation_id: str | None = None) -> Iterator[str]:
    """Run a block with a correlation id (a fresh one when None)."""
    value = correlation_id or new_id()
    token = _current.set(value)
    try:
        yield value
    finally:
        _current.reset(token)


def set_current(correlation_id: str | None) -> None:
    """Bind for the rest of the current task (aiohttp runs each request in its own task)."""
    _current.set(correlation_id)
