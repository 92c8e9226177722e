"""WebSub: feeds advertise the hub, and a re-render that changes a feed pings it (a local hub)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
from backend_cases import module_on_sqlite
from factories import article, builtin_ingestor
from lxml import etree  # type: ignore[import-untyped]
from migrated import premigrated

from feedsvc.app import Roles, Service, create_app
from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.publish import FeedPublisher
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec, save_topic
from feedsvc.websub import HubPinger

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)


class Hub:
    def __init__(self) -> None:
        self.pings: list[dict[str, list[str]]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                hub.pings.append(parse_qs(self.rfile.read(length).decode()))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def hub() -> Iterator[Hub]:
    server = Hub()
    yield server
    server.server.shutdown()


def test_changed_feeds_ping_the_hub(db: Database, hub: Hub) -> None:
    with db.write() as conn:
        save_topic(
            conn, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "cli", datetime.now(UTC)
        )
    settings = load_config(
        None, {"http": {"public_url": "https://feeds.example.vn", "websub_hub": hub.url}}
    )
    pub = FeedPublisher(db, settings)
    pub.sync()
    assert pub.last_ping is not None  # the first render of a new topic's feeds is a change
    pub.last_ping.join(10)
    ing = builtin_ingestor(db)
    ing.after_commit.append(pub.on_ingest)
    with db.write() as conn:
        upsert_source_articles(conn, [article(1)], datetime.now(UTC))
    assert ing.tick().new == 1
    assert pub.last_ping is not None
    pub.last_ping.join(10)
    latest = hub.pings[-1]
    assert latest["hub.mode"] == ["publish"]
    assert sorted(latest["hub.url"]) == [
        f"https://feeds.example.vn/feeds/kien-thuy.{fmt}" for fmt in ("atom", "json", "rss")
    ]
    rss = pub.snapshot("kien-thuy", "rss", 50)
    feed = pub.snapshot("kien-thuy", "json", 50)
    assert rss is not None and f'href="{hub.url}" rel="hub"'.encode() in rss.body
    assert feed is not None and json.loads(feed.body)["hubs"][0]["url"] == hub.url
    before = len(hub.pings)
    pub.refresh(["kien-thuy"])  # same bytes: no ping
    assert len(hub.pings) == before


def test_unreachable_hub_is_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="feedsvc.websub"):
        thread = HubPinger("http://127.0.0.1:1/", timeout=2).ping(["https://x.example/f.rss"])
        assert thread is not None
        thread.join(10)
    assert "WebSub ping" in caplog.text


@pytest.fixture
def hub_service(tmp_path: Path, hub: Hub) -> Iterator[Service]:
    url = premigrated(f"sqlite:///{tmp_path / 'state.db'}")
    db = Database(url)
    with db.write() as conn:
        save_topic(conn, TopicSpec("an-ninh", "An ninh", '"an ninh"'), "cli", datetime.now(UTC))
        upsert_source_articles(conn, [article(1, title="An ninh zzws")], datetime.now(UTC))
    builtin_ingestor(db).tick()
    db.dispose()
    settings = load_config(
        None,
        {
            "database": {"url": url},
            "topics": {"import_on_start": False},
            "http": {"public_url": "https://feeds.example.vn", "websub_hub": hub.url},
        },
    )
    svc = Service(settings, Roles(scheduler=False, bot=False))
    svc.prepare()
    yield svc
    svc.close()


def _hubs(fmt: str, body: bytes) -> list[str]:
    if fmt == "json":
        return [h["url"] for h in json.loads(body).get("hubs", [])]
    tree = etree.fromstring(body)
    return [str(h) for h in tree.xpath("//*[local-name()='link'][@rel='hub']/@href")]


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
@pytest.mark.parametrize("query", ["zzws", '"an ninh"', "~an AND ninh", "an%20ninh&limit=5"])
async def test_a_search_feed_names_no_hub_that_it_never_pings(
    hub_service: Service, hub: Hub, fmt: str, query: str
) -> None:
    """A search feed is made per request for any query: feedsvc never pings the hub for one,
    so it must not send subscribers there (a tester's: Inoreader would wait for pings). The
    topic feed beside it still names the hub."""
    transport = httpx.ASGITransport(app=create_app(hub_service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        found = await client.get(f"/feeds/search.{fmt}?q={query}")
        topic = await client.get(f"/feeds/an-ninh.{fmt}")
    assert found.status_code == 200, found.text
    assert _hubs(fmt, found.content) == []
    assert topic.status_code == 200
    assert _hubs(fmt, topic.content) == [hub.url]
