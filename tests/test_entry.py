"""``feedsvc.entry``: a signal is never dropped, whatever moment or frame it finds.

Two ways CI saw one dropped (real processes here; each child sends itself the signal at the
moment in question, so the race is hit every time, not once in hundreds of runs):

- the moment after :func:`entry.take` set a handler and before it noted that commands' signals
  are now held: the handler found the process in its "done" phase and ignored the signal; a
  demo sent SIGINT as soon as it handled SIGTERM ran on (``test_sigterm_startup``, once);
- a command's handler that ran inside a finaliser (``__del__``, a weakref callback, a
  generator closed by the collector, a ``gc`` callback): Python printed "Exception ignored in"
  with a traceback, dropped the ``KeyboardInterrupt`` and the command ran on to exit 0
  (``test_cli_signals_repeated``, once).

And one that left something half-built: raised inside ``logging`` as a handler was built, the
interrupt left it registered for ``logging.shutdown`` without its lock or stream, and the
command's line was followed by an atexit traceback (``test_cli_signals_repeated``, once).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from combos import each_choice
from test_cli_signals_early import WORDS, env  # noqa: F401  (env: the fixture)

ROOT = Path(__file__).parent.parent

#: Sets handlers as ``entry.take`` does, but sends ``SIG`` to itself the moment the handler of
#: ``AFTER`` is set (once), then runs the console script with ``ARGV``.
AT_TAKE = """
import os, signal, sys
real = signal.signal
def at_once(sig, handler):
    old = real(sig, handler)
    if sig == getattr(signal, os.environ["AFTER"]) and real is not None:
        signal.signal = real
        os.kill(os.getpid(), getattr(signal, os.environ["SIG"]))
    return old
signal.signal = at_once
sys.argv = ["feedsvc", *sys.argv[1:]]
from feedsvc.entry import main
sys.exit(main())
"""

#: Drops a signal's exception in a finaliser of kind ``KIND``, then spins for 10 s: prints
#: which interrupt stopped the spin, or "ran on".
IN_FINALISER = """
import gc, os, signal, sys, time, weakref
from feedsvc import entry
KIND, SIG = os.environ["KIND"], getattr(signal, os.environ["SIG"])
def send():
    os.kill(os.getpid(), SIG)
    for _ in range(100):  # the handler runs here at the latest
        pass
class Finalised:
    def __del__(self):
        send()
class Target:
    pass
def gen():
    try:
        yield 1
    finally:
        send()
def trigger():
    if KIND == "__del__":
        Finalised()
    elif KIND == "weakref":
        target = Target()
        ref = weakref.ref(target, lambda _: send())
        del target
    elif KIND == "generator":
        g = gen()
        next(g)
        del g
    elif KIND == "gc callback":
        calls = []
        def on_gc(phase, info):
            if phase == "start" and not calls:
                calls.append(phase)
                send()
        gc.callbacks.append(on_gc)
        gc.collect()
        gc.callbacks.remove(on_gc)
def spin():
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pass
"""

COMMAND = (
    IN_FINALISER
    + """
from feedsvc.cli import terminate
entry.take()
terminate.install()
try:
    trigger()
    spin()
    print("ran on")
except KeyboardInterrupt as exc:
    print(type(exc).__name__)
"""
)

START_UP = (
    IN_FINALISER
    + """
from feedsvc.shutdown import StartupStopped, StopSignals
entry.take()
signals = StopSignals().install()
try:
    with signals.interruptible():
        trigger()
    signals.check()
    print("ran on")
except StartupStopped as stopped:
    print("stopped", signal.Signals(stopped.signum).name)
"""
)

FINALISERS = ["__del__", "weakref", "generator", "gc callback"]


def child(code: str, environ: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    """``python -c CODE ARGV`` (its stdout and stderr as text)."""
    return subprocess.run(
        [sys.executable, "-c", code, *argv],
        env=environ,
        cwd=Path(environ.get("SIGNAL_AT_IMPORT_LOG", ROOT)).parent,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def plain_env(**extra: str) -> dict[str, str]:
    """This environment without feedsvc's settings, the checkout on the path."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    return base | {"PYTHONPATH": str(ROOT)} | extra


