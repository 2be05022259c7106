"""The loop every background worker of the node runs: do a round, and when it found nothing to do, sleep until
woken (work arrived in this process), told to stop, or the poll interval passed (work from other processes)."""

from __future__ import annotations

import asyncio
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
