"""A running service's claim on its SQLite state DB file (``feedsvc.db.served_claim``) survives
``mv var/state.db* elsewhere/`` and tells the file it serves from another put at its path.

The two holes left after D4 (seen by hand): the shell glob moved the scheduler lock with the
file, so ``db upgrade`` and ``import`` created a new DB beside the running service (exit 0);
and a file put back that is not the service's (a ``cp``, another database, the ``.db``
without its ``-wal``) was written while the service ran on its own file. Real ``feedsvc run``
and CLI processes on files in ``tmp_path``; the claim's own rules in-process against holders
in child processes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from processes import wait_until
from test_pid_lock import ROOT, running
from test_served_state_file import ARTICLE, TOPICS, feedsvc

from feedsvc.db import Database, upgrade
from feedsvc.db import served_claim as sc
from feedsvc.pid_lock import SCHEDULER_LOCK_SUFFIX


def migrated(path: Path) -> Path:
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    return path


@pytest.fixture
def state(tmp_path: Path) -> Path:
    path = migrated(tmp_path / "state.db")
    (tmp_path / "batch.jsonl").write_text(ARTICLE)
    (tmp_path / "topics.toml").write_text(TOPICS)
    return path


def the_glob(state: Path) -> list[Path]:
    """What ``state.db*`` names: the file, its ``-wal``/``-shm`` and the scheduler lock."""
    return sorted(state.parent.glob(f"{state.name}*"))


def glob_moved(state: Path) -> Path:
    """``mv var/state.db* elsewhere/``: the scheduler lock goes too."""
    away = state.with_name("elsewhere")
    away.mkdir()
    for p in the_glob(state):
        p.rename(away / p.name)
    return away


def glob_into_subdir(state: Path) -> Path:
    """``mv var/state.db* var/old/``."""
    away = state.parent / "old"
    away.mkdir()
    for p in the_glob(state):
        p.rename(away / p.name)
    return away


def renamed_in_place(state: Path) -> Path:
    """``for f in state.db*; do mv $f old-$f; done``: beside, under other names."""
    for p in the_glob(state):
        p.rename(p.with_name(f"old-{p.name}"))
    return state.parent


def removed(state: Path) -> Path:
    """``rm var/state.db*``."""
    for p in the_glob(state):
        p.unlink()
    return state.parent


def put_back(state: Path, away: Path) -> None:
    for p in away.iterdir():
        if p.name.startswith((state.name, f"old-{state.name}")):
            p.rename(state.with_name(p.name.removeprefix("old-")))


#: How the file is taken away with everything ``state.db*`` names, and the commands tried
#: after it: each way once and each command once, on one service (CI's budget: every command
#: is a process), the tester's commands after the tester's way. ``removed`` cannot be undone.
TAKEN: dict[str, tuple[Callable[[Path], Path], tuple[str, ...]]] = {
    "glob_moved": (glob_moved, ("db upgrade", "import", "topics import", "status")),
    "glob_into_subdir": (glob_into_subdir, ("import",)),
    "renamed_in_place": (renamed_in_place, ("db upgrade",)),
    "removed": (removed, ("topics import",)),
}

#: The commands of the brief.
WRITERS: dict[str, list[str]] = {
    "db upgrade": ["db", "upgrade"],
    "import": ["import", "batch.jsonl"],
    "topics import": ["topics", "import", "topics.toml"],
    "status": ["status"],
}


def names(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir() if not p.name.endswith(".log")}


def last_line(done: subprocess.CompletedProcess[str]) -> str:
    return done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""


def fingerprint(state: Path) -> dict[str, str]:
    """The bytes of the file at the path and its side files, by name."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (state, state.with_name(f"{state.name}-wal"))
        if p.exists()
    }


def a_copy(state: Path, away: Path) -> None:
    """``cp elsewhere/state.db* var/``: the service's file and WAL, copied back."""
    for p in away.iterdir():
        if p.name in (state.name, f"{state.name}-wal", f"{state.name}-shm"):
            shutil.copy2(p, state.with_name(p.name))


def another_db(state: Path, _away: Path) -> None:
    """A different state DB (another site's, a test one) put at the path."""
    state.with_name("other").mkdir()
    other = migrated(state.with_name("other") / "state.db")
    other.rename(state)


def older_backup(state: Path, _away: Path) -> None:
    """The backup taken before the service started, restored at the path."""
    shutil.copy2(state.with_name("backup.db"), state)


def db_without_wal(state: Path, away: Path) -> None:
    """The service's own file moved back, its ``-wal`` and ``-shm`` left elsewhere."""
    (away / state.name).rename(state)


