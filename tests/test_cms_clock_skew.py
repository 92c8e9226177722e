"""One ``updated_at`` dated ahead by a CMS server whose clock runs fast (a tester's H2, HIGH):
a row written by an app server 10 minutes ahead, then sent back to draft or corrected by an
editor on a correct clock, was refused both times as "an older version … than the one held"
(INFO only): the takedown never happened, the wrong headline stayed in feeds and alerts, even
after the skewed time passed (the row was not read again). A version is believed only up to
the moment feedsvc read it (``versions.believed``), and the held article's own row taking it
down wins whatever its version; a restored copy dated before that moment is still not
applied, now said at WARNING with both times in UTC. The CMS table on each backend the state
DB allows (a SQLite file, PostgreSQL, or MariaDB beside a SQLite state DB)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from cms_news import News, news
from lifecycle_world import World, make_world
from sqlalchemy import select, update

from feedsvc.db import Database
from feedsvc.db.schema import articles, deliveries
from feedsvc.store.followup_queue import sweep_retired

__all__ = ["news"]  # the CMS table fixture, shared (cms_news)

FAST = timedelta(minutes=10)


def world(db: Database, news: News) -> World:
    return make_world(db, news.clock, source=news.source())


def held(w: World, n: int) -> tuple[str, bool]:
    with w.db.read() as conn:
        stmt = select(articles.c.title, articles.c.withdrawn_at)
        title, gone = conn.execute(stmt.where(articles.c.source_id == str(n))).one()
        return title, gone is not None


def alerted(w: World) -> None:
    with w.db.write() as conn:
        conn.execute(update(deliveries).values(state="sent", message_id=77, finished_at=w.clock()))


def retracted(w: World) -> int:
    with w.db.write() as conn:
        return sweep_retired(conn, w.clock() - timedelta(hours=1), w.clock())


def written_fast(w: World, news: News, n: int, ahead: timedelta = FAST) -> None:
    """Post ``n`` written by a server whose clock is ``ahead``: public and alerted."""
    news.put(n, edited=news.clock() + ahead)
    w.poll()
    assert f"{n}.html" in w.feed_keys("rss")
    alerted(w)


@pytest.mark.parametrize("ahead", [FAST, timedelta(seconds=90), timedelta(hours=7)])
def test_a_takedown_on_a_correct_clock_after_a_fast_one_is_applied(
    db: Database, news: News, ahead: timedelta
) -> None:
    w = world(db, news)
    written_fast(w, news, 1, ahead)
    news.put(1, status="draft", edited=news.clock())  # the editor, 2 s later
    w.poll()
    assert held(w, 1)[1] and "1.html" not in w.feed_keys("rss")
    assert retracted(w) == 1
    news.put(1, status="published", edited=news.clock())  # published again: no second alert
    w.poll()
    assert "1.html" in w.feed_keys("rss") and len(w.deliveries()) == 1


def test_a_takedown_from_a_clock_running_slow_is_applied_all_the_same(
    db: Database, news: News
) -> None:
    w = world(db, news)
    news.put(1)
    w.poll()
    alerted(w)
    news.put(1, status="draft", edited=news.clock() - timedelta(hours=1))  # "older": a takedown
    w.poll()
    assert held(w, 1)[1] and retracted(w) == 1


def test_a_correction_on_a_correct_clock_after_a_fast_one_is_applied(
    db: Database, news: News, caplog: pytest.LogCaptureFixture
) -> None:
    w = world(db, news)
    with caplog.at_level(logging.INFO, logger="feedsvc"):
        written_fast(w, news, 1)
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("row id=1 (k1): updated_at" in m and "10 min after" in m for m in said), said
    news.put(1, title="Công an Kiến Thụy: tiêu đề đã sửa đúng", edited=news.clock())
    w.poll()
    assert held(w, 1) == ("Công an Kiến Thụy: tiêu đề đã sửa đúng", False)
    assert len(w.deliveries()) == 1  # a correction, never a second alert


def test_a_restored_copy_dated_before_the_read_is_still_not_applied_and_said(
    db: Database, news: News, caplog: pytest.LogCaptureFixture
) -> None:
    w = world(db, news)
    written_fast(w, news, 1)
    restored = news.clock() - timedelta(hours=1)
    with caplog.at_level(logging.INFO, logger="feedsvc"):
        news.put(1, title="Bản cũ khôi phục", edited=restored)
        w.poll()
    assert held(w, 1) == ("Công an Kiến Thụy tin số 1", False)
    [line] = [r for r in caplog.records if "not applied: an older version" in r.getMessage()]
    assert line.levelno == logging.WARNING
    text = line.getMessage()
    assert "row id=1 (k1)" in text and text.count("+00:00") >= 2 and "clock running fast" in text


def test_another_row_of_the_key_as_an_older_draft_takes_nothing_down(
    db: Database, news: News
) -> None:
    w = world(db, news)
    written_fast(w, news, 1)
    news.put(2, slug="k1", status="draft", edited=news.clock() - timedelta(minutes=5))
    w.poll()
    assert held(w, 1) == ("Công an Kiến Thụy tin số 1", False)
    assert "1.html" in w.feed_keys("rss")
