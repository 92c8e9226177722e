"""A schema migration waits for every feedsvc on the DB to stop (``feedsvc.db.running``).

The old behaviour: ``feedsvc db upgrade`` migrated under a running feedsvc, which then wrote
with its old schema for up to a minute (its revision check, ``feedsvc.schema_watch``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import insert
from upgrades import database_at

from feedsvc.cli import cli
from feedsvc.db import Database
from feedsvc.db.revision import SchemaError, ensure_schema, schema_status
from feedsvc.db.schema_service import leases
from feedsvc.pid_lock import holder, scheduler_lock
from feedsvc.store.leases import this_process

OLD = "0035"


def _lease(db: Database, name: str, who: str, seconds: float) -> None:
    with db.engine.begin() as conn:
        until = db.now() + timedelta(seconds=seconds)
        conn.execute(insert(leases).values(name=name, holder=who, expires_at=until))


def _upgrade(url: str) -> tuple[int, str]:
    env = {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": url}
    result = CliRunner().invoke(cli, ["db", "upgrade"], env=env)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("name", "who"), [("ingest", "news-1:4711"), ("telegram-poller", "bot.example:12"),
                      ("zalo", "x:1")],
)  # fmt: skip
def test_a_live_lease_stops_db_upgrade_and_the_schema_stays(
    db_url: str, name: str, who: str
) -> None:
    db = database_at(db_url, OLD)
    try:
        _lease(db, name, who, 90)
        code, output = _upgrade(db_url)
        assert code == 1, output
        assert "another feedsvc is running on this state DB" in output
        assert f"{who} holds the {name} lease until " in output
        assert "README: Upgrading" in output
        assert schema_status(db).revision == OLD  # nothing migrated
    finally:
        db.dispose()


def test_an_expired_lease_and_this_process_own_do_not_stop_it(db_url: str) -> None:
    db = database_at(db_url, OLD)
    try:
        _lease(db, "ingest", "gone:1", -5)  # a killed feedsvc's, lapsed
        _lease(db, "telegram-poller", this_process(), 90)
        ensure_schema(db)
        assert schema_status(db).current
    finally:
        db.dispose()


def test_an_upgrade_with_nothing_to_migrate_runs_beside_a_service(db_url: str) -> None:
    """`db upgrade` on a DB at head only prints its revision: a running service is no reason
    to fail (deploy scripts run it every time)."""
    db = database_at(db_url, "head")
    try:
        _lease(db, "ingest", "news-1:4711", 90)
        code, output = _upgrade(db_url)
        assert code == 0, output
        assert output.startswith("database at revision ")
    finally:
        db.dispose()


def test_ensure_schema_refuses_too_so_run_does(db_url: str) -> None:
    """``run`` migrates at start through the same ``ensure_schema``: refused alike (exit 1)."""
    db = database_at(db_url, OLD)
    try:
        _lease(db, "ingest", "news-2:99", 60)
        with pytest.raises(SchemaError, match="news-2:99 holds the ingest lease"):
            ensure_schema(db)
        assert schema_status(db).revision == OLD
    finally:
        db.dispose()


HOLD = """
import sys
from pathlib import Path
from feedsvc.pid_lock import take
take(Path(sys.argv[1]))
print("held", flush=True)
sys.stdin.read()
"""


@contextmanager
def holding(lock: Path, boxed: Sequence[str] = (sys.executable,)) -> Iterator[int]:
    """Another process (``boxed``: how it is started) holding ``lock`` until the block ends;
    its pid as the caller sees it."""
    child = subprocess.Popen(
        [*boxed, "-c", HOLD, str(lock)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "held\n"
        yield child.pid
    finally:
        child.communicate("", timeout=30)


def test_a_scheduler_holding_the_sqlite_lock_stops_it_until_it_ends(tmp_path: Path) -> None:
    """On SQLite the scheduler's lock shows a running ``run`` even without a lease (one just
    started, one whose lease another took): held → refused naming its pid; after it ends
    (the kernel drops the lock), the same command migrates."""
    path = tmp_path / "state.db"
    url = f"sqlite:///{path}"
    database_at(url, OLD).dispose()
    lock = scheduler_lock(path)
    with holding(lock) as pid:
        assert holder(lock) == pid
        code, output = _upgrade(url)
        assert code == 1, output
        assert f"a scheduler (pid {pid}) holds its lock" in output
    assert holder(lock) is None
    code, output = _upgrade(url)
    assert code == 0, output
    db = Database(url)
    assert schema_status(db).current
    db.dispose()


def test_the_lock_probe_ignores_a_missing_file_and_this_process(tmp_path: Path) -> None:
    from feedsvc.pid_lock import take

    lock = tmp_path / "x.db-scheduler.lock"
    assert holder(lock) is None
    assert not lock.exists()  # the probe creates nothing
    fd = take(lock)
    try:
        assert holder(lock) is None  # our own lock: `run` migrates while holding it
    finally:
        os.close(fd)


def _pid_namespaces() -> bool:
    try:
        done = subprocess.run(
            ["unshare", "--pid", "--fork", "--mount-proc", "true"], capture_output=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@pytest.mark.skipif(not _pid_namespaces(), reason="needs unshare --pid (root, util-linux)")
def test_a_scheduler_that_is_pid_1_of_a_container_is_seen_by_an_upgrade_that_is_too(
    tmp_path: Path,
) -> None:
    """Containers: `feedsvc run` is pid 1 (the Dockerfile's CMD), and so is a `db upgrade` in
    the next container. The pid written in the lock is this process's own there: it took the
    running scheduler's lock for its own and migrated under it (a verifier's)."""
    path = tmp_path / "state.db"
    url = f"sqlite:///{path}"
    database_at(url, OLD).dispose()
    lock = scheduler_lock(path)
    boxed = ["unshare", "--pid", "--fork", "--mount-proc", sys.executable]
    env = {**os.environ, "FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": url}
    with holding(lock, boxed):
        assert lock.read_text().strip() == "1"  # pid 1 of its namespace
        upgrade = subprocess.run(
            [*boxed, "-m", "feedsvc", "db", "upgrade"], env=env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert upgrade.returncode == 1, upgrade.stdout + upgrade.stderr
        assert "a scheduler (pid 1) holds its lock" in upgrade.stderr
    db = Database(url)
    assert schema_status(db).revision == OLD
    db.dispose()


def test_a_lock_this_process_closed_is_anyones_again(tmp_path: Path) -> None:
    """This process's own lock does not count only while it holds it: closed, another
    process that takes it is seen (even where its pid would equal ours)."""
    from feedsvc.pid_lock import take

    lock = tmp_path / "y.db-scheduler.lock"
    os.close(take(lock))
    with holding(lock) as pid:
        assert holder(lock) == pid


def test_a_lease_of_another_process_with_this_host_and_pid_is_anothers(db_url: str) -> None:
    """Two containers sharing a host name both run feedsvc as pid 1: a lease written as
    ``host:pid`` (an older release) or with another nonce is another process's (a verifier's:
    `db upgrade` took the running service's `vm:1` lease for its own)."""
    db = database_at(db_url, OLD)
    try:
        host_pid = this_process().rsplit(":", 1)[0]
        for holder_name in (host_pid, f"{host_pid}:0a0b0c"):
            _lease(db, f"ingest-{holder_name}", holder_name, 90)
        with pytest.raises(SchemaError, match=f"{host_pid} holds the ingest-{host_pid} lease"):
            ensure_schema(db)
        assert schema_status(db).revision == OLD
    finally:
        db.dispose()


