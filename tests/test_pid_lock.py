"""One scheduler per SQLite state DB (``feedsvc.pid_lock``, ``cli.service.one_scheduler``).

A tester's: a second ``feedsvc run`` on the same SQLite file started without a word, and its
dispatcher took back every lease at start — the first process's alerts in flight included —
and sent them again: 48 messages for 45 deliveries. Now the second scheduler is refused
(exit 2, naming the file and the first one's pid) before anything starts; a web/bot replica
(``--no-scheduler``) still may run beside it; a lock left by a killed process holds nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from processes import wait_until
from test_read_only_readers import as_another_user

from feedsvc.cli.service import one_scheduler
from feedsvc.db import Database, upgrade
from feedsvc.pid_lock import SCHEDULER_LOCK_SUFFIX, Held, take


def test_a_lock_is_held_once_and_names_its_holder(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    fd = take(path)
    try:
        with pytest.raises(Held) as held:
            take(path)  # another open file: refused, even in this process
        assert held.value.pid == os.getpid()
    finally:
        os.close(fd)
    os.close(take(path))  # released with its descriptor


def test_other_databases_take_no_lock(tmp_path: Path) -> None:
    one_scheduler("postgresql://postgres@127.0.0.1/nothing")  # no file, nothing connected
    one_scheduler("sqlite://")  # in memory
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def state(tmp_path: Path) -> Path:
    path = tmp_path / "state.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    return path


ROOT = Path(__file__).resolve().parent.parent


def env_for(state: Path) -> dict[str, str]:
    """The environment of a run on ``state``: this checkout's feedsvc, no machine settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    return env | {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        "FEEDSVC_CONFIG": "/dev/null",
        "FEEDSVC_DATABASE__URL": f"sqlite:///{state}",
        "FEEDSVC_TOPICS__IMPORT_ON_START": "false",
    }


@contextmanager
def running(state: Path, *flags: str) -> Iterator[subprocess.Popen[str]]:
    """``feedsvc run --no-bot --port 0 FLAGS`` until it logged its start."""
    log = state.with_name(f"run{len(list(state.parent.glob('run*.log')))}.log")
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "run", "--no-bot", "--port", "0", *flags],
            cwd=state.parent, env=env_for(state), stdout=out, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    try:
        wait_until(lambda: "feedsvc started" in log.read_text() or proc.poll() is not None, 60,
                   "the start")  # fmt: skip
        assert proc.poll() is None, log.read_text()
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


