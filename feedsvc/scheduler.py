"""APScheduler 3.x with in-memory jobs; each job is a short idempotent tick over DB state.

Several processes must not share a 3.x job store, so nothing scheduler-specific is persisted:
replicas each run the same ticks and coordinate through the state DB. ``stop`` lets a running
tick finish (APScheduler's own shutdown would cancel it mid-transaction).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)

Tick = Callable[[], Awaitable[object]]


class Jobs:
    def __init__(self) -> None:
        self.scheduler = AsyncIOScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
            timezone=UTC,
        )
        self._running: set[asyncio.Task[object]] = set()
        self._stopping = False

    def every(self, name: str, seconds: float, tick: Tick, *, start_now: bool = True) -> None:
        async def job() -> None:
            if self._stopping:
                return
            task = asyncio.ensure_future(tick())
            self._running.add(task)
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job %s failed", name)
            finally:
                self._running.discard(task)

        # next_run_time=None would add the job *paused*: only pass it to run at once
        extra = {"next_run_time": datetime.now(UTC)} if start_now else {}
        self.scheduler.add_job(job, "interval", seconds=seconds, id=name, name=name, **extra)

    def start(self) -> None:
        self.scheduler.start()

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop scheduling, wait for running ticks to finish (bounded), then shut down."""
        self._stopping = True
        if self.scheduler.running:
            self.scheduler.pause()
        if self._running:
            _done, pending = await asyncio.wait(set(self._running), timeout=timeout)
            for task in pending:
                log.warning("job still running at shutdown; abandoning it: %r", task)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
