"""How often a run of failures is told in the log: at its start, when it changes, now and then.

Why: during a CMS outage the same WARNING came at every retry of the backoff (every 5 minutes
at most, for hours: a night's log full of one line) and nothing said when it ended or how
long it had lasted. :class:`FailureLog` (one per ingestor; one per leader pass,
:mod:`feedsvc.leader_checks`; the wake-up listener's, :mod:`feedsvc.wakeups`; a bot's poller
and a Bot API base URL that answers something else, :mod:`feedsvc.notify.not_bot_api`)
decides: the first failure of a run of failures is a WARNING (what fails, when it is tried
again); a different failure (another side, another error) is one too; the same failure again is
logged at DEBUG only, except a reminder every :data:`REMIND_SECONDS`; the first success after
failures is one INFO line with how long it lasted and how many tries failed
(:meth:`FailureLog.ended`). ``feedsvc status``, ``/readyz?ingest=1`` and the metrics say the
current state at any time, whatever was logged. A state DB outage is told by
:mod:`feedsvc.db.outage` instead (a start, a summary a minute, an end). Pure bookkeeping over a
monotonic clock (tests pass their own).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

#: The same failure is logged again (a WARNING) at most this often while it lasts (seconds).
REMIND_SECONDS = 900.0

#: What a failure is for the log: the first of a run, another than the last told, a reminder.
Told = Literal["first", "changed", "reminder"]


@dataclass
class FailureLog:
    clock: Callable[[], float] = field(default=time.monotonic)
    since: float | None = None  # the run of failures began (clock time)
    told_at: float | None = None  # the last WARNING
    told: tuple[str, str] | None = None  # (what failed, its error) as last told
    tries: int = 0  # failed tries in this run

    def failed(self, what: str, error: str) -> Told | None:
        """Note one failed try; what to log it as (None: DEBUG only, already told)."""
        now = self.clock()
        self.tries += 1
        kind: Told
        if self.since is None:
            self.since, kind = now, "first"
        elif (what, error) != self.told:
            kind = "changed"
        elif self.told_at is None or now - self.told_at >= REMIND_SECONDS:
            kind = "reminder"
        else:
            return None
        self.told_at, self.told = now, (what, error)
        return kind

    def lasting(self) -> float:
        """Seconds since the run of failures began (0 when none runs)."""
        return 0.0 if self.since is None else max(0.0, self.clock() - self.since)

    def ended(self, at: float | None = None) -> tuple[float, int] | None:
        """A try succeeded: ``(seconds the failures lasted, failed tries)`` when a run of them
        ends here, else None; the log starts afresh. ``at``: when the try that succeeded began
        (this clock's time; None: now) — the failures ended there, not after its work (an
        ingest tick catching up on a backlog for seconds said the outage lasted that longer)."""
        if self.since is None:
            return None
        end = self.clock() if at is None else at
        ended = (max(0.0, end - self.since), self.tries)
        self.since = self.told_at = self.told = None
        self.tries = 0
        return ended


def level_of(kind: Told | None, level: int) -> int:
    """The level of a line :meth:`FailureLog.failed` said is due (``kind``), else DEBUG."""
    return logging.DEBUG if kind is None else level


def spoken(seconds: float) -> str:
    """A duration as the log says it: "45 s", "12 min", "3 h 05 min"."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes = int(seconds // 60)
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
