"""SIGHUP: the terminal or SSH session a command runs in closes.

A tester's (day two of an operator): a foreground ``feedsvc run`` whose SSH session dropped was
killed by SIGHUP's default action, as a crash is (no orderly stop: leases left to expire, an
alert in flight sent again at the next start), and an ``import`` died mid-batch with nothing
said. Now SIGHUP is a stop signal like SIGTERM: ``run`` and ``demo`` stop in order, every other
command ends as on Ctrl-C; exit 129 (128 + SIGHUP, as a shell reports it); an ignored SIGHUP
(``nohup``) stays ignored.

The hang-up is a real one: the command runs as the leader of a new session whose controlling
terminal is a pseudo-terminal, and the test closes the terminal's master side; the kernel then
sends SIGHUP to the session leader, and writes to the terminal fail (EIO) from then on.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest
from processes import free_port, get, readable, wait_until
from site_placeholder import unplaced
from test_ingest_first_sync import archive
from test_sigterm_work import add_topics, service_env

from feedsvc.db import Database, upgrade

#: The orderly stop's budget from the signal (README: Deployment), as for SIGTERM.
STOP_SECONDS = 5.0
EXIT_HANGUP = 128 + signal.SIGHUP


class Session:
    """``feedsvc ARGV`` leading a new session on a pseudo-terminal (its stdin, stdout and, unless
    given a file, stderr), what it wrote there kept in :attr:`output`."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str], stderr: IO[bytes] | None,
                 ignore_hangup: bool = False, piped: bool = False) -> None:  # fmt: skip
        self.master, slave = os.openpty()
        name = os.ttyname(slave)

        def lead() -> None:  # in the child: a new session, the terminal its controlling one
            os.setsid()
            os.close(os.open(name, os.O_RDWR))
            if ignore_hangup:  # what nohup does
                signal.signal(signal.SIGHUP, signal.SIG_IGN)

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", *argv],
            cwd=cwd, env=env, stdin=subprocess.PIPE if piped else slave, stdout=slave,
            stderr=stderr or slave,
            preexec_fn=lead,
        )  # fmt: skip
        os.close(slave)
        self.output = b""
        self.open = True

    def read(self) -> str:
        """What the command wrote to its terminal so far (reading keeps it from blocking)."""
        while self.open and readable(self.master, 0.05):
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: no process holds the terminal any more
                break
            if not chunk:
                break
            self.output += chunk
        return self.output.decode("utf-8", errors="replace")

    def wait_for(self, what: Callable[[], bool] | str, timeout: float = 60) -> None:
        check = (lambda: what in self.read()) if isinstance(what, str) else what
        wait_until(lambda: check() or self.proc.poll() is not None, timeout, str(what))
        assert self.proc.poll() is None, self.read()[-3000:]

    def hang_up(self) -> tuple[int, float]:
        """Close the terminal (the kernel's SIGHUP to the session leader): (exit code, seconds
        from the hang-up to the exit)."""
        self.read()
        self.open = False
        os.close(self.master)
        t0 = time.monotonic()
        code = self.proc.wait(timeout=30)
        return code, time.monotonic() - t0

    def end(self) -> None:
        if self.open:
            self.open = False
            os.close(self.master)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdin is not None:
            self.proc.stdin.close()


@contextmanager
def session(argv: list[str], cwd: Path, env: dict[str, str], stderr: IO[bytes] | None = None,
            ignore_hangup: bool = False, piped: bool = False) -> Iterator[Session]:  # fmt: skip
    s = Session(argv, cwd, env, stderr, ignore_hangup, piped)
    try:
        yield s
    finally:
        s.end()


