"""The ``feedsvc`` console script (``[project.scripts]``, ``python -m feedsvc``): SIGINT,
SIGTERM and SIGHUP taken at the process's first line, and one rule for them until it exits.

Why: the CLI's handlers came with the command (``cli.terminate.install``, once Click had
resolved it), after ~80 ms of imports: a SIGTERM before that had its default action (the
process killed, nothing said), a Ctrl-C a ``KeyboardInterrupt`` traceback from whatever was
importing (a verifier's: 25 of 40 SIGTERMs and 28 of 40 Ctrl-Cs in `topics list`'s first
0.15 s). And a signal after the first one was raised again inside the stop the first began:
SQLAlchemy's pool logged "Exception during reset or similar" with a traceback,
``threading._shutdown`` "Exception ignored", or Python's exit, which puts the default action
back over a Python handler before it tears the modules down, was killed by it (exit -2).

One handler for the three signals, whose answer depends on the phase:

- before a command runs (imports, Click's parsing): noted. The command takes it as it starts
  (:func:`arm` then :func:`deliver`: raised there; ``run``/``demo``: :func:`hand_over` to
  ``shutdown.StopSignals``); when no command runs (``--help``, a usage error) the CLI's
  ``main`` reports it (:func:`finish`), exit 130/143/129 as later in a command;
- while a command runs (:func:`arm`): the first signal raises (the command's ``raiser``:
  ``KeyboardInterrupt``, ``Terminated``); every later one is only noted: one signal, one
  stop, whose cleanup (a commit held by ``signal_hold``, the pool's reset, the report) is
  never cut;
- once the command ended (:func:`disarm`) and while the interpreter exits: ignored, the
  command's exit code stands. The last ``atexit`` hook sets ``SIG_IGN``, which Python's
  finalisation keeps.

Imports nothing beyond what the interpreter's start already loaded (the CLI's start-up budget:
``tests/test_cli_imports.py``).
"""

from __future__ import annotations

import atexit
import signal
import sys

TYPE_CHECKING = False  # no `typing` (~3 ms) before the signals are taken; mypy reads it True
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType
    from typing import Any

#: The signals a CLI process takes (Ctrl-C; ``timeout``, systemd, cron's stop; a terminal or
#: SSH session that closed: SIGHUP, which killed a foreground ``run`` as a crash did).
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

#: What each signal must have for the CLI to take it: Python's own Ctrl-C handler, SIGTERM's
#: and SIGHUP's default action. An ignored signal (``nohup``, a job started in the background)
#: stays so.
_DEFAULTS: dict[int, object] = {
    signal.SIGINT: signal.default_int_handler,
    signal.SIGTERM: signal.SIG_DFL,
    signal.SIGHUP: signal.SIG_DFL,
}

_HOLD, _RAISE, _STOPPING, _DONE = "hold", "raise", "stopping", "done"


class _State:
    """The process's one record of its signals (module state: there is one process)."""

    def __init__(self) -> None:
        self.phase = _DONE
        self.first: int | None = None  # the first signal since the command was armed
        self.pending: int | None = None  # noted before a command took it
        self.raiser: Callable[[int], None] | None = None
        self.saved: dict[int, Any] = {}  # the handlers :func:`take` replaced
        self.raised: BaseException | None = None  # the last a signal's handler raised
        self.redeliver: int | None = None  # its signal, when this module's handler raised it
        self.in_hook = False  # the main thread runs :func:`_unraisable`
        self.deferred: int | None = None  # a signal whose raise waits for that hook's end
        self.exiting = False  # :func:`_ignore_at_exit` ran: the signals are ignored


_state = _State()
_previous_hook: list[Callable[[Any], object]] = []  # the unraisable hook :func:`take` replaced


def handle(signum: int, frame: FrameType | None) -> None:
    """The handler of the three signals (see the module's docstring for its phases)."""
    if _state.first is None:
        _state.first = signum
    if _state.phase == _HOLD:
        if _state.pending is None:
            _state.pending = signum
    elif _state.phase == _RAISE and _state.raiser is not None:
        if _state.in_hook:  # raised in the unraisable hook, it would be dropped for good
            _state.deferred = signum
            return
        _state.phase = _STOPPING  # before raising: the next signal finds the stop begun
        try:
            _state.raiser(signum)
        except BaseException as exc:
            raised(exc, signum)
            raise


