"""What people follow: feed polls counted on every serving path (the wire protocol, the ASGI
fast path, the routes) without a database write per request, flushed to ``feed_polls``;
subscribers by channel, alerts per day, newest article, hourly activity; the admin's SVG charts
and the API's figures (``GET /api/topics``, ``GET /api/stats``)."""

from __future__ import annotations

import asyncio
import re
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from backend_cases import module_on_sqlite
from factories import article, insert_old_source_row
from fakeserver import PATIENCE
from lxml import etree  # type: ignore[import-untyped]
from migrated import premigrated
from processes import free_port, uvicorn_thread
from sqlalchemy import func, insert, select
from upgrades import database_at

from feedsvc import operations as ops
from feedsvc.app import Roles, Service, create_app
from feedsvc.config import load_config
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import articles, deliveries
from feedsvc.db.schema_service import feed_polls
from feedsvc.stats import activity, topic_stats
from feedsvc.stats.polls import PollCounter
from feedsvc.store import subscriptions as sub_store
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec
from feedsvc.web.wire import wire_protocol

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = [
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
    module_on_sqlite,
]
TOKEN = "stats-test-token-0123456789abc"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def make_service(db_url: str, port: int = 8080) -> Service:
    settings = load_config(
        None,
        {
            "database": {"url": premigrated(db_url)},
            "topics": {"import_on_start": False},
            "http": {"public_url": f"http://127.0.0.1:{port}", "port": port},
        },
    )
    return Service(settings, Roles(scheduler=False, bot=False))


def seed(service: Service) -> None:
    db = service.db
    ops.save_topic(db, TopicSpec("kt", "Kiến Thụy", '"Kiến Thụy"'), "t")
    ops.save_topic(db, TopicSpec("ds", "Đồ Sơn", '"Đồ Sơn"'), "t")
    with db.write() as conn:
        upsert_source_articles(
            conn,
            [article(1, title="Kiến Thụy mở hội"), article(2, title="Kiến Thụy đón Tết")],
            db.now(),
        )
    service.ingest_tick()
    service.publisher.sync()


def polls_in_db(db: Database) -> dict[str, int]:
    with db.read() as conn:
        rows = conn.execute(select(feed_polls.c.topic_slug, feed_polls.c.polls)).all()
    return {slug: int(n) for slug, n in rows}


def test_polls_are_counted_on_every_path_and_written_only_when_flushed(db_url: str) -> None:
    port = free_port()
    service = make_service(db_url, port)
    app = create_app(service)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, lifespan="on", http=wire_protocol(app)
    )
    with (
        uvicorn_thread(config),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=PATIENCE) as client,
    ):
        seed(service)
        first = client.get("/feeds/kt.rss")  # the wire protocol
        etag = first.headers["etag"]
        for _ in range(5):
            assert client.get("/feeds/kt.rss", headers={"If-None-Match": etag}).status_code == 304
        client.head("/feeds/kt.atom")
        client.get("/feeds/kt.json?limit=3")  # the routes
        client.get("/feeds/ds.json")
        client.get("/feeds/khong-co.rss")  # 404: not a poll of anything
        client.get("/feeds/search.rss?q=Kiến")  # not a topic
        assert polls_in_db(service.db) == {}  # nothing written per request
        future = asyncio.run_coroutine_threadsafe(service.flush_polls(), service._loop)  # type: ignore[arg-type]
        future.result(timeout=10)
        assert polls_in_db(service.db) == {"kt": 8, "ds": 1}
        client.get("/feeds/kt.rss")
    # the shutdown flushes what is left, adding to today's row
    assert polls_in_db(service.db) == {"kt": 9, "ds": 1}
    with service.db.read() as conn:
        day = conn.execute(select(feed_polls.c.day)).scalars().first()
    assert day == datetime.now(UTC).astimezone(service.settings.tz).date()


def test_the_asgi_fast_path_counts_too(tmp_path: Any) -> None:
    service = make_service(f"sqlite:///{tmp_path / 's.db'}")
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        seed(service)
        client.get("/feeds/kt.rss")
        client.get("/feeds/kt.rss", headers={"If-None-Match": '"nope"'})
        assert service.publisher.polls.take() == {"kt": 2}