#: What is put at the path once ``state.db*`` was moved away, and the commands tried then
#: (each once; the copy, the tester's, with all three writers).
#: The WAL first: the service's connections still hold it open (after a step that put
#: another file there, its pool is emptied until its next job reconnects).
PUT: dict[str, tuple[Callable[[Path, Path], None], tuple[str, ...]]] = {
    "db_without_wal": (db_without_wal, ("topics import",)),
    "a_copy": (a_copy, ("db upgrade", "import", "topics import")),
    "another_db": (another_db, ("import",)),
    "older_backup": (older_backup, ("db upgrade",)),
}


def undo(state: Path, away: Path) -> None:
    """What was put at the path taken off, and the service's own files moved back."""
    for side in ("", "-wal", "-shm"):
        if (away / f"{state.name}{side}").exists():
            state.with_name(state.name + side).unlink(missing_ok=True)
    for p in away.iterdir():
        p.rename(state.with_name(p.name))
    away.rmdir()


def test_no_command_creates_or_writes_a_file_where_the_service_ran(state: Path) -> None:
    """On one service (its start is not the subject; ~2 s of CPU a start, once per part
    before), in turn: each file of ``PUT`` put at the path is refused and left unchanged; a
    hard link to its own file is used as ever; each way of ``TAKEN`` (``removed`` last)
    takes the lock but not the claim, and no command creates a file. Stopped, the path is
    anyone's again. Failures name the way or what was put, and the command."""
    shutil.copy2(state, state.with_name("backup.db"))
    claim = sc.claim_path(state)
    with running(state) as service:
        for what, (put, commands) in PUT.items():
            away = glob_moved(state)
            put(state, away)
            before = fingerprint(state)
            for name in commands:
                done = feedsvc(state, *WRITERS[name])
                said = last_line(done)
                assert done.returncode == 1, (what, name, done.stdout, done.stderr)
                assert said.startswith(f"feedsvc: the state DB file {state} is "), said
                assert f"a feedsvc (pid {service.pid}) runs on (it holds {claim}" in said, said
                if what == "db_without_wal":
                    sides = f"but {state}-wal and {state}-shm beside it are not the ones it uses"
                    assert sides in said, said
                    assert f"Put its {state}-wal and {state}-shm back beside it" in said, said
                    assert f"move all of {state}* back in one command" in said, said
                else:
                    assert f"is not the file a feedsvc (pid {service.pid}) runs on" in said, said
                    assert f"Put the service's own file back at {state}" in said, said
                assert fingerprint(state) == before, (what, name)  # unchanged
            assert service.poll() is None
            undo(state, away)
        # a hard link to the service's own file, its WAL beside it: that file, used as ever
        away = glob_moved(state)
        os.link(away / state.name, state)
        for side in ("-wal", "-shm"):
            (away / f"{state.name}{side}").rename(state.with_name(state.name + side))
        done = feedsvc(state, "import", "batch.jsonl")
        assert done.returncode == 0, done.stderr
        assert service.poll() is None
        # whole again for the ways below: the other link dropped, the lock moved back
        (away / state.name).unlink()
        undo(state, away)
        for way, (take_away, commands) in TAKEN.items():
            away = take_away(state)
            assert not state.with_name(state.name + SCHEDULER_LOCK_SUFFIX).exists(), way
            assert claim.exists()
            before = names(state.parent)
            for name in commands:
                done = feedsvc(state, *WRITERS[name])
                said = last_line(done)
                assert done.returncode == 1, (way, name, done.stdout, done.stderr)
                assert said.startswith(f"feedsvc: the state DB file {state} is missing, "), said
                assert f"a feedsvc (pid {service.pid}) runs on it (it holds {claim})" in said
                assert f"Put the file back at {state}" in said, said
                assert names(state.parent) == before, (way, name)  # nothing created
            assert service.poll() is None
            if way != "removed":
                put_back(state, away)
                done = feedsvc(state, "status")  # the service's file again: read as ever
                assert done.returncode == 0, (way, done.stderr)
    done = feedsvc(state, "db", "upgrade")  # the service stopped: the path is anyone's again
    assert done.returncode == 0, done.stderr
    assert "(a new file)" in done.stdout
    older_backup(state, away)  # a file put there is anyone's again
    for side in ("-wal", "-shm"):
        state.with_name(state.name + side).unlink(missing_ok=True)
    done = feedsvc(state, "import", "batch.jsonl")
    assert done.returncode == 0, done.stderr


