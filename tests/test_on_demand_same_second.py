"""Feeds rendered on demand (search feeds, ``?limit=`` variants) are dated by the changes they
show, at one-second resolution, and nothing stored tells one render from the next: a render made
within the second of its last change, then a takedown later in that second, gave two renders the
same Last-Modified, and a reader polling with only If-Modified-Since that got the first was
answered 304 and kept the taken-down article. Such a render now shows the second before its date
(``feedsvc.on_demand_dates.shown_modified``): that reader gets the next render once more, then 304s.

The world's clock moves a fifth of a second per change, an hour behind the real one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from factories import article
from lifecycle_world import SLUG, Clock, World, entry_keys, make_world

from feedsvc.db import Database
from feedsvc.lifecycle.editors import hide_article
from feedsvc.web.http_cache import Reply, Snapshot, http_date, replies

QUERY = '"Kiến Thụy"'
POLLS = [("GET", None), ("GET", "gzip"), ("HEAD", None), ("HEAD", "gzip")]


def reply(snap: Snapshot, method: str = "GET", encoding: str | None = None,
          ims: str | None = None) -> Reply:  # fmt: skip
    return replies(snap, 60).reply(method, encoding, None, ims)


def sent_date(snap: Snapshot) -> str:
    """The Last-Modified a reader that fetched ``snap`` holds."""
    (value,) = [v for k, v in reply(snap).headers if k == b"last-modified"]
    return value.decode()


def search(w: World, fmt: str) -> Snapshot:
    w.pub.cache.clear()  # a poll after the render cache turned over (a sync clears it too)
    return w.pub.search(QUERY, fmt, 60)


def limited(w: World, fmt: str) -> Snapshot:
    w.pub.cache.clear()
    snap = w.pub.snapshot(SLUG, fmt, 60)
    assert snap is not None
    return snap


FEEDS: dict[str, Callable[[World, str], Snapshot]] = {"search": search, "limit": limited}


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
@pytest.mark.parametrize("kind", FEEDS)
def test_a_takedown_in_the_second_of_the_render_is_seen_by_its_reader(
    db: Database, kind: str, fmt: str
) -> None:
    w = make_world(db, Clock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)))
    t = w.clock.advance(seconds=1)  # a second after the empty feed's
    w.publish(*(article(n, published_at=t - timedelta(minutes=n)) for n in range(1, 56)))
    first = FEEDS[kind](w, fmt)  # made in the second of its last change
    held = sent_date(first)
    w.clock.advance(seconds=0.2)
    hide_article(w.db, "TEST-00053", None, "cli")  # in both feeds (not the default 50 items)
    w.pub.sync()
    second = FEEDS[kind](w, fmt)
    assert "53.html" in entry_keys(first.body) and "53.html" not in entry_keys(second.body)
    for method, encoding in POLLS:
        assert reply(second, method, encoding, ims=held).status == 200, (method, encoding)
    w.clock.advance(seconds=1)  # the second is over: a render now shows its own date
    third = FEEDS[kind](w, fmt)
    assert third.etag == second.etag and sent_date(third) == http_date(third.last_modified)
    assert reply(third, ims=held).status == 200
    for method, encoding in POLLS:
        assert reply(third, method, encoding, ims=sent_date(third)).status == 304
    assert third.last_modified <= w.clock()
