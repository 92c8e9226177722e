"""How the sending loops (a channel's dispatcher, its follow-up worker, an off channel) idle:
sleep until their next work is due, or less when something sets one of their events (stop, a
wake-up from ingest or from another replica's NOTIFY). Pure asyncio, no I/O."""

from __future__ import annotations

import asyncio
import contextlib


async def sleep_or_wake(seconds: float, *events: asyncio.Event) -> None:
    """Return after ``seconds``, or as soon as one of ``events`` is set (at once if one is)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            waiters = [asyncio.ensure_future(e.wait()) for e in events]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waiters:
                    w.cancel()
