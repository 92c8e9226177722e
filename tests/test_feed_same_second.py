"""Two versions of a topic feed stored within one second get Last-Modified dates a second
apart, so a reader polling with only If-Modified-Since (no ETag, as many feed readers do) sees
the second version: with one date for both it was answered 304 and kept the first — a taken-down
article — until the next change. Across replicas too (the date comes from the stored row), and
never a Last-Modified later than the clock: a date still ahead is sent as the clock's second and
If-Modified-Since answers no 304 until it has come (``feedsvc.store.snapshots.next_modified``,
``feedsvc.web.http_cache.Replies``).

The world's clock moves a fifth of a second per change (:func:`later`), so the changes below
fall in one second; it is an hour behind the real one, so the dates it gives are not ahead of
the server's clock when served.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from factories import article
from lifecycle_world import SLUG, Clock, World, entry_keys, make_world

from feedsvc.db import Database
from feedsvc.lifecycle.editors import hide_article
from feedsvc.publish import FeedPublisher
from feedsvc.web.http_cache import Reply, Snapshot, http_date, replies

FORMATS = ("rss", "atom", "json")
#: (method, Accept-Encoding) of the polls checked: plain and gzip, GET and HEAD
POLLS = [("GET", None), ("GET", "gzip"), ("HEAD", None), ("HEAD", "gzip")]


def past_clock() -> Clock:
    return Clock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))


def world(db: Database) -> World:
    """Two articles in the topic feed, rendered and stored at the clock's second."""
    w = make_world(db, past_clock())
    t = w.clock()
    w.publish(
        article(1, published_at=t - timedelta(minutes=2)),
        article(2, published_at=t - timedelta(minutes=3)),
    )
    return w


def feed(w: World, fmt: str, pub: FeedPublisher | None = None) -> Snapshot:
    snap = (pub or w.pub).snapshot(SLUG, fmt, 50)
    assert snap is not None
    return snap


def reply(snap: Snapshot, method: str = "GET", encoding: str | None = None,
          inm: str | None = None, ims: str | None = None) -> Reply:  # fmt: skip
    return replies(snap, 60).reply(method, encoding, inm, ims)


def header(answer: Reply, name: str) -> str | None:
    found = [v.decode("latin-1") for k, v in answer.headers if k == name.encode()]
    return found[0] if found else None


def sent_date(snap: Snapshot) -> str:
    """The Last-Modified a reader that fetched ``snap`` holds."""
    date = header(reply(snap), "last-modified")
    assert date is not None
    return date


def later(w: World) -> None:
    """A moment later in the same second (the world starts at a whole second)."""
    w.clock.advance(seconds=0.2)


def taken_down(w: World) -> None:
    later(w)
    hide_article(w.db, "TEST-00001", None, "cli")
    w.pub.sync()  # the feeds-sync job: renders what the CLI changed


def corrected(w: World, n: int = 1) -> None:
    later(w)
    t = w.clock()
    w.publish(article(n, title=f"Công an Kiến Thụy đính chính số {n}", published_at=t
                      - timedelta(minutes=1 + n), updated_at=t))  # fmt: skip


def added(w: World) -> None:
    later(w)
    w.publish(article(3, published_at=w.clock() - timedelta(minutes=1)))


CHANGES: dict[str, Callable[[World], None]] = {
    "takedown": taken_down,
    "correction": corrected,
    "new article": added,
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_second_version_in_the_same_second_is_new_to_a_reader_of_the_first(
    db: Database, change: str
) -> None:
    w = world(db)
    first = {fmt: feed(w, fmt) for fmt in FORMATS}
    held = {fmt: sent_date(snap) for fmt, snap in first.items()}
    CHANGES[change](w)  # the same second
    for fmt in FORMATS:
        second = feed(w, fmt)
        assert second.etag != first[fmt].etag
        assert sent_date(second) != held[fmt]
        assert second.last_modified > first[fmt].last_modified
        for method, encoding in POLLS:  # only If-Modified-Since: the new version, once
            assert reply(second, method, encoding, ims=held[fmt]).status == 200, (fmt, method)
            assert reply(second, method, encoding, ims=sent_date(second)).status == 304
    if change == "takedown":
        assert entry_keys(feed(w, "atom").body) == ["2.html"]


def test_three_versions_in_one_second_each_have_their_own_second(db: Database) -> None:
    w = world(db)
    versions = [feed(w, "atom")]
    for change in (taken_down, lambda w: corrected(w, 2), added):  # each a new version
        change(w)
        versions.append(feed(w, "atom"))
    dates = [snap.last_modified for snap in versions]
    assert dates == sorted(dates) and len({http_date(d) for d in dates}) == 4
    assert dates[-1] - dates[0] == timedelta(seconds=3)  # one second each, from the first's
    for older in versions[:-1]:  # any version a reader holds: the latest is new to it
        assert reply(versions[-1], ims=sent_date(older)).status == 200
    assert reply(versions[-1], ims=sent_date(versions[-1])).status == 304


def test_etag_answers_are_unchanged(db: Database) -> None:
    """If-None-Match decides alone, as before: the current tag (plain or gzip) is a 304 with
    that tag, an old one a 200, whatever If-Modified-Since says."""
    w = world(db)
    first = feed(w, "rss")
    taken_down(w)
    second = feed(w, "rss")
    gz = second.etag[:-1] + '-gz"'
    for tag, encoding in ((second.etag, None), (gz, "gzip")):
        answer = reply(second, "GET", encoding, inm=tag, ims=sent_date(first))
        assert answer.status == 304 and header(answer, "etag") == tag
    assert reply(second, inm=first.etag, ims=sent_date(second)).status == 200


def test_an_identical_render_keeps_its_date_here_and_on_another_replica(db: Database) -> None:
    w = world(db)
    taken_down(w)
    before = {fmt: feed(w, fmt) for fmt in FORMATS}
    w.clock.advance(seconds=5)
    w.pub.refresh([SLUG])  # rendered again, nothing changed
    other = FeedPublisher(db, w.pub.settings)  # a replica rendering from scratch, no sync
    other.refresh([SLUG])
    for fmt in FORMATS:
        for pub in (w.pub, other):
            again = feed(w, fmt, pub)
            assert (again.etag, again.last_modified) == (before[fmt].etag,
                                                         before[fmt].last_modified)  # fmt: skip
        assert reply(feed(w, fmt, other), ims=sent_date(before[fmt])).status == 304


def test_replicas_date_the_same_second_versions_alike(db: Database) -> None:
    """The replica that renders the takedown never saw the first version's render in memory;
    the one that rendered that version then adopts or renders the takedown: both serve the
    same bytes with the same, later date, and a reader of the first version gets the takedown
    from either."""
    w = world(db)
    other = FeedPublisher(db, w.pub.settings)
    other.sync()
    first = {fmt: feed(w, fmt) for fmt in FORMATS}
    later(w)
    hide_article(w.db, "TEST-00001", None, "cli")  # the same second
    other.sync()  # this replica renders it first
    w.pub.sync()
    for fmt in FORMATS:
        mine, theirs = feed(w, fmt), feed(w, fmt, other)
        assert (mine.body, mine.etag, mine.last_modified) == (
            theirs.body, theirs.etag, theirs.last_modified)  # fmt: skip
        assert mine.last_modified > first[fmt].last_modified
        for snap in (mine, theirs):
            assert reply(snap, ims=sent_date(first[fmt])).status == 200
    assert entry_keys(feed(w, "rss", other).body) == ["2.html"]