def test_a_web_replica_alone_claims_the_file_and_another_joins(state: Path) -> None:
    """A ``--no-scheduler`` replica holds no scheduler lock: its file moved away was created
    anew by ``db upgrade``; it claims the file too, and a second replica on the same file
    joins the claim (replicas are legitimate), while one started on a file put there since
    is refused."""
    claim = sc.claim_path(state)
    with running(state, "--no-scheduler") as web, running(state, "--no-scheduler") as web2:
        held = sc.claimed(state)
        assert held is not None and set(held.pids) == {web.pid, web2.pid}, held
        assert held.identity == (state.stat().st_dev, state.stat().st_ino)
        away = glob_moved(state)
        done = feedsvc(state, "db", "upgrade")
        assert done.returncode == 1, done.stderr
        said = last_line(done)
        assert f"is missing, but a feedsvc (pid {web.pid}, {web2.pid}) runs on it" in said, said
        assert not state.exists()
        a_copy(state, away)
        done = feedsvc(state, "run", "--no-bot", "--no-scheduler", "--port", "0")
        assert done.returncode == 1, done.stderr
        assert f"is not the file a feedsvc (pid {web.pid}" in last_line(done), done.stderr
        assert "feedsvc started" not in done.stderr
        assert web.poll() is None and web2.poll() is None and claim.exists()


# the claim's own rules, against holders in child processes


@contextmanager
def holder(file: Path, identity: tuple[int, int]) -> Iterator[subprocess.Popen[str]]:
    """A child process holding the claim on ``file`` for ``identity`` until it is killed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from feedsvc.db.served_claim import hold; "
         "print(hold(Path(sys.argv[1]), (int(sys.argv[2]), int(sys.argv[3]))), flush=True); "
         "time.sleep(600)", str(file), *map(str, identity)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip().isdigit()
        yield proc
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)


def test_replicas_share_a_claim_and_a_kill_ends_it(tmp_path: Path) -> None:
    file = tmp_path / "state.db"
    with holder(file, (1, 2)) as first, holder(file, (1, 2)) as second:
        claim = sc.claimed(file)
        assert claim == sc.Claim(sc.claim_path(file), (first.pid, second.pid), (1, 2))
        first.send_signal(signal.SIGKILL)  # its lock goes with it; the other's holds
        first.wait(timeout=30)
        assert sc.claimed(file) is not None
    assert sc.claimed(file) is None  # SIGKILL: the kernel dropped it, the file stays
    assert sc.claim_path(file).exists()


def test_a_start_on_another_file_is_refused_and_a_stale_claim_taken_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "state.db"
    monkeypatch.setattr(sc, "SETTLE_SECONDS", 0.2)
    with holder(file, (1, 2)) as live:
        with pytest.raises(sc.ClaimedElsewhere) as refused:
            sc.hold(file, (1, 3))
        assert refused.value.claim.pids == (live.pid,)
    fd = sc.hold(file, (1, 3))  # the stale (1, 2): nobody holds it
    try:
        assert fd is not None
        assert sc.claimed(file) is None  # this process's own claim is not another's
        assert sc.claim_path(file).read_text() == f"{os.getpid()} 1 3 web\n"
    finally:
        sc.release_claim(fd)
    wait_until(lambda: sc.claimed(file) is None, 30, "the claim released")


def test_a_claim_being_written_names_no_file(tmp_path: Path) -> None:
    """A line not whole yet (a holder appending) is left out; an empty claim names none."""
    path = tmp_path / ".state.db.served"
    assert sc._parsed(b"", path) == sc.Claim(path, (), None)
    assert sc._parsed(b"12 1 2\n40 1 2\n7 1", path) == sc.Claim(path, (12, 40), (1, 2))
    assert sc._parsed(b"12 1 2\n40 1 3\n", path).pids == (12,)


def test_no_new_connection_to_its_file_put_back_without_its_wal(tmp_path: Path) -> None:
    """The service's side: its file moved away with its WAL, and only the file put back. Its
    open connection goes on in the moved WAL; a new one (the pool growing) made an empty
    ``-wal`` beside the file, a second WAL of one database, which the next command took for
    the service's. Now the new connection is an outage until the WAL is back."""
    from sqlalchemy import exc as sa_exc
    from sqlalchemy import text

    from feedsvc.config import load_config
    from feedsvc.db.outage import is_outage
    from feedsvc.engines import service_databases

    file = tmp_path / "state.db"
    db, web = service_databases(load_config(None, {"database": {"url": f"sqlite:///{file}"}}))
    upgrade(db)
    try:
        with db.engine.connect() as held:  # open through the moves, as a pooled one is
            held.execute(text("SELECT 1"))
            away = glob_moved(file)
            (away / file.name).rename(file)
            with pytest.raises(sa_exc.OperationalError) as refused, web.engine.connect() as c:
                c.execute(text("SELECT 1"))
            assert is_outage(refused.value), refused.value
            said = str(refused.value)
            assert f"is here but {file}-wal and {file}-shm beside it are not" in said, said
            assert not file.with_name(f"{file.name}-wal").exists()  # no second WAL made
            for side in ("-wal", "-shm"):
                (away / f"{file.name}{side}").rename(file.with_name(file.name + side))
            with web.engine.connect() as conn:  # back: connections are made again
                assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        web.dispose()
        db.dispose()
