"""A state DB whose disk fills while ``feedsvc run`` is going (a tester's, on a 2 MB tmpfs):
one WARNING in the start's words ("no space left on device at <dir>"), no "available again"
until a write commits on a file system with room (it flapped every minute: SQLAlchemy's commit
event ended the outage before the refused COMMIT, then small writes that fitted did), no
"could not record the failure" at each retry, and ingest retried at every poll, not after the
source's backoff (alerts came ~4 minutes after space was freed). No alert twice, no row lost.

Real full file systems: :mod:`test_full_disk_start`'s tmpfs (root only, skipped elsewhere).
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from crashes import follow_topic, private_chats
from processes import wait_until
from sqlalchemy import text
from test_full_disk_start import fill, small_fs  # noqa: F401  (the fixture)

from feedsvc.db import Database, upgrade
from feedsvc.db.errors import is_disk_full, trouble
from feedsvc.db.outage import Outage, is_outage
from feedsvc.db.where import mark, state_db

NO_SPACE = "no space left on device at {dir}: free space on that file system"
CHATS = range(1001, 1004)
POLL = 0.5
#: Seconds the disk stays full while the service runs.
HOLD_SECONDS = 8.0


class Cms:
    """An external SQLite CMS table (the default column names) off the small file system."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path)
        self.conn.execute(
            "CREATE TABLE source_articles (id INTEGER PRIMARY KEY, source_key TEXT, url TEXT,"
            " title TEXT, summary TEXT, body TEXT, author TEXT, section TEXT, tags TEXT,"
            " image_url TEXT, published_at TEXT, updated_at TEXT, changed_at TEXT)"
        )
        self.rows = 0

    def add(self, count: int, body_bytes: int) -> None:
        now = datetime.now(UTC).replace(tzinfo=None)
        for _ in range(count):
            self.rows += 1
            n = self.rows
            self.conn.execute(
                "INSERT INTO source_articles VALUES (?,?,?,?,?,?,NULL,NULL,NULL,NULL,?,NULL,?)",
                (n, f"K-{n}", f"https://example.vn/{n}", f"Công an tin {n}", "s",
                 os.urandom(body_bytes // 2).hex(),
                 (now - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S"),
                 now.strftime("%Y-%m-%d %H:%M:%S.%f")),
            )  # fmt: skip
        self.conn.commit()


def count(db_file: Path, sql: str) -> int:
    with sqlite3.connect(db_file, timeout=10) as conn:
        return int(conn.execute(sql).fetchone()[0])


@pytest.fixture
def service(small_fs: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path, Cms]]:  # noqa: F811
    """``feedsvc run --no-http --no-bot`` on a state DB in the small file system (chats
    following a topic; alerts to the log), reading a CMS table outside it; its log file."""
    url = f"sqlite:///{small_fs / 'f.db'}"
    db = Database(url)
    upgrade(db)
    with db.write() as conn:
        now = db.now()
        follow_topic(conn, private_chats(conn, CHATS, now), now)
    db.dispose()
    cms = Cms(tmp_path / "cms.db")
    env = {
        **os.environ, "FEEDSVC_DATABASE__URL": url,
        "FEEDSVC_SOURCE__URL": f"sqlite:///{tmp_path / 'cms.db'}",
        "FEEDSVC_SOURCE__POLL_SECONDS": str(POLL), "FEEDSVC_SOURCE__MATCH_WORKERS": "0",
        "FEEDSVC_TOPICS__IMPORT_ON_START": "false", "FEEDSVC_CONFIG": "/dev/null",
    }  # fmt: skip
    log = tmp_path / "service.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "run", "--no-http", "--no-bot"],
            env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield proc, log, cms
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def lines(log: Path, words: str) -> list[str]:
    return [line for line in log.read_text(errors="replace").splitlines() if words in line]


def test_a_disk_filling_while_running_is_one_outage_retried_at_every_poll(
    small_fs: Path,  # noqa: F811
    service: tuple[subprocess.Popen[bytes], Path, Cms],
) -> None:
    proc, log, cms = service
    db_file = small_fs / "f.db"
    sent = "SELECT count(*) FROM deliveries WHERE state = 'sent'"
    cms.add(3, 200)
    wait_until(lambda: count(db_file, sent) == 3 * len(CHATS), 60, "the first alerts sent")
    fill(small_fs)
    cms.add(8, 20_000)  # a batch that cannot fit
    wait_until(lambda: len(lines(log, "cannot be written: no space left on device")) == 1,
               30, "the full disk said")  # fmt: skip
    # the disk kept full a while: the old source backoff had grown to 8 s by its end (0.5, 1,
    # 2, 4 s), so a resume within a few polls is the state outage's retry, not the backoff's
    held = datetime.now(UTC) + timedelta(seconds=HOLD_SECONDS)
    wait_until(lambda: datetime.now(UTC) >= held, HOLD_SECONDS + 5, "the disk kept full")
    assert proc.poll() is None
    assert lines(log, "available again") == [], log.read_text()[-3000:]
    assert lines(log, "could not record the failure") == []
    assert count(db_file, "SELECT count(*) FROM articles") == 3  # nothing half-written
    subprocess.run(["mount", "-o", "remount,size=20m", str(small_fs)], check=True)
    # the bound under test: retried at every poll (the old source backoff had grown to 8 s)
    wait_until(lambda: count(db_file, "SELECT count(*) FROM articles") == cms.rows,
               4 * POLL + 2, "ingest resumed within a few polls of space freed")  # fmt: skip
    wait_until(lambda: count(db_file, sent) == cms.rows * len(CHATS), 60, "every alert sent")
    wait_until(lambda: len(lines(log, "available again")) == 1, 30, "the outage's end")
    said = lines(log, "cannot be written")
    assert len(said) == 1 and NO_SPACE.format(dir=small_fs) in said[0], said
    assert lines(log, "could not record the failure") == []
    assert "Traceback" not in log.read_text()
    deliveries = "SELECT count(*) FROM deliveries"
    pairs = "SELECT count(DISTINCT chat_id || '/' || article_id) FROM deliveries"
    assert count(db_file, deliveries) == count(db_file, pairs) == cms.rows * len(CHATS)


@pytest.mark.parametrize(
    "words",
    ['could not extend file "base/16384/16385": No space left on device',
     "could not write to file \"pg_wal/xlogtemp.1\": No space left on device"],
)  # fmt: skip
def test_postgresql_disk_full_is_the_state_outage_said_as_a_full_disk(
    words: str, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL's SQLSTATE 53100 (psycopg's ``DiskFull``, wrapped as SQLAlchemy wraps it)
    is the one classifier's ``disk_full``, an outage of writes only, said as the server's
    disk; its words alone, without the code, too."""
    import psycopg
    from sqlalchemy.exc import OperationalError

    where = state_db("postgresql://feedsvc@127.0.0.1/feedsvc")
    for orig in (psycopg.errors.DiskFull(words), psycopg.OperationalError(words)):
        exc = OperationalError("INSERT INTO articles …", {}, orig)
        mark(exc, where)
        assert (is_disk_full(exc), trouble(exc), is_outage(exc)) == (True, "disk_full", True)
        outage = Outage("state DB x")
        with caplog.at_level(logging.INFO, "feedsvc.db.outage"):
            caplog.clear()
            outage.failed(exc, "ingest")
            outage.answered(write=False)  # a read: no end
        assert outage.down
        [line] = [r.getMessage() for r in caplog.records]
        assert "no space left on the database server's disk" in line, line


def test_a_refused_commit_or_a_read_never_ends_a_full_disk(
    small_fs: Path,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    """In process, on a real full file system: SQLite refuses the COMMIT (SQLAlchemy's commit
    event came first and said "available again after 0 s"); a read answering is no end; a
    write once space is freed is, once."""
    db = Database(f"sqlite:///{small_fs / 'f.db'}")
    upgrade(db)
    with db.write() as conn:
        conn.execute(text("CREATE TABLE ballast (b BLOB)"))
    fill(small_fs)
    with caplog.at_level(logging.INFO, "feedsvc.db.outage"):
        for _ in range(3):
            with pytest.raises(Exception) as failed, db.write() as conn:
                conn.execute(text("INSERT INTO ballast VALUES (randomblob(300000))"))
            assert trouble(failed.value) == "disk_full", failed.value
            db.outage.failed(failed.value, "test")
            with db.read() as conn:
                conn.execute(text("SELECT count(*) FROM ballast")).scalar_one()
        said = [r.getMessage() for r in caplog.records]
        assert len(said) == 1 and NO_SPACE.format(dir=small_fs) in said[0], said
        assert db.outage.down
        subprocess.run(["mount", "-o", "remount,size=20m", str(small_fs)], check=True)
        with db.write() as conn:
            conn.execute(text("INSERT INTO ballast VALUES (randomblob(300000))"))
    ended = [r.getMessage() for r in caplog.records if "available again" in r.getMessage()]
    assert len(ended) == 1 and not db.outage.down, ended
    db.dispose()
