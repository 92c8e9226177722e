"""APScheduler 3.x with in-memory jobs; each job is a short idempotent tick over DB state.

Several processes must not share a 3.x job store, so nothing scheduler-specific is persisted:
replicas each run the same ticks and coordinate through the state DB. ``stop`` lets a running
tick finish (APScheduler's own shutdown would cancel it mid-transaction), within a bound.

A tick runs as a task of its own and the scheduled job only starts it: when the previous tick
of a job is still running (a first sync of a big archive, a slow source), the next run is
skipped here, quietly, instead of APScheduler logging "skipped: maximum number of running
instances" on every interval. A tick that overruns for long is worth one warning (it may be
stuck), which :class:`Jobs` logs once per overrun — unless the job tells its progress and the
tick is making some (a first sync committing batch after batch is long, not stuck: that
warning in every first sync's log read as trouble).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from feedsvc.db.outage import report

log = logging.getLogger(__name__)

Tick = Callable[[], Awaitable[object]]
#: A running tick's progress: any value that changes while it gets work done (e.g. batches
#: committed).
Progress = Callable[[], object]

#: A tick running longer than this many intervals (and at least OVERRUN_MIN_SECONDS) is
#: reported once as possibly stuck.
OVERRUN_INTERVALS = 3
OVERRUN_MIN_SECONDS = 60.0


class _Running:
    """The current tick of one job: its task, when it started, whether its overrun was told."""

    def __init__(self, task: asyncio.Task[None], progress: object) -> None:
        self.task = task
        self.started = time.monotonic()  # or when it last made progress
        self.warned = False
        self.progress = progress

    def idle_for(self, progress: object) -> float:
        """Seconds since the tick started or last made progress (``progress`` changed)."""
        if progress != self.progress:
            self.progress, self.started, self.warned = progress, time.monotonic(), False
        return time.monotonic() - self.started


class Jobs:
    def __init__(self) -> None:
        self.scheduler = AsyncIOScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
            timezone=UTC,
        )
        self._running: set[asyncio.Task[None]] = set()
        self._current: dict[str, _Running] = {}
        self._stopping = False

    def every(
        self,
        name: str,
        seconds: float,
        tick: Tick,
        *,
        start_now: bool = True,
        progress: Progress | None = None,
    ) -> None:
        """Run ``tick`` every ``seconds`` (first at once unless ``start_now`` is false); a run
        due while the previous tick still runs is skipped (see the module docstring). A tick
        is reported once when it has run, or with ``progress`` has made no progress, for
        :data:`OVERRUN_INTERVALS` intervals (at least :data:`OVERRUN_MIN_SECONDS`)."""
        told = progress or (lambda: None)
        overrun_after = max(OVERRUN_MIN_SECONDS, OVERRUN_INTERVALS * seconds)

        async def run_tick() -> None:
            try:
                await tick()
            except Exception as exc:
                if not report(exc, f"job {name}"):  # an outage is one line (db.outage)
                    log.exception("job %s failed", name)

        async def job() -> None:
            if self._stopping:
                return
            current = self._current.get(name)
            if current is not None and not current.task.done():
                idle = current.idle_for(told())
                if idle > overrun_after and not current.warned:
                    current.warned = True
                    log.warning(
                        "job %s has %s for %.0f s (every %g s); later runs wait for it",
                        name,
                        "made no progress" if progress else "been running",
                        idle,
                        seconds,
                    )
                return
            task = asyncio.create_task(run_tick(), name=f"job:{name}")
            self._current[name] = _Running(task, told())
            self._running.add(task)
            task.add_done_callback(self._running.discard)

        # next_run_time=None would add the job *paused*: only pass it to run at once
        extra = {"next_run_time": datetime.now(UTC)} if start_now else {}
        self.scheduler.add_job(job, "interval", seconds=seconds, id=name, name=name, **extra)

    def start(self) -> None:
        self.scheduler.start()

    async def stop(self, timeout: float = 10.0) -> list[str]:
        """Stop scheduling, wait for running ticks to finish (bounded), then shut down.

        Returns the names of the jobs whose tick was still running at the deadline: they are
        abandoned (a tick blocked in a DB driver cannot be interrupted from here; the caller
        decides whether the process can still exit, and logs each, ``abandoned``)."""
        self._stopping = True
        if self.scheduler.running:
            self.scheduler.pause()
        stuck: list[str] = []
        if self._running:
            _done, pending = await asyncio.wait(set(self._running), timeout=timeout)
            stuck = [n for n, r in self._current.items() if r.task in pending]
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        return stuck


def abandoned(names: list[str]) -> None:
    """Log each job :meth:`Jobs.stop` left running that the stop abandons (a WARNING)."""
    for name in names:
        log.warning("job %s still running at shutdown; abandoning it", name)
