"""Scheduled articles (issue #13 §1): stored but not public until their time, then in every
feed and alerted within one poll, with no source change. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser
import pytest
from factories import article
from lifecycle_world import CHAT, SLUG, Clock, World, entry_keys, make_world
from sqlalchemy import select

from feedsvc.db import Database
from feedsvc.db.schema import articles
from feedsvc.preview import preview
from feedsvc.publish import FeedPublisher
from feedsvc.web.http_cache import replies

FORMATS = ("rss", "atom", "json")


def _feed_dates(body: bytes) -> list[datetime]:
    if body.lstrip().startswith(b"{"):  # JSON Feed: item dates only
        items = json.loads(body)["items"]
        return [
            datetime.fromisoformat(i[k]) for i in items for k in ("date_published", "date_modified")
            if i.get(k)
        ]  # fmt: skip
    parsed: Any = feedparser.parse(body)
    dates = []
    for key in ("updated", "published"):
        if parsed.feed.get(key):
            dates.append(parsedate_or_iso(parsed.feed[key]))
    for entry in parsed.entries:
        for key in ("updated", "published"):
            if entry.get(key):
                dates.append(parsedate_or_iso(entry[key]))
    return dates


def parsedate_or_iso(text: str) -> datetime:
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return datetime.fromisoformat(text.replace("Z", "+00:00"))


def assert_public_everywhere(w: World, key: str, present: bool) -> None:
    for fmt in FORMATS:
        assert (key in w.feed_keys(fmt)) is present, fmt
    other = FeedPublisher(w.db, w.pub.settings)  # another replica, rendering from the DB
    other.sync()
    assert (key in w.feed_keys("rss", other)) is present
    for fmt in FORMATS:
        found = entry_keys(w.pub.search('"Kiến Thụy"', fmt, 50).body)
        assert (key in found) is present, f"search {fmt}"
    samples = [s.stored.article.source_key for s in preview(w.db, '"Kiến Thụy"').samples]
    assert (f"TEST-{key.split('.')[0].zfill(5)}" in samples) is present
    page = w.pub.page(SLUG)
    assert page is not None
    assert (f"/tin/{key}".encode() in page.body) is present
    assert (f"/tin/{key}".encode() in w.pub.index_html().body) is present


def assert_no_future_dates(w: World) -> None:
    """No date from a scheduled article's future. A stored feed's own Last-Modified is a second
    after the version it replaced when both fell in one second (here: the world's empty feed
    and the first article's, at one instant: ``store.snapshots.next_modified``), and is never
    sent later than the server's clock (``web.http_cache.Replies``)."""
    now = w.clock()
    for fmt in FORMATS:
        snap = w.pub.snapshot(SLUG, fmt, 50)
        assert snap is not None and snap.last_modified <= now + timedelta(seconds=1)
        (sent,) = [v for k, v in replies(snap, 60).reply("GET", None, None, None).headers
                   if k == b"last-modified"]  # fmt: skip
        assert parsedate_to_datetime(sent.decode()) <= datetime.now(UTC)
        assert all(d <= now for d in _feed_dates(snap.body)), fmt
        search = w.pub.search('"Kiến Thụy"', fmt, 50)
        assert search.last_modified <= now
        assert all(d <= now for d in _feed_dates(search.body)), fmt


@pytest.mark.parametrize("ahead", [timedelta(minutes=30), timedelta(days=365 * 38)])
def test_a_scheduled_article_appears_and_alerts_at_its_time_without_a_source_change(
    db: Database, ahead: timedelta
) -> None:
    w = make_world(db, Clock())
    t0 = w.clock()
    w.publish(article(1, published_at=t0 - timedelta(hours=1)))
    w.publish(article(2, published_at=t0 + ahead))  # 2064-like dates included
    assert_public_everywhere(w, "1.html", True)
    assert_public_everywhere(w, "2.html", False)
    assert_no_future_dates(w)
    assert [d[0] for d in w.deliveries()] == ["TEST-00001"]

    w.clock.advance(seconds=ahead.total_seconds() - 1)
    w.poll()
    assert_public_everywhere(w, "2.html", False)
    assert [d[0] for d in w.deliveries()] == ["TEST-00001"]

    w.clock.advance(seconds=2)  # its time has come: one poll, no source change
    w.poll()
    assert_public_everywhere(w, "2.html", True)
    assert w.feed_keys("rss")[0] == "2.html"
    assert w.deliveries() == [("TEST-00001", "pending", None), ("TEST-00002", "pending", None)]
    assert_no_future_dates(w)
    w.poll()  # released once: later polls queue nothing more
    assert len(w.deliveries()) == 2


def test_a_replica_that_did_not_ingest_shows_the_article_when_due(db: Database) -> None:
    """Feeds follow the time on every replica's sync, not only on the ingest leader."""
    w = make_world(db, Clock())
    w.publish(article(3, published_at=w.clock() + timedelta(minutes=5)))
    other = FeedPublisher(w.db, w.pub.settings)
    other.sync()
    assert "3.html" not in w.feed_keys("atom", other)
    w.clock.advance(minutes=6)
    other.sync()  # no ingest, no due check in this "process"
    assert "3.html" in w.feed_keys("atom", other)


def test_rescheduled_earlier_article_alerts_once(db: Database) -> None:
    """Scheduled for later, then the CMS publishes it now (a newer version, date moved back)."""
    w = make_world(db, Clock())
    t0 = w.clock()
    w.publish(article(4, published_at=t0 + timedelta(hours=3), updated_at=t0))
    assert w.deliveries() == []
    w.clock.advance(seconds=30)  # an edit before its time is taken (its version is newer)
    w.publish(article(4, title="Kiến Thụy: sửa", published_at=t0 + timedelta(hours=3),
                      updated_at=w.clock()))  # fmt: skip
    with w.db.read() as conn:
        stored = conn.execute(select(articles.c.title).where(articles.c.source_key == "TEST-00004"))
        assert stored.scalar_one() == "Kiến Thụy: sửa"
    assert w.deliveries() == []
    w.clock.advance(minutes=1)
    w.publish(article(4, published_at=t0, updated_at=w.clock()))
    assert "4.html" in w.feed_keys("json")
    assert [d[:2] for d in w.deliveries()] == [("TEST-00004", "pending")]
    w.clock.advance(hours=3, minutes=1)
    w.poll()
    assert len(w.deliveries()) == 1


def test_a_future_update_time_is_not_a_future_feed_date(db: Database) -> None:
    w = make_world(db, Clock())
    t0 = w.clock()
    w.publish(article(5, published_at=t0 - timedelta(hours=1), updated_at=t0 + timedelta(days=2)))
    assert "5.html" in w.feed_keys("rss")
    assert_no_future_dates(w)
    assert CHAT  # the subscriber exists; the article alerts as usual
    assert [d[0] for d in w.deliveries()] == ["TEST-00005"]


def test_edits_before_the_time_of_a_scheduled_article_without_updated_at(db: Database) -> None:
    """Imported without ``updated_at``, a scheduled article's version was its future time:
    an edit made before it (``updated_at`` = the time of the edit) was dropped and the old
    title went out at its time; its takedown was refused. Both are taken now, by import and
    ingest alike; the edited article appears and alerts once at its time, the withdrawn one
    never does."""
    w = make_world(db, Clock())
    t0 = w.clock()
    at = t0 + timedelta(hours=2)
    w.publish(article(6, published_at=at), article(7, published_at=at))
    w.clock.advance(minutes=10)
    w.publish(
        article(6, title="Kiến Thụy: bản sửa trước giờ đăng", published_at=at,
                updated_at=w.clock()),
        article(7, published_at=at, updated_at=w.clock(), withdrawn=True),
    )  # fmt: skip
    with w.db.read() as conn:
        stmt = select(articles.c.source_key, articles.c.title, articles.c.withdrawn_at)
        held = {k: (t, gone is not None) for k, t, gone in conn.execute(stmt).tuples()}
    assert held["TEST-00006"] == ("Kiến Thụy: bản sửa trước giờ đăng", False)
    assert held["TEST-00007"][1] is True
    w.clock.advance(hours=2)
    w.poll()
    assert w.feed_keys("rss") == ["6.html"]
    snap = w.pub.snapshot(SLUG, "json", 50)
    assert snap is not None
    assert [i["title"] for i in json.loads(snap.body)["items"]] == [
        "Kiến Thụy: bản sửa trước giờ đăng"
    ]
    assert w.deliveries() == [("TEST-00006", "pending", None)]
