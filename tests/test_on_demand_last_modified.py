"""Feeds rendered on demand — search feeds and ``?limit=`` variants — date their bytes by the
last change that could have altered them, so a reader (or a cache) polling with only
If-Modified-Since sees every change: an article edited out of a search's results, and a
takedown, correction or edit-out past a topic's default 50 items, left Last-Modified where it
was (a ``?limit=`` variant took its default feed's, which did not change), and such a reader
got 304 and kept showing a withdrawn article or the old title (found by a tester, 2026-12-06).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from factories import T0, article
from lifecycle_world import SLUG, Clock, World, entry_keys, make_world

from feedsvc.db import Database
from feedsvc.lifecycle.editors import hide_article, unhide_article
from feedsvc.web.http_cache import Snapshot, http_date, replies

QUERY = '"Kiến Thụy"'
LIMIT = 200


def past_clock() -> Clock:
    """A clock an hour behind: its renders' dates, sent back as If-Modified-Since, are not
    later than the server's real clock (which would void them)."""
    return Clock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))


def poll_since(snapshot: Snapshot, since: Snapshot) -> int:
    """The status a reader gets who last saw ``since`` and sends only If-Modified-Since."""
    reply = replies(snapshot, 60).reply("GET", None, None, http_date(since.last_modified))
    return reply.status


def search(w: World, fmt: str) -> Snapshot:
    w.pub.cache.clear()  # what a poll sees once the 60 s render cache has turned over
    return w.pub.search(QUERY, fmt, 50)


def limited(w: World, fmt: str) -> Snapshot:
    w.pub.cache.clear()
    found = w.pub.snapshot(SLUG, fmt, LIMIT)
    assert found is not None
    return found


def edited_out(w: World, n: int) -> None:
    """Article ``n`` corrected so it no longer says "Kiến Thụy": out of the topic and search."""
    w.publish(article(n, title=f"Công an Đồ Sơn bắt đối tượng số {n}", updated_at=w.clock()))


def corrected(w: World, n: int) -> None:
    w.publish(article(n, title=f"Công an Kiến Thụy đính chính số {n}", updated_at=w.clock()))


def hidden(w: World, n: int) -> None:
    hide_article(w.db, f"TEST-{n:05d}", None, "cli")
    w.pub.sync()


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_a_search_feed_moves_when_an_edit_takes_an_article_out(db: Database, fmt: str) -> None:
    w = make_world(db, past_clock())
    w.publish(article(1, published_at=T0), article(2, published_at=T0 - timedelta(hours=1)))
    before = search(w, fmt)
    assert entry_keys(before.body) == ["1.html", "2.html"]
    assert poll_since(search(w, fmt), before) == 304  # nothing changed: still 304
    w.clock.advance(minutes=10)
    edited_out(w, 1)
    after = search(w, fmt)
    assert entry_keys(after.body) == ["2.html"]
    assert after.last_modified > before.last_modified and poll_since(after, before) == 200
    assert after.last_modified <= w.clock()
    assert poll_since(search(w, fmt), after) == 304


CHANGES: dict[str, Callable[[World, int], None]] = {
    "hidden": hidden,
    "corrected": corrected,
    "edited out": edited_out,
}


@pytest.mark.parametrize(("change", "fmt"), [("hidden", "rss"), ("corrected", "atom"),
                                             ("edited out", "json")])  # fmt: skip
def test_a_limit_variant_moves_with_a_change_past_the_default_items(
    db: Database, change: str, fmt: str
) -> None:
    w = make_world(db, past_clock())
    w.publish(*(article(n, published_at=T0 + timedelta(minutes=n)) for n in range(1, 56)))
    default = w.pub.snapshot(SLUG, fmt, 50)
    before = limited(w, fmt)
    assert len(entry_keys(before.body)) == 55 and "2.html" in entry_keys(before.body)
    assert poll_since(limited(w, fmt), before) == 304
    w.clock.advance(minutes=10)
    CHANGES[change](w, 2)  # the 54th newest: in no default feed
    assert w.pub.snapshot(SLUG, fmt, 50) == default  # the default feed did not change
    after = limited(w, fmt)
    assert after.body != before.body
    assert after.last_modified > before.last_modified and poll_since(after, before) == 200
    assert after.last_modified <= w.clock()
    assert poll_since(limited(w, fmt), after) == 304


def test_a_limit_variant_moves_when_an_article_is_shown_again(db: Database) -> None:
    w = make_world(db, past_clock())
    w.publish(*(article(n, published_at=T0 + timedelta(minutes=n)) for n in range(1, 53)))
    hidden(w, 1)
    w.clock.advance(minutes=10)
    before = limited(w, "atom")
    unhide_article(w.db, "TEST-00001", w.ing.hooks)
    w.pub.sync()
    after = limited(w, "atom")
    assert "1.html" in entry_keys(after.body) and "1.html" not in entry_keys(before.body)
    assert poll_since(after, before) == 200
