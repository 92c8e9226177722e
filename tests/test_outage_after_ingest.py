"""A state-DB outage met after an ingest batch committed, or while a backlog waits: one line.

A tester's (D3): the state DB's disk filled while ``feedsvc run`` ingested; the batch's commit
fitted, the feeds' render stored after it did not, and the after-ingest callback logged a full
traceback (``after-ingest callback failed … database or disk is full``) before the outage's
WARNING. An outage (a full disk, the file moved away, the server down) is the outage's one line
(:mod:`feedsvc.db.outage`), the render retried at the next sync; a bug keeps its traceback.

D4: with a backlog past the batch size, every retry during the outage said "104 rows behind the
cursor, catching up" (every poll, writing nothing); it is said once, and not while the state DB
is out (:class:`feedsvc.ingest.progress.BacklogTold`).

In process: the state DB's writes to one table refused as a full disk refuses them (SQLite's
``database or disk is full``, PostgreSQL's 53100) by an engine hook, on SQLite and PostgreSQL;
the file moved away is a real rename (the engine's inode check).
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from factories import article, builtin_ingestor
from processes import wait_until
from sqlalchemy import event, func, select, text
from test_full_disk_running import HOLD_SECONDS, count, lines, service  # noqa: F401
from test_full_disk_running import Cms as RealCms
from test_full_disk_start import fill, small_fs  # noqa: F401  (the fixture)

from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.db.outage_rule import OutageRule
from feedsvc.db.schema import articles
from feedsvc.ingest.model import Change
from feedsvc.publish.publisher import FeedPublisher
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec, save_topic

CATCHING_UP = "rows behind the cursor, catching up"


def full_disk_error(db: Database) -> Exception:
    """What the driver raises for a write on a full disk."""
    if db.dialect == "sqlite":
        return sqlite3.OperationalError("database or disk is full")
    import psycopg

    return psycopg.errors.DiskFull('could not extend file "base/1/2": No space left on device')


@contextmanager
def refused(db: Database, table: str) -> Iterator[None]:
    """Every write to ``table`` of ``db`` refused as on a full disk, until the block ends."""
    writes = re.compile(rf'^\s*(INSERT INTO|UPDATE|DELETE FROM)\s+"?{table}\b', re.I)

    def refuse(_cursor: Any, statement: str, *_args: Any) -> None:
        if writes.match(statement):  # raised where the driver's would be: wrapped, marked
            raise full_disk_error(db)

    for name in ("do_execute", "do_executemany"):
        event.listen(db.engine, name, refuse)
    try:
        yield
    finally:
        for name in ("do_execute", "do_executemany"):
            event.remove(db.engine, name, refuse)


def add(db: Database, *numbers: int) -> None:
    with db.write() as conn:
        rows = [article(n) for n in numbers]
        upsert_source_articles(conn, rows, datetime.now(UTC) - timedelta(minutes=1))


def fresh_outage(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The state DB's outage bookkeeping with no line said yet (one per database and process:
    a PostgreSQL test database is shared by the tests of a worker)."""
    assert not db.outage.down
    monkeypatch.setattr(db.outage, "rule", OutageRule(db.outage.summary_seconds))


