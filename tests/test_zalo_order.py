"""One Zalo chat's commands act in the order sent, their replies in that order, while other chats
go on at once (feedsvc/channels/zalo/lanes.py), against the fake Zalo Bot API over real HTTP.

Why (a tester's reproduction, long polling on PostgreSQL): eight chats each sent ``/sub an-ninh``
then ``/unsub an-ninh``; afterwards six were still subscribed, told "no subscription" and then
"subscribed", and kept getting alerts: every update ran as a task of its own, in any order.
``/quiet …`` then ``/settings`` showed the old settings. The webhook took the same path.
Synchronisation is by events and polls with deadlines, never a sleep.

The order of one chat's commands (by polling, by the webhook) and a slow command holding back
its own chat only keep SQLite and PostgreSQL: the reproduction was on PostgreSQL, whose
concurrent writers let commands run out of order where SQLite's one write lock serialises
them. The flooding chat's bound and the drain run on SQLite only (``backend_cases.on_sqlite``):
they are about the lanes' tasks (``feedsvc/channels/zalo/lanes.py``), and their commands
(``/topics``, ``/help``, ``/list``) only read.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from backend_cases import on_sqlite
from fakezalo import FakeZaloAPI
from migrated import premigrated
from patience import PATIENT_READ_TIMEOUT

from feedsvc.app import Roles, Service, create_app
from feedsvc.bot import texts
from feedsvc.channels.zalo import ZaloBotAPI
from feedsvc.channels.zalo.bot import ZaloBot
from feedsvc.channels.zalo.service import ZaloPoller
from feedsvc.channels.zalo.updates import Incoming, plain_reply
from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.store.subscriptions import find_recipient, list_subscriptions
from feedsvc.store.topics import TopicSpec, save_topic

SECRET = "webhook-secret-for-order-tests-01234"
OK = {"X-Bot-Api-Secret-Token": SECRET}
CHATS = [f"r{i}" for i in range(8)]
#: each pair is the tester's: the second must see what the first did
SAID = ("/sub an-ninh", "/unsub an-ninh", "/quiet 22:00-06:00", "/settings")
WAIT = 30.0  # seconds: a deadline, never a pause


@pytest.fixture
def fake() -> Iterator[FakeZaloAPI]:
    with FakeZaloAPI() as server:
        yield server


def add_topic(db: Database) -> None:
    with db.write() as conn:
        save_topic(conn, TopicSpec("an-ninh", "An ninh", '"an ninh"'), "cli", datetime.now(UTC))


def replies(fake: FakeZaloAPI, chat: str) -> list[str]:
    return [m.text for m in fake.messages(chat)]


def slugs(db: Database, chat: str) -> list[str | None]:
    with db.read() as conn:
        recipient = find_recipient(conn, "zalo", chat)
        assert recipient is not None
        return [s.topic_slug for s in list_subscriptions(conn, recipient.chat_id)]


def assert_in_order(db: Database, fake: FakeZaloAPI, reference: list[str]) -> None:
    """Every chat got the replies a chat that waited for each one got, in that order, and is
    subscribed to nothing: its /unsub came after its /sub."""
    assert len(reference) == len(SAID) and len(set(reference)) == len(SAID)
    assert "22:00" in reference[3]
    nothing = plain_reply(texts.not_subscribed("an-ninh"))
    assert nothing not in reference
    wrong = {chat: replies(fake, chat) for chat in CHATS if replies(fake, chat) != reference}
    assert wrong == {}, (reference, wrong)
    subscribed = {chat: s for chat in CHATS if (s := slugs(db, chat))}
    assert subscribed == {}


async def test_polling_keeps_each_chat_s_commands_in_order(db: Database, fake: FakeZaloAPI) -> None:
    """The tester's reproduction by long polling: every update of the eight chats queued at
    Zalo's side at once, each chat's in order."""
    add_topic(db)
    api = ZaloBotAPI(fake.token, fake.base_url, read_timeout=PATIENT_READ_TIMEOUT)
    poller = ZaloPoller(db, api, ZaloBot(db, api), lease_seconds=3, poll_timeout=0.5,
                        standby_seconds=0.1, holder="r")  # fmt: skip
    poller.start()
    try:
        for n, text in enumerate(SAID, 1):  # the reference: one command at a time
            fake.user_says("ref", text)
            await fake.await_for(lambda n=n: len(replies(fake, "ref")) == n, timeout=WAIT)
        for chat in CHATS:
            for text in SAID:
                fake.user_says(chat, text)
        await fake.await_for(lambda: all(len(replies(fake, c)) == len(SAID) for c in CHATS),
                             timeout=WAIT)  # fmt: skip
    finally:
        await poller.stop()
        await poller.bot.drain()
        await api.close()
    assert_in_order(db, fake, replies(fake, "ref"))


def settings_for(tmp_path: Path, db_url: str, fake: FakeZaloAPI) -> Any:
    topics = tmp_path / "topics.toml"
    topics.write_text('[[topic]]\nslug = "an-ninh"\ntitle = "An ninh"\nquery = \'"an ninh"\'\n',
                      encoding="utf-8")  # fmt: skip
    return load_config(None, {
        "database": {"url": premigrated(db_url)},
        "source": {"poll_seconds": 30},
        "zalo": {"base_url": fake.base_url, "token": fake.token, "webhook_secret": SECRET,
                 "global_rate": 100},
        "topics": {"file": str(topics)},
        "http": {"public_url": "https://tin.example.vn"},
    })  # fmt: skip


@asynccontextmanager
async def webhook(tmp_path: Path, db_url: str, fake: FakeZaloAPI
                  ) -> AsyncIterator[tuple[Service, httpx.AsyncClient]]:  # fmt: skip
    """A feedsvc process in Zalo webhook mode and an HTTP client to its app."""
    service = Service(settings_for(tmp_path, db_url, fake), Roles(http=False))
    await service.start()
    transport = httpx.ASGITransport(app=create_app(service))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://feedsvc") as client:
            yield service, client
    finally:
        await service.stop()


async def post(client: httpx.AsyncClient, update: dict[str, Any]) -> None:
    response = await client.post("/zalo/webhook", json={"ok": True, "result": update}, headers=OK)
    assert response.status_code == 200


async def test_the_webhook_keeps_each_chat_s_commands_in_order(
    tmp_path: Path, db_url: str, fake: FakeZaloAPI
) -> None:
    async with webhook(tmp_path, db_url, fake) as (service, client):
        for n, text in enumerate(SAID, 1):
            await post(client, fake.update("ref", text))
            await fake.await_for(lambda n=n: len(replies(fake, "ref")) == n, timeout=WAIT)
        for chat in CHATS:
            for text in SAID:
                await post(client, fake.update(chat, text))  # answered at once: no reply awaited
        await fake.await_for(lambda: all(len(replies(fake, c)) == len(SAID) for c in CHATS),
                             timeout=WAIT)  # fmt: skip
        assert_in_order(service.db, fake, replies(fake, "ref"))


class Held:
    """Wraps ``bot.answer``: records which commands started, and holds the one ``held`` (chat,
    text) until :attr:`release` is set (a slow command, in the bot's worker thread)."""

    def __init__(self, bot: ZaloBot, held: tuple[str, str]) -> None:
        self.started: list[tuple[str, str]] = []
        self.release = threading.Event()
        real: Callable[[Incoming], str | None] = bot.answer

        def answer(incoming: Incoming) -> str | None:
            said = (incoming.chat_id, incoming.text)
            self.started.append(said)
            if said == held:
                assert self.release.wait(WAIT), "never released"
            return real(incoming)

        bot.answer = answer  # type: ignore[method-assign]

    def of(self, chat: str) -> list[str]:
        return [text for c, text in self.started if c == chat]


async def test_a_slow_command_holds_back_its_own_chat_only(
    tmp_path: Path, db_url: str, fake: FakeZaloAPI
) -> None:
    """While one chat's /sub is slow, its /unsub waits for it, the webhook still answers at once,
    and another chat is answered."""
    async with webhook(tmp_path, db_url, fake) as (service, client):
        assert service.zalo is not None
        held = Held(service.zalo.bot, ("slow", "/sub an-ninh"))
        try:
            await post(client, fake.update("slow", "/sub an-ninh"))
            await fake.await_for(lambda: held.of("slow"), timeout=WAIT)
            await asyncio.wait_for(post(client, fake.update("slow", "/unsub an-ninh")), WAIT)
            await post(client, fake.update("fast", "/help"))
            await fake.await_for(lambda: replies(fake, "fast"), timeout=WAIT)
            assert held.of("slow") == ["/sub an-ninh"]  # the /unsub has not started
            assert replies(fake, "slow") == []
        finally:
            held.release.set()
        await fake.await_for(lambda: len(replies(fake, "slow")) == 2, timeout=WAIT)
        assert held.of("slow") == ["/sub an-ninh", "/unsub an-ninh"]
        subscribed, unsubscribed = replies(fake, "slow")
        assert "An ninh" in subscribed and "An ninh" in unsubscribed
        assert unsubscribed != plain_reply(texts.not_subscribed("an-ninh"))
        assert slugs(service.db, "slow") == []


@asynccontextmanager
async def bot_on(db: Database, fake: FakeZaloAPI) -> AsyncIterator[ZaloBot]:
    api = ZaloBotAPI(fake.token, fake.base_url, read_timeout=PATIENT_READ_TIMEOUT)
    bot = ZaloBot(db, api)
    try:
        yield bot
    finally:
        await asyncio.wait_for(bot.drain(), WAIT)
        await api.close()


@on_sqlite
async def test_a_flooding_chat_is_bounded_and_starves_no_one(
    db: Database, fake: FakeZaloAPI
) -> None:
    """A chat sending 300 commands while its first is slow: one task and a bounded lane (the
    rest dropped), another chat still answered; once idle, no per-chat state is left."""
    async with bot_on(db, fake) as bot:
        held = Held(bot, ("flood", "/topics"))
        try:
            assert bot.accept(fake.update("flood", "/topics"))
            await fake.await_for(lambda: held.of("flood"), timeout=WAIT)
            tasks = len(asyncio.all_tasks())
            accepted = sum(bot.accept(fake.update("flood", "/help")) for _ in range(300))
            assert len(asyncio.all_tasks()) == tasks  # the chat's one worker, nothing more
            assert accepted == bot.lanes.per_chat == bot.lanes.waiting("flood") < 300
            assert bot.accept(fake.update("calm", "/help"))
            await fake.await_for(lambda: replies(fake, "calm"), timeout=WAIT)
        finally:
            held.release.set()
        await asyncio.wait_for(bot.drain(), WAIT)
        assert len(held.of("flood")) == 1 + bot.lanes.per_chat
        assert bot.lanes.chats == 0
        for n in range(50):  # chats come and go: none is remembered once its lane is empty
            bot.accept(fake.update(f"once-{n}", "/help"))
        assert bot.lanes.chats == 50
        await asyncio.wait_for(bot.drain(), WAIT)
        assert bot.lanes.chats == 0 and all(replies(fake, f"once-{n}") for n in range(50))


@on_sqlite
async def test_drain_handles_what_was_accepted_and_a_cancelled_drain_cleans_up(
    db: Database, fake: FakeZaloAPI
) -> None:
    """An orderly stop handles every update already accepted, in order, those accepted while
    it drains too; a stop out of time cancels the workers and leaves no lane behind, and the
    chat is answered again afterwards."""
    async with bot_on(db, fake) as bot:
        held = Held(bot, ("z-stop", "/help"))
        try:
            bot.accept(fake.update("z-stop", "/help"))
            await fake.await_for(lambda: held.of("z-stop"), timeout=WAIT)
            bot.accept(fake.update("z-stop", "/topics"))
            draining = asyncio.create_task(bot.drain())
            bot.accept(fake.update("z-stop", "/list"))
            assert not draining.done()
        finally:
            held.release.set()
        await asyncio.wait_for(draining, WAIT)
        assert held.of("z-stop") == ["/help", "/topics", "/list"]
        assert len(replies(fake, "z-stop")) == 3 and bot.lanes.chats == 0

        stuck = Held(bot, ("z-cut", "/help"))
        try:
            bot.accept(fake.update("z-cut", "/help"))
            bot.accept(fake.update("z-cut", "/topics"))
            await fake.await_for(lambda: stuck.of("z-cut"), timeout=WAIT)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(bot.drain(), 0.2)  # the service's bounded stop
            assert bot.lanes.chats == 0
        finally:
            stuck.release.set()
        assert bot.accept(fake.update("z-cut", "/list"))
        await fake.await_for(lambda: replies(fake, "z-cut"), timeout=WAIT)
        assert stuck.of("z-cut") == ["/help", "/list"]  # the abandoned /topics never ran