def test_a_failed_flush_keeps_the_counts() -> None:
    counter = PollCounter()
    for slug in ("a", "a", "b"):
        counter.count(slug)
    taken = counter.take()
    counter.count("a")
    counter.give_back(taken)  # the write failed
    assert counter.take() == {"a": 3, "b": 1}


def sent(db: Database, chat_id: int, article_id: int, at: datetime) -> None:
    with db.write() as conn:
        conn.execute(
            insert(deliveries).values(
                chat_id=chat_id, article_id=article_id, topics=["Kiến Thụy"], state="sent",
                attempts=1, ambiguous=0, plain_text=False, due_at=at, created_at=at,
                finished_at=at, message_id=1,
            )
        )  # fmt: skip


def _alert_days(per_day: list[tuple[date, int]]) -> dict[date, int]:
    return {d: n for d, n in per_day if n}


def _local_days(tz: Any, *sent_at: datetime) -> dict[date, int]:
    """How many of ``sent_at`` fall on each local day of ``tz``."""
    return dict(Counter(t.astimezone(tz).date() for t in sent_at))


# minutes past local midnight: "a day ago" is the day before yesterday just after midnight (the
# CI run that crossed Vietnam's midnight counted it there, and the test had said yesterday)
@pytest.mark.parametrize("minutes", [3, 12 * 60, 23 * 60 + 57])
def test_alerts_count_on_the_local_day_they_went(
    db_url: str, monkeypatch: pytest.MonkeyPatch, minutes: int
) -> None:
    service = make_service(db_url)
    service.prepare()
    seed(service)
    db, tz = service.db, service.settings.tz
    today = db.now().astimezone(tz).date() - timedelta(days=2)
    now = (datetime(today.year, today.month, today.day, tzinfo=tz)
           + timedelta(minutes=minutes)).astimezone(UTC)  # fmt: skip
    monkeypatch.setattr(db, "now", lambda: now)
    with db.read() as conn:
        aid = conn.execute(select(func.max(articles.c.id))).scalar_one()
    with db.write() as conn:
        for chat in (-1, -2, -3):
            sub_store.ensure_chat(conn, chat, "group", None, now)
            sub_store.subscribe(conn, chat, topic_id=1, query=None, now=now)
    times = (now - timedelta(minutes=5), now - timedelta(days=1, minutes=5), now)
    for chat, at in zip((-1, -2, -3), times, strict=True):
        sent(db, chat, aid, at)
    kt = {s.slug: s for s in topic_stats(db, tz, 7)}["kt"]
    assert kt.alerts_per_day[-1][0] == today
    assert _alert_days(kt.alerts_per_day) == _local_days(tz, *times)
    assert len(_local_days(tz, *times)) == (3 if minutes < 5 else 2)
    db.dispose()


def test_subscribers_alerts_per_day_newest_and_hourly_activity(db_url: str) -> None:
    service = make_service(db_url)
    service.prepare()
    seed(service)
    db = service.db
    now = db.now()
    with db.read() as conn:
        aid = conn.execute(select(func.max(articles.c.id))).scalar_one()
    with db.write() as conn:
        for chat, disabled in ((-1, None), (-2, None), (-3, "bot bị chặn")):
            sub_store.ensure_chat(conn, chat, "group", None, now)
            sub_store.subscribe(conn, chat, topic_id=None if chat == -9 else 1, query=None, now=now)
            if disabled:
                sub_store.disable_chat(conn, chat, disabled)
        sub_store.ensure_chat(conn, -4, "private", None, now)
        sub_store.subscribe(conn, -4, topic_id=None, query='"Kiến Thụy"', now=now)
    sent(db, -1, aid, now - timedelta(minutes=5))
    sent(db, -2, aid, now - timedelta(days=1, minutes=5))
    sent(db, -4, aid, now - timedelta(minutes=5))  # a query subscription: not the topic's
    tz = service.settings.tz
    stats = {s.slug: s for s in topic_stats(db, tz, 7)}
    kt = stats["kt"]
    assert kt.subscribers == {"telegram": 2}  # the disabled chat is not counted
    assert kt.articles == 2 and kt.newest_article is not None
    assert len(kt.alerts_per_day) == 7 and kt.alerts_per_day[-1][0] == now.astimezone(tz).date()
    assert sum(n for _, n in kt.alerts_per_day) == 2
    assert _alert_days(kt.alerts_per_day) == _local_days(
        tz, now - timedelta(minutes=5), now - timedelta(days=1, minutes=5)
    )
    assert stats["ds"].subscribers == {"telegram": 0} and stats["ds"].newest_article is None
    hourly = activity(db, 7)
    assert len(hourly.hours) == 168 and sum(hourly.articles) == 2 and sum(hourly.alerts) == 3
    db.dispose()