def test_this_process_has_one_name_and_a_child_another() -> None:
    name = this_process()
    assert this_process() == name and len(name) <= 64
    code = "from feedsvc.store.leases import this_process; print(this_process())"
    child = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert child.stdout.strip() != name


#: A serving process as the claim sees one: its file open through its WAL (a service always
#: has a connection; without its ``-wal``/``-shm`` the file is refused as served without them).
CLAIM = """
import os, sqlite3, sys
from pathlib import Path
from feedsvc.db.served_claim import hold
conn = sqlite3.connect(sys.argv[1])
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
found = os.stat(sys.argv[1])
hold(Path(sys.argv[1]), (found.st_dev, found.st_ino))
print("held", flush=True)
sys.stdin.read()
"""


def test_a_web_replica_serving_the_sqlite_file_stops_it_until_it_ends(tmp_path: Path) -> None:
    """A ``--no-scheduler`` replica holds no scheduler lock and, on SQLite, no lease: it wrote
    with the old schema until its revision check stopped it. Its served claim
    (``db.served_claim``) shows it: refused naming its pid; after it ends, migrated."""
    path = tmp_path / "state.db"
    url = f"sqlite:///{path}"
    database_at(url, OLD).dispose()
    child = subprocess.Popen(
        [sys.executable, "-c", CLAIM, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None and child.stdout.readline() == "held\n"
        code, output = _upgrade(url)
        assert code == 1, output
        assert f"a feedsvc (pid {child.pid}) serves it (it holds {tmp_path}/.state.db.served)" in (
            output
        ), output
    finally:
        child.communicate("", timeout=30)
    code, output = _upgrade(url)
    assert code == 0, output