#: ``after`` × ``sig`` crossed (a signal whose own handler is set yet or not: they interact);
#: the command alternates over them (``entry.take`` runs before any command is known).
@pytest.mark.parametrize(
    ("after", "sig", "argv"),
    [
        ("SIGINT", "SIGINT", ["--version"]),
        ("SIGINT", "SIGTERM", ["topics", "list"]),
        ("SIGTERM", "SIGINT", ["topics", "list"]),
        ("SIGTERM", "SIGTERM", ["--version"]),
    ],
    ids=lambda v: v if isinstance(v, str) else " ".join(v[:2]),
)
def test_a_signal_the_moment_a_handler_is_set_is_held_for_the_command(
    env: dict[str, str],  # noqa: F811  (the imported fixture)
    after: str,
    sig: str,
    argv: list[str],
) -> None:
    """Sent right after ``take`` set SIGINT's or SIGTERM's handler: the command's one line and
    130/143 (the old code ignored it: `--version` printed and exit 0, `topics list` listed)."""
    done = child(AT_TAKE, env | {"AFTER": after, "SIG": sig}, *argv)
    code, line = WORDS[sig]
    assert done.returncode == code, done.stderr
    assert done.stderr.strip().splitlines()[-1] == line, done.stderr
    assert "Traceback" not in done.stderr
    if argv[0] != "--version":  # Click answers that before any command could stop
        assert done.stdout == ""


#: Runs the console script with ``ARGV``, sending ``SIG`` to itself (once) at ``MOMENT``, after
#: the command's work: as Click calls the root context's ``exit`` or ``close``, or inside
#: SQLAlchemy's close of a pooled connection (``do_close``: the state DB's engine disposed);
#: then touches ``FIRED``.
AT_END = """
import os, signal, sys
import click
import sqlalchemy.engine.default as default
MOMENT, SIG = os.environ.get("MOMENT", "exit"), getattr(signal, os.environ.get("SIG", ""), None)
owner = default.DefaultDialect if MOMENT == "do_close" else click.Context
real = getattr(owner, MOMENT)
def at_end(self, *args, **kwargs):
    if owner is not click.Context or self.parent is None:
        setattr(owner, MOMENT, real)
        open(os.environ["FIRED"], "w").close()
        os.kill(os.getpid(), SIG)
        for _ in range(100):  # the handler runs here at the latest
            pass
    return real(self, *args, **kwargs)
if SIG is not None:
    setattr(owner, MOMENT, at_end)
sys.argv = ["feedsvc", *sys.argv[1:]]
from feedsvc.entry import main
sys.exit(main())
"""


def state_copy(environ: dict[str, str], name: str) -> dict[str, str]:
    """``environ`` on a copy of its state DB (each run of a command that writes starts alike)."""
    source = Path(environ["FEEDSVC_DATABASE__URL"].removeprefix("sqlite:///"))
    copy = source.with_name(name)
    copy.write_bytes(source.read_bytes())
    return environ | {"FEEDSVC_DATABASE__URL": f"sqlite:///{copy}", "FIRED": str(copy) + ".fired"}


AFTER_COMMANDS = [
    ["topics", "add", "kt", "--title", "Kiến Thụy", "--query", "Kiến Thụy"],
    ["db", "upgrade"],
    ["topics", "list"],
]


