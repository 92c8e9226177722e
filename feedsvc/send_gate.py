"""When a starting process begins to send: after its first look at the source, within a bound.

Alerts, digests and follow-ups queued before a stop were decided on what the source said
then. While the service was down the source may have taken articles down (an import line
``"withdrawn": true``, a CMS row back to draft, a row deleted); the state DB learns that only
when ingest has read those rows (and reconciliation has compared the window, for a deletion).
A dispatcher that sends before that sends the takedown — and a digest message holding it
cannot be taken back whole while its other articles are public (tlife finding 2).

So a process that ingests and dispatches (role ``scheduler``) starts its dispatchers only when
one of these holds, whichever comes first:

* nothing was owed at start (no unfinished delivery or follow-up): nothing to protect, the
  start is as fast as before;
* its first ingest tick as the leader read the source to its head (a catch-up included) and
  the first reconciliation pass ran right after it (or could not: then said why);
* as a standby replica (PostgreSQL; another process holds the ingest lease): the leader
  recorded a successful tick with no backlog after this process started (``source_cursors``'
  ``last_success_at``; the leader's reconciliation is not recorded, so not waited for — its
  own dispatcher waits for it);
* :data:`SEND_WAIT_SECONDS` passed: a source that does not answer or a long catch-up never
  holds alerts for good; the log says sending starts without a complete look, and why.

The decisions are pure (:func:`unread`, :func:`leader_looked`); :class:`SendGate` holds the
state, is opened from the ingest thread and waited on from the event loop, and words it for
the log and ``/readyz``'s checks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from feedsvc.ingest.model import TickResult
from feedsvc.store.records import Cursor

log = logging.getLogger(__name__)

#: The longest a start holds what is owed for the first look at the source (seconds): one
#: minute late beats a takedown sent, but a source down for hours must not stop alerts.
SEND_WAIT_SECONDS = 60.0


def unread(result: TickResult, *, stopping: bool) -> str | None:
    """Why this tick (as the ingest leader) is not a complete look at the source; None when it
    read the source to its head. Pure."""
    if stopping:
        return "the service is stopping"
    if result.error is not None:
        return "the ingest tick failed (its own log line says which side and why)"
    if result.skipped:
        return "ingest waits to retry after a failure"
    return None


def leader_looked(cursor: Cursor, started_at: datetime) -> bool:
    """Has the ingest leader (another process) read the source to its head since this process
    started: a success recorded at or after ``started_at`` (both the state DB's clock) with no
    backlog left. Pure."""
    done = cursor.last_success_at
    return done is not None and done >= started_at and not cursor.backlog


class SendGate:
    """Shut until :meth:`open` (any thread) or :data:`SEND_WAIT_SECONDS` after :meth:`arm`;
    :meth:`wait` (the event loop) returns True to start sending, False when the service
    stops first (:meth:`abandon`)."""

    def __init__(self, bound_seconds: float = SEND_WAIT_SECONDS) -> None:
        self.bound = bound_seconds
        self._lock = threading.Lock()
        self._opened: str | None = None  # why sending started; None while shut
        self._obstacle: str | None = None  # why it still waits (shown by /readyz)
        self._said: str | None = None  # the obstacle's key last logged (once per change)
        self._armed_at: float | None = None  # time.monotonic() when the wait began
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._abandoned = False

    @property
    def waiting(self) -> bool:
        return self._armed_at is not None and self._opened is None and not self._abandoned

    def arm(self, owed: int) -> None:
        """On the event loop: ``owed`` rows (deliveries and follow-ups) wait from before the
        start; sending waits for the first look at the source."""
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        self._armed_at = time.monotonic()
        log.info(
            "sending waits for a first look at the source: %d alert(s) or follow-up(s) owed "
            "from before the start, and the source may have taken some down meanwhile "
            "(at most %.0f s)",
            owed,
            self.bound,
        )

    def open_now(self, why: str) -> None:
        """Sending starts at once (nothing owed, or nothing to wait for); no wait was armed."""
        self._opened = why

    def note(self, obstacle: str, key: str | None = None) -> None:
        """Any thread: the first look is not done yet, because of ``obstacle`` (shown by
        ``/readyz``; logged when its ``key`` changes, the obstacle itself by default: a lease's
        seconds change every tick, its holder does not)."""
        said = obstacle if key is None else key
        with self._lock:
            if self._opened is not None:
                return
            self._obstacle = obstacle
            if said == self._said:
                return
            self._said = said
        log.info("sending still waits: %s", obstacle)

    def after_tick(
        self, result: TickResult, stopping: bool, leader_read: Callable[[], bool],
        reconcile: Callable[[], str],
    ) -> None:  # fmt: skip
        """In the ingest thread after a tick, while :attr:`waiting`: a tick that read the
        source to its head, then one reconciliation pass at once (``reconcile``: what it did,
        in words; its job's first pass comes ``source.reconcile_seconds`` later), opens the
        gate; a standby's tick opens it when ``leader_read()`` (:func:`leader_looked`)."""
        if not self.waiting:
            return
        if result.standby:
            if leader_read():
                self.open("the ingest leader read the source after this start")
            elif result.leader is not None:  # the lease's holder, as recorded: maybe killed
                self.note(
                    f"{result.leader.words}: waiting for that process's next pass, or for its "
                    "lease to lapse (this process then leads ingest)",
                    key=result.leader.holder,
                )
            else:
                self.note("another replica leads ingest: waiting for its next pass")
            return
        obstacle = unread(result, stopping=stopping)
        if obstacle is not None:
            self.note(obstacle)
            return
        self.open(f"the source was read to its head; {reconcile()}")

    def open(self, why: str) -> None:
        """Any thread: the first look is done; the first call wins."""
        with self._lock:
            if self._opened is not None or self._armed_at is None:
                return
            self._opened = why
            took = time.monotonic() - self._armed_at
        log.info("sending starts after %.1f s: %s", took, why)
        self._wake()

    def abandon(self) -> None:
        """Any thread (a signal handler too): the service stops; :meth:`wait` returns False."""
        self._abandoned = True
        self._wake()

    def _wake(self) -> None:
        loop, event = self._loop, self._event
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    async def wait(self, behind: Callable[[], bool]) -> bool:
        """Until the gate opens, or the bound passes (then it opens, saying why: ``behind()``,
        ingest is working through a backlog), or :meth:`abandon` (False)."""
        if self._event is None or self._armed_at is None:
            return not self._abandoned
        left = self.bound - (time.monotonic() - self._armed_at)
        with contextlib.suppress(TimeoutError):  # the bound: opened below, saying why
            await asyncio.wait_for(self._event.wait(), timeout=max(0.0, left))
        if self._abandoned:
            return False
        if self._opened is None:
            self.timed_out(behind())
        return True

    def timed_out(self, behind: bool) -> None:
        """The bound passed before a complete look: sending starts anyway, at WARNING."""
        with self._lock:
            if self._opened is not None:
                return
            why = self._obstacle or (
                "ingest is catching up on a backlog" if behind else "the first ingest tick runs"
            )
            self._opened = f"no complete look at the source within {self.bound:.0f} s ({why})"
        log.warning(
            "sending starts without a complete look at the source after %.0f s (%s): an "
            "article the source took down while the service was stopped may still go out",
            self.bound,
            why,
        )

    def shown(self) -> str:
        """For ``/readyz``'s checks: ``started: <why>`` or ``waiting: <why>``."""
        if self._opened is not None:
            return f"started: {self._opened}"
        if self._armed_at is None:
            return "not started"
        waited = time.monotonic() - self._armed_at
        obstacle = self._obstacle or "the first ingest pass runs"
        return f"waiting {waited:.0f} s of at most {self.bound:.0f} s: {obstacle}"
