"""A bounded shutdown: SIGTERM ends the process within :data:`SHUTDOWN_SECONDS`, whatever is stuck.

Stopping is graceful first (``Service.stop`` lets a running tick finish, drains in-flight sends,
releases leases, each step within what is left of the budget). But a worker thread blocked
inside a database driver cannot be interrupted from Python, and the interpreter joins such
threads on exit (``asyncio.run`` waits for its executor, ``concurrent.futures`` joins its
workers at exit), so a process could log "stopped" and never exit (issue #18 §1).

:class:`ExitGuard` is armed when SIGTERM/SIGINT arrives; if the process is still alive when
the budget runs out it logs which threads are still busy, flushes the logs and ends the
process with ``os._exit``. What is guaranteed then: every transaction still open is rolled
back by the database when its connection dies with the process (ingest batches and delivery
records commit atomically, so nothing is half-written), leases held by the stuck work expire
and another replica or the next start retries it, and at most one duplicate alert per
in-flight send (as after a crash, SPEC §6). Exit code 0 when the graceful stop had finished
(only a stuck thread kept the process alive), 1 when it had not.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time

log = logging.getLogger(__name__)

#: From SIGTERM to the process's end, at most (README: Deployment).
SHUTDOWN_SECONDS = 5.0
#: Kept in hand for the guard itself (logging, flushing) and a loaded machine.
MARGIN_SECONDS = 0.4


class ExitGuard:
    def __init__(self, seconds: float = SHUTDOWN_SECONDS) -> None:
        self.seconds = seconds
        self.deadline: float | None = None  # time.monotonic() when the process must be gone
        self.stopped = False  # set when the graceful stop completed
        self._lock = threading.Lock()

    def arm(self) -> None:
        """Start the countdown (idempotent: a second signal does not extend it)."""
        with self._lock:
            if self.deadline is not None:
                return
            self.deadline = time.monotonic() + self.seconds - MARGIN_SECONDS
        threading.Thread(target=self._wait, name="exit-guard", daemon=True).start()

    def remaining(self, default: float) -> float:
        """Seconds left before the guard fires (``default`` when not armed)."""
        if self.deadline is None:
            return default
        return max(0.0, self.deadline - time.monotonic())

    def _wait(self) -> None:
        assert self.deadline is not None
        time.sleep(max(0.0, self.deadline - time.monotonic()))
        busy = sorted(
            t.name for t in threading.enumerate() if t is not threading.current_thread()
            and not t.daemon and t is not threading.main_thread()
        )
        log.warning(
            "shutdown: still %s after %.0f s (busy threads: %s); exiting now — open "
            "transactions roll back, leases expire and the work is retried",
            "exiting" if self.stopped else "stopping",
            self.seconds,
            ", ".join(busy) or "none",
        )
        for handler in logging.getLogger().handlers:
            handler.flush()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(0 if self.stopped else 1)