#: The signal each-choice: once the command has ended both are ignored alike
#: (``entry.disarm``). Click's ``exit``/``close`` come after the command returned, whatever it
#: was: each command once over them; ``do_close`` is the command's own engine's (whether it
#: has a pool at all), so it meets every command.
@pytest.mark.parametrize(
    ("moment", "sig", "argv"),
    [
        *each_choice(["exit", "close"], ["SIGINT", "SIGTERM"], AFTER_COMMANDS),
        *each_choice(["do_close"], ["SIGTERM", "SIGINT"], AFTER_COMMANDS),
    ],
    ids=lambda v: v if isinstance(v, str) else " ".join(v[:2]),
)
def test_a_signal_after_the_command_ended_leaves_its_result(
    env: dict[str, str],  # noqa: F811  (the imported fixture)
    moment: str,
    sig: str,
    argv: list[str],
) -> None:
    """Between the command's return and the process's exit the command's handler was still
    armed: its interrupt rose where only Click caught it ("Aborted!", exit 1: `topics list`
    hammered with SIGTERM, CI) or inside the state DB's last close, after the work was done
    (SQLAlchemy's "Exception closing connection" and its traceback, then "interrupted", exit
    130: `import` hammered with SIGINT, CI, with every line stored). Ignored now, as while the
    interpreter exits: the command's output and exit 0."""
    quiet = child(AT_END, state_copy(env, "quiet.db"), *argv)  # no signal: its own output
    signalled = state_copy(env, "signalled.db") | {"MOMENT": moment, "SIG": sig}
    done = child(AT_END, signalled, *argv)
    assert quiet.returncode == 0, quiet.stderr
    if moment == "do_close" and argv == ["topics", "list"]:
        assert not Path(signalled["FIRED"]).exists()  # read by sqlite3 itself: no pool
        return
    assert Path(signalled["FIRED"]).exists()
    # the same output, but for the state DB's name (`db upgrade` names it on stdout)
    stdout, stderr = (out.replace("signalled.db", "quiet.db") for out in (done.stdout, done.stderr))
    assert (done.returncode, stdout, stderr) == (0, quiet.stdout, quiet.stderr)


#: Runs the console script with ``ARGV``, sending ``SIG`` to itself (once) inside ``logging``
#: at ``MOMENT`` (a function of the module's, or ``Class.method``) as the command sets up its
#: logging (or, with ``INSIDE``, in a method of that class): then touches ``FIRED``.
IN_LOGGING = """
import logging, os, signal, sys
MOMENT, SIG = os.environ["MOMENT"], getattr(signal, os.environ["SIG"])
INSIDE = os.environ.get("INSIDE", "setup_logging")
owner_name, _, name = MOMENT.rpartition(".")
owner = getattr(logging, owner_name) if owner_name else logging
real = getattr(owner, name)
def at_moment(*args, **kwargs):
    out = real(*args, **kwargs)
    if not os.path.exists(os.environ["FIRED"]) and any(
        INSIDE in (type(f.f_locals.get("self")).__name__, f.f_code.co_name)
        for f in iter_frames(sys._getframe(1))
    ):
        open(os.environ["FIRED"], "w").close()
        os.kill(os.getpid(), SIG)
        for _ in range(100):  # the handler runs here at the latest
            pass
    return out
def iter_frames(frame):
    while frame is not None:
        yield frame
        frame = frame.f_back
setattr(owner, name, at_moment)
sys.argv = ["feedsvc", *sys.argv[1:]]
from feedsvc.entry import main
sys.exit(main())
"""


ADD_KT = ["topics", "add", "kt", "--title", "Kiến Thụy", "--query", "Kiến Thụy"]


