"""SIGTERM for the CLI's finite commands: ended as Ctrl-C ends them, exit 143.

Why: ``timeout``, systemd and cron wrappers stop a command with SIGTERM, and nothing handled it
outside ``run``/``demo``: Python died with the default action, exit 143 and nothing printed,
while Ctrl-C let ``import`` say which lines are stored (tester F9). SIGTERM now raises
:class:`Terminated`, a :class:`KeyboardInterrupt`, so every path that ends a command in order
on Ctrl-C (``import``'s report, a commit held until counted: ``signal_hold.SignalHold``, the root's
one line) ends it the same way; only the words and the exit code say which signal it was.

``run`` and ``demo`` keep their own handling (``server.serve``: an orderly stop, exit 0), so
they are not given this handler. The handler is put back when the command ends (Click's
runner in the test suite runs commands in-process).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

#: 128 + SIGTERM: what a shell (and ``timeout``) reports for a command SIGTERM ended.
EXIT_TERMINATED = 128 + signal.SIGTERM

#: The commands that stop on SIGTERM themselves (``server.serve``), not by this handler.
OWN_HANDLING = frozenset({"run", "demo"})


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread where Ctrl-C's KeyboardInterrupt would be."""


#: Set when SIGTERM arrived (:func:`received`).
_received = threading.Event()


def _raise(signum: int, frame: FrameType | None) -> None:
    _received.set()
    raise Terminated


def received() -> bool:
    """Whether SIGTERM arrived during this command, even if its :class:`Terminated` was lost.

    Why: Python runs a signal's handler at the next bytecode after a C call returns, which can
    be in a finaliser or a library's cleanup that swallows exceptions: SIGTERM during a wait
    for SQLite's lock ended as "the state DB is locked", exit 1 (a tester's). The root command
    asks this before reporting an error, and reports the signal instead (exit 143)."""
    return _received.is_set()


def install() -> Callable[[], None]:
    """Make SIGTERM raise :class:`Terminated`; the function that puts the handler back.

    Only from the main thread (the only one that may set handlers), and only over the default
    action: an ignored SIGTERM (``nohup``-like wrappers, a parent's choice) stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return lambda: None
    _received.clear()
    old: Any = signal.signal(signal.SIGTERM, _raise)

    def restore() -> None:
        if signal.getsignal(signal.SIGTERM) is _raise:
            signal.signal(signal.SIGTERM, old)

    return restore


def exit_code(interrupt: BaseException) -> int:
    """143 for SIGTERM, 130 for Ctrl-C (SIGINT): 128 + the signal, as a shell reports it."""
    return EXIT_TERMINATED if isinstance(interrupt, Terminated) else 128 + signal.SIGINT


def word(interrupt: BaseException) -> str:
    """How an interrupted command says what stopped it."""
    return "terminated (SIGTERM)" if isinstance(interrupt, Terminated) else "interrupted"
