"""An idle tick reads none of the overlap window's rows while the window stays the same.

After ``feedsvc import`` of an archive (or a CMS script touching thousands of rows) every row
sits in the window behind the cursor, and each idle tick read all of them on both sides (~0.6 s
of CPU a tick at 20,000 rows, for as long as they stayed there). The window is now compared row
by row once, then only fingerprinted (``feedsvc.source.digest``) until it changes: these tests
count the positions the comparison reads, and check that every change the comparison exists
for — a late commit, one cancelled by a delete at the same instant, an edit moving a row inside
the window — is still found once the window has been fingerprinted. SQLite and PostgreSQL state
DBs; the built-in source and an external CMS table (``news``: the state DB's backend, MariaDB).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, timedelta
from typing import Any

import pytest
from cms_news import News, news
from factories import article, builtin_ingestor, tick_changes
from sqlalchemy import Engine, event, text, update
from test_ingest_window import CASES, T, add

from feedsvc.db import Database
from feedsvc.db.schema import source_articles
from feedsvc.ingest import Ingestor
from feedsvc.source import SqlSource
from feedsvc.store import articles as article_store
from feedsvc.store import unapplied
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.topic_index import TopicIndex

__all__ = ["news"]  # the CMS table fixture (cms_news)


class Reads:
    """Window positions read (the source's and ours) and statements run, counted."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *engines: Engine) -> None:
        self.positions = 0
        self.statements = 0
        for owner, name in (
            (SqlSource, "window"),
            (article_store, "window_positions"),
            (unapplied, "window_positions"),
        ):
            monkeypatch.setattr(owner, name, self._counted(getattr(owner, name)))
        for engine in set(engines):
            event.listen(engine, "before_cursor_execute", self._statement)

    def _counted(self, read: Any) -> Any:
        def counted(*args: Any) -> Any:
            got = read(*args)
            self.positions += len(got)
            return got

        return counted

    def _statement(self, *args: Any) -> None:
        self.statements += not args[2].startswith("BEGIN")

    def tick(self, ing: Ingestor) -> tuple[int, int]:
        """One tick that stores nothing: (positions read, statements)."""
        before = self.positions, self.statements
        result = ing.tick()
        assert (result.read, result.error) == (0, None)
        return self.positions - before[0], self.statements - before[1]


def put_many(db: Database, numbers: range, at: Any) -> None:
    with db.write() as conn:
        upsert_source_articles(conn, [article(n) for n in numbers], at)


def test_idle_tick_reads_no_window_row_whatever_the_window_holds(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """50 rows in the window, then 5,000 (an import): the same statements, no position read."""
    ing = builtin_ingestor(db, batch_size=500)
    reads = Reads(monkeypatch, db.engine)
    idle = []
    for numbers in (range(1, 51), range(51, 5001)):
        put_many(db, numbers, T)
        assert ing.tick().new == len(numbers)
        compared, _ = reads.tick(ing)  # the first tick after a store compares row by row
        assert compared >= 2 * numbers.stop - 2  # both sides of the whole window
        idle += [reads.tick(ing), reads.tick(ing)]
    assert idle == [(0, idle[0][1])] * 4


@pytest.mark.parametrize("case", list(CASES))
def test_cancelling_changes_are_found_in_a_fingerprinted_window(db: Database, case: str) -> None:
    """test_ingest_window's cases, once the window has been fingerprinted (idle ticks)."""
    ing = builtin_ingestor(db)
    add(db, article(1), T - timedelta(seconds=10))
    add(db, article(2), T)
    assert ing.tick().new == 2
    assert [ing.tick().read for _ in range(3)] == [0, 0, 0]
    late = CASES[case](db)
    result, changes = tick_changes(ing)
    assert result.error is None
    assert {c.article.source_key for c in changes if c.is_new} == {
        article(n).source_key for n in late
    }
    assert [ing.tick().read for _ in range(2)] == [0, 0]


def test_rows_moved_inside_a_fingerprinted_window_are_seen(db: Database) -> None:
    """A late edit (new version) and a late touch (same version), both landing inside the
    window behind the cursor, and a late commit among 2,000 imported rows."""
    ing = builtin_ingestor(db, batch_size=500)
    put_many(db, range(1, 2001), T - timedelta(seconds=30))
    add(db, article(2001), T)
    assert ing.tick().new == 2001
    assert [ing.tick().read for _ in range(3)] == [0, 0, 0]
    first = article(1)
    edit = replace(first, title="Đính chính", updated_at=first.published_at + timedelta(hours=1))
    add(db, edit, T - timedelta(seconds=5))
    changes = tick_changes(ing)[1]
    assert [(c.article.title, c.is_new) for c in changes] == [("Đính chính", False)]
    assert [ing.tick().read for _ in range(2)] == [0, 0]
    with db.write() as conn:  # a touch: the cursor column set back, the same version
        conn.execute(
            update(source_articles)
            .where(source_articles.c.source_key == article(2).source_key)
            .values(changed_at=T - timedelta(seconds=3))
        )
    touched = ing.tick()
    assert (touched.read, touched.stored) == (1, 0)
    add(db, article(2002), T - timedelta(seconds=30))  # among the imported rows' instant
    assert [c.article.source_key for c in tick_changes(ing)[1]] == [article(2002).source_key]
    assert [ing.tick().read for _ in range(2)] == [0, 0]


def _bulk(cms: News, ids: range) -> None:
    """Rows ``ids`` committed in one transaction at the CMS's clock (a script's bulk edit)."""
    now = cms.clock().replace(tzinfo=None)
    rows = [
        {"id": n, "slug": f"k{n}", "link": f"https://example.vn/tin/{n}.html",
         "title": f"Tin số {n}", "created": now - timedelta(minutes=30), "modified": now,
         "edited": now - timedelta(minutes=20)}
        for n in ids
    ]  # fmt: skip
    with cms.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO news (id, slug, link, title, summary, body, status, created, "
                "modified, edited) VALUES (:id, :slug, :link, :title, 'tóm tắt', 'nội dung', "
                "'published', :created, :modified, :edited)"
            ),
            rows,
        )


def _late(cms: News, n: int, at: Any, **values: Any) -> None:
    """Row ``n`` inserted, or updated, with its cursor ``at`` (behind the cursor: a late
    commit); the CMS's clock stays where it was."""
    clock = cms.clock.now
    cms.clock.now = at - timedelta(seconds=2)  # News.put advances it by 2 s
    try:
        cms.put(n, **values)
    finally:
        cms.clock.now = clock


def test_external_table_with_many_recent_rows(
    db: Database, news: News, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CMS table with 1,500 rows committed in the last ``overlap_seconds``: idle ticks read no
    position; a late row at a deleted row's exact instant and an edit moving a row inside
    the window are still found."""
    source = news.source()
    ing = Ingestor(db, source, TopicIndex(), tz=UTC, poll_seconds=1, overlap_seconds=60,
                   batch_size=500)  # fmt: skip
    ing.clock = news.clock
    stamp = news.clock()
    _bulk(news, range(100, 1600))
    news.clock.advance(seconds=1)
    assert ing.tick().new == 1500
    reads = Reads(monkeypatch, db.engine, source.engine)
    compared, _ = reads.tick(ing)
    assert compared >= 3000
    idle = [reads.tick(ing) for _ in range(3)]
    assert idle == [(0, idle[0][1])] * 3
    news.delete(107)
    _late(news, 5, stamp)  # at the deleted row's exact instant, behind the cursor
    result, changes = tick_changes(ing)
    assert result.error is None
    assert [(c.article.source_key, c.is_new) for c in changes] == [("k5", True)]
    assert reads.tick(ing)[0] > 0  # compared once more after the store, then idle again
    assert reads.tick(ing)[0] == 0
    _late(news, 109, stamp - timedelta(seconds=10), title="Đính chính", edited=stamp)
    assert [(c.article.title, c.is_new) for c in tick_changes(ing)[1]] == [("Đính chính", False)]


def test_a_database_refusing_the_fingerprint_is_compared_row_by_row(
    pg_db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL before 11 has no ``hashtextextended``: the statement is refused once, said
    once, and the window is compared row by row at every tick, late commits found."""
    from sqlalchemy import func

    from feedsvc.source import sql

    def missing(dialect: str, ts: Any, id_: Any, where: Any) -> Any:
        return where.with_only_columns(func.count(), func.sum(func.feedsvc_no_such_hash(id_)))

    monkeypatch.setattr(sql, "digest_select", missing)
    ing = builtin_ingestor(pg_db)
    add(pg_db, article(1), T)
    assert ing.tick().new == 1
    reads = Reads(monkeypatch, pg_db.engine)
    assert [reads.tick(ing)[0] for _ in range(3)] == [2, 2, 2]  # both sides, every tick
    add(pg_db, article(2), T - timedelta(seconds=5))
    assert [c.article.source_key for c in tick_changes(ing)[1]] == [article(2).source_key]
    said = [r.getMessage() for r in caplog.records if "fingerprint" in r.getMessage()]
    assert len(said) == 1 and "compares it row by row" in said[0], said
