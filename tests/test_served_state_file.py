"""No command creates an SQLite state DB where a running feedsvc's file was taken away
(``feedsvc.db.served_state.served_problem``).

A tester's: ``mv var/feedsvc.db var/feedsvc.db-wal var/feedsvc.db-shm moved/`` under ``feedsvc
run``; ``status`` then said "not initialised: run `feedsvc db upgrade`", ``db upgrade`` made a
new file (exit 0, "a new file") and ``import`` wrote 60 rows into another, which the running
service refuses ("no longer the file this process opened"). Now each command refuses, exit 1,
naming the service's pid and what to do (put the file back, or stop the service first) while
the scheduler lock says a service runs on that path; nothing is created, and the file put back
is the service's again. Real ``feedsvc run`` and CLI processes on files in ``tmp_path``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from test_pid_lock import ROOT, env_for, running

from feedsvc.db import Database, upgrade
from feedsvc.pid_lock import SCHEDULER_LOCK_SUFFIX

TOPICS = '[[topic]]\nslug = "t1"\ntitle = "Topic One"\nquery = "an ninh"\n'
ARTICLE = (
    '{"source_key": "a1", "title": "an ninh", "url": "https://example.com/1", '
    '"published_at": "2026-01-01T00:00:00Z"}\n'
)

#: Every command that would create (or take for a database) the state DB, and readers.
COMMANDS: dict[str, list[str]] = {
    "status": ["status"],
    "db current": ["db", "current"],
    "topics list": ["topics", "list"],
    "db upgrade": ["db", "upgrade"],
    "import": ["import", "batch.jsonl"],
    "topics import": ["topics", "import", "topics.toml"],
    "subs add": ["subs", "add", "--topic", "t1", "--channel", "apprise", "--to", "json://x/"],
    "run --no-scheduler": ["run", "--no-bot", "--no-scheduler", "--port", "0"],
    "run": ["run", "--no-bot", "--port", "0"],
}

#: The commands of the tester's report, for the other ways the file is taken away.
SOME = ("status", "db upgrade", "import", "topics import")


def feedsvc(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", *args],
        cwd=state.parent, env=env_for(state), capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def away(state: Path) -> Path:
    return state.with_name("moved")


def all_moved(state: Path) -> None:
    """The tester's: the file and its ``-wal`` and ``-shm`` moved away together."""
    away(state).mkdir()
    for name in (state.name, f"{state.name}-wal", f"{state.name}-shm"):
        if (state.parent / name).exists():
            (state.parent / name).rename(away(state) / name)


def db_moved(state: Path) -> None:
    """Only the file moved: the service's live ``-wal`` and ``-shm`` left at the path."""
    away(state).mkdir()
    state.rename(away(state) / state.name)


def emptied(state: Path) -> None:
    """Moved away, then an empty file put at the path (SQLite's new database)."""
    all_moved(state)
    state.touch()


def put_back(state: Path) -> None:
    state.unlink(missing_ok=True)
    for moved in away(state).iterdir():
        moved.rename(state.parent / moved.name)


#: How the file is taken from under the service, and whether it can be put back.
ACTS: dict[str, tuple[Callable[[Path], None], bool]] = {
    "all_moved": (all_moved, True),
    "db_moved_wal_left": (db_moved, True),
    "deleted": (Path.unlink, False),
    "emptied": (emptied, True),
}


def beside(state: Path) -> dict[str, int]:
    """What is at the state DB's path and beside it: name → inode (a ``-wal`` left there is
    the service's, which it may grow)."""
    return {
        p.name: p.stat().st_ino
        for p in state.parent.iterdir()
        if p.name.startswith(state.name) and not p.name.endswith(SCHEDULER_LOCK_SUFFIX)
    }


@pytest.fixture
def state(tmp_path: Path) -> Path:
    path = tmp_path / "state.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    (tmp_path / "batch.jsonl").write_text(ARTICLE)
    (tmp_path / "topics.toml").write_text(TOPICS)
    return path


def test_no_command_creates_the_file_a_service_runs_on(state: Path) -> None:
    """Each way of ``ACTS`` in turn on one service (its start is not the subject; ~2 s of CPU
    a start, once per way before), the ones that can be put back first and each undone
    before the next (``deleted`` last). Failures name the way and the command."""
    with running(state) as service:
        for act, (take_away, can_put_back) in sorted(ACTS.items(), key=lambda a: not a[1][1]):
            take_away(state)
            before = beside(state)
            # every command once; the other ways, the report's (each is a process: CI's budget)
            for name in COMMANDS if act == "all_moved" else SOME:
                done = feedsvc(state, *COMMANDS[name])
                said = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
                assert done.returncode == 1, (act, name, done.stdout, done.stderr)
                assert said.startswith(f"feedsvc: the state DB file {state} is "), (act, name, said)
                assert f"a feedsvc (pid {service.pid}) runs on it" in said, (act, name, said)
                assert f"Put the file back at {state}" in said and "stop that service" in said
                assert "db upgrade" not in said, (act, name, said)  # not "not initialised: …"
                assert "feedsvc started" not in done.stderr, (act, name)
                assert beside(state) == before, (act, name)  # nothing created, nothing reset
            assert service.poll() is None, act
            if can_put_back:
                put_back(state)
                away(state).rmdir()  # emptied: the next way moves into it again
                done = feedsvc(state, "status")
                assert done.returncode == 0, (act, done.stderr)
                assert "ingest_state" in done.stdout, act
                assert service.poll() is None, act


def test_a_killed_services_lock_blocks_no_new_file(tmp_path: Path) -> None:
    """The lock file a killed ``run`` left holds nothing: ``db upgrade`` creates the DB."""
    state = tmp_path / "state.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from feedsvc.pid_lock import take; "
         "take(__import__('pathlib').Path(sys.argv[1])); print('held', flush=True); "
         "time.sleep(600)", f"{state}{SCHEDULER_LOCK_SUFFIX}"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        refused = feedsvc(state, "db", "upgrade")
        assert refused.returncode == 1, refused.stderr
        assert f"is missing, but a feedsvc (pid {holder.pid}) runs on it" in refused.stderr
        assert not state.exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    done = feedsvc(state, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("database at revision") and "(a new file)" in done.stdout
    assert state.is_file()
