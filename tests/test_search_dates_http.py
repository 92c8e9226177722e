"""Search feeds' ``Last-Modified`` over HTTP across restarts of the real app with other
settings: a setting the bytes show moves it forward once, and every later run sends that same
date; a setting they do not show (``site.timezone``, ``http.websub_hub``,
``telegram.username``) leaves it; never later than the response's ``Date`` (RFC 9110
§8.8.2.1), the first render of a restart in the second it started in included.

A tester's (fresh install): run 1 with ``site.language=en`` sent a date a second earlier than
run 2 with the same settings and bytes (one needless 200 to an If-Modified-Since poller), and a
restart with another ``site.timezone`` re-dated identical search feeds. The fix reverted in
48e0fed6 dated them a second ahead of the clock.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from backend_cases import module_on_sqlite
from factories import article, builtin_ingestor
from migrated import premigrated
from processes import wait_until
from test_index_pages import hand_driven

from feedsvc.app import Service, create_app
from feedsvc.db import Database
from feedsvc.roles import Roles
from feedsvc.store.records import TopicSpec
from feedsvc.store.snapshots import get_snapshots
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import save_topic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from starlette.testclient import TestClient

pytestmark = [
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
    module_on_sqlite,
]

PLAIN = {"summary": None, "body": "<p>Tin trong ngày.</p>", "tags": (), "section": None}
#: The search feeds in every format and a ``?limit=`` one (their reader page, sent to a
#: browser, is never cached: no validators; ``test_on_demand_restart_dates`` dates it)
FEEDS = [f"/feeds/search.{fmt}?q=an" for fmt in ("rss", "atom", "json")]
FEEDS += ["/feeds/search.rss?q=an&limit=5"]


@dataclass(frozen=True)
class Sent:
    """One 200's validators and when it was sent."""

    etag: str
    last_modified: str
    date: datetime

    @property
    def modified(self) -> datetime:
        return parsedate_to_datetime(self.last_modified)


def configured(url: str, **sections: dict[str, Any]) -> dict[str, Any]:
    """The app's settings over ``url``, with whole sections' keys changed."""
    changes: dict[str, Any] = {
        "database": {"url": url},
        "topics": {"import_on_start": False},
        "http": {"public_url": "https://feeds.example.vn"},
    }
    for name, values in sections.items():
        changes[name] = changes.get(name, {}) | values
    return changes


@contextmanager
def run(changes: dict[str, Any]) -> Iterator[tuple[TestClient, Service]]:
    """A process of the real app with these settings, started (its first sync done), its jobs
    stopped (the test drives it)."""
    from starlette.testclient import TestClient

    from feedsvc.config import load_config

    service = Service(load_config(None, changes), Roles(scheduler=False, bot=False))
    try:
        with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
            hand_driven(client, service)
            yield client, service
    finally:
        service.close()


def fetch(client: TestClient, path: str) -> Sent:
    """A GET of ``path``: a 200 whose Last-Modified is no later than its Date (uvicorn adds
    one; without it, as through the TestClient, the clock's second when it came)."""
    r = client.get(path)
    came = datetime.fromtimestamp(int(time.time())).astimezone()
    assert r.status_code == 200, (path, r.status_code)
    date = parsedate_to_datetime(r.headers["date"]) if "date" in r.headers else came
    sent = Sent(r.headers["etag"], r.headers["last-modified"], date)
    assert sent.modified <= sent.date, (path, sent)  # RFC 9110 §8.8.2.1
    return sent


def fetched(client: TestClient, service: Service) -> dict[str, Sent]:
    """Every search representation, rendered now (the render cache emptied)."""
    service.publisher.cache.clear()
    return {path: fetch(client, path) for path in FEEDS}


def answered(client: TestClient, path: str, since: str) -> int:
    """What a reader sending only If-Modified-Since gets."""
    return client.get(path, headers={"if-modified-since": since}).status_code


def seeded(url: str) -> None:
    """A first run over a new state DB: a topic, two articles matching ``an``, rendered."""
    with run(configured(url)) as (_, service):
        now = service.db.now()
        with service.db.write() as conn:
            save_topic(conn, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "cli", now)
            upsert_source_articles(conn, [
                article(1, title="Kiến Thụy an toàn giao thông", **PLAIN,
                        published_at=now - timedelta(hours=1)),
                article(2, title="Công an Kiến Thụy bắt đối tượng", **PLAIN,
                        published_at=now - timedelta(hours=2)),
            ], now)  # fmt: skip
        assert service.ingest_tick().error is None
        service.publisher.sync()


