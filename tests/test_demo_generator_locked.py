"""The demo's generator meets a locked state DB: one line, the article kept for a later tick.

A ``topics import`` of 1,000 topics held SQLite's write lock for 33 s on the running demo; its
generator job logged ``ERROR feedsvc.scheduler: job demo-generator failed`` with three chained
tracebacks ending in ``ImportAborted: OperationalError: database is locked`` at every tick, and
each article it had made was lost (its key skipped for good). Now the outage is told by
``feedsvc.db.outage`` (one line), the generator says once that the article waits, and stores
that same article at the first tick the lock is free.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import pytest
from sqlalchemy import event, func, select

from feedsvc.db import Database
from feedsvc.db.schema import source_articles
from feedsvc.demo import ArticleGenerator, NewArticles


def _short_busy_wait(db: Database) -> None:
    """A busy timeout of 0.1 s instead of 10 s, so a locked tick fails at once."""

    @event.listens_for(db.engine, "connect")
    def _fast(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout=100")

    db.engine.dispose()


def _stored(db: Database) -> list[str]:
    with db.read() as conn:
        return [str(k) for k in conn.execute(select(source_articles.c.source_key)).scalars()]


def _count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(source_articles)).scalar_one())


@pytest.mark.parametrize("locked_ticks", [1, 5])
def test_a_locked_tick_logs_one_line_and_the_article_is_stored_later(
    lite_db: Database, caplog: pytest.LogCaptureFixture, locked_ticks: int
) -> None:
    _short_busy_wait(lite_db)
    jobs = NewArticles(lite_db, ArticleGenerator(seed=7))
    path = lite_db.engine.url.database
    assert path is not None
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a CLI's long write transaction
    try:
        with caplog.at_level(logging.INFO):
            # the scheduler logs ERROR with the traceback of what a tick raises: none raises
            assert [jobs.tick() for _ in range(locked_ticks)] == [None] * locked_ticks
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _count(lite_db) == 0
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == [], caplog.text
    waits = [r.getMessage() for r in caplog.records if "not stored yet" in r.getMessage()]
    assert len(waits) == 1, caplog.text
    waiting = jobs.waiting
    assert waiting is not None and waiting.source_key in waits[0]
    stored = jobs.tick()  # the lock is free: the same article, not a new one
    assert stored is not None and stored.source_key == waiting.source_key
    assert _stored(lite_db) == [waiting.source_key]
    assert jobs.tick() is not None and _count(lite_db) == 2  # and then new ones again


def test_a_failure_that_is_no_outage_still_raises(lite_db: Database) -> None:
    """Only an outage is quiet: a bug keeps its traceback (the scheduler logs it)."""
    from feedsvc.db.schema import metadata

    with lite_db.write() as conn:
        metadata.tables["source_articles"].drop(conn)
    with pytest.raises(Exception, match="no such table"):
        NewArticles(lite_db, ArticleGenerator(seed=7)).tick()
