"""Feeds rendered on demand — search feeds (every format and their reader page) and
``?limit=`` variants — move their ``Last-Modified`` forward when a restart renders them with
other settings, and keep it across a restart with the same ones, as the stored pages do.

A tester's (R-D3): ``/feeds/search.rss?q=an`` kept its Last-Modified across a restart with
``FEEDSVC_SITE__TITLE="Báo Thử Hai"``: the ETag and the <title> changed, the date did not (it
came from the articles alone), so ``If-Modified-Since`` got 304 and the reader kept the old
title, while ``/``, the topic pages and feeds, the OPML and ``/?q=`` moved forward.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from factories import article, builtin_ingestor
from processes import wait_until

from feedsvc.config import Settings, load_config
from feedsvc.db import Database
from feedsvc.publish import FeedPublisher
from feedsvc.store.snapshots import get_snapshots
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec, save_topic
from feedsvc.web.feed_backend import SEARCH_PAGE
from feedsvc.web.http_cache import Snapshot, http_date, replies

PLAIN = {"summary": None, "body": "<p>Tin trong ngày.</p>", "tags": (), "section": None}
#: (label, query or topic slug, format, limit): every on-demand representation checked
SHOWN = [
    ("search.rss", "an", "rss", 50),
    ("search.atom", "an", "atom", 50),
    ("search.json", "an", "json", 50),
    ("search page", "an", SEARCH_PAGE, 50),
    ("search.rss?limit=5", "an", "rss", 5),
    ("kien-thuy.rss?limit=5", "kien-thuy", "rss", 5),
    ("kien-thuy.atom?limit=120", "kien-thuy", "atom", 120),
]


def settings(public_url: str = "https://feeds.example.vn", **site: Any) -> Settings:
    """The service's settings, with ``site`` (title, url, language, …) as given."""
    changes: dict[str, Any] = {"http": {"public_url": public_url}}
    return load_config(None, changes | ({"site": site} if site else {}))


