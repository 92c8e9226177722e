"""A ``feedsvc`` command run in the test's own process (Click's runner), for tests whose subject
is what a command reads, prints or refuses, not the process: a process start costs ~0.8-1 s of
CPU (the interpreter and feedsvc's imports), which such a test repeated per case for nothing.
Keep a real process where the process is the subject: signals, exit at interpreter end, locks
held by a pid, files left on disk at exit, a process's rlimits or user, secrets in its log."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from feedsvc.cli import cli


@dataclass(frozen=True)
class Ran:
    """What ``subprocess.run(..., capture_output=True, text=True)`` gave those tests."""

    returncode: int
    stdout: str
    stderr: str
    stdout_bytes: bytes  # as written: ``stdout`` is decoded, its "\r\n" read as "\n"


def feedsvc(argv: list[str], cwd: Path, **env: str | None) -> Ran:
    """``feedsvc ARGV`` in ``cwd`` with the caller's ``FEEDSVC_*`` variables unset and ``env``
    set, as a test's ``subprocess.run`` with a cleaned environment ran it. An exception the
    CLI does not turn into an exit code fails the test (a real process's "Traceback")."""
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    here = Path.cwd()
    os.chdir(cwd)
    try:
        done = CliRunner().invoke(cli, argv, env=unset | env, input="")
    finally:
        os.chdir(here)
    if done.exception is not None and not isinstance(done.exception, SystemExit):
        raise AssertionError(f"{argv}: uncaught {done.exception!r}\n{done.output}") from (
            done.exception
        )
    return Ran(done.exit_code, done.stdout, done.stderr, done.stdout_bytes)
