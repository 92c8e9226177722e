"""A slow or failing channel never slows another (issue 14 §1): one dispatcher per channel, each
with its own budget, claim loop and send slots, over one outbox (SQLite: ``module_on_sqlite``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from backend_cases import module_on_sqlite
from factories import VN, followed
from fakebot import FakeBotAPI
from patience import PATIENT_READ_TIMEOUT
from sqlalchemy import insert, select

from feedsvc.articles import Article
from feedsvc.channels import ChannelLimits, Target
from feedsvc.db import Database
from feedsvc.db.schema import articles, deliveries
from feedsvc.dispatch import Dispatcher, DispatchSettings
from feedsvc.notify import SendOutcome, TelegramSender
from feedsvc.store import deliveries as q
from feedsvc.store.subscriptions import ensure_chat, ensure_recipient

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

NOW = datetime.now(UTC)
STUCK_LIMITS = ChannelLimits(
    "zalo", 2000, "chars", 50.0, timedelta(seconds=0), timedelta(seconds=0), 3, 4
)


class StuckChannel:
    """A channel whose every send hangs until released (a destination timing out)."""

    limits = STUCK_LIMITS

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = 0

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def deliver(self, target: Target, article: Article, topics: Sequence[str]) -> SendOutcome:
        self.started += 1
        await self.release.wait()
        return SendOutcome.transient("gateway timeout")


def queue(db: Database, chat_ids: list[int], n_articles: int) -> None:
    with db.write() as conn:
        ids = [
            conn.execute(
                insert(articles)
                .values(
                    source_key=f"K{n}", version=NOW, url=f"https://example.vn/{n}.html",
                    title=f"Tin {n}", tags=[], published_at=datetime.now(VN),
                    search_text="", source_cursor=NOW, first_seen_at=NOW, last_changed_at=NOW,
                )
                .returning(articles.c.id)
            ).scalar_one()
            for n in range(n_articles)
        ]  # fmt: skip
        rows = [
            {"chat_id": c, "article_id": a, "topics": ["Tin"], "state": "pending",
             "due_at": NOW, "created_at": NOW}
            for a in ids for c in chat_ids
        ]  # fmt: skip
        q.enqueue(conn, rows)
        followed(conn, rows, NOW)


def states(db: Database, chat_ids: list[int]) -> list[str]:
    with db.read() as conn:
        stmt = select(deliveries.c.state).where(deliveries.c.chat_id.in_(chat_ids))
        return list(conn.execute(stmt).scalars())


async def test_a_hanging_channel_leaves_telegram_on_time(db: Database) -> None:
    tg_chats = [4001, 4002, 4003]
    with db.write() as conn:
        for c in tg_chats:
            ensure_chat(conn, c, "group", None, NOW)
        zalo = [
            ensure_recipient(conn, "zalo", f"z{i}", "private", None, NOW).chat_id for i in range(20)
        ]
    queue(db, tg_chats + zalo, 2)
    stuck = StuckChannel()
    settings = DispatchSettings(poll_seconds=0.5, backoff_base=0.05)
    with FakeBotAPI() as fake:
        for c in tg_chats:
            fake.add_chat(c, "group", f"g{c}")
        async with TelegramSender(
            fake.token, base_url=fake.base_url, read_timeout=PATIENT_READ_TIMEOUT
        ) as sender:
            dispatchers = [
                Dispatcher(db, sender, VN, settings, owner="tg"),
                Dispatcher(db, stuck, VN, settings, owner="zalo"),
            ]
            tasks = [asyncio.create_task(d.run()) for d in dispatchers]
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 20
            try:
                # the group pacing (3 s) lets 2 messages per chat through in ~3 s
                while states(db, tg_chats).count("sent") < 6:
                    assert loop.time() < deadline, states(db, tg_chats)
                    await asyncio.sleep(0.05)
                # meanwhile Zalo filled its own 4 send slots and waits, claiming no more
                assert stuck.started == 4
                assert states(db, zalo).count("sending") == 4
                assert sum(len(fake.messages(c)) for c in tg_chats) == 6
            finally:
                stuck.release.set()
                for d in dispatchers:
                    d.stop()
                await asyncio.gather(*tasks)
    assert states(db, zalo).count("pending") == 40  # retried later, none lost or sent