def first_start(db: Database) -> FeedPublisher:
    """A topic and articles matching the search ``an``, rendered by a first process."""
    now = datetime.now(UTC)
    with db.write() as conn:
        save_topic(conn, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"', "Tin"), "cli", now)
        upsert_source_articles(conn, [
            article(1, title="Kiến Thụy an toàn giao thông", **PLAIN),
            article(2, title="Công an Kiến Thụy bắt đối tượng", **PLAIN),
        ], now)  # fmt: skip
    assert builtin_ingestor(db, overlap_seconds=60).tick().error is None
    return restart(db, settings())


def restart(db: Database, config: Settings) -> FeedPublisher:
    """A new process on the same state DB with ``config``: its first sync, done."""
    pub = FeedPublisher(db, config)
    pub.sync()
    pub.sync()
    return pub


def shown(
    pub: FeedPublisher, which: list[tuple[str, str, str, int]] = SHOWN
) -> dict[str, Snapshot]:
    """Every on-demand representation of :data:`SHOWN` (or ``which``), rendered now (past the
    render cache)."""
    pub.cache.clear()
    found = {}
    for label, name, fmt, limit in which:
        if label.startswith("search"):
            found[label] = pub.search(name, fmt, limit)
        else:
            snap = pub.snapshot(name, fmt, limit)
            assert snap is not None
            found[label] = snap
    return found


def status(snapshot: Snapshot, since: Snapshot) -> int:
    """What a reader who last saw ``since`` and sends only If-Modified-Since is answered,
    once ``snapshot``'s second has come (a date ahead of the clock is never answered 304)."""
    second = int(snapshot.last_modified.timestamp())
    wait_until(lambda: time.time() >= second + 1, 30, "the snapshot's second past")
    return replies(snapshot, 60).reply("GET", None, None, http_date(since.last_modified)).status


CHANGES = [
    pytest.param({"title": "Báo Thử Hai"}, id="site.title"),
    pytest.param({"url": "https://baothu.example.vn/"}, id="site.url"),
    pytest.param({"language": "en"}, id="site.language"),
    pytest.param({"public_url": "https://tin.example.vn"}, id="http.public_url"),
]


@pytest.mark.parametrize("site", CHANGES)
def test_a_restart_with_other_settings_moves_the_on_demand_dates(
    db: Database, site: dict[str, str]
) -> None:
    before = shown(first_start(db))
    after = shown(restart(db, settings(**site)))
    changed = {label for label in before if before[label].etag != after[label].etag}
    assert changed, "the setting changes what is rendered"
    for label in changed:
        assert after[label].last_modified > before[label].last_modified, label
        assert status(after[label], before[label]) == 200, label
    for label in set(before) - changed:  # not shown there: a later date costs one 200
        assert after[label].last_modified >= before[label].last_modified, label
    again = shown(restart(db, settings(**site)))  # the same settings again: kept
    assert {k: (s.etag, s.last_modified) for k, s in again.items()} == {
        k: (s.etag, s.last_modified) for k, s in after.items()
    }


def test_the_site_title_shows_in_the_search_feed_dated_after_it(db: Database) -> None:
    """The tester's steps: the title shows "“an” — Báo Thử Hai", dated later than before."""
    before = shown(first_start(db))["search.rss"]
    after = shown(restart(db, settings(title="Báo Thử Hai")))["search.rss"]
    assert "“an” — Báo Thử Hai".encode() in after.body
    assert after.last_modified > before.last_modified
    assert status(after, before) == 200


def test_an_unchanged_restart_keeps_the_on_demand_dates(db: Database) -> None:
    before = shown(first_start(db))
    for _ in range(2):
        after = shown(restart(db, settings()))
        assert {k: (s.etag, s.last_modified) for k, s in after.items()} == {
            k: (s.etag, s.last_modified) for k, s in before.items()
        }
        for label in before:
            assert status(after[label], before[label]) == 304, label


def test_changing_back_moves_forward_again(db: Database) -> None:
    """Settings changed and changed back: the original text gets a date later than both,
    never the first one again (a reader of the second version must see the change). The
    first bytes again only where nothing in them is dated (JSON Feed, the search page): an
    RSS or Atom feed's own date is its Last-Modified, later too
    (``test_on_demand_own_dates``)."""
    first = shown(first_start(db))
    second = shown(restart(db, settings(title="Báo Thử Hai")))
    third = shown(restart(db, settings()))
    assert any("Báo Thử Hai".encode() in snap.body for snap in second.values())
    for label in first:
        assert "Báo Thử Hai".encode() not in third[label].body, label  # the change undone
        assert third[label].last_modified > second[label].last_modified, label
        assert status(third[label], second[label]) == 200, label


def test_a_new_bot_name_keeps_the_on_demand_dates(db: Database) -> None:
    """None of them shows the bot's links: getMe answering another name (a restart with
    another token) moves the stored pages, not their dates (a guard: same bytes, same date)."""
    first_start(db)
    token = {"telegram": {"token": "123456789:AAFakeTokenForTests_do-not-leak"}}
    config = load_config(None, {"http": {"public_url": "https://feeds.example.vn"}, **token})
    pub = restart(db, config)
    pub.set_bot_username("hp_tin_bot")
    before = shown(pub)
    other = restart(db, config)
    other.set_bot_username("hp_khac_bot")
    after = shown(other)
    assert {k: (s.etag, s.last_modified) for k, s in after.items()} == {
        k: (s.etag, s.last_modified) for k, s in before.items()
    }


# -- D6: the date sent on a change's first run is the date every later run sends ----------


def sent(snapshot: Snapshot) -> str:
    """The ``Last-Modified`` a reader is sent for ``snapshot`` now."""
    headers = dict(replies(snapshot, 60).reply("GET", None, None, None).headers)
    return headers[b"last-modified"].decode()


def answered(snapshot: Snapshot, since: str) -> int:
    """What a reader sending only ``If-Modified-Since: since`` is answered for ``snapshot``."""
    return replies(snapshot, 60).reply("GET", None, None, since).status


def a_new_second(db: Database) -> None:
    """Wait for the start of a second two after every stored row's (some are dated ahead of
    the clock: ``store.snapshots.next_modified``): a restart then renders within the second
    it starts in (the tester's case), past the second after every stored change's
    (``on_demand_dates.settings_dated``)."""
    with db.read() as conn:
        latest = max(s.last_modified.timestamp() for s in get_snapshots(conn))
    after = int(max(latest, time.time())) + 2
    wait_until(lambda: after <= time.time() and time.time() % 1 < 0.3, 30, "a second begun")


def configured(**sections: dict[str, Any]) -> Settings:
    """:func:`settings` with whole sections changed (``telegram``, ``http`` …)."""
    changes: dict[str, Any] = {"http": {"public_url": "https://feeds.example.vn"}}
    for name, values in sections.items():
        changes[name] = changes.get(name, {}) | values
    return load_config(None, changes)


#: The search feeds and their page: the ``?limit=`` variants are dated by their stored
#: default feed too, which a settings change renders again at the start (not covered here).
SEARCHES = [entry for entry in SHOWN if entry[0].startswith("search")]
FIRST_RUN = [
    *CHANGES,
    pytest.param({"timezone": "UTC"}, id="site.timezone"),
    pytest.param({"title": "Tin Hải Phòng", "language": "en"}, id="site.title+language"),
]


@pytest.mark.parametrize("site", FIRST_RUN)
def test_the_first_run_after_a_change_sends_what_every_later_run_sends(
    db: Database, site: dict[str, str]
) -> None:
    """The tester's (D6): run 1 with ``site.language=en`` sent 02:10:13, the next restart with
    the same settings 02:10:14 with the same ETag and bytes, and If-Modified-Since got 200: a
    render within the second of the stored settings' date was sent the second before. Now
    every render is sent its own date, the stored one, on every run."""
    first_start(db)
    public = site.pop("public_url", "https://feeds.example.vn")
    a_new_second(db)
    first = shown(restart(db, settings(public, **site)), SEARCHES)
    for label, snap in first.items():
        assert sent(snap) == http_date(snap.last_modified), label  # shown as stored
    for _ in range(2):
        a_new_second(db)
        again = shown(restart(db, settings(public, **site)), SEARCHES)
        assert {k: (s.etag, sent(s)) for k, s in again.items()} == {
            k: (s.etag, sent(s)) for k, s in first.items()
        }
        for label in first:
            assert answered(again[label], sent(first[label])) == 304, label


def test_renders_later_in_the_first_run_send_the_same_date(db: Database) -> None:
    """Within one run too: a render made in the stored date's second and one made after it
    (the render cache emptied) were sent two dates, the same bytes."""
    first_start(db)
    a_new_second(db)
    pub = restart(db, settings(language="en"))
    early = shown(pub, SEARCHES)
    a_new_second(db)
    later = shown(pub, SEARCHES)
    assert {k: (s.etag, sent(s)) for k, s in later.items()} == {
        k: (s.etag, sent(s)) for k, s in early.items()
    }


#: Each setting fingerprinted for the stored renders (``publish.warm_start.fingerprint``) that
#: the on-demand feeds do not show, and a public URL written with a trailing slash.
UNSHOWN = [
    pytest.param({"site": {"timezone": "UTC"}}, id="site.timezone"),
    pytest.param({"http": {"websub_hub": "http://127.0.0.1:9/hub"}}, id="http.websub_hub"),
    pytest.param({"telegram": {"username": "hp_tin_bot"}}, id="telegram.username"),
    pytest.param({"http": {"public_url": "https://feeds.example.vn/"}}, id="public_url/"),
]
#: The topic feed as stored, beside the on-demand ones: the same rule (a guard).
STORED = ("kien-thuy.rss", "kien-thuy", "rss", 50)


@pytest.mark.parametrize("change", UNSHOWN)
def test_a_setting_the_bytes_do_not_show_keeps_their_date(
    db: Database, change: dict[str, dict[str, str]]
) -> None:
    """The tester's (D6): a restart with another ``site.timezone`` moved the search feeds'
    Last-Modified with the same bytes and ETag. Same bytes, same date, sent and stored; other
    bytes (the search page shows times in ``site.timezone``), a later date."""
    pub = first_start(db)
    a_new_second(db)  # renders past their articles' second: sent their own dates
    before = shown(pub, [*SHOWN, STORED])
    a_new_second(db)
    after = shown(restart(db, configured(**change)), [*SHOWN, STORED])
    # the search feeds show none of these (a ?limit= variant's own date is its stored
    # default feed's last change: the hub, shown there, moves it)
    feeds = [label for label, *_ in SEARCHES if label != "search page"]
    assert all(after[label].etag == before[label].etag for label in feeds), change
    for label in before:
        if after[label].etag == before[label].etag:
            assert after[label].last_modified == before[label].last_modified, label
            assert sent(after[label]) == sent(before[label]), label
            assert answered(after[label], sent(before[label])) == 304, label
        else:
            assert after[label].last_modified > before[label].last_modified, label
            assert status(after[label], before[label]) == 200, label
