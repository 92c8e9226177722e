"""Log lines any client can cause, bounded: the first few of a window in full, the rest
counted and told in one summary line when the window closes (SPEC §8, observability).

Why: one WARNING per malformed HTTP request let any client write the log as fast as it could
send (50 connections sending bare-LF requests: 42,204 lines, 6 MB, in 5 s); under systemd,
journald's per-service rate limit then dropped feedsvc's own lines, ERRORs among them, and a
disk filled. A line a client can repeat at will is logged through a :class:`BoundedLog`, one
per kind of line:

* a window opens with a line and lasts :attr:`BoundedLog.window` seconds (default
  :data:`WINDOW`); its first :attr:`BoundedLog.burst` lines (:data:`BURST`) are logged as they
  are, the last of them saying that more will be counted;
* the rest are counted, never formatted: how many, from how many addresses (``source``, at
  most :data:`MAX_SOURCES` remembered), and the first of them kept whole;
* when the window closes, one line says it: ``490 more malformed HTTP requests answered 400
  in 60 s, from 3 addresses; the first: …``. A timer closes it at its end (armed with the
  first line counted: a quiet window costs no timer), so a flood's summary never waits for a
  next line that may not come; a line after the end closes it first (a late timer), and the
  process's exit closes every open window (:func:`close_all`, at ``atexit``).

A line of another kind, and any line logged directly (an ERROR of our own), is never held back.
Thread-safe: a window's bookkeeping under a lock, the logging outside it.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

#: Lines logged in full per window.
BURST = 10
#: A window's length in seconds.
WINDOW = 60.0
#: Distinct sources a window remembers for its count (memory bounded; "10000 or more").
MAX_SOURCES = 10_000


class Cancellable(Protocol):
    def cancel(self) -> None: ...


#: ``schedule(delay, call)``: ``call()`` in ``delay`` seconds, cancellable (a daemon timer).
Schedule = Callable[[float, Callable[[], None]], Cancellable]


def timer(delay: float, call: Callable[[], None]) -> Cancellable:
    """:data:`Schedule` on a daemon thread: a window's end is not tied to an event loop (the
    HTTP protocol, a route in the thread pool) and never keeps the process alive."""
    thread = threading.Timer(max(0.0, delay), call)
    thread.daemon = True
    thread.start()
    return thread


@dataclass(eq=False)
class _Window:
    started: float
    logged: int = 0
    counted: int = 0
    sources: set[str] = field(default_factory=set)
    first: str | None = None  # the first line counted, formatted
    timer: Cancellable | None = None


#: Every :class:`BoundedLog` of the process, for :func:`close_all`.
_ALL: weakref.WeakSet[BoundedLog] = weakref.WeakSet()


class BoundedLog:
    """One kind of line a client can cause, at most :attr:`burst` per :attr:`window` seconds
    in full, the rest told in one summary line (see the module docstring). ``counted``: what
    the summary counts, singular and plural (``("malformed HTTP request answered 400",
    "malformed HTTP requests answered 400")``); ``clock`` in seconds (monotonic)."""

    def __init__(
        self,
        logger: logging.Logger,
        counted: tuple[str, str],
        *,
        burst: int = BURST,
        window: float = WINDOW,
        level: int = logging.WARNING,
        clock: Callable[[], float] = time.monotonic,
        schedule: Schedule = timer,
    ) -> None:
        self.logger = logger
        self.counted = counted
        self.burst = burst
        self.window = window
        self.level = level
        self.clock = clock
        self.schedule = schedule
        self._open: _Window | None = None
        self._lock = threading.Lock()
        _ALL.add(self)

    def log(self, msg: str, *args: object, source: str | None = None) -> None:
        """Log ``msg % args`` if the window has room, else count it (``source``: who caused it,
        a client's address, counted once per window)."""
        if not self.logger.isEnabledFor(self.level):
            return
        with self._lock:
            now = self.clock()
            window = self._open
            summary = None
            if window is not None and now - window.started >= self.window:
                summary = self._close(window, now)
                window = None
            if window is None:
                window = self._open = _Window(now)
            if window.logged < self.burst:
                window.logged += 1
                full = True
                last = window.logged == self.burst
            else:
                full = last = False
                window.counted += 1
                if source is not None and len(window.sources) < MAX_SOURCES:
                    window.sources.add(source)
                if window.first is None:
                    window.first = msg % args if args else msg
                    ends_in = window.started + self.window - now
                    window.timer = self.schedule(ends_in, partial(self._expire, window))
        if summary is not None:
            self.logger.log(self.level, "%s", summary)
        if last:
            seconds = round(self.window)
            self.logger.log(
                self.level,
                f"{msg} (more in this {seconds} s window are counted in one line)",
                *args,
            )
        elif full:
            self.logger.log(self.level, msg, *args)

    def close(self) -> None:
        """Close the open window now: its summary line, if it counted any (at exit, in tests)."""
        with self._lock:
            window = self._open
            summary = None if window is None else self._close(window, self.clock())
        if summary is not None:
            self.logger.log(self.level, "%s", summary)

    def _expire(self, window: _Window) -> None:
        """The timer at ``window``'s end: its summary, unless a line closed it already."""
        with self._lock:
            if self._open is not window:
                return
            summary = self._close(window, self.clock())
        if summary is not None:
            self.logger.log(self.level, "%s", summary)

    def _close(self, window: _Window, now: float) -> str | None:
        """Forget ``window`` (under the lock); its summary line when it counted any."""
        self._open = None
        if window.timer is not None:
            window.timer.cancel()
        if not window.counted:
            return None
        return summary_line(
            self.counted, window.counted, len(window.sources), now - window.started, window.first
        )


def summary_line(
    counted: tuple[str, str], n: int, sources: int, seconds: float, first: str | None
) -> str:
    """``490 more malformed HTTP requests answered 400 in 60 s, from 3 addresses; the first:
    …`` (``sources`` 0: no address was given; :data:`MAX_SOURCES`: "or more")."""
    line = f"{n} more {counted[0] if n == 1 else counted[1]} in {max(1, round(seconds))} s"
    if sources:
        more = " or more" if sources >= MAX_SOURCES else ""
        line += f", from {sources}{more} address{'' if sources == 1 else 'es'}"
    return f"{line}; the first: {first}" if first is not None else line


def close_all() -> None:
    """Every open window's summary now: the process is ending (registered with ``atexit``)."""
    for bounded in list(_ALL):
        bounded.close()


atexit.register(close_all)
