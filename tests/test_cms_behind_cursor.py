"""A row written behind the cursor by a slow clock is found (a newsroom tester's M4, medium).

A CMS writer whose clock runs minutes slow (or a transaction that commits long after it took
its timestamp) stores a row whose cursor value is already behind feedsvc's cursor and its
overlap window: no poll read it, and nothing said so — the article never reached a feed or
an alert. Reconciliation reads the ids of the recent window anyway; the rows among them that
ingest never decided on and that lie behind the window are now read, stored as late commits
(their alerts by the usual rules: never an old article) and named at WARNING with their times
in UTC (:mod:`feedsvc.ingest.behind`). Ticks and passes are driven directly on a simulated
clock, on SQLite, PostgreSQL and (with a SQLite state DB) MariaDB sources."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cms_news import News, columns, news, news_table
from lifecycle_world import World, make_world
from sqlalchemy import select

from feedsvc.db import Database
from feedsvc.db.schema import articles
from feedsvc.lifecycle.reconcile import Pass, Reconciler
from feedsvc.source import external_source

__all__ = ["news"]  # the CMS table fixture, shared (cms_news)

FOUND = "written behind the ingest cursor, found by reconciliation"
LATE = "not held yet (late commits)"


def world(db: object, news: News, cursor: str = "modified") -> tuple[World, Reconciler]:
    mapping = columns().model_copy(update={"cursor": cursor})
    source = external_source(news.url, "news", mapping, UTC)
    w = make_world(db, news.clock, source=source)  # type: ignore[arg-type]
    rec = Reconciler(
        w.db, w.ing.source, days=7, clock=news.clock, reread=w.ing.reread, recover=w.ing.recover
    )
    return w, rec


def stored(w: World, key: str) -> tuple[str, str | None] | None:
    """(source row id, withdrawn_reason) of the article ``key``, None when not held."""
    with w.db.read() as conn:
        row = conn.execute(select(articles).where(articles.c.source_key == key)).first()
        return None if row is None else (row.source_id, row.withdrawn_reason)


def live(w: World, news: News) -> datetime:
    """Rows 1 and 2 read by two polls 5 minutes apart; the cursor is row 2's ``modified``,
    returned."""
    news.put(1, title="Kiến Thụy tin một")
    w.poll()
    news.clock.advance(minutes=5)
    news.put(2, title="Kiến Thụy tin hai")
    w.poll()
    return news.clock()


def slow_row(news: News, n: int, behind: timedelta, **values: object) -> datetime:
    """Row ``n`` written by a server whose clock is ``behind`` slow: every timestamp it sets
    (``modified`` the cursor, ``edited``, ``created``) is that far back."""
    at = news.clock() - behind
    row = {"title": f"Kiến Thụy tin số {n}", "created": at, "edited": at, "modified": at}
    news.put(n, **(row | values))
    return at


def passes(w: World, rec: Reconciler, caplog: pytest.LogCaptureFixture, n: int = 1) -> list[Pass]:
    done = []
    with caplog.at_level(logging.INFO, logger="feedsvc"):
        for _ in range(n):
            w.clock.advance(seconds=30)
            w.poll()
            done.append(rec.run())
            w.poll()
    return done


def said(caplog: pytest.LogCaptureFixture, words: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if words in r.getMessage()]


def test_the_testers_case_a_clock_ten_minutes_slow(
    db: object, news: News, caplog: pytest.LogCaptureFixture
) -> None:
    """Row 3 is written with every timestamp 10 minutes behind: polls never read it; the next
    reconciliation pass stores it, alerts it (10 minutes old) and says so once."""
    w, rec = world(db, news)
    cursor = live(w, news)
    at = slow_row(news, 3, timedelta(minutes=10))
    with caplog.at_level(logging.INFO, logger="feedsvc"):
        for _ in range(3):
            news.clock.advance(seconds=5)
            w.poll()
    assert stored(w, "k3") is None  # the fault: never read, and nothing says so
    assert said(caplog, LATE) == [] and said(caplog, FOUND) == []
    first, *more = passes(w, rec, caplog, 3)
    assert first.found == 1 and [p.found for p in more] == [0, 0]
    assert stored(w, "k3") == ("3", None)
    assert "3.html" in w.feed_keys("rss")
    assert ("k3", "pending", None) in w.deliveries()
    lines = said(caplog, FOUND)
    assert len(lines) == 1, lines
    line = lines[0]
    assert "row id=3 (key k3)" in line, line
    assert at.astimezone(UTC).isoformat() in line, line  # its cursor value, UTC
    assert cursor.astimezone(UTC).isoformat() in line, line  # the cursor, UTC
    assert "+00:00" in line and "10 min before" in line, line


def test_an_old_article_found_late_is_not_alerted(
    db: object, news: News, caplog: pytest.LogCaptureFixture
) -> None:
    """Row 3's clock is slow and its article was published three days ago: stored (it is in
    the feed by its date), never alerted (older than ``alert_max_age``)."""
    w, rec = world(db, news)
    live(w, news)
    slow_row(news, 3, timedelta(minutes=10), created=news.clock() - timedelta(days=3))
    assert passes(w, rec, caplog)[0].found == 1
    assert stored(w, "k3") == ("3", None)
    assert [d for d in w.deliveries() if d[0] == "k3"] == []


def test_a_draft_found_late_is_held_as_a_draft(
    db: object, news: News, caplog: pytest.LogCaptureFixture
) -> None:
    w, rec = world(db, news)
    live(w, news)
    slow_row(news, 3, timedelta(minutes=10), status="draft")
    assert passes(w, rec, caplog)[0].found == 1
    assert stored(w, "k3") == ("3", "draft")
    assert "3.html" not in w.feed_keys("rss")
    assert [d for d in w.deliveries() if d[0] == "k3"] == []
    assert passes(w, rec, caplog, 2)[-1].found == 0  # held now: not read again


def test_a_late_commit_hours_behind(
    db: object, news: News, caplog: pytest.LogCaptureFixture
) -> None:
    """A transaction that took its timestamp 3 hours ago and commits now (an import job)."""
    w, rec = world(db, news)
    live(w, news)
    slow_row(news, 3, timedelta(hours=3), created=news.clock() - timedelta(minutes=1))
    assert passes(w, rec, caplog)[0].found == 1
    assert stored(w, "k3") == ("3", None)
    assert "3 h before" in said(caplog, FOUND)[0]


def test_a_cursor_on_published_at_a_backdated_row(
    db: object, news: News, caplog: pytest.LogCaptureFixture
) -> None:
    """The cursor mapped to ``published_at`` (``created``): a row saved with a date an hour
    back (an editor backdating a story, or a slow clock) lies behind it."""
    w, rec = world(db, news, cursor="created")
    news.put(1, created=news.clock())
    w.poll()
    news.clock.advance(minutes=5)
    news.put(2, created=news.clock())
    w.poll()
    news.put(3, created=news.clock() - timedelta(hours=1))
    w.poll()
    assert stored(w, "k3") is None
    assert passes(w, rec, caplog)[0].found == 1
    assert stored(w, "k3") == ("3", None)


def test_rows_decided_in_the_window_are_not_read_again(
    db: object, news: News, caplog: pytest.LogCaptureFixture
) -> None:
    """Drafts held, a second row of a key not applied, a row scheduled for later: ingest
    decided on each, so no pass reads them again nor says anything."""
    w, rec = world(db, news)
    live(w, news)
    news.put(3, status="draft")
    news.put(4, "k1", title="Kiến Thụy bản sao", edited=news.clock() - timedelta(days=1))
    news.put(5, created=news.clock() + timedelta(days=1))
    w.poll()
    caplog.clear()
    done = passes(w, rec, caplog, 3)
    assert [p.found for p in done] == [0, 0, 0]
    assert done[0].unheld >= 2  # the draft and the copy were looked at, in the state DB
    assert said(caplog, FOUND) == []


def test_rows_in_the_window_or_ahead_are_left_to_the_polls(
    db: object, news: News, caplog: pytest.LogCaptureFixture
) -> None:
    """A row 30 s behind the cursor (within the 60 s overlap window) is the window's late
    commit; a row written since the last poll is the next poll's: reconciliation leaves
    both."""
    w, rec = world(db, news)
    live(w, news)
    slow_row(news, 3, timedelta(seconds=30))
    news.put(4, title="Kiến Thụy tin mới")
    with caplog.at_level(logging.INFO, logger="feedsvc"):
        assert rec.run().found == 0
        assert stored(w, "k3") is None and stored(w, "k4") is None
        w.poll()
    assert stored(w, "k3") == ("3", None) and stored(w, "k4") == ("4", None)
    assert said(caplog, FOUND) == [] and len(said(caplog, LATE)) == 1


def test_nothing_held_in_the_window_still_finds_the_row(
    db: object, news: News, caplog: pytest.LogCaptureFixture
) -> None:
    """A quiet CMS: the only recent row is the lost one (rows 1 and 2 published long ago)."""
    w, rec = world(db, news)
    news.put(1, created=news.clock() - timedelta(days=30))
    w.poll()
    news.clock.advance(minutes=5)
    news.put(2, created=news.clock() - timedelta(days=30))
    w.poll()
    slow_row(news, 3, timedelta(minutes=10))
    first = passes(w, rec, caplog)[0]
    assert (first.held, first.found) == (0, 1)
    assert stored(w, "k3") == ("3", None)


def test_the_service_reconciliation_finds_it(
    db: Database, news: News, caplog: pytest.LogCaptureFixture
) -> None:
    """The service as ``feedsvc run`` builds it (the default 300 s overlap, the real clock):
    its reconciliation job finds the row a server 10 minutes slow wrote."""
    from feedsvc.app import Roles, Service
    from feedsvc.config import load_config

    news.clock.now = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
    mapping = columns().model_dump() | dict.fromkeys(("author", "section", "tags", "image_url"), "")
    settings = load_config(None, {
        "database": {"url": str(db.url)}, "topics": {"import_on_start": False},
        "source": {"url": news.url, "table": "news", "timezone": "UTC", "match_workers": 0,
                   "columns": mapping},
    })  # fmt: skip
    service = Service(settings, Roles(http=False, scheduler=False, bot=False))
    try:
        service.prepare()
        news.put(1)
        news.put(2)
        assert service.ingest_tick().error is None
        slow_row(news, 3, timedelta(minutes=10))
        assert service.ingest_tick().error is None
        assert stored_in(service.db, "k3") is None
        with caplog.at_level(logging.WARNING, logger="feedsvc"):
            service.reconcile()
        assert stored_in(service.db, "k3") == ("3", None)
        assert len(said(caplog, FOUND)) == 1
    finally:
        service.close()


def stored_in(db: Database, key: str) -> tuple[str, str | None] | None:
    with db.read() as conn:
        row = conn.execute(select(articles).where(articles.c.source_key == key)).first()
        return None if row is None else (row.source_id, row.withdrawn_reason)


def test_found_during_a_first_sync_it_is_archive(
    db: Database, news: News, caplog: pytest.LogCaptureFixture
) -> None:
    """While a source's first sync goes on (its archive, which never alerts), a row found
    behind the cursor is stored as archive too: in the feed, not alerted."""
    from feedsvc.store.cursors import record_success

    w, rec = world(db, news)
    live(w, news)
    with w.db.write() as conn:  # a first sync still under way (a long catch-up's cursor)
        record_success(conn, w.ing.source.name, None, None, news.clock(), first_sync=True)
    slow_row(news, 3, timedelta(minutes=10))
    assert rec.run().found == 1
    w.due.run()
    w.pub.sync()
    assert stored(w, "k3") == ("3", None)
    assert "3.html" in w.feed_keys("rss")
    assert [d for d in w.deliveries() if d[0] == "k3"] == []


def slow_edit(news: News, n: int, behind: timedelta, **values: object) -> datetime:
    """Row ``n`` updated by a server whose clock is ``behind`` slow (``modified`` and
    ``edited`` that far back; ``News.put`` would stamp ``modified`` with the true time)."""
    at = news.clock() - behind
    news.put(n, **values)
    with news.engine.begin() as conn:
        from sqlalchemy import text

        naive = at.astimezone(UTC).replace(tzinfo=None)
        conn.execute(
            text("UPDATE news SET modified = :at, edited = :at WHERE id = :n"),
            {"at": naive, "n": n},
        )
    return at


def title(w: World, key: str) -> str:
    with w.db.read() as conn:
        return str(
            conn.execute(select(articles.c.title).where(articles.c.source_key == key)).one()[0]
        )


def test_a_correction_written_behind_the_cursor(
    db: Database, news: News, caplog: pytest.LogCaptureFixture
) -> None:
    """Row 1, read long ago, is corrected by the slow server: its new position is behind the
    window, so no poll read the correction; reconciliation does (its position moved), once."""
    w, rec = world(db, news)
    live(w, news)
    news.clock.advance(minutes=20)
    news.put(9, "other", title="Tin khác")  # the cursor moves on to now
    w.poll()
    slow_edit(news, 1, timedelta(minutes=10), title="Kiến Thụy tin một (đính chính)")
    w.poll()
    assert title(w, "k1") == "Kiến Thụy tin một"  # the fault: the correction never read
    done = passes(w, rec, caplog, 3)
    assert [p.found for p in done] == [1, 0, 0]
    assert title(w, "k1") == "Kiến Thụy tin một (đính chính)"
    lines = said(caplog, FOUND)
    assert len(lines) == 1 and "row id=1 (key k1)" in lines[0], lines


def test_a_takedown_written_behind_the_cursor(
    db: Database, news: News, caplog: pytest.LogCaptureFixture
) -> None:
    """The slow server sends row 1 back to draft: the article leaves the feeds at the pass."""
    w, rec = world(db, news)
    live(w, news)
    news.clock.advance(minutes=20)
    news.put(9, "other", title="Tin khác")  # the cursor moves on to now
    w.poll()
    slow_edit(news, 1, timedelta(minutes=10), status="draft")
    w.poll()
    assert "1.html" in w.feed_keys("rss")
    assert passes(w, rec, caplog)[0].found == 1
    assert stored(w, "k1") == ("1", "draft")
    assert "1.html" not in w.feed_keys("rss")


def test_a_revision_restored_with_its_old_dates_is_said_once(
    db: Database, news: News, caplog: pytest.LogCaptureFixture
) -> None:
    """A row put back with an older ``edited`` (and ``modified``) than what feedsvc holds: read
    by the pass, not applied (an older version: said as such, with what to do), and not read
    again."""
    w, rec = world(db, news)
    live(w, news)
    news.put(1, title="Kiến Thụy tin một (bản mới)", edited=news.clock())
    w.poll()
    news.clock.advance(minutes=20)
    news.put(9, "other", title="Tin khác")  # the cursor moves on to now
    w.poll()
    slow_edit(news, 1, timedelta(hours=2), title="Kiến Thụy tin một")
    done = passes(w, rec, caplog, 3)
    assert [p.found for p in done] == [0, 0, 0]  # read, nothing stored
    assert title(w, "k1") == "Kiến Thụy tin một (bản mới)"
    assert len(said(caplog, "not applied: an older version")) == 1


def test_a_cursor_value_the_driver_cannot_read_does_not_fail_the_pass(
    pg_db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL's ``'infinity'`` in the cursor column of a window row: the positions read
    falls back to the ids, the pass still withdraws and finds as before (PostgreSQL's own
    value: on ``pg_db``, never a skip elsewhere)."""
    from sqlalchemy import text

    with news_table(pg_db, tmp_path, "same") as news:
        w, rec = world(pg_db, news)
        live(w, news)
        slow_row(news, 3, timedelta(minutes=10))
        news.put(4, title="Kiến Thụy tin bốn")
        with news.engine.begin() as conn:
            conn.execute(text("UPDATE news SET modified = 'infinity' WHERE id = 4"))
        news.delete(2)
        done = rec.run()
        assert done.refused is None and len(done.withdrawn) == 1, done
        assert done.found == 1 and stored(w, "k3") == ("3", None)
