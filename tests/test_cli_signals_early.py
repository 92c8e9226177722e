"""Ctrl-C or SIGTERM in a command's first ~0.1 s, before Click ran: one line and 130/143 (for
`run`: its start-up stop, 0/130), as later in the command, never a traceback or a silent death.

A verifier's: the CLI's handlers came with the command (``cli.terminate.install`` once Click
had resolved it), after ~80 ms of imports; a SIGTERM before that killed the process silently
(exit -15), a Ctrl-C printed a ``KeyboardInterrupt`` traceback from whatever was importing.
Here the signal comes at a known point: the child sends it to itself when it first imports a
module (``signal_at_import/sitecustomize.py``, test-only, on ``PYTHONPATH``), through both
ways the CLI starts: ``python -m feedsvc`` and the console script ``pyproject.toml`` names
(run as pip's generated script runs it).

The signal is each-choice over the moments and the launchers: the three take one handler
(``feedsvc.entry.handle``, noting it until the command arms), whose only difference is the
exception, words and exit code they end in; the moment × launcher cross is kept (the two
launchers import different things before the entry takes the signals).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from combos import each_choice

from feedsvc.db import Database, upgrade

ROOT = Path(__file__).parent.parent
HOOK = Path(__file__).parent / "signal_at_import"

#: Imported by the CLI before Click runs (the entry's import of the CLI, Click's own, a
#: command module's), then one imported inside a command once it runs (the old handling).
BEFORE_CLICK = ("feedsvc.cli", "click.core", "feedsvc.cli.topics")
IN_THE_COMMAND = "feedsvc.config"

WORDS = {
    "SIGINT": (130, "feedsvc: interrupted"),
    "SIGTERM": (143, "feedsvc: terminated (SIGTERM)"),
    "SIGHUP": (129, "feedsvc: hung up (SIGHUP)"),  # a terminal or SSH session that closed
}


def console_script() -> list[str]:
    """``feedsvc`` as pip's generated script runs it: ``from MODULE import FN; sys.exit(FN())``."""
    target = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["feedsvc"]
    module, _, function = target.partition(":")
    code = f"import sys\nfrom {module} import {function}\nsys.exit({function}())"
    return [sys.executable, "-c", code]


LAUNCHERS = {
    "console script": console_script,
    "python -m": lambda: [sys.executable, "-m", "feedsvc"],
}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A `feedsvc` on a new SQLite state DB, the hook on its path."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    db = Database(url)
    upgrade(db)
    db.dispose()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("FEEDSVC_", "SIGNAL_AT"))}
    return base | {
        "PYTHONPATH": os.pathsep.join([str(HOOK), str(ROOT)]),
        "FEEDSVC_CONFIG": "/dev/null",
        "FEEDSVC_DATABASE__URL": url,
        "FEEDSVC_TOPICS__FILE": str(tmp_path / "topics.toml"),
        "FEEDSVC_TOPICS__IMPORT_ON_START": "false",
        "SIGNAL_AT_IMPORT_LOG": str(tmp_path / "sent.log"),
    }


def signalled(
    env: dict[str, str], argv: list[str], at: str, sig: str, launcher: str = "python -m"
) -> subprocess.CompletedProcess[str]:
    """``feedsvc ARGV`` sending itself ``sig`` at its first import of module ``at``."""
    done = subprocess.run(
        [*LAUNCHERS[launcher](), *argv],
        env=env | {"SIGNAL_AT_IMPORT": f"{at}:{sig}"},
        cwd=Path(env["SIGNAL_AT_IMPORT_LOG"]).parent,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    sent = Path(env["SIGNAL_AT_IMPORT_LOG"]).read_text()
    assert sent == f"{sig} at the import of {at}\n", (sent, done.stderr)  # it was sent
    return done


#: Moment × launcher crossed, the signal taking each value in turn over them.
@pytest.mark.parametrize(
    ("at", "launcher", "sig"),
    [
        (at, launcher, list(WORDS)[n % len(WORDS)])
        for n, (at, launcher) in enumerate(
            (at, launcher) for at in [*BEFORE_CLICK, IN_THE_COMMAND] for launcher in LAUNCHERS
        )
    ],
)
def test_a_signal_during_the_imports_ends_the_command_in_one_line(
    env: dict[str, str], at: str, sig: str, launcher: str
) -> None:
    """`topics list`: nothing listed, the command's one line, exit 130/143/129."""
    done = signalled(env, ["topics", "list"], at, sig, launcher)
    code, line = WORDS[sig]
    assert (done.returncode, done.stdout) == (code, ""), done.stderr
    assert done.stderr.strip() == line, done.stderr


#: Each-choice: what Click answers itself does not depend on the signal noted meanwhile.
@pytest.mark.parametrize(
    ("argv", "sig"),
    each_choice([["--version"], ["--help"], ["topics", "nosuch"]], list(WORDS)),
    ids=lambda v: (
        v if isinstance(v, str) else {"--version": "version", "--help": "help"}.get(v[0], "usage")
    ),
)
def test_a_signal_before_no_command_runs_is_said_too(
    env: dict[str, str], argv: list[str], sig: str
) -> None:
    """No command ran (what Click answers itself): the signal is still said, 130/143/129."""
    done = signalled(env, argv, "click.core", sig, "console script")
    code, line = WORDS[sig]
    assert done.returncode == code, done.stderr
    assert done.stderr.strip().splitlines()[-1] == line, done.stderr
    assert "Traceback" not in done.stderr


#: Each-choice: each import moment once, each signal (its own exit code) once; the signal is
#: noted and handed to ``run``'s start-up alike at any of them (``entry.hand_over``).
@pytest.mark.parametrize(
    ("at", "sig", "code", "line"),
    [
        (at, *signalled)
        for at, signalled in each_choice(
            BEFORE_CLICK,
            [
                ("SIGTERM", 0, "feedsvc: stopped by SIGTERM during start-up"),
                ("SIGINT", 130, "feedsvc: interrupted"),
                ("SIGHUP", 129, "feedsvc: hung up (SIGHUP)"),
            ],
        )
    ],
)
def test_run_signalled_during_the_imports_stops_as_at_its_start(
    env: dict[str, str], at: str, sig: str, code: int, line: str
) -> None:
    """`run` stops on SIGTERM in order, exit 0 (systemd's stop), from before Click too."""
    done = signalled(env, ["run", "--no-bot", "--port", "0"], at, sig, "console script")
    assert done.returncode == code, done.stderr
    assert done.stderr.strip() == line, done.stderr


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_an_ignored_signal_stays_ignored(env: dict[str, str], sig: str) -> None:
    """A parent's choice (``nohup`` ignores SIGHUP): the command runs to its end."""
    done = subprocess.run(
        [*console_script(), "topics", "list"],
        env=env | {"SIGNAL_AT_IMPORT": f"click.core:{sig}"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: signal.signal(getattr(signal, sig), signal.SIG_IGN),
    )
    assert done.returncode == 0, done.stderr  # ran to its end: the DB's no-topic line only
    assert done.stderr.startswith("feedsvc: no topic is stored in the state DB "), done.stderr
    assert "terminated" not in done.stderr and "hung up" not in done.stderr, done.stderr
