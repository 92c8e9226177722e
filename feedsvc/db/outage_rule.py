"""When a database outage is said in the log: the one rule, pure (events in, lines out).

:class:`OutageRule` is told each failure (:meth:`~OutageRule.failed`) and each answer while the
database is down (:meth:`~OutageRule.answered`), with the time (a monotonic clock, passed in:
tests use their own), and returns the lines to say — :class:`Line`, worded by
:class:`feedsvc.db.outage.Outage`. Why a rule of its own: its earlier form (a failure within
:data:`FLAP_SECONDS` of an end resumes the outage, silently) left a resumed outage's real end
unsaid — the log said "available again after 10 s" and nothing more while the file stayed away
20 s after (a tester's, 3 of 3) — and a database flapping a little slower than 5 s said every
start and end (12 lines a minute at 5 s / 5 s, jitter deciding which flaps resumed).

The rule:

* An outage's **start** is said at once, and so is its **end** (the first answer): a plain
  outage, or two, is told in full as it happens.
* A failure within :data:`FLAP_SECONDS` of an answer **resumes** that outage (a flap, or work
  begun during the outage failing just after its end): no new start; its durations count
  from its first start. Its next end is said like any end — a resumed outage always ends with
  its line.
* Lines are paced by a budget: :data:`BURST` lines at once, then one per
  :data:`SUMMARY_SECONDS` (a token bucket). With no line left to spend, a failure resumes the
  outage whatever the gap (a flap of any period), and an end is **held**: said with its real
  length as soon as a line is free (:meth:`OutageRule.due`, asked at each event), unless the
  database fails again first (then it was no end), or the service stops first
  (:meth:`OutageRule.at_stop`). So a database flapping at any period says at most
  :data:`BURST` lines in its first minute and about one a minute after, and the last line of
  any outage is its end, at most a minute late.
* While it is down, a summary every :data:`SUMMARY_SECONDS` after the last line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Seconds between two lines about one outage while it lasts (its start, then summaries), and
#: the pace of lines a flapping database is told at: a bounded log whatever the request rate.
SUMMARY_SECONDS = 60.0
#: Seconds after an answer within which a failure resumes the outage instead of starting a new
#: one (no second start line): a database that answers and fails by turns is one outage, and
#: so is a failure reported just after the end by work begun during it.
FLAP_SECONDS = 5.0
#: Lines said at once before the pace is one per :data:`SUMMARY_SECONDS`: two outages' start
#: and end within a minute are told as they happen; a third within it is a flap.
BURST = 4

Kind = Literal["start", "summary", "end"]


@dataclass(frozen=True, slots=True)
class Line:
    """One line to say about an outage.

    ``lasted``: seconds from the outage's start to now (a summary) or to the answer that ended
    it (an end); ``failures``: in the whole outage; ``flaps``: times it answered and failed
    again within it; ``late``: an end said after its answer (held: seconds since that answer);
    ``since_line``: seconds since the previous line (a summary's "in the last N s")."""

    kind: Kind
    lasted: float = 0.0
    failures: int = 0
    flaps: int = 0
    late: float = 0.0
    since_line: float = 0.0

    @property
    def flapped(self) -> str:
        """What the line says of its outage's flaps (in the log's words; none: nothing)."""
        return f"; it answered and failed again {self.flaps} time(s)" if self.flaps else ""


class OutageRule:
    """The state of one database's outage as the log tells it (not thread-safe: its caller,
    :class:`~feedsvc.db.outage.Outage`, holds a lock)."""

    def __init__(
        self,
        summary_seconds: float = SUMMARY_SECONDS,
        flap_seconds: float = FLAP_SECONDS,
        burst: int = BURST,
    ) -> None:
        self.summary_seconds = summary_seconds
        self.flap_seconds = flap_seconds
        self.burst = burst
        #: the current (or last) outage's start; None: there has been none
        self.since: float | None = None
        self.down = False  # failing now
        self.back_at: float | None = None  # the answer after its last failure (while up)
        self.end_said = True  # that answer's end line was said (False: held)
        self.failures = 0  # in the current (or last) outage
        self.flaps = 0  # times it answered and failed again within it
        self.last_line: float | None = None
        self._tokens = float(burst)
        self._filled_at: float | None = None

    @property
    def held(self) -> bool:
        """An end not yet said (no line was free at its answer): :meth:`due` says it."""
        return not self.down and not self.end_said

    def failed(self, now: float) -> list[Line]:
        """A failure at ``now``: the lines to say (a held end, a start, a summary, or none)."""
        lines: list[Line] = []
        if not self.down:
            assert self.since is None or self.back_at is not None
            if self.since is not None and (
                now - (self.back_at if self.back_at is not None else now) < self.flap_seconds
                or not self._free(now, 2 if self.held else 1)  # a held end, then a start
            ):
                self.down, self.back_at, self.end_said = True, None, True  # a held end: none
                self.flaps += 1
            else:
                lines += self.due(now)  # the last outage's held end, before the new start
                self.since, self.down, self.back_at = now, True, None
                self.failures, self.flaps = 1, 0
                return [*lines, self._say(Line("start", failures=1), now)]
        self.failures += 1
        if self.last_line is None or now - self.last_line >= self.summary_seconds:
            line = Line(
                "summary",
                lasted=now - (self.since if self.since is not None else now),
                failures=self.failures,
                flaps=self.flaps,
                since_line=now - (self.last_line if self.last_line is not None else now),
            )
            lines.append(self._say(line, now))
        return lines

    def answered(self, now: float) -> list[Line]:
        """An answer at ``now`` (one that proves the database works again): its end, at once
        if a line is free; else held. While up, a held end whose turn came (:meth:`due`)."""
        if not self.down:
            return self.due(now)
        self.down, self.back_at, self.end_said = False, now, False
        return self.due(now)

    def due(self, now: float) -> list[Line]:
        """The held end, if a line is free now (asked at every event: nothing else says it)."""
        if not self.held or not self._free(now):
            return []
        return [self._end(now)]

    def at_stop(self, now: float) -> list[Line]:
        """The held end, whatever the budget: the service stops, and a stop within a minute
        of a flapping outage's end left the log's last word on it "is unavailable" (a CI
        run's log: the database back 30 s, nothing said of it before "feedsvc stopped")."""
        return [self._end(now)] if self.held else []

    def _end(self, now: float) -> Line:
        self.end_said = True
        back = self.back_at if self.back_at is not None else now
        line = Line(
            "end",
            lasted=back - (self.since if self.since is not None else back),
            failures=self.failures,
            flaps=self.flaps,
            late=now - back,
        )
        return self._say(line, now)

    def _free(self, now: float, lines: int = 1) -> bool:
        """Whether ``lines`` may be said now (the budget refilled to ``now``)."""
        if self._filled_at is not None:
            gained = (now - self._filled_at) / self.summary_seconds
            self._tokens = min(float(self.burst), self._tokens + max(0.0, gained))
        self._filled_at = now
        return self._tokens >= lines - 1e-9

    def _say(self, line: Line, now: float) -> Line:
        self._free(now)
        self._tokens = max(0.0, self._tokens - 1.0)
        self.last_line = now
        return line
