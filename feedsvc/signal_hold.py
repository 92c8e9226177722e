"""Ctrl-C, SIGTERM and SIGHUP held back from a short critical section, then delivered.

Why: the CLI ends a command on SIGINT (KeyboardInterrupt), SIGTERM and SIGHUP (its
``Terminated``, ``feedsvc.cli.terminate``) by raising in the main thread at whatever bytecode
runs when the signal arrives. Inside a database write that point can be SQLAlchemy's commit, or
its pool's reset of a connection after a rollback: the exception then leaves the commit
uncounted (import said "nothing was stored" over 2,000 stored lines, seen in CI) or a SQLite
connection that still holds the write lock, alive in the exception's traceback, so a cleanup's
own write failed "database is locked" (a backfill's version bump, 2 of ~110 timed SIGTERMs).
Holding the signal for a batch's write and its counting moves the stop to the batch's edge,
where the work done is both stored and known.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from feedsvc import entry


class SignalHold:
    """SIGINT, SIGTERM and SIGHUP noted instead of raised between :meth:`hold` and
    :meth:`release`.

    Held by a Python handler that notes the signal (it runs in the main thread whichever thread
    the kernel picked, which a signal mask cannot promise), and only from the main thread, which
    alone may set handlers: elsewhere (the service's worker threads, where no signal raises)
    both are no-ops. SIGTERM and SIGHUP are held only when a Python handler has them (the
    CLI's): under the default action they end the process, as they always did outside the CLI.
    Holds nest.
    """

    def __init__(self) -> None:
        self._old: dict[int, Callable[[int, FrameType | None], Any] | int] = {}
        self._caught: list[int] = []

    def hold(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in entry.SIGNALS:  # the CLI's stop signals
            old = signal.getsignal(sig)
            # None: a handler set outside Python, which could not be put back
            if old is None or (sig != signal.SIGINT and not callable(old)):
                continue
            signal.signal(sig, self._note)
            self._old[sig] = old

    def _note(self, signum: int, frame: FrameType | None) -> None:
        self._caught.append(signum)

    def deliver(self) -> None:
        """At a point where stopping is safe (between batches): raise a signal that came
        since :meth:`hold` by running the handler there was (KeyboardInterrupt, the CLI's
        ``Terminated``), still holding: a second signal during the cleanup the first one
        starts (a backfill's version bump) waits for :meth:`release` too (a verifier's:
        Ctrl-C every 2 ms aborted that write and left the feeds stale)."""
        if not self._caught:
            return
        signum = self._caught[0]
        self._caught.clear()
        handler = self._old.get(signum)
        if callable(handler):
            handler(signum, None)
        else:  # SIG_DFL or SIG_IGN: what the signal does under it, the handlers put back
            self._caught.append(signum)
            self.release()

    def release(self) -> None:
        """Put the handlers back; a signal that came meanwhile is raised now, the first one
        only (Python's default SIGINT handler: KeyboardInterrupt; the CLI's: its
        ``Terminated`` or KeyboardInterrupt), by its handler run while the hold's are still in
        place: a later signal of the other kind, run by ``signal.signal`` as it puts a handler
        back, cannot overtake it (a SIGTERM ended as "interrupted", exit 130)."""
        old, self._old = self._old, {}
        first, self._caught = self._caught[:1], []
        try:
            for signum in first:
                handler = old.get(signum)
                if callable(handler):
                    handler(signum, None)
        finally:
            for sig, handler in old.items():
                signal.signal(sig, handler)
        if first and first[0] in old and not callable(old[first[0]]):
            signal.raise_signal(first[0])  # SIG_DFL: what the signal does under it
