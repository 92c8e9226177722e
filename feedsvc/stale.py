"""Topics whose feeds a catch-up made stale, rendered together instead of after every batch.

Why: a first sync of an archive at thousands of topics changes most topics in every batch;
re-rendering each changed topic's feeds after every batch (a read, four renders and up to four
writes per topic, on the ingest thread) held the service's first sync at 5–15 rows/s at 3,000
topics (found 2026-11-30; ``bench/ingest.py`` times the ingestor alone and never saw it). During
a catch-up the ingest thread only marks topics here; the feeds-sync job renders what is marked
once marking has paused for ``quiet`` seconds or, while it goes on, every ``every`` seconds, so
readers still see the archive fill in; the service renders the rest as soon as the tick that
caught up returns (a newcomer's demo shows its feeds at once).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

#: Marking paused this long (seconds): the catch-up is over, render now.
QUIET_SECONDS = 2.0
#: While marking goes on, render what is marked at most this often (seconds).
EVERY_SECONDS = 60.0


class StaleTopics:
    """A thread-safe set of topic slugs with the monotonic times of its first and last mark."""

    def __init__(
        self,
        quiet: float = QUIET_SECONDS,
        every: float = EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.quiet, self.every, self._clock = quiet, every, clock
        self._lock = threading.Lock()
        self._slugs: set[str] = set()
        self._first = self._last = 0.0

    def __len__(self) -> int:
        with self._lock:
            return len(self._slugs)

    def mark(self, slugs: Iterable[str]) -> None:
        """Remember ``slugs`` as needing a render (cheap: the ingest thread calls it)."""
        now = self._clock()
        with self._lock:
            if not self._slugs:
                self._first = now
            self._slugs.update(slugs)
            self._last = now

    def retry(self, slugs: Iterable[str]) -> None:
        """Slugs whose render failed (a locked or lost database): due at the next :meth:`due`,
        whatever the pace of marking, and held until then like any mark."""
        with self._lock:
            self._slugs.update(slugs)
            self._first = float("-inf")

    def due(self, *, now: bool = False) -> list[str]:
        """The marked slugs, sorted, if it is time to render them — or ``now``: the catch-up
        is known to be over — (then the set is emptied); otherwise ``[]``."""
        at = self._clock()
        with self._lock:
            if not self._slugs:
                return []
            if not now and at - self._last < self.quiet and at - self._first < self.every:
                return []
            slugs = sorted(self._slugs)
            self._slugs.clear()
            return slugs
