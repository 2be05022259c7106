"""The loop every background worker of the node runs: do a round, and when it found nothing to do, sleep until
woken (work arrived in this process), told to stop, or the poll interval passed (work from other processes)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable


async def poll_until_stopped(run_once: Callable[[], Awaitable[int]], wake: asyncio.Event, stop: asyncio.Event, *,
                             interval_s: float, name: str, log: logging.Logger) -> None:
    """``run_once`` returns how much it did; a failing round is logged, not fatal."""
    while not stop.is_set():
        wake.clear()  # before the round: a wake-up during it makes the next round start at once
        try:
            done = await run_once()
        except Exception:
            log.exception("%s round failed; retrying in %.1f s", name, interval_s)
            done = 0
        if not done and not stop.is_set():
            waiters = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())}
            _, pending = await asyncio.wait(waiters, timeout=interval_s, return_when=asyncio.FIRST_COMPLETED)
            for waiter in pending:
                waiter.cancel()


def periodic(name: str, every_s: float, work: Callable[[], Awaitable[object]], log: logging.Logger):  # type: ignore[no-untyped-def]
    """An aiohttp ``cleanup_ctx`` running ``work`` every ``every_s`` while the app runs (housekeeping: a failed
    round is logged and the next one tries again)."""

    async def run() -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                await work()
            except Exception:
                log.exception("%s failed", name)

    async def context(_app: object):  # type: ignore[no-untyped-def]
        task = asyncio.create_task(run(), name=name)
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return context
