"""The console notifier's message ids across restarts (attack F7): ``run`` without a Telegram
token counted them from #1 in each process, so after a restart a chat's new alert was recorded
with the id an earlier alert of that chat had; the follow-up worker took the two for one digest
message and "kept" the new alert's correction instead of editing it. End to end: ingest, the
outbox, the dispatcher, corrections, the follow-up worker, each "process" a new notifier on the
same state DB. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from factories import VN, article, builtin_ingestor
from sqlalchemy import select

from feedsvc.articles import Article
from feedsvc.channels.telegram import TelegramChannel
from feedsvc.db import Database
from feedsvc.db.schema import alert_followups, deliveries
from feedsvc.dispatch import Dispatcher, DispatchSettings
from feedsvc.ingest import Ingestor
from feedsvc.notify import ConsoleSender, SendOutcome
from feedsvc.notify.message import AlertMessage
from feedsvc.outbox import Outbox
from feedsvc.retraction.hooks import Corrections
from feedsvc.retraction.worker import FollowupSettings, FollowupWorker
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.subscriptions import ensure_chat, subscribe
from feedsvc.store.topics import TopicSpec, get_topic, save_topic

CHAT = 1001


async def until(predicate: Callable[[], bool], timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await asyncio.to_thread(predicate):
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.03)


def rows(db: Database, *cols: object) -> list[tuple[object, ...]]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(select(*cols).order_by(cols[0])).tuples()]  # type: ignore[arg-type]


def publish(db: Database, ing: Ingestor, *items: Article) -> None:
    with db.write() as conn:
        upsert_source_articles(conn, list(items), datetime.now(UTC))
    assert ing.tick().error is None


async def one_process_sends(db: Database) -> None:
    """A process's dispatcher, with its own console notifier, until nothing is queued."""
    d = Dispatcher(db, ConsoleSender(), VN, DispatchSettings(backoff_base=0.05, poll_seconds=0.5))
    task = asyncio.create_task(d.run())
    try:
        await until(lambda: all(s == "sent" for (s,) in rows(db, deliveries.c.state)))
    finally:
        d.stop()
        await task


async def one_process_follows_up(db: Database) -> None:
    settings = FollowupSettings(backoff_base=0.05, poll_seconds=0.5, sweep_seconds=0.5)
    worker = FollowupWorker(db, TelegramChannel(ConsoleSender(), VN), VN, settings)
    task = asyncio.create_task(worker.run())
    try:
        await until(lambda: all(s == "done" for (s,) in rows(db, alert_followups.c.state)))
    finally:
        worker.stop()
        await task


async def test_a_correction_after_a_restart_is_edited(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    now = datetime.now(UTC)
    with db.write() as conn:
        save_topic(conn, TopicSpec("an-ninh", "An ninh", '"công an"'), "cli", now)
        topic = get_topic(conn, "an-ninh")
        assert topic is not None
        ensure_chat(conn, CHAT, "private", "Phóng viên", now)
        subscribe(conn, CHAT, topic_id=topic.id, query=None, now=now)
    ing = builtin_ingestor(db)
    ing.hooks += [Outbox(timedelta(hours=48)), Corrections(True)]
    fresh = datetime.now(VN) - timedelta(minutes=5)
    publish(db, ing, article(1, published_at=fresh))
    await one_process_sends(db)  # the first process: its alert
    [(first,)] = rows(db, deliveries.c.message_id)
    await until(lambda: time.time() * 1000 > int(first))  # type: ignore[call-overload]
    # (a restart takes longer than a millisecond)
    second = article(2, title="Công an Kiến Thụy: tin hai", published_at=fresh)
    publish(db, ing, second)
    await one_process_sends(db)  # the next process: a new notifier
    publish(db, ing, replace(second, title="Công an Kiến Thụy: tin hai (sửa)",
                             updated_at=datetime.now(UTC)))  # fmt: skip
    caplog.set_level(logging.INFO, logger="feedsvc.notify")
    await one_process_follows_up(db)
    [(kind, outcome, error)] = rows(
        db, alert_followups.c.kind, alert_followups.c.outcome, alert_followups.c.error
    )
    assert (kind, outcome, error) == ("correct", "edited", None)  # was kept, "digest message
    ids = [m for _, m in rows(db, deliveries.c.id, deliveries.c.message_id)]  # shared by 2"
    assert len(set(ids)) == 2, ids
    assert f"alert #{ids[1]} in telegram chat {CHAT} edited" in caplog.text


async def test_ids_increase_whatever_the_clock_does() -> None:
    """The clock standing still or set back within a process: still one id per send, up."""
    times = iter([100.0, 100.0, 99.0, 100.0005, 200.0])
    console = ConsoleSender(clock=lambda: next(times))
    msg = AlertMessage(text="<b>A</b>", plain_text="A")
    got = [await console.send(CHAT, msg, link_preview=False) for _ in range(5)]
    ids = (100_000, 100_001, 100_002, 100_003, 200_000)
    assert got == [SendOutcome.sent(i, photo=False) for i in ids]
