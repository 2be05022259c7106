"""Async request bodies read by blocking code (the AS4 pipeline, the payload store) without buffering them.

The blocking consumer runs in a worker thread and pulls one chunk at a time from the event loop, so a 1 GB body
never sits in memory and the loop stays free for other requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator


class BodyTooLarge(Exception):
    """The body passed ``limit`` bytes while it was being read (the consumer stops; answer 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the body exceeds {limit} bytes")
        self.limit = limit


def pull_chunks(loop: asyncio.AbstractEventLoop, read: Callable[[], Awaitable[bytes]],
                limit: int | None = None) -> Iterator[bytes]:
    """Chunks of an async stream for a consumer in another thread; ``read`` returns b"" at the end.
    Raises :class:`BodyTooLarge` once more than ``limit`` bytes arrived."""
    size = 0
    while True:
        chunk = asyncio.run_coroutine_threadsafe(read(), loop).result()  # type: ignore[arg-type]
        if not chunk:
            return
        size += len(chunk)
        if limit is not None and size > limit:
            raise BodyTooLarge(limit)
        yield chunk
