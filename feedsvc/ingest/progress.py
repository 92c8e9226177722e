"""Progress of a long catch-up (a first sync of a CMS archive, or a backlog after an outage).

Each tick that finds a full batch says "N rows behind the cursor, catching up" once; while the
state DB cannot take a batch (its outage: a full disk, a moved file, a server down) a tick
that retries at every poll is no catch-up, and said it every poll for the whole outage (a
tester's: 16 lines between two outage summaries, writing nothing). :class:`BacklogTold`
decides: not during a state-DB outage, and not again until a batch committed since.

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


@dataclass
class BacklogTold:
    """When a tick's "rows behind the cursor, catching up" line is said (INFO; DEBUG else):
    not while the state DB's outage lasts (no batch can commit: nothing catches up), and not
    again while no batch committed since it was last said (the tick that said it failed and
    its retry would say the same, at every poll). A first sync's progress lines (done / total,
    rate) come from :class:`Progress` as batches commit, so they are not affected."""

    told_at: int | None = None  # batches committed (the ingestor's count) when last said

    def due(self, committed: int, state_db_down: bool) -> bool:
        """Whether to say the line now: ``committed``, the ingestor's batches committed since
        its start; ``state_db_down``, the state DB's outage is under way."""
        if state_db_down or self.told_at == committed:
            return False
        self.told_at = committed
        return True
