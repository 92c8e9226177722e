"""One render per change (feedsvc.touched): what this process's ingest stored and rendered, or
its due check released, is not rendered again by the feeds-sync job; a change no render here
shows (a hide by the CLI, a replica's view of the leader's ingest, a scheduled article's time
on a replica) still is, once. Renders are counted per topic. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from factories import article
from lifecycle_world import SLUG, Clock, World, make_world

from feedsvc import touched
from feedsvc.articles import Article
from feedsvc.db import Database
from feedsvc.lifecycle.editors import hide_article, unhide_article
from feedsvc.publish import FeedPublisher
from feedsvc.store.topics import Topic, TopicSpec, save_topic

OTHER = "do-son"


def counting(pub: FeedPublisher) -> Counter[str]:
    """Count ``pub``'s topic renders (all formats of one topic at once) per slug."""
    renders: Counter[str] = Counter()
    inner = pub._render_feeds

    def render(topic: Topic, items: list[Article], *dating: Any) -> dict[str, bytes]:
        renders[topic.slug] += 1
        return inner(topic, items, *dating)

    pub._render_feeds = render  # type: ignore[method-assign]
    return renders


def world(db: Database) -> World:
    """The lifecycle world plus a second topic, both rendered once already."""
    w = make_world(db, Clock())
    with w.db.write() as conn:
        save_topic(conn, TopicSpec(OTHER, "Đồ Sơn", '"Đồ Sơn"', ""), "cli", w.clock())
    w.pub.sync()
    return w


def do_son(n: int, w: World) -> Article:
    """An article of the other topic only."""
    return article(n, title=f"Tin Đồ Sơn số {n}", published_at=w.clock() - timedelta(minutes=1))


def syncs(w: World, *pubs: FeedPublisher, times: int = 3) -> None:
    """A few feeds-sync runs, 5 s apart (the service's period), all inside the overlap."""
    for _ in range(times):
        w.clock.advance(seconds=5)
        for pub in pubs or (w.pub,):
            pub.sync()


def test_an_ingested_article_is_rendered_once_not_again_at_each_sync(db: Database) -> None:
    w = world(db)
    renders = counting(w.pub)
    w.publish(article(1, published_at=w.clock() - timedelta(minutes=5)), article(2))
    assert renders == {SLUG: 1}  # the ingest's render; the poll's sync adds none
    syncs(w)
    w.publish(do_son(3, w))  # more ingest: the first article is still in the sync window
    syncs(w)
    assert renders == {SLUG: 1, OTHER: 1}
    assert sorted(w.feed_keys("rss")) == ["1.html", "2.html"]
    assert len(w.pub.touched) <= 3  # what left the window is forgotten
    syncs(w, times=8)  # 40 s: past the overlap
    assert len(w.pub.touched) == 0


def test_a_scheduled_article_renders_when_stored_and_when_due_only(db: Database) -> None:
    w = world(db)
    other = FeedPublisher(w.db, w.pub.settings)  # a replica: no ingest, no due check
    other.sync()
    mine, theirs = counting(w.pub), counting(other)
    w.publish(article(4, published_at=w.clock() + timedelta(seconds=20)))
    syncs(w, w.pub, other)
    assert "4.html" not in w.feed_keys("rss") + w.feed_keys("rss", other)
    assert (mine, theirs) == ({SLUG: 1}, {SLUG: 1})  # stored: here by ingest, there by sync
    w.clock.advance(seconds=10)  # its time has come
    w.poll()  # the due check releases and renders it; the sync after it does not
    other.sync()
    syncs(w, w.pub, other)
    assert w.feed_keys("rss")[0] == "4.html" == w.feed_keys("rss", other)[0]
    assert (mine, theirs) == ({SLUG: 2}, {SLUG: 2})


def test_a_hide_or_unhide_elsewhere_renders_once(db: Database) -> None:
    w = world(db)
    renders = counting(w.pub)
    w.publish(article(5, published_at=w.clock() - timedelta(minutes=5)))
    w.clock.advance(seconds=1)
    hide_article(w.db, "TEST-00005", "Yêu cầu pháp lý", "cli")  # the CLI: no render there
    w.pub.sync()
    assert w.feed_keys("atom") == [] and renders == {SLUG: 2}
    w.publish(do_son(6, w))
    syncs(w)
    assert renders == {SLUG: 2, OTHER: 1}
    unhide_article(w.db, "TEST-00005", w.ing.hooks)
    syncs(w)
    assert w.feed_keys("atom") == ["5.html"] and renders == {SLUG: 3, OTHER: 1}


def test_a_replica_renders_the_leaders_ingest_once(db: Database) -> None:
    """A replica cannot tell the leader's ingest (rendered there) from an import by another
    process (rendered nowhere), so it renders it too: once, not at every sync."""
    w = world(db)
    other = FeedPublisher(w.db, w.pub.settings)
    other.sync()
    theirs = counting(other)
    w.publish(article(7, published_at=w.clock() - timedelta(minutes=5)))
    syncs(w, other, times=4)
    assert theirs == {SLUG: 1} and w.feed_keys("json", other) == ["7.html"]


def test_syncs_that_failed_leave_their_changes_to_the_next_one(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The state DB down for a minute of syncs: a hide made at its start is still rendered."""
    w = world(db)
    w.publish(article(8, published_at=w.clock() - timedelta(minutes=5)))
    w.clock.advance(seconds=1)
    hide_article(w.db, "TEST-00008", None, "cli")

    def down(*_: object) -> None:
        raise ConnectionError("state DB down")

    monkeypatch.setattr(touched, "change_marker", down)
    for _ in range(12):
        w.clock.advance(seconds=5)
        with pytest.raises(ConnectionError):
            w.pub.sync()
    monkeypatch.undo()
    renders = counting(w.pub)
    w.pub.sync()
    assert w.feed_keys("rss") == [] and renders == {SLUG: 1}