#: Each moment once: the logging set-up is the settings' load (``common.configure_logging``),
#: the same for every command before its own code, and both signals raise through the same
#: handler there; signal × command crossed over the four.
@pytest.mark.parametrize(
    ("moment", "sig", "argv"),
    [
        ("_addHandlerRef", "SIGINT", ADD_KT),
        ("Handler.createLock", "SIGTERM", ADD_KT),
        ("Filterer.addFilter", "SIGTERM", ["topics", "list"]),
        ("Logger.setLevel", "SIGINT", ["topics", "list"]),
    ],
    ids=lambda v: v if isinstance(v, str) else " ".join(v[:2]),
)
def test_a_signal_while_logging_is_set_up_ends_the_command_in_one_line(
    env: dict[str, str],  # noqa: F811  (the imported fixture)
    moment: str,
    sig: str,
    argv: list[str],
) -> None:
    """Raised inside ``logging`` as the command built its handler, the command's interrupt
    could leave that handler registered for ``logging.shutdown`` without its lock: the
    command's line, then "Exception ignored in atexit callback" and an ``AttributeError``
    traceback (`import` hammered with signals, CI). Now the set-up is whole first: the one
    line, 130/143, nothing done."""
    signalled = state_copy(env, "signalled.db") | {"MOMENT": moment, "SIG": sig}
    done = child(IN_LOGGING, signalled, *argv)
    assert Path(signalled["FIRED"]).exists()  # the signal was sent at that moment
    code, line = WORDS[sig]
    assert (done.returncode, done.stdout, done.stderr.strip()) == (code, "", line)
    listed = child(IN_LOGGING, signalled, "topics", "list")  # FIRED: no signal this time
    assert listed.returncode == 0, listed.stderr
    assert "kt" not in listed.stdout.split(), listed.stdout


#: The signal each-choice over the moments: both raise through the same handler.
@pytest.mark.parametrize(
    ("handler", "moment", "sig"),
    [
        ("NullHandler", "_addHandlerRef", "SIGINT"),  # its createLock is its own: not cut
        ("Bridge", "_addHandlerRef", "SIGTERM"),
        ("Bridge", "Handler.createLock", "SIGINT"),
    ],
)
def test_a_signal_while_a_command_builds_a_log_handler_ends_it_in_one_line(
    env: dict[str, str],  # noqa: F811  (the imported fixture)
    handler: str,
    moment: str,
    sig: str,
) -> None:
    """The same moments in a handler a command builds as it works (an Apprise URL checked:
    ``channels.apprise_logs``, its bridge built as the module is imported, its NullHandler
    as it is installed), where no hold can be: the interrupt that stopped the command no
    longer keeps the half-built handler alive for ``logging.shutdown`` to trip over."""
    signalled = state_copy(env, "signalled.db") | {"MOMENT": moment, "SIG": sig}
    signalled["INSIDE"] = handler
    argv = ["subs", "add", "--channel", "apprise", "--to", "json://127.0.0.1:9/x", "--topic", "kt"]
    done = child(IN_LOGGING, signalled, *argv)
    assert Path(signalled["FIRED"]).exists()
    code, line = WORDS[sig]
    assert (done.returncode, done.stdout, done.stderr.strip()) == (code, "", line)


#: Each-choice: the finaliser's kind decides where the interrupt is dropped, not which one.
@pytest.mark.parametrize(("kind", "sig"), each_choice(FINALISERS, ["SIGINT", "SIGTERM"]))
def test_a_commands_interrupt_dropped_by_a_finaliser_is_raised_again(kind: str, sig: str) -> None:
    """The command stops with its signal's interrupt, raised where the main thread runs next;
    nothing is printed about the finaliser."""
    done = child(COMMAND, plain_env(KIND=kind, SIG=sig))
    expected = "Terminated" if sig == "SIGTERM" else "KeyboardInterrupt"
    assert (done.stdout.strip(), done.stderr) == (expected, ""), done.stderr


@pytest.mark.parametrize("kind", FINALISERS)
def test_a_start_up_stop_dropped_by_a_finaliser_says_nothing(kind: str) -> None:
    """``run``/``demo``'s start-up stop notes its signal (the next step stops); the dropped
    exception is not reported as "Exception ignored"."""
    done = child(START_UP, plain_env(KIND=kind, SIG="SIGTERM"))
    assert (done.stdout.strip(), done.stderr) == ("stopped SIGTERM", ""), done.stderr


