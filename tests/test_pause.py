"""A paused chat gets nothing until it resumes, on every channel (defects §4).

``/pause`` (or the admin's / API's pause) stopped new alerts from being queued but the dispatcher
still sent what was queued before the pause. The claim now leaves paused chats out: their queue
waits, in order, and goes out after ``/resume``; the other chats are not held up, and a paused
chat's past-due queue does not make the dispatcher spin. SQLite and PostgreSQL.

The non-Telegram channels are given one backend each (``backend_cases.on_backends``): the
channel picks the sender and the recipient's address, while the claim leaves a paused chat out
by the same statement for every channel.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from backend_cases import on_backends
from factories import VN as VN_TZ
from fakebot import FakeBotAPI
from patience import PATIENT_READ_TIMEOUT
from sqlalchemy import select
from test_channel_isolation import queue

from feedsvc import operations as ops
from feedsvc.articles import Article
from feedsvc.channels import Target
from feedsvc.channels.apprise import LIMITS as APPRISE_LIMITS
from feedsvc.channels.zalo.channel import LIMITS as ZALO_LIMITS
from feedsvc.db import Database
from feedsvc.db.schema import deliveries
from feedsvc.dispatch import Dispatcher, DispatchSettings
from feedsvc.notify import SendOutcome, TelegramSender
from feedsvc.store import deliveries as q
from feedsvc.store.subscriptions import ensure_chat, ensure_recipient

NOW = datetime.now(UTC)
SETTINGS = DispatchSettings(poll_seconds=0.5, backoff_base=0.05)
_ids = itertools.count(1)


class Recorder:
    """A channel that records what it was asked to send (Zalo's or Apprise's real limits)."""

    def __init__(self, limits: object) -> None:
        self.limits = limits
        self.sent: list[tuple[int, str]] = []

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def deliver(self, target: Target, article: Article, topics: Sequence[str]) -> SendOutcome:
        self.sent.append((target.chat_id, article.title))
        return SendOutcome.sent(next(_ids))


def states(db: Database, chat_id: int) -> list[str]:
    with db.read() as conn:
        stmt = select(deliveries.c.state).where(deliveries.c.chat_id == chat_id)
        return list(conn.execute(stmt.order_by(deliveries.c.id)).scalars())


async def run_until(dispatcher: Dispatcher, done: object, timeout: float = 60) -> None:
    task = asyncio.create_task(dispatcher.run())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while not done():  # type: ignore[operator]
            assert loop.time() < deadline
            await asyncio.sleep(0.05)
    finally:
        dispatcher.stop()
        await task


async def test_telegram_queued_alerts_wait_for_resume(db: Database) -> None:
    paused, other = 5001, 5002
    with db.write() as conn:
        for c in (paused, other):
            ensure_chat(conn, c, "private", None, NOW)
    queue(db, [paused, other], 3)  # queued before the pause
    ops.set_chat_paused(db, paused, True)
    with FakeBotAPI() as fake:
        async with TelegramSender(
            fake.token, base_url=fake.base_url, read_timeout=PATIENT_READ_TIMEOUT
        ) as sender:
            d = Dispatcher(db, sender, VN_TZ, SETTINGS)
            await run_until(d, lambda: states(db, other) == ["sent"] * 3)
            assert fake.messages(paused) == [] and states(db, paused) == ["pending"] * 3
            # nothing it may send: the usual poll, not a 10 ms loop on the paused chat's rows
            idle = Dispatcher(db, sender, VN_TZ, DispatchSettings(poll_seconds=30))
            assert await idle.step() == 30
            await idle.drain()
            assert fake.messages(paused) == []
            ops.set_chat_paused(db, paused, False)
            d = Dispatcher(db, sender, VN_TZ, SETTINGS)
            await run_until(d, lambda: states(db, paused) == ["sent"] * 3)
            bodies = [m.body for m in fake.messages(paused)]
            assert [[f"Tin {n}" in b for n in range(3)] for b in bodies] == [
                [True, False, False],
                [False, True, False],
                [False, False, True],
            ]  # all three, in the order they were queued


@pytest.mark.parametrize(
    ("db_url", "limits"),
    on_backends([ZALO_LIMITS, APPRISE_LIMITS], label=lambda limits: limits.name),
    indirect=["db_url"],
)
async def test_every_channel_holds_a_paused_recipient(db: Database, limits: object) -> None:
    name = limits.name  # type: ignore[attr-defined]
    with db.write() as conn:
        if name == "zalo":
            paused = ensure_recipient(conn, "zalo", "z-paused", "private", None, NOW).chat_id
            other = ensure_recipient(conn, "zalo", "z-other", "private", None, NOW).chat_id
        else:
            paused = ensure_recipient(conn, "apprise", "json://127.0.0.1:9/a", "destination",
                                      None, NOW).chat_id  # fmt: skip
            other = ensure_recipient(conn, "apprise", "json://127.0.0.1:9/b", "destination",
                                     None, NOW).chat_id  # fmt: skip
    queue(db, [paused, other], 2)
    ops.set_chat_paused(db, paused, True)
    channel = Recorder(limits)
    await run_until(Dispatcher(db, channel, VN_TZ, SETTINGS, owner=name),
                    lambda: states(db, other) == ["sent"] * 2)  # fmt: skip
    assert [c for c, _ in channel.sent] == [other, other]
    assert states(db, paused) == ["pending"] * 2
    with db.read() as conn:
        assert q.next_claimable(conn, name) is None  # the paused queue wakes nobody
    ops.set_chat_paused(db, paused, False)
    await run_until(Dispatcher(db, channel, VN_TZ, SETTINGS, owner=name),
                    lambda: states(db, paused) == ["sent"] * 2)  # fmt: skip
    assert [t for c, t in channel.sent if c == paused] == ["Tin 0", "Tin 1"]
