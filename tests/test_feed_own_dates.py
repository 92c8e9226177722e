"""A feed's own date (Atom ``<updated>``, RSS ``<lastBuildDate>``) follows the feed's last
change and never goes back: it was the newest item's date, so taking that item down, a
withdrawal by the source or an edit out of the topic moved it BACK to the next item's date, and
readers and aggregators took the feed for unchanged (or were confused). Now a topic feed is dated
by when its stored JSON Feed bytes last changed (``feedsvc.publish.metas.topic_feed_dated``),
a ``?limit=`` variant and a search feed by the changes they show
(``feedsvc.on_demand_dates.limit_changed``, ``SearchResult.changed_at``). Never in the future,
and the same state renders the same bytes on every replica, after a restart and from
``feedsvc render``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import pytest
from factories import article
from lifecycle_world import SLUG, Clock, World, entry_keys, make_world
from sqlalchemy import select

from feedsvc.db import Database
from feedsvc.db.schema_service import feed_snapshots
from feedsvc.lifecycle.editors import hide_article, unhide_article
from feedsvc.publish import FeedPublisher, render_topic_feed
from feedsvc.web.http_cache import Snapshot

DATED = ("rss", "atom")  # the formats with a feed-level date (JSON Feed has none)
QUERY = '"Kiến Thụy"'


def past_clock() -> Clock:
    return Clock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))


def own_date(body: bytes) -> datetime:
    parsed: Any = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.bozo_exception
    return datetime(*parsed.feed.updated_parsed[:6], tzinfo=UTC)


def topic_feed(w: World, fmt: str, pub: FeedPublisher | None = None) -> Snapshot:
    snap = (pub or w.pub).snapshot(SLUG, fmt, 50)
    assert snap is not None
    return snap


def dates(w: World) -> dict[str, datetime]:
    return {fmt: own_date(topic_feed(w, fmt).body) for fmt in DATED}


def world(db: Database, count: int = 3) -> World:
    """``count`` articles an hour apart, the newest (1) an hour before the clock."""
    w = make_world(db, past_clock())
    t = w.clock()
    w.publish(*(article(n, published_at=t - timedelta(hours=n)) for n in range(1, count + 1)))
    return w


def hidden(w: World, n: int) -> None:
    hide_article(w.db, f"TEST-{n:05d}", None, "cli")
    w.pub.sync()


def withdrawn(w: World, n: int) -> None:
    w.publish(article(n, published_at=w.clock() - timedelta(hours=n), updated_at=w.clock(),
                      withdrawn=True))  # fmt: skip


def edited_out(w: World, n: int) -> None:
    """Corrected so it no longer says "Kiến Thụy": out of the topic (its match row goes)."""
    t = w.clock()
    w.publish(article(n, title=f"Công an Đồ Sơn bắt đối tượng số {n}",
                      published_at=t - timedelta(hours=n), updated_at=t))  # fmt: skip


REMOVALS: dict[str, Callable[[World, int], None]] = {
    "taken down": hidden,
    "withdrawn": withdrawn,
    "edited out": edited_out,
}


@pytest.mark.parametrize("removal", REMOVALS)
def test_the_newest_item_removed_moves_the_date_on_not_back(db: Database, removal: str) -> None:
    w = world(db)
    before = dates(w)
    modified = topic_feed(w, "atom").last_modified
    w.clock.advance(minutes=10)
    REMOVALS[removal](w, 1)
    assert entry_keys(topic_feed(w, "atom").body) == ["2.html", "3.html"]
    after = dates(w)
    assert all(after[fmt] > before[fmt] for fmt in DATED), (before, after)  # not back
    assert after == {fmt: w.clock() for fmt in DATED}  # the change's, not item 2's date
    assert before == {fmt: w.clock() - timedelta(minutes=10) for fmt in DATED}  # stored then
    assert topic_feed(w, "atom").last_modified > modified


@pytest.mark.parametrize("removal", ["taken down", "withdrawn"])
def test_a_middle_item_removed_moves_the_date_on(db: Database, removal: str) -> None:
    w = world(db)
    before = dates(w)
    w.clock.advance(minutes=10)
    REMOVALS[removal](w, 2)
    assert entry_keys(topic_feed(w, "rss").body) == ["1.html", "3.html"]
    after = dates(w)
    assert all(after[fmt] == w.clock() > before[fmt] for fmt in DATED)


def test_a_restore_after_a_takedown_moves_it_on_again(db: Database) -> None:
    w = world(db)
    w.clock.advance(minutes=10)
    hidden(w, 1)
    down = dates(w)
    w.clock.advance(minutes=10)
    unhide_article(w.db, "TEST-00001", w.ing.hooks)
    w.pub.sync()
    assert entry_keys(topic_feed(w, "atom").body) == ["1.html", "2.html", "3.html"]
    back = dates(w)
    assert all(back[fmt] == w.clock() > down[fmt] for fmt in DATED)


def test_a_correction_and_a_new_article_date_it_by_the_change(db: Database) -> None:
    w = world(db)
    w.clock.advance(minutes=10)
    t = w.clock()
    w.publish(article(2, title="Công an Kiến Thụy đính chính số 2",
                      published_at=t - timedelta(hours=2), updated_at=t))  # fmt: skip
    assert dates(w) == {fmt: w.clock() for fmt in DATED}
    w.clock.advance(minutes=10)
    w.publish(article(4, published_at=w.clock() - timedelta(hours=5)))  # a late, old article
    assert dates(w) == {fmt: w.clock() for fmt in DATED}  # it joined: the feed changed


def stored_rows(db: Database) -> set[tuple[Any, ...]]:
    stmt = select(feed_snapshots.c.topic_slug, feed_snapshots.c.format, feed_snapshots.c.etag,
                  feed_snapshots.c.last_modified, feed_snapshots.c.rendered_at)  # fmt: skip
    with db.read() as conn:
        return {tuple(row) for row in conn.execute(stmt)}


def test_the_same_state_renders_the_same_bytes_anywhere(db: Database) -> None:
    """Another replica, a restart (which serves the stored snapshots and renders every topic
    again in the background) and ``feedsvc render`` give the bytes served; nothing stored
    changes, and the date does not move with time."""
    w = world(db)
    w.clock.advance(minutes=10)
    hidden(w, 1)
    served = {fmt: topic_feed(w, fmt) for fmt in ("rss", "atom", "json")}
    rows = stored_rows(db)
    w.clock.advance(hours=2)
    other = FeedPublisher(db, w.pub.settings)  # a replica, or this one restarted
    other.sync()
    assert other.verification.done  # rendered again, not only adopted
    other.refresh([SLUG])
    w.pub.refresh([SLUG])
    for fmt, snap in served.items():
        for pub in (w.pub, other):
            again = topic_feed(w, fmt, pub)
            assert (again.body, again.last_modified) == (snap.body, snap.last_modified), fmt
        assert render_topic_feed(db, w.pub.settings, SLUG, fmt, 50) == snap.body
    assert stored_rows(db) == rows


def test_an_empty_feed_is_dated_and_stays_so(db: Database) -> None:
    w = make_world(db, past_clock())
    first = dates(w)
    assert all(d <= w.clock() for d in first.values())
    w.clock.advance(minutes=10)
    w.pub.refresh([SLUG])
    assert dates(w) == first
    w.publish(article(1, published_at=w.clock() - timedelta(minutes=1)))
    w.clock.advance(minutes=10)
    hidden(w, 1)  # empty again: later, not back to the first date
    assert dates(w) == {fmt: w.clock() for fmt in DATED}


def limited(w: World, fmt: str, limit: int = 60) -> bytes:
    w.pub.cache.clear()  # what a poll sees once the 60 s render cache has turned over
    snap = w.pub.snapshot(SLUG, fmt, limit)
    assert snap is not None
    return snap.body


@pytest.mark.parametrize("fmt", DATED)
def test_a_limit_variant_never_goes_back_and_sees_past_its_default_items(
    db: Database, fmt: str
) -> None:
    w = world(db, 55)
    before = own_date(limited(w, fmt))
    w.clock.advance(minutes=10)
    hidden(w, 1)  # the newest: in the default feed too
    down = own_date(limited(w, fmt))
    assert down > before  # not back to item 2's date
    assert down == w.clock() and before == w.clock() - timedelta(minutes=10)
    assert own_date(limited(w, fmt, 10)) == w.clock()  # a shorter variant likewise
    w.clock.advance(minutes=10)
    hidden(w, 53)  # past the default 50 items: the default feed is unchanged
    assert own_date(topic_feed(w, fmt).body) == down
    assert own_date(limited(w, fmt)) == w.clock()
    assert render_topic_feed(db, w.pub.settings, SLUG, fmt, 60) == limited(w, fmt)


@pytest.mark.parametrize("fmt", DATED)
def test_a_search_feed_never_goes_back(db: Database, fmt: str) -> None:
    w = world(db)
    w.pub.cache.clear()
    before = own_date(w.pub.search(QUERY, fmt, 50).body)
    w.clock.advance(minutes=10)
    hidden(w, 1)
    w.pub.cache.clear()
    after = w.pub.search(QUERY, fmt, 50)
    assert entry_keys(after.body) == ["2.html", "3.html"]
    assert own_date(after.body) > before  # not back to item 2's date
    assert own_date(after.body) == w.clock() and after.last_modified <= w.clock()
    assert before == w.clock() - timedelta(minutes=10)  # when its articles were stored


def test_a_render_another_replica_stored_meanwhile_is_done_again_from_its(db: Database) -> None:
    """Both replicas render a takedown; the other stores it while this one renders (its date
    then is that render's). This one's write finds the row its feeds were dated by changed:
    nothing is stored, and its render again reads the other's and gives the same bytes."""
    w = world(db)
    other = FeedPublisher(db, w.pub.settings)
    other.sync()
    w.clock.advance(minutes=10)
    hide_article(w.db, "TEST-00001", None, "cli")
    render = w.pub._render_feeds
    renders: list[str] = []

    def meanwhile(topic: Any, items: Any, *dating: Any) -> dict[str, bytes]:
        renders.append(topic.slug)
        if len(renders) == 1:
            w.clock.advance(seconds=2)
            other.sync()  # the other replica renders and stores the takedown now
        return render(topic, items, *dating)

    w.pub._render_feeds = meanwhile  # type: ignore[method-assign]
    w.pub.sync()
    assert renders == [SLUG, SLUG]
    for fmt in ("rss", "atom", "json"):
        mine, theirs = topic_feed(w, fmt), topic_feed(w, fmt, other)
        assert (mine.body, mine.last_modified) == (theirs.body, theirs.last_modified), fmt
    assert dates(w) == {fmt: w.clock() for fmt in DATED}  # the other's render, 2 s later
    assert entry_keys(topic_feed(w, "atom").body) == ["2.html", "3.html"]