def test_other_unraisable_exceptions_are_still_reported() -> None:
    """Only a signal's own exception is silenced: a finaliser's bug still shows."""
    code = (
        "from feedsvc import entry\nentry.take()\n"
        "class Bad:\n    def __del__(self):\n        raise ValueError('finaliser bug')\n"
        "Bad()\nprint('done')\n"
    )
    done = child(code, plain_env())
    assert done.stdout.strip() == "done"
    assert "Exception ignored in" in done.stderr and "finaliser bug" in done.stderr


BLOCKED = (
    IN_FINALISER
    + """
from feedsvc.cli import terminate
entry.take()
terminate.install()
r, w = os.pipe()
try:
    trigger()
    os.read(r, 1)  # nobody writes: only a signal ends this wait
    print("ran on")
except KeyboardInterrupt as exc:
    print(type(exc).__name__)
"""
)


@pytest.mark.parametrize("kind", FINALISERS)
def test_a_dropped_interrupt_reaches_a_main_thread_blocked_in_a_read(kind: str) -> None:
    """Sent again as a signal to the main thread: a read it then blocks in returns (CI: `match`
    waiting on its stdin ran on for 60 s after SIGTERM)."""
    done = child(BLOCKED, plain_env(KIND=kind, SIG="SIGTERM"))
    assert (done.stdout.strip(), done.stderr) == ("Terminated", ""), done.stderr


#: A command of the real CLI whose signal a finaliser drops, and which ends before the signal
#: could be sent again (the sending thread is stopped from sending).
ENDS_FIRST = (
    IN_FINALISER
    + """
import click
from feedsvc import cli as root
entry._deliver_again = lambda signum, main_thread: None

@click.command()
def dropper():
    trigger()
    print("done")

root.cli.add_command(dropper)
sys.argv = ["feedsvc", "dropper"]
entry.main()
"""
)


#: Each-choice, as for ``test_a_commands_interrupt_dropped_by_a_finaliser_is_raised_again``.
@pytest.mark.parametrize(("kind", "sig"), each_choice(FINALISERS, ["SIGTERM", "SIGINT"]))
def test_a_command_that_ends_past_its_dropped_signal_keeps_its_result(kind: str, sig: str) -> None:
    """Its work done, the command's own end stands: exit 0, its output, nothing said about the
    finaliser (an `import` that stored every line said "terminated" with no count when the
    root ended it as stopped; the code before printed "Exception ignored")."""
    done = child(ENDS_FIRST, plain_env(KIND=kind, SIG=sig))
    assert (done.returncode, done.stdout, done.stderr) == (0, "done\n", ""), done.stderr


#: ``run``/``demo``'s start-up: the second signal arrives while the first one's handler runs
#: (here when the first one tells its listeners; in the service, when it arms the exit guard).
NESTED = """
import os, signal, sys, time
from feedsvc.shutdown import StartupStopped, StopSignals
first, second = (getattr(signal, name) for name in sys.argv[1:3])
signals = StopSignals().install()
signals.listen(lambda signum: os.kill(os.getpid(), second) if signum == first else None)
try:
    with signals.interruptible():
        os.kill(os.getpid(), first)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            pass
    print("ran on")
except StartupStopped as stopped:
    print(signal.Signals(stopped.signum).name, signals.exit_code)
"""


@pytest.mark.parametrize(("first", "second"), [("SIGINT", "SIGTERM"), ("SIGTERM", "SIGINT")])
def test_the_first_of_two_start_up_signals_decides(first: str, second: str) -> None:
    """SIGINT then SIGTERM is exit 130, SIGTERM then SIGINT 0 (README: the first decides); the
    second's handler, nested in the first's, raised its own signal (a tester's)."""
    done = child(NESTED, plain_env(), first, second)
    code = 130 if first == "SIGINT" else 0
    assert (done.stdout.strip(), done.stderr) == (f"{first} {code}", ""), done.stderr
