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
did not. One wait is no work: an ingest tick still connecting to the CMS holds no row and no
transaction (:mod:`feedsvc.source.connects`), so a stop that leaves only it behind is in order
and ends at once with the signal's code (:meth:`ExitGuard.end_now`). A stop that abandoned
work does not wait for the guard either: it ends the process as soon as its steps are done
(:meth:`ExitGuard.exit_now`), so that the abandoned work cannot commit after the log said it
was abandoned.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from types import FrameType
from typing import Any

from feedsvc import entry

log = logging.getLogger(__name__)
_service_log = logging.getLogger("feedsvc.app")  # the stop's line keeps its logger name

#: What sends a signal that stops the service, for the log line that says why it stops.
STOP_CAUSES: dict[int, str] = {signal.SIGHUP: " (the terminal or SSH session it ran in closed)"}

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
        #: set with ``stopped`` when the stop left behind only a wait that holds nothing (an
        #: ingest tick's connect to the CMS): the process must still end at once
        self.left_behind = False
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

    def end_now(self, code: int) -> None:
        """End the process now with ``code`` (the signal's, 0 for SIGTERM) after a stop in
        order that left behind a wait holding nothing (:attr:`left_behind`): the interpreter
        would join that thread until the wait ends, past the 5 s the stop is given."""
        self._exit("a wait that holds nothing was left behind", code, orderly=True)

    def _exit(self, why: str, code: int = 1, *, orderly: bool = False) -> None:
        busy = sorted(
            t.name
            for t in threading.enumerate()
            if t is not threading.current_thread()
            and not t.daemon
            and t is not threading.main_thread()
        )
        if not orderly:
            log.warning(
                "shutdown: %s (busy threads: %s); exiting now, exit %d — open transactions "
                "roll back, leases expire and the work is retried",
                why,
                ", ".join(busy) or "none",
                code,
            )
        else:
            log.info("shutdown: %s (busy threads: %s); exiting now, exit %d", why,
                     ", ".join(busy), code)  # fmt: skip
        for handler in logging.getLogger().handlers:
            handler.flush()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)


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


