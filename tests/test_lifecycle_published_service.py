"""A WordPress post published by WP-cron (the status alone) reaches the chat and the feed through
the running service (the wiring in ``app.py``'s ingest job, which only mypy checked): the real
:class:`~feedsvc.app.Service` over a ``wp_posts`` table (SQLite file or PostgreSQL) and the fake
Bot API. Before the fix the post, read while ``future``, never appeared."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fakebot import FakeBotAPI
from lifecycle_world import CHAT, SLUG, entry_keys
from migrated import premigrated
from sqlalchemy import select
from wp_posts import COLUMNS, WpPosts, wp_posts

from feedsvc.app import Roles, Service
from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.db.schema import articles
from feedsvc.store.subscriptions import ensure_chat, subscribe
from feedsvc.store.topics import TopicSpec, get_topic, save_topic

POLL = 0.3
WAIT = 60.0  # many polls, on a loaded machine (a deadline, never a pause)


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


@pytest.fixture
def wp(db: Database, tmp_path: Path) -> Iterator[WpPosts]:
    with wp_posts(db, tmp_path) as table:
        yield table


async def until(what: str, predicate: Callable[[], object], timeout: float = WAIT) -> None:
    """Poll ``predicate`` off the event loop until it holds; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(predicate):
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.1)


def reason(service: Service) -> str | None:
    """The post's ``withdrawn_reason`` ("missing" while no article holds it)."""
    with service.db.read() as conn:
        stmt = select(articles.c.withdrawn_reason).where(articles.c.source_key == "tin-1")
        found = conn.execute(stmt).first()
        return "missing" if found is None else found[0]


def feed(service: Service) -> list[str]:
    snap = service.publisher.snapshot(SLUG, "rss", 50)
    return [] if snap is None else entry_keys(snap.body)


async def test_cron_published_post_alerts_and_appears_through_the_service(
    db: Database, db_url: str, wp: WpPosts, fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    wp.clock.now = now
    with db.write() as conn:
        save_topic(conn, TopicSpec(SLUG, "Kiến Thụy", '"Kiến Thụy"', ""), "cli", now)
        topic = get_topic(conn, SLUG)
        assert topic is not None
        ensure_chat(conn, CHAT, "private", "Phóng viên", now)
        subscribe(conn, CHAT, topic_id=topic.id, query=None, now=now)
    monkeypatch.setenv("FEEDSVC_TELEGRAM__TOKEN", fake.token)
    settings = load_config(
        None,
        {
            "database": {"url": premigrated(db_url)},
            "source": {
                "url": wp.url, "table": "wp_posts", "timezone": "UTC", "poll_seconds": POLL,
                "columns": COLUMNS.model_dump(exclude_unset=True),
            },
            "telegram": {"base_url": fake.base_url},
            "http": {"public_url": "https://feeds.example.vn"},
            "topics": {"import_on_start": False},
        },
    )  # fmt: skip
    service = Service(settings, Roles(http=False))
    ticks: list[object] = []
    service.on_tick.append(ticks.append)
    await service.start()
    try:
        wp.save(1, "future", now - timedelta(seconds=30))  # its time came; cron has not run
        await until("the scheduled post held as a draft", lambda: reason(service) == "draft")
        held = len(ticks)
        await until("two more polls (the cursor past it)", lambda: len(ticks) >= held + 2)
        wp.cron_publish(1)  # wp_publish_post: post_status only, post_modified_gmt untouched
        alert = await fake.await_for(lambda: fake.messages(CHAT), timeout=WAIT)
        assert len(alert) == 1 and "Kiến Thụy tin số 1" in alert[0].body
        await until("the post in the feed", lambda: feed(service) == ["1.html"])
        assert reason(service) is None
    finally:
        await service.stop()
    assert len(fake.messages(CHAT)) == 1
