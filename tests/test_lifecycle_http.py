"""Search feeds' Last-Modified follows their results (issue #13 §1): a late article joining
them, or one taken down, moves it (a reader polling with only If-Modified-Since sees the
change), and it is never in the future. A 304 on If-Modified-Since carries no ETag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from factories import article
from lifecycle_world import Clock, World, entry_keys, make_world

from feedsvc.db import Database
from feedsvc.lifecycle.editors import hide_article, unhide_article
from feedsvc.web.http_cache import Snapshot, http_date, make_snapshot, replies

QUERY = '"Kiến Thụy"'


def search(w: World) -> Snapshot:
    w.pub.cache.clear()  # what a poll sees once the 60 s render cache has turned over
    return w.pub.search(QUERY, "rss", 50)


def poll_since(snapshot: Snapshot, since: Snapshot) -> int:
    """The status a reader gets who last saw ``since`` and sends only If-Modified-Since."""
    reply = replies(snapshot, 60).reply("GET", None, None, http_date(since.last_modified))
    return reply.status


def test_search_last_modified_follows_the_results(db: Database) -> None:
    w = make_world(db, Clock())
    t0 = w.clock()
    w.publish(article(1, published_at=t0 - timedelta(hours=2)))
    first = search(w)
    assert first.last_modified <= t0 and poll_since(search(w), first) == 304

    w.clock.advance(minutes=10)  # a late article, older than the newest, joins the results
    w.publish(article(2, published_at=t0 - timedelta(hours=3)))
    late = search(w)
    assert entry_keys(late.body) == ["1.html", "2.html"]
    assert late.last_modified > first.last_modified and poll_since(late, first) == 200

    w.clock.advance(minutes=10)  # one is taken down: the results shrink, the date moves
    hide_article(w.db, "TEST-00001", None, "cli")
    down = search(w)
    assert entry_keys(down.body) == ["2.html"]
    assert down.last_modified > late.last_modified and poll_since(down, late) == 200

    w.clock.advance(minutes=10)
    unhide_article(w.db, "TEST-00001", w.ing.hooks)
    back = search(w)
    assert entry_keys(back.body) == ["1.html", "2.html"] and poll_since(back, down) == 200

    w.publish(article(3, published_at=w.clock() + timedelta(days=365 * 38)))  # "2064"
    scheduled = search(w)
    assert entry_keys(scheduled.body) == ["1.html", "2.html"]
    assert scheduled.last_modified <= w.clock()


def test_a_304_on_if_modified_since_advertises_no_etag() -> None:
    from datetime import UTC, datetime

    snap = make_snapshot(b"<rss>" + b"x" * 600 + b"</rss>", "application/rss+xml",
                         datetime(2026, 11, 30, 6, 0, tzinfo=UTC))  # fmt: skip
    prepared = replies(snap, 60)
    for encoding in (None, "gzip"):
        reply = prepared.reply("GET", encoding, None, http_date(snap.last_modified))
        names = [name for name, _ in reply.headers]
        assert reply.status == 304 and b"etag" not in names and b"last-modified" in names
    # If-None-Match still answers with the tag the reader holds
    reply = prepared.reply("GET", None, snap.etag, http_date(snap.last_modified))
    assert reply.status == 304 and (b"etag", snap.etag.encode()) in reply.headers


@pytest.mark.parametrize("ahead", [timedelta(minutes=5), timedelta(days=365 * 38)])
def test_an_if_modified_since_in_the_future_is_ignored(ahead: timedelta) -> None:
    """Readers that stored "Last-Modified: 2064" (a scheduled article dated every feed before
    issue #13) send it back: a date later than the server's clock is invalid (RFC 2616
    §14.25 a), so they get the feed, not a 304 until 2064."""
    now = datetime.now(UTC).replace(microsecond=0)
    snap = make_snapshot(b"<rss>" + b"x" * 600 + b"</rss>", "application/rss+xml",
                         now - timedelta(hours=1))  # fmt: skip
    prepared = replies(snap, 60)
    for method, encoding in (("GET", None), ("GET", "gzip"), ("HEAD", None)):
        reply = prepared.reply(method, encoding, None, http_date(now + ahead))
        assert reply.status == 200
    assert prepared.reply("GET", None, None, http_date(now)).status == 304  # valid: unchanged
    late = http_date(snap.last_modified - timedelta(seconds=1))
    assert prepared.reply("GET", None, None, late).status == 200


def test_a_cached_search_feed_does_not_outlive_a_takedown(db: Database) -> None:
    """An article of no topic is only in search feeds; their render cache (60 s) is dropped by
    the next feed sync after a takedown, on every replica."""
    w = make_world(db, Clock())
    w.publish(article(4, title="Đồ Sơn đón khách", published_at=w.clock()))
    assert w.feed_keys("rss") == []  # in no topic
    before = w.pub.search('"Đồ Sơn"', "atom", 50)
    assert entry_keys(before.body) == ["4.html"]
    assert w.pub.search('"Đồ Sơn"', "atom", 50) is before  # cached
    w.clock.advance(seconds=1)
    hide_article(w.db, "TEST-00004", None, "cli")
    w.pub.sync()  # no ingest: the feed-sync job of this replica
    assert entry_keys(w.pub.search('"Đồ Sơn"', "atom", 50).body) == []
    w.pub.sync()
    again = w.pub.search('"Đồ Sơn"', "atom", 50)
    assert w.pub.search('"Đồ Sơn"', "atom", 50) is again  # nothing changed: the cache holds