def take() -> bool:
    """Handle :data:`SIGNALS` here, noting them until a command arms; True when this call
    took them (False: taken already, not the main thread — the only one that may —, or
    none has its default handling)."""
    if _state.saved:
        return False
    # held before the first handler is set, and all set while they are blocked: a signal
    # the moment after one handler is set is the command's, never ignored (the phase was still
    # "done": a demo sent SIGINT once it handled SIGTERM ran on, in CI) or killing (SIGTERM
    # while only SIGINT's handler was set); the kernel delivers it once they are unblocked
    _state.phase, _state.first, _state.pending = _HOLD, None, None
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        for sig in SIGNALS:
            if signal.getsignal(sig) is _DEFAULTS[sig]:
                _state.saved[sig] = signal.signal(sig, handle)
    except ValueError:  # not the main thread (``threading`` costs an import)
        pass
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    if not _state.saved:
        _state.phase = _DONE
        return False
    _previous_hook[:] = [sys.unraisablehook]
    sys.unraisablehook = _unraisable
    return True


def taken() -> bool:
    """Whether this module handles the signals now."""
    return bool(_state.saved)


def release() -> None:
    """Put back the handlers and the unraisable hook :func:`take` replaced (a command run
    in-process: the tests)."""
    saved, _state.saved = _state.saved, {}
    for sig, old in saved.items():
        signal.signal(sig, old)
    if _previous_hook and sys.unraisablehook is _unraisable:
        sys.unraisablehook = _previous_hook.pop()
    _state.phase = _DONE


def raised(exc: BaseException, signum: int | None = None) -> None:
    """Record ``exc``, just raised by a signal's handler (this module's, or ``run``'s start-up
    stop), so that a finaliser swallowing it says nothing; with ``signum``, the signal is
    delivered again (see :func:`_unraisable`)."""
    _state.raised, _state.redeliver = exc, signum


def _unraisable(unraisable: Any) -> None:
    """``sys.unraisablehook``: a signal's exception that Python could not raise.

    Why: a handler runs at the next bytecode of the main thread, which may be a finaliser
    (``__del__``, a weakref callback, a generator closed by the collector) or a C routine that
    cannot pass an exception on; Python printed "Exception ignored in: 'Path'" with a
    traceback and dropped it, and the command ran on to exit 0 (CI, `topics list`). The
    signal is delivered again and its command's handler raises it anew where the main thread
    runs next; an exception raised without ``signum`` (``run``'s start-up stop, which notes
    its signals) is only silenced. Any other unraisable exception goes to the hook that was
    there.

    The signal is sent again, to the main thread (``signal.pthread_kill``: a read it is
    blocked in returns, as for the first one; ``_thread.interrupt_main`` left `match` waiting
    on its stdin), by a short thread, not from here: Python runs pending handlers right after
    any call this hook makes, so a signal sent from here would be raised inside the hook and
    dropped again. The thread waits until this hook has returned; a signal whose handler
    still runs inside it (a new drop's hook) is sent again when the hook ends."""
    _state.in_hook = True
    try:
        exc = unraisable.exc_value
        if _state.exiting and _ignored_in_a_race(exc):
            return
        if exc is None or exc is not _state.raised:
            (_previous_hook[0] if _previous_hook else sys.__unraisablehook__)(unraisable)
            return
        signum, _state.raised, _state.redeliver = _state.redeliver, None, None
        if signum is not None and _state.phase == _STOPPING:
            _deliver_later(signum)
    finally:
        while _state.deferred is not None:  # re-checked after each call: none slips through
            signum, _state.deferred = _state.deferred, None
            _state.phase = _STOPPING
            _deliver_later(signum)
        _state.in_hook = False  # no call after it: no handler runs in the hook from here


def _ignored_in_a_race(exc: BaseException | None) -> bool:
    """Whether ``exc`` is CPython's report of one of :data:`SIGNALS` caught just before
    :func:`_ignore_at_exit` set it ignored (its wording: signalmodule.c)."""
    return isinstance(exc, OSError) and str(exc) in {
        f"Signal {int(sig)} ignored due to race condition" for sig in SIGNALS
    }