@pytest.fixture
def state(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(db)
    yield db
    db.dispose()


def test_run_stops_in_order_when_its_terminal_hangs_up(tmp_path: Path, state: Database) -> None:
    """Everything on the terminal, as in an SSH session: exit 129 within the stop's budget (an
    exit 129 comes only after an orderly stop: one that abandoned work is exit 1)."""
    env = service_env(str(state.engine.url))
    with session(["run", "--no-bot", "--port", str(free_port())], tmp_path, env) as s:
        s.wait_for("feedsvc started")
        code, took = s.hang_up()
    assert code == EXIT_HANGUP, s.read()[-3000:]
    assert took <= STOP_SECONDS


@pytest.mark.parametrize("workers", ["0", "1"])
def test_a_hang_up_during_a_first_sync_stops_between_batches(
    tmp_path: Path, state: Database, workers: str
) -> None:
    """Work under way (a first sync of 20,000 rows, with or without a match worker, which is in
    the terminal's session too and gets its SIGHUP when the shell sends it to the whole job):
    the log says why it stops, nothing is abandoned, exit 129."""
    add_topics(state, 20)
    archive(state, 20_000, body="<p>" + "Tin lưu trữ ở Kiến Thụy. " * 10 + "</p>")
    env = service_env(str(state.engine.url), FEEDSVC_SOURCE__MATCH_WORKERS=workers)
    log_path = tmp_path / "service.log"
    with (
        log_path.open("wb") as log,
        session(["run", "--no-bot", "--port", str(free_port())], tmp_path, env, stderr=log) as s,
    ):
        logged = lambda: log_path.read_text("utf-8", errors="replace")  # noqa: E731
        s.wait_for(lambda: "rows behind the cursor, catching up" in logged())
        os.killpg(s.proc.pid, signal.SIGHUP)  # the shell's SIGHUP to the job, workers too
        code, took = s.hang_up()
    text = logged()
    assert code == EXIT_HANGUP, text[-3000:]
    assert took <= STOP_SECONDS, text[-3000:]
    assert "SIGHUP received: stopping (the terminal or SSH session it ran in closed)" in text
    assert "feedsvc stopped\n" in text and "abandoned" not in text, text[-3000:]
    assert "WARNING" not in unplaced(text), text[-3000:]  # a worker the signal ended: no failure


def test_an_ignored_hang_up_leaves_the_service_serving(tmp_path: Path, state: Database) -> None:
    """``nohup feedsvc run`` (SIGHUP ignored) on a terminal that then closes: the service keeps
    serving, although its log lines can no longer be written there; SIGTERM still stops it in
    order, exit 0."""
    port = free_port()
    env = service_env(str(state.engine.url))
    with session(["run", "--no-bot", "--port", str(port)], tmp_path, env,
                 ignore_hangup=True) as s:  # fmt: skip
        s.wait_for("feedsvc started")
        s.read()
        s.open = False
        os.close(s.master)
        for _ in range(3):  # each answer is a log line the dead terminal refuses
            answer = get(f"http://127.0.0.1:{port}/healthz")
            assert answer is not None and answer.status_code == 200
        assert s.proc.poll() is None
        s.proc.send_signal(signal.SIGTERM)
        assert s.proc.wait(timeout=30) == 0


def jsonl(first: int, count: int) -> bytes:
    return "".join(
        json.dumps({
            "source_key": f"K{i:06d}", "url": f"https://e.vn/{i}",
            "title": f"Công an xã Kiến Thụy, tin số {i}",
            "published_at": "2026-11-20T10:00:00+07:00",
        }, ensure_ascii=False) + "\n"
        for i in range(first, first + count)
    ).encode()  # fmt: skip


def stored(db_path: Path) -> int:
    with sqlite3.connect(db_path) as conn:
        return int(conn.execute("SELECT count(*) FROM source_articles").fetchone()[0])


@pytest.mark.parametrize("stderr_to", ["terminal", "file"])
def test_an_import_whose_terminal_hangs_up_stops_with_what_it_read_stored(
    tmp_path: Path, state: Database, stderr_to: str
) -> None:
    """``producer | feedsvc import -`` in an SSH session that drops: the lines read are stored
    whole, the rest sent again by running it again; its last words said where they can be (a
    file), and the exit code unchanged where they cannot (the dead terminal)."""
    env = service_env(str(state.engine.url))
    db_path = tmp_path / "state.db"
    err_path = tmp_path / "import.err"
    with (
        err_path.open("wb") as err,
        session(
            ["import", "-"], tmp_path, env, stderr=err if stderr_to == "file" else None, piped=True
        ) as s,  # fmt: skip
    ):
        assert s.proc.stdin is not None
        s.proc.stdin.write(jsonl(0, 2500))  # a batch of 2,000, then 500 stored after a second
        s.proc.stdin.flush()
        s.wait_for(lambda: stored(db_path) == 2500, timeout=60)
        code, took = s.hang_up()
    said = err_path.read_text("utf-8")
    assert code == EXIT_HANGUP, (s.read()[-2000:], said)
    assert took <= STOP_SECONDS
    assert stored(db_path) == 2500
    if stderr_to == "file":
        assert said == (
            "feedsvc import: hung up (SIGHUP): lines 1-2500 are stored (inserted 2500, "
            "updated 0, unchanged 0, rejected 0).\n"
            "  The lines after line 2500 were not read: send them again.\n"
        ), said
    if stderr_to == "terminal":
        return  # going on is the same whichever way the last words went: run once, below
    again = subprocess.run([sys.executable, "-m", "feedsvc", "import", "-"], cwd=tmp_path,
                           env=env, input=jsonl(2500, 500), capture_output=True,
                           timeout=120)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert stored(db_path) == 3000


def test_the_demo_stops_in_order_when_its_terminal_hangs_up(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    with session(["demo", "--port", "0"], tmp_path, env) as s:
        s.wait_for("feedsvc started", timeout=120)
        code, took = s.hang_up()
    assert code == EXIT_HANGUP, s.read()[-3000:]
    assert took <= STOP_SECONDS
