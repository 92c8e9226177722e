"""Feeds rendered on demand — search feeds in every format and ``?limit=`` variants — carry
in their bytes (RSS ``lastBuildDate``, Atom feed ``updated``) the instant their
``Last-Modified`` says, as a topic feed does, when a restart renders them with other settings
they show; and a setting changed back gives new bytes, dated later, never the first ones.

A tester's (D7, fresh install): after a restart with another ``site.title`` the search feeds'
``Last-Modified`` moved to 08:05:01, their ``lastBuildDate`` and ``<updated>`` stayed at
08:04:13 (only ``Last-Modified`` took the settings' date, ``on_demand_dates.rendered_modified``),
and changing the title back served the first version's bytes (ETag ``53aa8bc4…``) again under a
later ``Last-Modified``. Their own date is ``on_demand_dates.rendered_changed`` now.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from backend_cases import module_on_sqlite
from test_feed_own_dates import own_date
from test_on_demand_restart_dates import (
    CHANGES,
    SHOWN,
    a_new_second,
    first_start,
    restart,
    settings,
    shown,
)
from test_search_dates_http import a_new_second as a_new_second_over
from test_search_dates_http import configured, run, url  # noqa: F401 (url: a fixture)

from feedsvc.db import Database
from feedsvc.http_dates import utc_seconds
from feedsvc.publish import render_topic_feed
from feedsvc.web.http_cache import Snapshot

TYPE_CHECKING = False
if TYPE_CHECKING:
    from starlette.testclient import TestClient

pytestmark = [
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
    module_on_sqlite,
]

#: Every on-demand feed with a feed-level date (JSON Feed has none; the search page neither)
DATED = [entry for entry in SHOWN if entry[2] in ("rss", "atom")]
DATED += [
    ("search.atom?limit=5", "an", "atom", 5),
    ("kien-thuy.atom?limit=5", "kien-thuy", "atom", 5),
]
#: The topic feeds as stored: the same rule (a guard; they kept it before)
DATED += [("kien-thuy.rss", "kien-thuy", "rss", 50), ("kien-thuy.atom", "kien-thuy", "atom", 50)]
#: One more shown setting: feedsvc's version is shown too, but a test cannot change it
MORE = [*CHANGES, pytest.param({"title": "Tin Hải Phòng", "language": "en"}, id="title+language")]


def at_last_modified(snapshots: dict[str, Snapshot]) -> dict[str, tuple[datetime, datetime]]:
    """``label → (own date, Last-Modified)`` of each feed, to the second."""
    return {k: (own_date(s.body), utc_seconds(s.last_modified)) for k, s in snapshots.items()}


def agree(snapshots: dict[str, Snapshot]) -> None:
    for label, (own, modified) in at_last_modified(snapshots).items():
        assert own == modified, (label, own, modified)


@pytest.mark.parametrize("site", MORE)
def test_a_shown_setting_moves_the_own_date_to_last_modified(
    db: Database, site: dict[str, str]
) -> None:
    first_start(db)
    site = dict(site)  # the parameters are shared with test_on_demand_restart_dates: never mutated
    public = site.pop("public_url", "https://feeds.example.vn")
    a_new_second(db)
    before = shown(restart(db, settings()), DATED)
    a_new_second(db)
    after = shown(restart(db, settings(public, **site)), DATED)
    agree(after)
    for label, snap in after.items():
        assert snap.etag != before[label].etag, label
        assert own_date(snap.body) > own_date(before[label].body), label


def test_the_testers_steps_title_changed_and_back(db: Database) -> None:
    """``site.title`` changed, then back: each version's own date its Last-Modified, the
    third's bytes new (a later date in them), not the first's again."""
    first_start(db)
    a_new_second(db)
    first = shown(restart(db, settings()), DATED)
    a_new_second(db)
    second = shown(restart(db, settings(title="Báo Thử Hai")), DATED)
    a_new_second(db)
    pub = restart(db, settings())
    third = shown(pub, DATED)
    for label, snap in third.items():
        assert "Báo Thử Hai".encode() not in snap.body, label
        assert snap.etag not in (first[label].etag, second[label].etag), label
        assert own_date(snap.body) > own_date(second[label].body), label
    for version in (first, second, third):
        agree(version)
    # `feedsvc render` dates a ?limit= variant as the server does
    for label, slug, fmt, limit in DATED:
        if not label.startswith("search"):
            assert render_topic_feed(db, pub.settings, slug, fmt, limit) == third[label].body


def test_an_unchanged_restart_keeps_the_own_dates(db: Database) -> None:
    """A guard: same settings, same bytes (their own date included) and Last-Modified."""
    first_start(db)
    a_new_second(db)
    before = shown(restart(db, settings(title="Báo Thử Hai")), DATED)
    a_new_second(db)
    after = shown(restart(db, settings(title="Báo Thử Hai")), DATED)
    assert {k: (s.etag, s.last_modified) for k, s in after.items()} == {
        k: (s.etag, s.last_modified) for k, s in before.items()
    }


# -- over HTTP, the real app: the tester's requests -------------------------------------------

PATHS = [f"/feeds/search.{fmt}?q=an" for fmt in ("rss", "atom")]
PATHS += [
    "/feeds/search.atom?q=an&limit=5",
    "/feeds/kien-thuy.rss?limit=5",
    "/feeds/kien-thuy.atom",
]


def dates(client: TestClient, path: str) -> tuple[str, datetime, datetime]:
    """A 200's ETag, its own date and its ``Last-Modified`` header."""
    r = client.get(path)
    assert r.status_code == 200, (path, r.status_code)
    return r.headers["etag"], own_date(r.content), parsedate_to_datetime(r.headers["last-modified"])


def served(client: TestClient, service: Any) -> dict[str, tuple[str, datetime, datetime]]:
    service.publisher.cache.clear()
    return {path: dates(client, path) for path in PATHS}


def test_over_http_the_own_date_is_the_last_modified_sent(url: str) -> None:  # noqa: F811
    versions = []
    for title in (None, "Báo Thử Hai", None):
        a_new_second_over(url)
        site = {"site": {"title": title}} if title else {}
        with run(configured(url, **site)) as (client, service):
            a_new_second_over(url)  # past every date's second: sent as stored
            versions.append(served(client, service))
    first, second, third = versions
    for path, (etag, own, _) in third.items():
        assert etag not in (first[path][0], second[path][0]), path  # not the first bytes
        assert own > second[path][1], path
    for version in versions:
        for path, (_, own, modified) in version.items():
            assert own == modified, (path, own, modified)