def problems(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def outage_lines(caplog: pytest.LogCaptureFixture, words: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "feedsvc.db.outage" and words in r.getMessage()
    ]


@pytest.fixture
def published(db: Database) -> tuple[FeedPublisher, Any]:
    return publish(db)


def publish(db: Database) -> tuple[FeedPublisher, Any]:
    """A topic's feeds published, an ingestor whose batches re-render them."""
    with db.write() as conn:
        spec = TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"')
        save_topic(conn, spec, "cli", datetime.now(UTC))
    pub = FeedPublisher(db, load_config(None, {"http": {"public_url": "https://f.example.vn"}}))
    pub.sync()
    ing = builtin_ingestor(db)
    ing.after_commit.append(pub.on_ingest)
    return pub, ing


def shown(pub: FeedPublisher) -> bytes:
    snap = pub.snapshot("kien-thuy", "rss", 50)
    assert snap is not None
    return snap.body


def test_a_full_disk_refusing_the_feeds_render_is_one_outage_line(
    db: Database,
    published: tuple[FeedPublisher, Any],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pub, ing = published
    fresh_outage(db, monkeypatch)
    add(db, 1)
    caplog.set_level(logging.INFO, logger="feedsvc")
    with refused(db, "feed_snapshots"):
        result = ing.tick()
        assert (result.new, result.error) == (1, None)  # the batch itself committed
        assert b"/1.html" not in shown(pub)
    assert problems(caplog) == [], [r.getMessage() for r in problems(caplog)]
    words = "cannot be written: no space left" if db.dialect == "sqlite" else "server's disk"
    assert len(outage_lines(caplog, words)) == 1, caplog.text
    assert db.outage.down
    pub.sync()  # space again: the render it stopped is the next sync's
    assert b"/1.html" in shown(pub)
    assert len(outage_lines(caplog, "available again")) == 1, caplog.text
    assert problems(caplog) == []


def test_a_bug_in_an_after_ingest_callback_keeps_its_traceback(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    ing = builtin_ingestor(db)

    def broken(_changes: Sequence[Change]) -> None:
        raise ValueError("a bug, not an outage")

    ing.after_commit.append(broken)
    add(db, 1)
    caplog.set_level(logging.INFO, logger="feedsvc")
    assert ing.tick().new == 1
    [bug] = problems(caplog)
    assert bug.getMessage() == "after-ingest callback failed" and bug.exc_info is not None
    assert not db.outage.down


def test_the_state_file_moved_away_after_a_commit_is_one_outage_line(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SQLite: the file moved away (the engine's inode check) before the feeds' render."""
    from conftest import _migrated

    db = _migrated(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        pub, ing = publish(db)
        fresh_outage(db, monkeypatch)
        file, away = tmp_path / "state.db", tmp_path / "moved.db"
        ing.after_commit.insert(0, lambda _c: os.rename(file, away))
        ing.after_commit.append(lambda _c: os.rename(away, file))
        add(db, 1)
        caplog.set_level(logging.INFO, logger="feedsvc")
        assert ing.tick().new == 1
        assert problems(caplog) == [], [r.getMessage() for r in problems(caplog)]
        assert len(outage_lines(caplog, "is unavailable")) == 1, caplog.text
        ing.after_commit[:] = [pub.on_ingest]
        pub.sync()
        assert b"/1.html" in shown(pub)
    finally:
        db.dispose()


# -- D4: "catching up" during an outage ----------------------------------------------------------


def catching_up(caplog: pytest.LogCaptureFixture) -> int:
    return sum(CATCHING_UP in r.getMessage() and r.levelno >= logging.INFO for r in caplog.records)


def stored(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(articles)).scalar_one())


@pytest.mark.parametrize("polls", [2, 6])
def test_a_backlog_during_a_full_disk_is_said_once_not_at_every_poll(
    db: Database, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, polls: int
) -> None:
    ing = builtin_ingestor(db, batch_size=2)
    fresh_outage(db, monkeypatch)
    add(db, *range(1, 6))  # 5 rows, batches of 2: a backlog
    caplog.set_level(logging.INFO, logger="feedsvc")
    with refused(db, "articles"):
        for _ in range(polls):  # the state probe answers: each poll retries
            result = ing.tick()
            assert not result.skipped and result.error is not None
    assert stored(db) == 0
    assert catching_up(caplog) == 1, caplog.text  # the first try's, before the outage was known
    assert problems(caplog) == []
    assert ing.tick().new == 5  # space again
    assert catching_up(caplog) <= 2 and "caught up" in caplog.text


def test_a_backlog_growing_while_the_state_db_is_out_is_not_said(
    db: Database,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The tester's case: the CMS (another database: its writes end no outage of the state
    DB) went on writing during the outage, past the batch size."""
    from conftest import _migrated

    from feedsvc.source import builtin_source

    cms = _migrated(f"sqlite:///{tmp_path / 'cms.db'}")
    try:
        ing = builtin_ingestor(db, batch_size=2)
        ing.source = builtin_source(cms.engine)
        fresh_outage(db, monkeypatch)
        add(cms, 1)
        caplog.set_level(logging.INFO, logger="feedsvc")
        with refused(db, "articles"):
            assert ing.tick().error is not None  # the outage starts with one row to write
            for n in range(2, 8):  # a row a poll: the backlog passes the batch size
                add(cms, n)
                assert ing.tick().error is not None
        assert db.outage.down and catching_up(caplog) == 0, caplog.text
        assert problems(caplog) == []
        assert ing.tick().new == 7
    finally:
        cms.dispose()


def test_each_catch_up_that_commits_is_said(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    """No outage: a first sync's backlog and a later one are each said (and their progress)."""
    ing = builtin_ingestor(db, batch_size=2)
    add(db, *range(1, 6))
    caplog.set_level(logging.INFO, logger="feedsvc")
    assert ing.tick().new == 5
    add(db, *range(6, 11))
    assert ing.tick().new == 5
    assert catching_up(caplog) == 2, caplog.text
    assert caplog.text.count("caught up") == 2


def test_a_full_disk_after_a_due_release_is_one_outage_line(
    db: Database, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The due check's after-commit listener (the feeds' re-render) meeting a full disk."""
    from lifecycle_world import make_world

    from feedsvc.lifecycle.due import DueCheck

    w = make_world(db)
    fresh_outage(db, monkeypatch)
    w.publish(article(7, published_at=w.clock() + timedelta(minutes=2)))
    w.clock.advance(minutes=3)
    seen: list[Sequence[Change]] = []

    def render(changes: Sequence[Change]) -> None:  # a store of the feeds, refused
        with refused(db, "feed_snapshots"), db.write() as conn:
            conn.execute(text("UPDATE feed_snapshots SET etag = etag"))
        seen.append(changes)

    caplog.set_level(logging.INFO, logger="feedsvc")
    due = DueCheck(db, w.ing.hooks, [render], clock=w.clock)
    assert [c.article.source_key for c in due.run()] == ["TEST-00007"]
    assert seen == [] and problems(caplog) == [], caplog.text
    assert len(outage_lines(caplog, "cannot be written")) == 1, caplog.text


def test_a_backlog_on_a_real_full_disk_is_not_said_at_every_poll(
    small_fs: Path,  # noqa: F811
    service: tuple[subprocess.Popen[bytes], Path, RealCms],  # noqa: F811
) -> None:
    """``feedsvc run`` on a full tmpfs (root only), a CMS backlog past the batch size (100)
    for :data:`HOLD_SECONDS` of polls every :data:`POLL` s: at most the first try's line
    (16 before), no traceback, every row stored once space is back."""
    proc, log, cms = service
    db_file = small_fs / "f.db"
    cms.add(3, 200)
    wait_until(lambda: count(db_file, "SELECT count(*) FROM articles") == 3, 60, "first rows")
    fill(small_fs)
    cms.add(104, 2_000)
    wait_until(lambda: len(lines(log, "cannot be written: no space left")) == 1, 30, "outage")
    held = time.monotonic() + HOLD_SECONDS
    wait_until(lambda: time.monotonic() >= held, HOLD_SECONDS + 5, "the disk kept full")
    assert proc.poll() is None
    assert len(lines(log, CATCHING_UP)) <= 1, log.read_text()[-3000:]
    subprocess.run(["mount", "-o", "remount,size=20m", str(small_fs)], check=True)
    stored = lambda: count(db_file, "SELECT count(*) FROM articles")  # noqa: E731
    wait_until(lambda: stored() == cms.rows, 60, f"all stored ({log.read_text()[-2000:]})")
    assert "Traceback" not in log.read_text() and lines(log, "ERROR") == []