def second_run(state: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", "run", "--no-bot", "--port", "0", *flags],
        cwd=state.parent, env=env_for(state), capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_a_second_scheduler_is_refused_a_replica_runs_and_a_kill_frees_the_lock(
    state: Path,
) -> None:
    """In turn on one first scheduler (its start is not the subject; ~2 s of CPU a start, once
    per check before): a second scheduler is refused, by the file's name and by a symlink to
    it; a web replica beside it starts and stops cleanly; the first killed, the lock file it
    left holds nothing and a new scheduler starts."""
    with running(state) as first:
        done = second_run(state)
        assert done.returncode == 2, done.stderr
        said = done.stderr.strip().splitlines()[-1]
        assert said.startswith(
            f"feedsvc: another feedsvc run (pid {first.pid}) runs the "
            f"scheduler (ingest and alerts) on the SQLite state DB {state}"
        )
        assert "--no-scheduler" in said and "PostgreSQL" in said
        assert "feedsvc started" not in done.stderr
        # the same file by another name: a symlink to it
        link = state.with_name("link.db")
        link.symlink_to(state)
        again = subprocess.run(
            [sys.executable, "-m", "feedsvc", "run", "--no-bot", "--port", "0"],
            cwd=state.parent, env=env_for(state) | {"FEEDSVC_DATABASE__URL": f"sqlite:///{link}"},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert again.returncode == 2, again.stderr
        assert first.poll() is None  # the first one runs on
        # a web replica beside the scheduler still runs
        with running(state, "--no-scheduler") as web:
            assert web.poll() is None, "the replica"
        assert web.returncode == 0, "the replica's exit"
        assert first.poll() is None
        # a killed scheduler's lock holds nothing
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        assert (state.parent / (state.name + SCHEDULER_LOCK_SUFFIX)).exists()
        with running(state) as second:
            assert second.poll() is None, "the scheduler after the kill"


def run_as_another_user(state: Path) -> subprocess.CompletedProcess[str]:
    """``feedsvc run`` with file permissions applied (root: capabilities dropped); a run that
    starts is ended by the timeout (a failure)."""
    return subprocess.run(
        [*as_another_user(), sys.executable, "-m", "feedsvc", "run", "--no-bot", "--port", "0"],
        cwd=state.parent, env=env_for(state), capture_output=True, text=True, timeout=30,
    )  # fmt: skip


def test_a_lock_file_it_cannot_open_is_refused(state: Path) -> None:
    """A tester's: a lock file left by another user's run (here 0444) was taken for one that
    cannot be made, and no lock was held: a second run beside the first was a second scheduler
    on the file, without a word. Now refused (exit 2), naming the file, before anything starts."""
    lock = state.with_name(state.name + SCHEDULER_LOCK_SUFFIX)
    lock.touch()
    lock.chmod(0o444)
    done = run_as_another_user(state)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"feedsvc: cannot open the scheduler lock {lock} (permission denied), ")
    assert f"state DB {state}: make it writable for the user " in line, line
    assert "remove it while no feedsvc runs on that DB" in line, line


def test_a_run_refused_for_its_db_leaves_no_lock_file(state: Path) -> None:
    """A run refused because the state DB cannot be written left its lock file behind, owned
    by that user: the service's own user then could not open it (the test above)."""
    state.chmod(0o444)
    done = run_as_another_user(state)
    assert done.returncode == 2, done.stderr
    assert f"the state DB {state} cannot be written" in done.stderr, done.stderr
    assert sorted(p.name for p in state.parent.iterdir()) == ["state.db"]


@contextmanager
def demo_in(tmp_path: Path, base: Path, *prefix: str, args: tuple[str, ...] = ()) -> Iterator[int]:
    """A ``feedsvc demo`` in ``base`` (``prefix``: run as another user), started (its log
    says so) and running: its pid; SIGTERM after."""
    env = env_for(tmp_path / "unused.db")
    del env["FEEDSVC_DATABASE__URL"]
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        demo = subprocess.Popen(
            [*prefix, sys.executable, "-m", "feedsvc", "demo", "--port", "0", *args,
             "--dir", str(base)],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    try:
        wait_until(lambda: "feedsvc started" in log.read_text() or demo.poll() is not None, 120,
                   "the demo's start")  # fmt: skip
        assert demo.poll() is None, log.read_text()
        yield demo.pid
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=30)


def assert_second_scheduler_refused(db: Path, pid: int) -> None:
    done = second_run(db)
    assert done.returncode == 2, done.stderr
    assert f"(pid {pid}) runs the scheduler" in done.stderr, done.stderr


def test_a_demo_replacing_a_db_it_cannot_write_holds_the_lock(tmp_path: Path) -> None:
    """The demo removes the last demo's DB under its scheduler lock: one this user may not
    write (0444) is no reason to skip the lock, as a refused ``run`` does."""
    base = tmp_path / "d"
    base.mkdir()
    (base / "demo.db").write_bytes(b"")
    (base / "demo.db").chmod(0o444)
    with demo_in(tmp_path, base, *as_another_user(), args=("--articles", "0")) as pid:
        assert_second_scheduler_refused(base / "demo.db", pid)


def test_the_demo_and_a_run_on_its_database_are_one_scheduler(tmp_path: Path) -> None:
    """A verifier's: ``feedsvc run`` on the demo's ``demo.db`` (its banner's commands invite
    it) was a second scheduler beside the demo's; and a demo started beside such a run
    removed the DB under it. Each is refused while the other runs."""
    base = tmp_path / "d"
    with demo_in(tmp_path, base) as pid:
        assert_second_scheduler_refused(base / "demo.db", pid)
    env = env_for(tmp_path / "unused.db")
    del env["FEEDSVC_DATABASE__URL"]
    with running(base / "demo.db") as run:
        again = subprocess.run(
            [sys.executable, "-m", "feedsvc", "demo", "--port", "0", "--dir", str(base)],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert again.returncode == 2, again.stderr
        assert f"(pid {run.pid}) runs the scheduler" in again.stderr, again.stderr
        assert (base / "demo.db").exists()