def a_new_second(url: str) -> None:
    """Wait for the start of a second two after every stored row's and the clock's: the next
    run then starts, and renders, early in a second of its own (the tester's case)."""
    db = Database(url)
    try:
        with db.read() as conn:
            latest = max(s.last_modified.timestamp() for s in get_snapshots(conn))
    finally:
        db.dispose()
    after = int(max(latest, time.time())) + 2
    wait_until(lambda: after <= time.time() and time.time() % 1 < 0.2, 30, "a second begun")


@pytest.fixture
def url(db_url: str) -> str:
    seeded(premigrated(db_url))
    return db_url


SHOWN = [
    pytest.param({"site": {"title": "Báo Thử Hai"}}, id="site.title"),
    pytest.param({"site": {"language": "en"}}, id="site.language"),
    pytest.param({"http": {"public_url": "https://tin.example.vn"}}, id="http.public_url"),
]


@pytest.mark.parametrize("change", SHOWN)
def test_a_shown_setting_moves_the_date_once(url: str, change: dict[str, Any]) -> None:
    with run(configured(url)) as (client, service):
        before = fetched(client, service)
    a_new_second(url)
    with run(configured(url, **change)) as (client, service):
        first = fetched(client, service)  # in the second the run started in, mostly
        for path, sent in first.items():
            assert sent.etag != before[path].etag, path
            assert sent.modified > before[path].modified, path
            assert answered(client, path, before[path].last_modified) == 200, path
    for _ in range(2):
        a_new_second(url)
        with run(configured(url, **change)) as (client, service):
            again = fetched(client, service)
            for path, sent in again.items():
                assert (sent.etag, sent.last_modified) == (
                    first[path].etag,
                    first[path].last_modified,
                ), path
                assert answered(client, path, first[path].last_modified) == 304, path


UNSHOWN = [
    pytest.param({"site": {"timezone": "UTC"}}, id="site.timezone"),
    pytest.param({"http": {"websub_hub": "http://127.0.0.1:9/hub"}}, id="http.websub_hub"),
    pytest.param({"telegram": {"username": "hp_tin_bot"}}, id="telegram.username"),
]


@pytest.mark.parametrize("change", UNSHOWN)
def test_an_unshown_setting_keeps_the_date(url: str, change: dict[str, Any]) -> None:
    """The feeds show none of these (their times are UTC whatever ``site.timezone``)."""
    a_new_second(url)
    with run(configured(url)) as (client, service):
        before = fetched(client, service)
    a_new_second(url)
    with run(configured(url, **change)) as (client, service):
        after = fetched(client, service)
        for path, sent in after.items():
            assert (sent.etag, sent.last_modified) == (
                before[path].etag,
                before[path].last_modified,
            ), path
            assert answered(client, path, before[path].last_modified) == 304, path


def test_a_change_in_the_seconds_of_the_restart_is_never_dated_ahead(url: str) -> None:
    """An article stored just before a restart with another title, in the second it starts
    in, and renders within it: dated no later than the clock (the fix reverted in 48e0fed6
    dated them the second after that change: ahead), later than what the run before sent."""
    with run(configured(url)) as (client, service):
        before = fetched(client, service)
    a_new_second(url)
    db = Database(url)
    try:
        now = db.now()
        with db.write() as conn:
            upsert_source_articles(conn, [article(3, title="An toàn bến phà", **PLAIN)], now)
        assert builtin_ingestor(db, overlap_seconds=60).tick().error is None
    finally:
        db.dispose()
    with run(configured(url, site={"title": "Báo Thử Hai"})) as (client, service):
        first = fetched(client, service)
        for path, sent in first.items():  # fetch() asserted Last-Modified <= Date
            assert sent.modified > before[path].modified, path
        for fmt, limit in (("rss", 50), ("atom", 50), ("json", 50), ("rss", 5)):
            # its own date too, not only the one sent (web.http_cache.Replies sends the
            # clock's second for a date ahead of it)
            dated = service.publisher.search("an", fmt, limit).last_modified
            assert dated <= service.db.now(), (fmt, limit, dated)