class StartupStopped(KeyboardInterrupt):
    """SIGTERM/SIGINT while ``run``/``demo`` import and read their configuration: raised where
    the signal found the main thread (a KeyboardInterrupt, so no ``except Exception`` keeps
    it), caught by the command, which exits as after an orderly stop."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class StopSignals:
    """SIGTERM, SIGINT and SIGHUP for ``run`` and ``demo``, from the command's first line to
    its end.

    Why: the service's own handlers came with the event loop (``server.serve``), after seconds
    of imports, configuration, migrations and the demo's seeding; a SIGTERM in that window had
    its default action, death by signal (exit 143), no orderly stop and the demo's temporary
    directory left behind (tester3 F2). Now every signal is noted from the start: the exit
    guard is armed (the 5 s budget runs from the signal, whatever is under way) and whoever
    listens is told (:meth:`listen`: the service is interrupted, the server stops).

    Three modes, one handler: inside :meth:`interruptible` (imports, reading the config: work
    that leaves nothing behind) the signal raises :class:`StartupStopped` at once; elsewhere
    in synchronous code it is only noted, and the command looks at :attr:`received` at its
    next step (:meth:`check`), so cleanup such as the demo's is never cut short; while the
    event loop runs, :meth:`on_loop` hands the signals to the loop (``add_signal_handler``),
    whose callbacks may touch asyncio objects.

    Why SIGHUP too: a terminal or SSH session that closes sends it to a foreground ``run``,
    whose default action killed the process as a crash does (no orderly stop: leases left to
    expire, an alert in flight sent again at the next start).
    """

    SIGNALS = entry.SIGNALS

    def __init__(self, guard: ExitGuard | None = None) -> None:
        self.guard = guard or ExitGuard()
        self.received: list[int] = []  # in order: the first decides the exit code
        self._listeners: list[Callable[[int], None]] = []
        self._announced = False
        self._raising = False
        self._old: dict[int, Any] = {}

    def install(self) -> StopSignals:
        """Take :attr:`SIGNALS` (main thread only: the only one that may), keeping the
        handlers they had for :meth:`restore`, and one that came before the command ran
        (``feedsvc.entry`` noted it at the process's first line). An ignored SIGTERM or SIGHUP
        (a parent's choice, ``nohup``) stays ignored."""
        if threading.current_thread() is not threading.main_thread():
            return self
        for sig in self.SIGNALS:
            if signal.getsignal(sig) is not signal.SIG_IGN:
                self._old[sig] = signal.signal(sig, self._handle)
        for signum in entry.hand_over():  # came during the CLI's imports, before this command
            self.note(signum)
        return self

    def restore(self) -> None:
        """Put back the handlers :meth:`install` found (a command run in-process: tests)."""
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        # recorded, and the raise decided, before any call: a second signal's handler runs
        # nested at the first call here (arming the guard starts a thread), and it raised its
        # own signal, so SIGINT then SIGTERM during start-up ended as SIGTERM (a tester's)
        self.received.append(signum)
        raising, self._raising = self._raising, False  # once: the unwinding is not cut again
        self._tell(signum)
        if raising:
            stopped = StartupStopped(self.received[0])  # the first signal decides
            entry.raised(stopped)  # noted above: a finaliser swallowing it says nothing
            raise stopped

    def note(self, signum: int) -> None:
        """A signal came: noted, the exit guard armed, the listeners told."""
        self.received.append(signum)
        self._tell(signum)

    def _tell(self, signum: int) -> None:
        """The exit guard armed, the listeners told of ``signum``."""
        self.guard.arm()
        for listener in list(self._listeners):
            listener(signum)

    def announce(self, signum: int) -> None:
        """Log why the service stops (``SIGTERM received: stopping``), once: called by each
        listener before it stops anything, so the signal's line comes before the lines of
        the work it stops (the demo's own listener interrupted its start-up first: "rendering
        stopped…" and "ingest: stopping between batches" were logged before it, a tester's)."""
        if self._announced:
            return
        self._announced = True
        cause = STOP_CAUSES.get(signum, "")
        _service_log.info("%s received: stopping%s", signal.Signals(signum).name, cause)

    def listen(self, listener: Callable[[int], None]) -> None:
        """Call ``listener(signum)`` at each signal; at once for one already received (a
        listener added after the signal still hears it)."""
        self._listeners.append(listener)
        if self.received:
            listener(self.received[0])

    def check(self) -> None:
        """Raise :class:`StartupStopped` when a signal came: between start-up steps."""
        if self.received:
            raise StartupStopped(self.received[0])

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        """A signal inside raises :class:`StartupStopped` where it finds the main thread."""
        self.check()
        self._raising = True
        try:
            yield
        finally:
            self._raising = False

    @contextlib.contextmanager
    def on_loop(self) -> Iterator[None]:
        """While the running event loop serves: the signals are its (noted on the loop, where
        listeners may set events); after, this object's handler again (record only)."""
        loop = asyncio.get_running_loop()
        self._raising = False
        on_main = threading.current_thread() is threading.main_thread()
        if on_main:
            for sig in self.SIGNALS:
                if sig in self._old:
                    loop.add_signal_handler(sig, self.note, sig)
        try:
            yield
        finally:
            if on_main:
                for sig in self.SIGNALS:
                    if sig in self._old:
                        loop.remove_signal_handler(sig)  # which sets the default action
                        signal.signal(sig, self._handle)

    @property
    def exit_code(self) -> int:
        """0 after SIGTERM (the orderly stop asked for), 128 + the signal after another: 130
        after SIGINT, 129 after SIGHUP (README: exit codes)."""
        first = self.received[0] if self.received else signal.SIGTERM
        return 0 if first == signal.SIGTERM else 128 + first
