"""The reconcile job as the service runs it (SPEC §10, README "Deleted"): the real
:class:`~feedsvc.app.Service` and its scheduler over an external CMS table (SQLite file or a
PostgreSQL table) and the fake Bot API, ``source.reconcile_seconds`` from the config.

A CMS row deleted leaves the feed and its sent alert is deleted from the chat; the row restored
unchanged (a backup: same cursor value and version, where no ingest read takes it again) is
public again through the job's hand-off to ``Ingestor.reread`` (the wiring in ``app.py``, which
only mypy checked). The chat had the alert once: it is not alerted again, and the deleted
message is not brought back (one alert per chat and article, ever)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cms_table import COLUMNS, Cms, cms_table
from fakebot import FakeBotAPI
from lifecycle_world import CHAT, SLUG, entry_keys
from migrated import premigrated
from sqlalchemy import select

from feedsvc.app import Roles, Service
from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.db.schema import articles, deliveries
from feedsvc.store.subscriptions import ensure_chat, subscribe
from feedsvc.store.topics import TopicSpec, get_topic, save_topic

RECONCILE_SECONDS = 10.0  # the shortest interval the config accepts
#: two passes (the first RECONCILE_SECONDS after the start) and a feed sync, on a loaded machine
WAIT = 3 * RECONCILE_SECONDS + 15
KEY = "TEST-00001"


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


@pytest.fixture
def cms(db: Database, tmp_path: Path) -> Iterator[Cms]:
    with cms_table(db, tmp_path) as table:
        yield table


async def until(what: str, predicate: Callable[[], object], timeout: float = WAIT) -> None:
    """Poll ``predicate`` (it may read the DB: off the event loop) until it holds; fail naming
    ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(predicate):
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.1)


def feed(service: Service) -> list[str]:
    snap = service.publisher.snapshot(SLUG, "rss", 50)
    return [] if snap is None else entry_keys(snap.body)


def held(service: Service) -> tuple[str | None, list[tuple[str, int | None]]]:
    """The article's withdrawal reason and its deliveries' (state, message id)."""
    with service.db.read() as conn:
        reason = conn.execute(
            select(articles.c.withdrawn_reason).where(articles.c.source_key == KEY)
        ).scalar_one()
        rows = conn.execute(
            select(deliveries.c.state, deliveries.c.message_id)
            .join(articles, articles.c.id == deliveries.c.article_id)
            .where(articles.c.source_key == KEY)
        ).tuples()
        return reason, [(state, mid) for state, mid in rows]


def start_settings(db_url: str, cms: Cms, fake: FakeBotAPI) -> Service:
    settings = load_config(
        None,
        {
            "database": {"url": premigrated(db_url)},
            "source": {
                "url": cms.url,
                "table": "posts",
                "timezone": "UTC",
                "columns": COLUMNS.model_dump(exclude_unset=True),
                "poll_seconds": 0.3,
                "reconcile_seconds": RECONCILE_SECONDS,
            },
            "telegram": {"base_url": fake.base_url, "on_withdraw": "delete"},
            "http": {"public_url": "https://feeds.example.vn"},
            "topics": {"import_on_start": False},  # the topic is the test's, in the DB
        },
    )
    assert settings.source.reconcile_seconds == RECONCILE_SECONDS
    return Service(settings, Roles(http=False))


async def test_deleted_then_restored_unchanged_through_the_running_service(
    db: Database, db_url: str, cms: Cms, fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    with db.write() as conn:
        save_topic(conn, TopicSpec(SLUG, "Kiến Thụy", '"Kiến Thụy"', ""), "cli", now)
        topic = get_topic(conn, SLUG)
        assert topic is not None
        ensure_chat(conn, CHAT, "private", "Phóng viên", now)
        subscribe(conn, CHAT, topic_id=topic.id, query=None, now=now)
    cms.put(2, "published", now - timedelta(minutes=5), "Tin khác")  # the window is not empty
    monkeypatch.setenv("FEEDSVC_TELEGRAM__TOKEN", fake.token)
    service = start_settings(db_url, cms, fake)
    await service.start()
    try:
        cms.put(1, "published", now - timedelta(minutes=1))
        alert = await fake.await_for(lambda: fake.messages(CHAT), timeout=WAIT)
        assert len(alert) == 1 and "Kiến Thụy tin số 1" in alert[0].body
        message = alert[0].message_id
        await until("the article in the feed", lambda: feed(service) == ["1.html"])
        await until("the alert recorded as sent", lambda: held(service)[1] == [("sent", message)])

        saved = cms.row(1)
        cms.delete(1)
        await until("the alert deleted in the chat", lambda: fake.live(CHAT, message).deleted)
        await until("the article out of the feed", lambda: feed(service) == [])
        assert held(service)[0] == "deleted"

        cms.insert(saved)  # restored from a backup: same `modified` (cursor), same `edited`
        await until("the article back in the feed", lambda: feed(service) == ["1.html"])
        assert held(service) == (None, [("sent", message)])  # one delivery, ever
        await service.dispatcher.step()  # anything queued would be claimed now
    finally:
        await service.stop()
    assert [m.message_id for m in fake.messages(CHAT)] == [message]  # not alerted again
    assert fake.live(CHAT, message).deleted  # and the deleted alert is not brought back