def test_admin_charts_and_api_figures(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    service = make_service(f"sqlite:///{tmp_path / 's.db'}")
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        seed(service)
        client.get("/feeds/kt.rss")
        asyncio.run(service.flush_polls())
        topics = client.get("/api/topics", headers=AUTH).json()["topics"]
        kt = next(t for t in topics if t["slug"] == "kt")["stats"]
        assert kt["articles"] == 2 and kt["subscribers"] == {"telegram": 0}
        assert kt["polls_per_day"][-1] == {"day": date.today().isoformat(), "count": 1} or (
            kt["polls_per_day"][-1]["count"] == 1
        )
        assert len(kt["alerts_per_day"]) == 7
        one = client.get("/api/topics/kt", headers=AUTH).json()
        assert one["stats"]["articles"] == 2
        week = client.get("/api/stats?days=2", headers=AUTH).json()
        assert week["days"] == 2 and len(week["hourly"]) == 48
        assert sum(h["articles"] for h in week["hourly"]) == 2
        assert {t["slug"] for t in week["topics"]} == {"kt", "ds"}
        assert client.get("/api/stats?days=0", headers=AUTH).status_code == 400
        assert client.get("/api/stats", headers=AUTH).json()["days"] == 7
        spec = client.get("/api/openapi.json").json()
        assert "/api/stats" in spec["paths"]

        page = client.get("/admin/login").text
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        client.post("/admin/login", data={"token": TOKEN, "csrf": csrf})
        assert 'src="/admin/charts/activity.svg"' in client.get("/admin/status").text
        topics_page = client.get("/admin/topics").text
        assert 'src="/admin/charts/subscribers.svg"' in topics_page
        assert "Lượt đọc nguồn tin mỗi ngày" in topics_page
        charts = (("activity", "Bài mới và tin đã gửi"), ("subscribers", "Người đăng ký"))
        for name, title in charts:
            chart = client.get(f"/admin/charts/{name}.svg")
            assert chart.status_code == 200 and chart.headers["content-type"] == "image/svg+xml"
            assert "script-src" not in chart.headers["content-security-policy"]
            assert "default-src 'none'" in chart.headers["content-security-policy"]
            svg = etree.fromstring(chart.content)
            assert svg.tag == "{http://www.w3.org/2000/svg}svg"
            assert title in chart.text
            if name == "activity":  # one date per local day on the axis, not one per hour
                dates = re.findall(r">(\d\d/\d\d)<", chart.text)
                assert 7 <= len(dates) <= 8 and len(set(dates)) == len(dates), dates
        client.cookies.clear()
        assert client.get("/admin/charts/activity.svg", follow_redirects=False).status_code == 303


@pytest.fixture
def db_with_data_at_0006(db_url: str) -> Iterator[Database]:
    db = database_at(db_url, "0006")
    with db.write() as conn:  # the columns 0006 has (today's store writes later ones too)
        insert_old_source_row(conn, article(1), datetime.now(UTC))
    yield db
    db.dispose()


def test_migration_0007_upgrades_a_database_holding_data(db_with_data_at_0006: Database) -> None:
    db = db_with_data_at_0006
    upgrade(db)
    with db.write() as conn:
        from feedsvc.store.stats import add_polls

        add_polls(conn, date(2026, 11, 30), {"kt": 3})
        add_polls(conn, date(2026, 11, 30), {"kt": 2, "ds": 1})
    assert polls_in_db(db) == {"kt": 5, "ds": 1}
    with db.read() as conn:
        from feedsvc.db.schema import source_articles

        assert conn.execute(select(func.count()).select_from(source_articles)).scalar_one() == 1
