"""Group commit: many concurrent writers, one transaction per batch, each acknowledged only after commit.

A commit costs about a millisecond here (aiosqlite round trips plus fsync; see
../shared/notes/measured-baselines.md §4), so committing per item caps a log at ~1,000 items/s. One writer
task takes whatever has queued up while the previous commit was in flight and writes it in one
transaction: under load the batches grow by themselves, at idle an item waits for nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.db.engine import writer_connection

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger(__name__)


class CommitterClosed(RuntimeError):
    pass


class RetryBatch(Exception):
    """Raised by a batch writer to have its transaction rolled back and the batch written again."""


MAX_ATTEMPTS = 5


class GroupCommitter(Generic[T, R]):
    """Serialises ``write_batch(conn, items) -> results`` calls; one result per item, in order."""

    def __init__(
        self,
        engine: AsyncEngine,
        write_batch: Callable[[AsyncConnection, Sequence[T]], Awaitable[Sequence[R]]],
        *,
        max_batch: int = 1000,
        name: str = "group-commit",
        on_batch: Callable[[int, float], None] | None = None,
        after_commit: Callable[[], None] | None = None,
    ) -> None:
        self._engine = engine
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._name = name
        self._on_batch = on_batch
        self._after_commit = after_commit
        self._queue: asyncio.Queue[tuple[T, asyncio.Future[R]] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._conn: AsyncConnection | None = None
        self._closing = False

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self._name)

    async def submit(self, item: T) -> R:
        if self._closing:
            raise CommitterClosed(f"{self._name} is shutting down")
        if self._task is None:
            await self.start()
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future))
        return await future

    async def close(self) -> None:
        """Stop taking new items, commit everything already queued, release the connection."""
        self._closing = True
        if self._task is not None:
            self._queue.put_nowait(None)
            await self._task
            self._task = None
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def _run(self) -> None:
        stop = False
        while not stop:
            first = await self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self._max_batch and not self._queue.empty():
                entry = self._queue.get_nowait()
                if entry is None:
                    stop = True
                    break
                batch.append(entry)
            await self._commit(batch)

    async def _commit(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        items = [item for item, _ in batch]
        started = time.perf_counter()
        try:
            results = await self._write_with_retries(items)
        except BaseException as exc:
            log.error("%s: batch of %d failed: %s", self._name, len(items), exc)
            await self._drop_connection()
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))
            if not isinstance(exc, Exception):
                raise
            return
        if self._after_commit is not None:
            self._after_commit()
        if self._on_batch is not None:
            self._on_batch(len(items), time.perf_counter() - started)
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _write_with_retries(self, items: list[T]) -> Sequence[R]:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if self._conn is None:
                self._conn = await writer_connection(self._engine)
            try:
                async with self._conn.begin():
                    return await self._write_batch(self._conn, items)
            except RetryBatch:
                if attempt == MAX_ATTEMPTS:
                    raise
                log.debug("%s: batch retried (attempt %d)", self._name, attempt)
        raise AssertionError("unreachable")

    async def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                await self._conn.close()
            except Exception:
                pass
            self._conn = None
