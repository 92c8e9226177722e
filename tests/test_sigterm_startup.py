"""SIGTERM at any moment of `run`'s and `demo`'s start-up (tester3 F2): an orderly stop, exit 0,
the demo's temporary directory removed.

The service's handlers came with the event loop, after seconds of imports, configuration,
migrations and the demo's seeding: a SIGTERM in that window killed the process (exit 143,
nothing logged, the demo's temporary directory with its DB and lock left behind). Each case
waits for one stage of the start-up (its log line; for the imports, the process having taken
SIGTERM while nothing is logged yet, read from ``/proc/PID/status``), then signals.

The stages inside the service's start-up (``Service.prepare``: topics file, matcher, first
render) are the same code under `run` and `demo`, and a stop during them comes back the same
way to each command's own rest of the start-up, which every stage of it reaches: so each of
them is tried under one command (:data:`SHARED_STAGES`), while the imports, the demo's seeding
and the started service are tried under each command they exist in.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from processes import free_port, wait_until

ROOT = Path(__file__).parent.parent

#: Not a log line: the process handles SIGTERM (``SigCgt``) and has logged nothing yet, i.e.
#: it is still importing and reading its configuration.
IMPORTING = "(importing)"

#: The demo's start-up, in order: migrations and the topics file, the matcher, the first
#: render, seeding, serving.
DEMO_STAGES = [
    IMPORTING,
    "topics file",
    "topic matcher built",
    "rendering the feeds and pages",
    "feeds and pages ready",
    "sample articles seeded",
    "feedsvc started",
]
RUN_STAGES = [
    IMPORTING,
    "topics file",
    "topic matcher built",
    "rendering the feeds and pages",
    "feeds and pages ready",
    "feedsvc started",
]
#: The stages of ``Service.prepare``, shared by both commands, and the one each is tried under
#: (the demo's "feeds and pages ready" also in ``test_demo_sigterm_during_the_seeding_of_many_
#: articles``, with the same checks).
SHARED_STAGES = {
    "topics file": "demo",
    "topic matcher built": "run",
    "rendering the feeds and pages": "demo",
    "feeds and pages ready": "run",
}


def _handles(pid: int, sig: int) -> bool:
    """Whether process ``pid`` has a handler for ``sig`` (``SigCgt`` in /proc)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) & (1 << (sig - 1)))


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["TMPDIR"] = str(tmp)  # the demo's temporary directory is made here
    env["PYTHONFAULTHANDLER"] = "1"  # a hang's dump on SIGABRT (_signal_at)
    return env | extra


def _signal_at(
    argv: list[str], cwd: Path | str, env: dict[str, str], log: Path, stage: str, sig: int
) -> tuple[int, float, str, str]:
    """Start ``feedsvc ARGV``, wait for ``stage``, send ``sig``: (exit code, seconds from the
    signal to the exit, the log when the signal was sent, the whole log)."""
    text = lambda: log.read_text("utf-8", errors="replace")  # noqa: E731
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", *argv],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            if stage == IMPORTING:  # polled closely: the imports last a second or two
                deadline = time.monotonic() + 60
                while not _handles(proc.pid, signal.SIGTERM) and proc.poll() is None:
                    assert time.monotonic() < deadline, "SIGTERM never handled"
                    time.sleep(0.005)
            else:
                wait_until(lambda: stage in text() or proc.poll() is not None, 60, stage)
            assert proc.poll() is None, text()
            proc.send_signal(sig)
            t0 = time.monotonic()
            at_signal = text()
            try:
                code = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:  # where it waits: faulthandler's dump
                proc.send_signal(signal.SIGABRT)
                proc.wait()
                raise AssertionError(text()[-4000:]) from None
            return code, time.monotonic() - t0, at_signal, text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.mark.parametrize(
    "stage", [s for s in DEMO_STAGES if SHARED_STAGES.get(s, "demo") == "demo"]
)
def test_demo_sigterm_at_each_start_up_stage(tmp_path: Path, stage: str) -> None:
    """Started where ``./var/demo`` cannot be made (``/proc``), the demo makes a temporary
    directory; SIGTERM at any stage: exit 0 within 5 s, no traceback, the directory gone."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    argv = ["demo", "--port", str(free_port())]
    code, took, at_signal, log = _signal_at(
        argv, "/proc", _env(tmp), tmp_path / "demo.log", stage, signal.SIGTERM
    )
    if stage == IMPORTING:
        assert at_signal == "", at_signal  # the signal came before anything was logged
    assert (code, "Traceback" in log) == (0, False), log[-3000:]
    assert took <= 5.0, f"took {took:.1f} s\n{log[-3000:]}"
    assert list(tmp.iterdir()) == [], log[-3000:]  # demo.db, -wal, -shm, demo.lock: gone
    if stage != IMPORTING:
        assert "feedsvc stopped" in log, log[-3000:]  # the service's orderly stop


def test_demo_sigint_while_importing_is_130_and_removes_its_directory(tmp_path: Path) -> None:
    """Ctrl-C in the same window: exit 130 (as after a started demo), the directory gone."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    argv = ["demo", "--port", str(free_port())]
    code, _, at_signal, log = _signal_at(
        argv, "/proc", _env(tmp), tmp_path / "demo.log", IMPORTING, signal.SIGINT
    )
    assert (at_signal, code, "Traceback" in log) == ("", 130, False), log[-3000:]
    assert "interrupted" in log
    assert list(tmp.iterdir()) == []


def test_demo_sigterm_during_the_seeding_of_many_articles(tmp_path: Path) -> None:
    """A seeding of 5,000 articles (seconds): a signal once the first render is done stops
    the demo in order, exit 0, the temporary directory gone."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    argv = ["demo", "--port", str(free_port()), "--articles", "5000"]
    code, took, _, log = _signal_at(
        argv, "/proc", _env(tmp), tmp_path / "demo.log", "feeds and pages ready", signal.SIGTERM
    )
    assert (code, "Traceback" in log) == (0, False), log[-3000:]
    assert took <= 5.0, f"took {took:.1f} s\n{log[-3000:]}"
    assert "feedsvc stopped" in log
    assert list(tmp.iterdir()) == []


@pytest.mark.parametrize("stage", [s for s in RUN_STAGES if SHARED_STAGES.get(s, "run") == "run"])
def test_run_sigterm_at_each_start_up_stage(tmp_path: Path, stage: str) -> None:
    """`feedsvc run` on a new SQLite state DB: SIGTERM at any stage is exit 0 within 5 s."""
    env = _env(
        tmp_path,
        FEEDSVC_CONFIG="/dev/null",
        FEEDSVC_DATABASE__URL=f"sqlite:///{tmp_path / 'state.db'}",
        FEEDSVC_TOPICS__FILE=str(ROOT / "config" / "topics.toml"),
        FEEDSVC_SOURCE__MATCH_WORKERS="0",
    )
    argv = ["run", "--no-bot", "--port", str(free_port())]
    code, took, at_signal, log = _signal_at(
        argv, tmp_path, env, tmp_path / "run.log", stage, signal.SIGTERM
    )
    if stage == IMPORTING:
        assert at_signal == "", at_signal
        assert "stopped by SIGTERM during start-up" in log, log  # still importing: one line
    else:
        assert "feedsvc stopped" in log, log[-3000:]
    assert (code, "Traceback" in log) == (0, False), log[-3000:]
    assert took <= 5.0, f"took {took:.1f} s\n{log[-3000:]}"
