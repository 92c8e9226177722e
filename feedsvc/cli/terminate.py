"""SIGTERM and SIGHUP for the CLI's finite commands: ended as Ctrl-C ends them, exit 143/129.

Why: ``timeout``, systemd and cron wrappers stop a command with SIGTERM, and nothing handled it
outside ``run``/``demo``: Python died with the default action, exit 143 and nothing printed,
while Ctrl-C let ``import`` say which lines are stored (tester F9). SIGTERM now raises
:class:`Terminated`, a :class:`KeyboardInterrupt`, so every path that ends a command in order
on Ctrl-C (``import``'s report, a commit held until counted: ``signal_hold.SignalHold``, the root's
one line) ends it the same way; only the words and the exit code say which signal it was.
SIGHUP (the terminal or SSH session the command ran in closed) is a :class:`Terminated` too:
an ``import`` over SSH whose connection dropped stored its last batch and stopped between
batches, where the default action killed it mid-batch.

``run`` and ``demo`` keep their own handling (``server.serve``: an orderly stop), so they are
not given this handler. The handler itself is ``feedsvc.entry``'s, taken at the process's first
line (a signal during the imports is the command's too) and, after the first signal, deaf to
the next ones until the process is gone.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import NoReturn

from feedsvc import entry

#: The commands that stop on SIGTERM themselves (``server.serve``), not by this handler.
OWN_HANDLING = frozenset({"run", "demo"})


#: How a command stopped by each signal says so (README: exit codes), Ctrl-C's being the rest.
_WORDS: dict[int, str] = {signal.SIGTERM: "terminated (SIGTERM)", signal.SIGHUP: "hung up (SIGHUP)"}


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP (``signum``), raised in the main thread where Ctrl-C's
    KeyboardInterrupt would be."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(signum)
        self.signum = signum


def interrupt_for(signum: int) -> KeyboardInterrupt:
    """What a signal raises in a command: :class:`Terminated` for SIGTERM and SIGHUP, else
    Ctrl-C's KeyboardInterrupt."""
    return Terminated(signum) if signum in _WORDS else KeyboardInterrupt()


def _raise(signum: int) -> NoReturn:
    raise interrupt_for(signum)


def received() -> bool:
    """Whether a signal arrived during this command, even if its exception was lost.

    Why: Python runs a signal's handler at the next bytecode after a C call returns, which can
    be in a finaliser or a library's cleanup that swallows exceptions: SIGTERM during a wait
    for SQLite's lock ended as "the state DB is locked", exit 1 (a tester's). The root command
    asks this before reporting an error, and reports the signal instead (:func:`lost`)."""
    return entry.received() is not None


def lost() -> KeyboardInterrupt:
    """The interrupt of the signal :func:`received` says came."""
    signum = entry.received()
    return interrupt_for(signal.SIGTERM if signum is None else signum)


def install() -> Callable[[], None]:
    """Make the command's first SIGINT, SIGTERM or SIGHUP raise (:class:`Terminated` for the
    last two), later ones only noted (``feedsvc.entry``: one signal, one stop); the function
    that ends that when the command ends. Call :func:`deliver` once the command has it.

    Only over a signal's default handling: an ignored SIGTERM or SIGHUP (``nohup``, a parent's
    choice) stays ignored. The console script took the signals at its first line; a
    command run in-process (Click's runner) has them taken here and put back by the result."""
    taken_here = entry.take()
    if not entry.taken():
        return lambda: None
    entry.arm(_raise)

    def restore() -> None:
        entry.disarm()
        if taken_here:
            entry.release()

    return restore


def deliver() -> None:
    """Raise, as the command's, a signal that came before it started (during the imports)."""
    entry.deliver()


def ended() -> None:
    """The command has ended (returned or raised): a signal from now on is ignored and its
    exit code stands, as while the interpreter exits (``feedsvc.entry``'s last phase). The
    function :func:`install` returned still puts the handlers back at the context's close."""
    entry.disarm()


def finish() -> KeyboardInterrupt | None:
    """The interrupt of a signal that came while no command ran (``--help``, a usage error)."""
    signum = entry.finish()
    return None if signum is None else interrupt_for(signum)


def exit_code(interrupt: BaseException) -> int:
    """143 for SIGTERM, 129 for SIGHUP, 130 for Ctrl-C (SIGINT): 128 + the signal, as a shell
    reports it."""
    return 128 + (interrupt.signum if isinstance(interrupt, Terminated) else signal.SIGINT)


def word(interrupt: BaseException) -> str:
    """How an interrupted command says what stopped it."""
    return _WORDS[interrupt.signum] if isinstance(interrupt, Terminated) else "interrupted"


def fresh_line() -> str:
    """A line break when stderr is a terminal, where a Ctrl-C left ``^C`` (or a progress bar)
    on the current line; nothing on a pipe or a file, whose first line it would blank."""
    import sys

    return "\n" if sys.stderr.isatty() else ""


def tell(text: str) -> None:
    """``text`` on stderr, as a stopped command's last words; nothing when stderr no longer
    takes them (a terminal that hung up: EIO, the SIGHUP's cause), so that the exit code still
    says which signal stopped the command instead of an error about writing it."""
    import contextlib

    import click

    with contextlib.suppress(OSError, ValueError):  # ValueError: stderr closed by Python
        click.echo(text, err=True)


def say(interrupt: BaseException) -> None:
    """The one line on stderr of a command stopped by ``interrupt`` (``feedsvc: interrupted``),
    on a line of its own."""
    tell(f"{fresh_line()}feedsvc: {word(interrupt)}")