def _deliver_later(signum: int) -> None:
    """Start the thread that sends ``signum`` to this (the main) thread again."""
    import _thread  # built in: no import cost

    _thread.start_new_thread(_deliver_again, (signum, _thread.get_ident()))


def _deliver_again(signum: int, main_thread: int) -> None:
    """(A thread of :func:`_unraisable`'s) the command's signal, sent again to the main
    thread once it has left the hook, unless the command ended meanwhile."""
    import _thread

    pause = _thread.allocate_lock()
    pause.acquire()
    while _state.in_hook:
        pause.acquire(timeout=0.001)  # a 1 ms sleep without importing ``time``
    if _state.phase != _STOPPING:
        return
    _state.phase = _RAISE
    while True:  # until the handler took it: a signal sent as the main thread is about to
        # block in a read (it released the GIL, which let this thread run) is not seen by that
        # read, which then waits for good; one sent 20 ms later interrupts it
        signal.pthread_kill(main_thread, signum)
        for _ in range(20):
            pause.acquire(timeout=0.001)
            if _state.phase != _RAISE:  # raised (or deferred past a hook, or the command ended)
                return


def arm(raiser: Callable[[int], None]) -> None:
    """A command starts: its first signal raises by ``raiser(signum)``, which must raise."""
    _state.raiser = raiser
    _state.first = _state.pending
    _state.phase = _RAISE


def deliver() -> None:
    """Raise, by the armed ``raiser``, a signal that came before the command started."""
    pending, _state.pending = _state.pending, None
    if pending is not None and _state.phase == _RAISE:
        _state.phase = _STOPPING
        assert _state.raiser is not None
        _state.raiser(pending)


def disarm() -> None:
    """The command ended: signals from now on are ignored. Only an armed command's: before
    one is armed (a usage error) they are still noted, for :func:`finish` to report.

    The record of the interrupt its signal raised is dropped too: kept, it kept alive what the
    interrupt's traceback holds, such as a log handler it cut short after ``logging`` had
    registered it, which ``logging.shutdown`` then tripped over at exit ("Exception ignored in
    atexit callback", CI)."""
    if _state.phase in (_RAISE, _STOPPING):
        _state.phase, _state.raiser = _DONE, None
        _state.raised = _state.redeliver = None


def received() -> int | None:
    """The first signal since the command started (also one whose exception a cleanup
    swallowed), or None."""
    return _state.first


def hand_over() -> list[int]:
    """For a command that handles the signals itself (``run``, ``demo``), once its handlers
    are set: the signal that came before, if one did; this module ignores any from now on."""
    pending, _state.pending = _state.pending, None
    _state.phase = _DONE
    return [] if pending is None else [pending]


def finish() -> int | None:
    """The CLI's end: a signal that came while no command had it (``--help``, a usage error),
    for the caller to report; ignored from now on."""
    pending, _state.pending = _state.pending, None
    _state.phase = _DONE
    return pending


def _ignore_at_exit() -> None:
    """The last ``atexit`` hook (registered first): Python's finalisation puts SIG_DFL back
    over a Python handler, and a signal then killed the exiting process (exit -2/-15); an
    ignored signal it leaves ignored.

    Set while the signals are blocked: ``signal.signal`` runs pending handlers, then swaps
    the handler; a signal caught between the two was left with no Python handler, and CPython
    printed "Exception ignored … OSError: Signal 2 ignored due to race condition" (a Ctrl-C
    hammered at `topics list`, once in a CI run; CPython's signalmodule.c, bpo-43406). Blocked,
    it waits in the kernel, which drops it once ignored. One caught by another thread in that
    window (the mask is the main thread's) is silenced by :func:`_unraisable`."""
    _state.exiting = True
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        for sig in _state.saved:
            signal.signal(sig, signal.SIG_IGN)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def main() -> None:
    """The console script: the signals taken first, then the CLI imported and run."""
    if take():
        atexit.register(_ignore_at_exit)
    from feedsvc.cli import main as cli_main

    cli_main()
