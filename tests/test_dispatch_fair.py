"""Fair claiming across recipients (issue #18 §4): a backlog never delays everyone.

Claims go round-robin by recipient (the chat served longest ago first), keeping per-chat order,
pacing and the global budget, with one dispatcher or several sharing the state DB (SQLite and
PostgreSQL, where claims use FOR UPDATE SKIP LOCKED).

The real dispatchers' test gives each number of replicas one backend
(``backend_cases.on_backends``): one on SQLite, two on PostgreSQL, the only backend that runs
two dispatchers (SQLite skipped that case); one PostgreSQL dispatcher claims by the same SKIP
LOCKED statement as two.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from backend_cases import on_backends
from factories import VN, followed
from fakebot import FakeBotAPI
from sqlalchemy import insert, select, update

from feedsvc.channels.telegram import TelegramChannel
from feedsvc.db import Database
from feedsvc.db.schema import articles, chats, deliveries
from feedsvc.dispatch import Dispatcher, DispatchSettings
from feedsvc.notify import TelegramSender
from feedsvc.store import deliveries as q
from feedsvc.store.subscriptions import ensure_chat

BACKLOG = list(range(3001, 3013))  # 12 private chats: ready ~11 times a second together
IDLE = 3999
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def add_articles(db: Database, numbers: range) -> list[int]:
    with db.write() as conn:
        for n in numbers:
            conn.execute(
                insert(articles).values(
                    source_key=f"K{n}", version=NOW, url=f"https://example.vn/tin/{n}.html",
                    title=f"Tin số {n}", tags=[], published_at=datetime.now(VN),
                    source_cursor=NOW, first_seen_at=NOW, last_changed_at=NOW,
                )
            )  # fmt: skip
        found = conn.execute(select(articles.c.id).where(articles.c.source_key.in_(
            [f"K{n}" for n in numbers]))).scalars()  # fmt: skip
        return sorted(found)


def queue(db: Database, chat_ids: list[int], article_ids: list[int], now: datetime) -> None:
    with db.write() as conn:
        for chat in chat_ids:
            ensure_chat(conn, chat, "private", None, now)
        rows = [
            {"chat_id": c, "article_id": a, "topics": ["Tin"], "state": "pending",
             "due_at": now, "created_at": now}
            for a in article_ids for c in chat_ids
        ]  # fmt: skip
        assert q.enqueue(conn, rows) == len(rows)
        followed(conn, rows, now)


def test_an_idle_chat_is_claimed_before_others_backlog(db: Database) -> None:
    """Store level, no clock games: the chats with a backlog were just served; the idle chat's
    one delivery (the newest id) is claimed first, then the backlog round-robin, in order."""
    queue(db, BACKLOG[:3], add_articles(db, range(1, 5)), NOW)  # 12 queued
    queue(db, [IDLE], add_articles(db, range(100, 101)), NOW)
    with db.write() as conn:  # served a moment ago, ready again now
        conn.execute(update(chats).where(chats.c.chat_id.in_(BACKLOG[:3]))
                     .values(next_send_at=NOW - timedelta(seconds=1)))  # fmt: skip
        first = q.claim(conn, "me", NOW, 1, timedelta(seconds=60))
    assert [c.chat_id for c in first] == [IDLE]
    order: list[tuple[int, int]] = []
    at = NOW
    for _ in range(12):  # every claim books the chat's next slot 1.05 s ahead
        at += timedelta(seconds=0.4)
        with db.write() as conn:
            got = q.claim(conn, "me", at, 2, timedelta(seconds=60))
            for c in got:
                q.mark_sent(conn, c.id, "me", 1, at)
        order += [(c.chat_id, c.article_id) for c in got]
    assert len(order) == 12
    for chat in BACKLOG[:3]:  # in order per chat
        mine = [a for c, a in order if c == chat]
        assert mine == sorted(mine) and len(mine) == 4
    # round-robin: every window of 3 consecutive claims holds 3 different chats
    assert all(len({c for c, _ in order[i : i + 3]}) == 3 for i in range(len(order) - 2))


@pytest.fixture
async def sender() -> AsyncIterator[tuple[FakeBotAPI, TelegramSender]]:
    with FakeBotAPI(enforce_pacing=True) as fake:
        async with TelegramSender(fake.token, base_url=fake.base_url) as sender:
            yield fake, sender


def number(body: str) -> int:
    found = re.search(r"/tin/(\d+)\.html", body)
    assert found
    return int(found.group(1))


@pytest.mark.parametrize(
    ("db_url", "replicas"), on_backends([1, 2], label=lambda n: f"replicas{n}"), indirect=["db_url"]
)
async def test_fresh_alert_overtakes_a_backlog(
    db: Database, sender: tuple[FakeBotAPI, TelegramSender], replicas: int
) -> None:
    """Real dispatchers against the fake (which answers 429 to any pacing breach): a fresh
    alert for a chat with nothing queued goes out within the next round, not after the
    backlog; the backlog keeps its per-chat order and every alert goes out once."""
    if replicas > 1 and db.dialect == "sqlite":
        pytest.skip("one dispatcher per SQLite file (it recovers every lease at start)")
    fake, telegram = sender
    # the budget (4/s), not pacing, bounds the drain: claims must choose among ready chats;
    # the fake refuses past 5/s (a margin for arrival jitter on a loaded machine)
    fake.limits["global"] = type(fake.limits["global"])(5, 1.0)
    queue(db, BACKLOG, add_articles(db, range(1, 4)), datetime.now(UTC))  # 36 queued
    settings = DispatchSettings(global_rate=4.0, poll_seconds=0.5)
    # one channel object, as in one process (the fleet gives each process one dispatcher per
    # channel): a bare sender made each dispatcher a channel and a release gate of its own, and
    # a stall of the event loop they share released one call from each at once (6 calls in
    # 1.0 s at the fake in one CI run); replicas in separate processes: test_replicas
    channel = TelegramChannel(telegram, VN)
    dispatchers = [Dispatcher(db, channel, VN, settings, owner=f"r{i}") for i in range(replicas)]
    tasks = [asyncio.create_task(d.run()) for d in dispatchers]
    try:
        # after one round (every backlog chat served once): never-served chats rank first, so
        # before it a fresh chat waits at most for that first round
        await fake.await_for(lambda: len(fake.all_messages) >= 14)
        queue(db, [IDLE], add_articles(db, range(900, 901)), datetime.now(UTC))
        before = len(fake.all_messages)
        for d in dispatchers:
            d.wake.set()
        await fake.await_for(lambda: fake.messages(IDLE))
        overtaken = [m for m in fake.all_messages[before:] if m.chat_id != IDLE]
        await fake.await_for(lambda: len(fake.all_messages) >= 37, timeout=30)
    finally:
        for d in dispatchers:
            d.stop()
        await asyncio.gather(*tasks)
    # by delivery id it waited for the whole remaining backlog (~22 here); now only for the
    # sends already planned (0.25 s ahead) or in flight when it was queued
    assert len(overtaken) <= 4, len(overtaken)
    for chat in BACKLOG:
        assert [number(m.body) for m in fake.messages(chat)] == [1, 2, 3]
    assert len(fake.all_messages) == 37 and fake.violations == []
    with db.read() as conn:
        assert set(conn.execute(select(deliveries.c.state)).scalars()) == {"sent"}
