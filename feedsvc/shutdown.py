"""A bounded shutdown: SIGTERM ends the process within :data:`SHUTDOWN_SECONDS`, whatever is stuck.

Stopping is graceful first (``Service.stop`` lets a running tick finish, drains in-flight sends,
releases leases, each step within what is left of the budget). But a worker thread blocked
inside a database driver cannot be interrupted from Python, and the interpreter joins such
threads on exit (``asyncio.run`` waits for its executor, ``concurrent.futures`` joins its
workers at exit), so a process could log "stopped" and never exit (issue #18 §1).

:class:`ExitGuard` is armed when SIGTERM/SIGINT arrives; if the process is still alive when
the budget runs out it logs which threads are still busy, flushes the logs and ends the
process with ``os._exit``. That guard is a Python thread and needs the GIL to act, which a
thread stuck in one long C call keeps (a regular expression backtracking on hostile text, a
huge parse: such a process never ended; ``tests/test_shutdown.py``). So arming also starts
``faulthandler``'s watchdog, a C thread that needs no GIL: just before the budget ends it
writes every thread's stack to stderr and ends the process, exit 1.

What is guaranteed after a forced exit: every transaction still open is rolled back by the
database when its connection dies with the process (ingest batches and delivery records commit
atomically, so nothing is half-written), leases held by the stuck work expire and another
replica or the next start retries it, and at most one duplicate alert per in-flight send (as
after a crash, SPEC §6). A forced exit is exit 1, always: exit 0 says the service stopped in
order, and a stop that abandoned work (a job, a batch under way, a sender) or ran out of time
did not. A stop that abandoned work does not wait for the guard either: it ends the process as
soon as its steps are done (:meth:`ExitGuard.exit_now`), so that the abandoned work cannot
commit after the log said it was abandoned.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import logging
import os
import sys
import threading
import time
from collections.abc import Awaitable

log = logging.getLogger(__name__)

#: From SIGTERM to the process's end, at most (README: Deployment).
SHUTDOWN_SECONDS = 5.0
#: Kept in hand for the guard itself (logging, flushing) and a loaded machine.
MARGIN_SECONDS = 0.4
#: When the GIL-free backstop fires, before the budget ends (after the guard's own deadline).
BACKSTOP_MARGIN_SECONDS = 0.1


class ExitGuard:
    def __init__(self, seconds: float = SHUTDOWN_SECONDS) -> None:
        self.seconds = seconds
        self.deadline: float | None = None  # time.monotonic() when the process must be gone
        self.stopped = False  # set when the graceful stop completed, abandoning nothing
        self._lock = threading.Lock()

    def arm(self) -> None:
        """Start the countdown (idempotent: a second signal does not extend it)."""
        with self._lock:
            if self.deadline is not None:
                return
            self.deadline = time.monotonic() + self.seconds - MARGIN_SECONDS
        _backstop(self.seconds - BACKSTOP_MARGIN_SECONDS)
        threading.Thread(target=self._wait, name="exit-guard", daemon=True).start()

    def remaining(self, default: float) -> float:
        """Seconds left before the guard fires (``default`` when not armed)."""
        if self.deadline is None:
            return default
        return max(0.0, self.deadline - time.monotonic())

    def _wait(self) -> None:
        assert self.deadline is not None
        time.sleep(max(0.0, self.deadline - time.monotonic()))
        self._exit(f"still {'exiting' if self.stopped else 'stopping'} after {self.seconds:.0f} s")

    def exit_now(self) -> None:
        """End the process now, exit 1: the stop is over but abandoned work is still running
        (the interpreter would join its thread, and the guard would end it later anyway)."""
        self._exit("work was abandoned")

    def _exit(self, why: str) -> None:
        busy = sorted(
            t.name
            for t in threading.enumerate()
            if t is not threading.current_thread()
            and not t.daemon
            and t is not threading.main_thread()
        )
        log.warning(
            "shutdown: %s (busy threads: %s); exiting now, exit 1 — open transactions roll "
            "back, leases expire and the work is retried",
            why,
            ", ".join(busy) or "none",
        )
        for handler in logging.getLogger().handlers:
            handler.flush()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(1)


def _backstop(seconds: float) -> None:
    """End the process in ``seconds`` (exit 1) even if no Python thread can run: the
    ``faulthandler`` watchdog (docs.python.org/3/library/faulthandler.html,
    ``dump_traceback_later(exit=True)``: a C thread, ``_exit(1)``) dumps the threads' stacks to
    stderr first, or to nowhere when stderr is unusable. Process-wide: one per process."""
    try:
        faulthandler.dump_traceback_later(seconds, exit=True, file=sys.stderr)
        return
    except (AttributeError, OSError, RuntimeError, ValueError):  # stderr closed or None
        pass
    with contextlib.suppress(OSError, RuntimeError, ValueError):
        faulthandler.dump_traceback_later(seconds, exit=True, file=os.open(os.devnull, os.O_WRONLY))


async def bounded(step: Awaitable[object], seconds: float, what: str) -> bool:
    """Await one step of a stop for at most ``seconds``: False (logged) when ``what`` had to be
    abandoned, which makes the stop not an orderly one (exit 1)."""
    try:
        await asyncio.wait_for(step, timeout=seconds)
    except TimeoutError:
        log.warning("%s did not stop in time; abandoning it", what)
        return False
    return True
