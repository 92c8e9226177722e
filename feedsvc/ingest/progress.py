"""Progress of a long catch-up (a first sync of a CMS archive, or a backlog after an outage).

Counted once when a tick finds a full batch (so an ordinary tick pays nothing), then advanced
per batch. Logged every :data:`LOG_EVERY` seconds as ``done / total, rate, ETA``, and handed to
the cursor bookkeeping (``source_cursors.backlog`` and ``.rate``) so ``feedsvc status`` and the
admin status page — other processes — can show the backlog and an ETA.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from feedsvc.catalogue import ENGLISH

LOG_EVERY = 5.0  # seconds between progress lines
#: A rate measured over less than this is not reported: the first batch commits a moment after
#: the count, and its rows over that moment made `feedsvc status` show 416,560 rows/s.
MIN_RATE_SECONDS = 1.0


@dataclass
class Progress:
    total: int  # rows behind the cursor when counted
    clock: Callable[[], float] = field(default=time.monotonic)
    done: int = 0
    started: float = field(init=False)
    logged: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.logged = self.clock()

    def advance(self, rows: int) -> None:
        self.done += rows
        self.total = max(self.total, self.done)  # rows committed meanwhile

    @property
    def backlog(self) -> int:
        return self.total - self.done

    @property
    def rate(self) -> float:
        """Rows per second since the count."""
        elapsed = self.clock() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    @property
    def reported_rate(self) -> float | None:
        """The rate for the cursor (``feedsvc status``), None until it is measured over
        :data:`MIN_RATE_SECONDS` at least."""
        if self.clock() - self.started < MIN_RATE_SECONDS:
            return None
        return round(self.rate, 1)

    def due(self) -> bool:
        """True (once per :data:`LOG_EVERY`) when a progress line is due."""
        now = self.clock()
        if now - self.logged < LOG_EVERY:
            return False
        self.logged = now
        return True

    def line(self) -> str:
        rate = self.rate
        eta = ENGLISH.duration(self.backlog / rate, precise=True) if rate > 0 else "unknown"
        percent = 100.0 * self.done / self.total if self.total else 100.0
        return f"{self.done} / {self.total} rows ({percent:.1f}%), {rate:.0f} rows/s, ETA {eta}"

    def caught_up(self, ahead: int) -> str:
        """The catch-up's last line: the rows it read and, when the read stopped at ``ahead``
        rows dated ahead of now (held back, read when their time comes), how many of the
        rows counted are those: the count's rows not read, at least ``ahead`` (a read names
        no more than its batch holds). Not "19 / 20 rows (95.0%)": a caught-up ingest that had
        read all it could said it was short of one (a tester's: a CMS row dated 9999-12-31)."""
        text = f"{self.done} rows, {self.rate:.0f} rows/s"
        if not ahead:
            return text  # rows counted and not read since deleted: nothing to say of them
        held = max(ahead, self.backlog)
        rows, its = ("1 row", "its") if held == 1 else (f"{held} rows", "their")
        return f"{text}; {rows} held back, dated ahead of now (read when {its} time comes)"
