"""Digests, quiet hours, silent alerts, buttons and forum threads through the real dispatcher,
against the fake Bot API over HTTP, on SQLite and PostgreSQL. Time is an injected clock: a
digest "a minute ahead" is reached by moving the clock, never by waiting.

The long topic titles of the mute buttons are given one backend each
(``backend_cases.on_backends``): the buttons are cut in Python, from titles both backends store
and return unchanged."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest
from backend_cases import on_backends
from factories import VN, article, builtin_ingestor, clock_start
from fakebot import FakeBotAPI, Limit, most_in_window
from handoffs import HANDOFF_SLACK, handoffs
from patience import PATIENT_READ_TIMEOUT
from sqlalchemy import select, update

from feedsvc.articles import Article
from feedsvc.channels.telegram import TelegramChannel
from feedsvc.db import Database
from feedsvc.db.schema import articles, chats, deliveries, subscriptions
from feedsvc.digest import ChatSettings, DigestSchedule, QuietWindow
from feedsvc.digest.edge import DigestEdge
from feedsvc.dispatch import Dispatcher, DispatchSettings
from feedsvc.ingest import Ingestor
from feedsvc.notify import TelegramSender
from feedsvc.outbox import Outbox
from feedsvc.store import digests as held
from feedsvc.store.lifecycle import set_hidden
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.subscriptions import ensure_chat, subscribe
from feedsvc.store.topics import TopicSpec, get_topic, save_topic

CHAT, GROUP = 5001, -1005002
PUBLIC_URL = "https://tin.example"


class Clock:
    """The dispatcher's clock, moved by the test (from :func:`factories.clock_start`)."""

    def __init__(self) -> None:
        self.at = clock_start()

    def __call__(self) -> datetime:
        return self.at


@dataclass
class Env:
    db: Database
    fake: FakeBotAPI
    ingestor: Ingestor
    sender: TelegramSender
    clock: Clock
    dispatcher: Dispatcher
    n: int = 0

    def publish(self, *titles: str) -> list[Article]:
        items = []
        for title in titles:
            self.n += 1
            items.append(article(self.n, title=title, summary=None, body=None, tags=(),
                                 section=None, published_at=datetime.now(VN)
                                 - timedelta(minutes=10 - self.n)))  # fmt: skip
        with self.db.write() as conn:
            upsert_source_articles(conn, items, datetime.now(UTC))
        assert self.ingestor.tick().error is None
        return items

    async def step(self) -> None:
        await self.dispatcher.step()
        await self.dispatcher.drain()

    def states(self, chat_id: int = CHAT) -> list[str]:
        with self.db.read() as conn:
            stmt = (
                select(deliveries.c.state)
                .where(deliveries.c.chat_id == chat_id)
                .order_by(deliveries.c.id)
            )
            return list(conn.execute(stmt).scalars())

    def settings(self, chat_id: int, value: ChatSettings) -> None:
        with self.db.write() as conn:
            held.save_settings(conn, chat_id, value)


def subscribe_chat(db: Database, chat_id: int, type_: str, *slugs: str, thread: int | None = None
                   ) -> None:  # fmt: skip
    with db.write() as conn:
        now = datetime.now(UTC)
        ensure_chat(conn, chat_id, type_, f"chat {chat_id}", now)
        for slug in slugs:
            topic = get_topic(conn, slug)
            assert topic is not None
            subscribe(conn, chat_id, topic_id=topic.id, query=None, now=now)
            if thread is not None:
                conn.execute(update(subscriptions).where(
                    subscriptions.c.chat_id == chat_id, subscriptions.c.topic_id == topic.id,
                ).values(thread_id=thread))  # fmt: skip


@pytest.fixture
async def env(db: Database) -> AsyncIterator[Env]:
    async with digest_env(db) as e:
        yield e


@asynccontextmanager
async def digest_env(db: Database) -> AsyncIterator[Env]:
    """Two topics (``an-ninh``, ``the-thao``), an ingestor with the outbox, a dispatcher with
    digests on the fake Bot API, its clock moved by the test; no chat subscribed yet."""
    now = datetime.now(UTC)
    with db.write() as conn:
        save_topic(conn, TopicSpec("an-ninh", "An ninh", '"an ninh" OR "công an"'), "cli", now)
        save_topic(conn, TopicSpec("the-thao", "Thể thao", '"bóng đá"'), "cli", now)
    ing = builtin_ingestor(db)
    ing.hooks.append(Outbox(timedelta(hours=48)))
    with FakeBotAPI() as fake:
        sender = TelegramSender(
            fake.token, base_url=fake.base_url, read_timeout=PATIENT_READ_TIMEOUT
        )
        await sender.start()
        clock = Clock()
        dispatcher = Dispatcher(
            db, sender, VN, DispatchSettings(backoff_base=0.05, poll_seconds=0.05),
            digests=DigestEdge(VN, public_url=PUBLIC_URL), clock=clock,
        )  # fmt: skip
        try:
            yield Env(db, fake, ing, sender, clock, dispatcher)
        finally:
            await sender.close()


def local_hhmm(instant: datetime) -> time:
    local = instant.astimezone(VN)
    return time(local.hour, local.minute)


async def test_daily_digest_at_a_time_a_minute_ahead(env: Env) -> None:
    subscribe_chat(env.db, CHAT, "private", "an-ninh", "the-thao")
    due_wall = local_hhmm(env.clock.at + timedelta(minutes=1))
    env.settings(CHAT, ChatSettings(digest=DigestSchedule(times=(due_wall,))))
    env.publish("Công an Kiến Thụy bắt trộm", "Bóng đá: Hải Phòng thắng", "An ninh khu phố")
    await env.step()
    assert env.fake.messages(CHAT) == [] and env.states() == ["held"] * 3
    due = datetime.combine(env.clock.at.astimezone(VN).date(), due_wall, VN).astimezone(UTC)
    if due <= env.clock.at:
        due += timedelta(days=1)
    assert 0 < (due - env.clock.at).total_seconds() <= 60
    env.clock.at = due - timedelta(seconds=1)
    await env.step()
    assert env.fake.messages(CHAT) == []  # not a second early
    env.clock.at = due + timedelta(seconds=1)
    await env.step()
    [digest] = env.fake.messages(CHAT)
    lines = [line.rsplit(" ", 2)[0] if line.startswith("•") else line
             for line in digest.visible.splitlines()]  # fmt: skip
    # grouped by topic (newest first), articles newest first, one "Đọc tất cả" per topic
    assert lines == [
        "Tin tổng hợp · 3 tin", "", "An ninh", "• An ninh khu phố",
        "• Công an Kiến Thụy bắt trộm", "Đọc tất cả »", "", "Thể thao",
        "• Bóng đá: Hải Phòng thắng", "Đọc tất cả »",
    ]  # fmt: skip
    assert f'href="{PUBLIC_URL}/topics/an-ninh"' in digest.body
    assert f'href="{PUBLIC_URL}/topics/the-thao"' in digest.body
    assert env.states() == ["sent"] * 3
    with env.db.read() as conn:
        ids = set(conn.execute(select(deliveries.c.message_id)).scalars())
        kinds = set(conn.execute(select(deliveries.c.message_kind)).scalars())
    assert ids == {digest.message_id}  # one message carries them all
    assert kinds == {"text"}  # as Telegram answered: what the follow-ups edit (0042)
    await env.step()
    assert len(env.fake.messages(CHAT)) == 1  # in at most one digest
    env.publish("Công an phường tuần tra")  # the next one waits for tomorrow's digest
    await env.step()
    assert env.states()[-1] == "held" and len(env.fake.messages(CHAT)) == 1


async def test_quiet_window_ends_with_one_digest(env: Env) -> None:
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    env.publish("Công an trước giờ yên lặng")
    await env.step()
    assert len(env.fake.messages(CHAT)) == 1  # instant: no window yet
    start = local_hhmm(env.clock.at - timedelta(minutes=30))
    end = local_hhmm(env.clock.at + timedelta(minutes=30))
    env.settings(CHAT, ChatSettings(quiet=QuietWindow(start, end)))
    env.publish("Công an lúc nửa đêm", "An ninh rạng sáng")
    for _ in range(3):
        env.clock.at += timedelta(minutes=5)
        env.publish(f"An ninh phút thứ {env.n}")
        await env.step()
    assert len(env.fake.messages(CHAT)) == 1  # nothing inside the window
    env.clock.at += timedelta(minutes=20)  # past the window's end
    await env.step()
    messages = env.fake.messages(CHAT)
    assert len(messages) == 2
    digest = messages[1].visible
    assert digest.startswith("Tin tổng hợp · 5 tin") and "trước giờ yên lặng" not in digest
    assert env.states() == ["sent"] * 6
    env.publish("Công an sau giờ yên lặng")  # after the window: instant again
    env.clock.at += timedelta(seconds=2)  # the chat's pacing slot
    await env.step()
    messages = env.fake.messages(CHAT)
    assert len(messages) == 3 and "Tin tổng hợp" not in messages[2].visible


async def test_a_digest_the_chat_cannot_take_now_waits_without_spinning(env: Env) -> None:
    """Held rows due for a chat that cannot get them now (paused by /pause, bot removed, a
    429 pause) are not sent, and the dispatcher sleeps until the chat can take them instead of
    waking every 10 ms; the digest goes out once the chat can."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    start = local_hhmm(env.clock.at - timedelta(minutes=30))
    end = local_hhmm(env.clock.at + timedelta(minutes=30))
    env.settings(CHAT, ChatSettings(quiet=QuietWindow(start, end)))
    env.publish("Công an lúc nửa đêm", "An ninh rạng sáng")
    await env.step()
    assert env.states() == ["held", "held"]
    env.clock.at += timedelta(minutes=31)  # the window is over: the digest is due
    idle = Dispatcher(env.db, env.sender, VN, DispatchSettings(poll_seconds=30),
                      digests=DigestEdge(VN), clock=env.clock)  # fmt: skip

    def chat(**values: object) -> None:
        with env.db.write() as conn:
            conn.execute(update(chats).where(chats.c.chat_id == CHAT).values(**values))

    for values in ({"paused": True}, {"paused": False, "disabled_reason": "kicked"}):
        chat(**values)
        assert await idle.step() == 30  # nothing it could send: the usual poll, no 10 ms loop
        await idle.drain()
        assert env.fake.messages(CHAT) == [] and env.states() == ["held", "held"]
    chat(disabled_reason=None, blocked_until=env.clock.at + timedelta(seconds=12))
    assert 11 <= await idle.step() <= 12  # until the 429 pause ends
    chat(blocked_until=None)
    await idle.step()
    await idle.drain()
    [digest] = env.fake.messages(CHAT)
    assert digest.visible.startswith("Tin tổng hợp · 2 tin") and env.states() == ["sent"] * 2


async def test_silent_alerts_and_buttons(env: Env) -> None:
    subscribe_chat(env.db, CHAT, "private", "an-ninh", "the-thao")
    subscribe_chat(env.db, GROUP, "supergroup", "an-ninh")
    env.settings(CHAT, ChatSettings(silent=True))
    [item] = env.publish("Công an điều tra vụ bóng đá")  # both topics: two mute buttons
    await env.step()
    [alert] = env.fake.messages(CHAT)
    assert alert.silent
    [loud] = env.fake.messages(GROUP)
    assert not loud.silent
    with env.db.read() as conn:
        topics = {t: get_topic(conn, t) for t in ("an-ninh", "the-thao")}
    rows = alert.keyboard
    assert rows[0] == [{"text": "Đọc bài", "url": item.url}]
    assert [r[0]["callback_data"] for r in rows[1:]] == [
        f"mute:{topics['an-ninh'].id}",
        f"mute:{topics['the-thao'].id}",  # type: ignore[union-attr]
    ]
    assert rows[1][0]["text"] == "🔕 Tắt An ninh"


async def test_forum_thread_and_deleted_thread_fallback(env: Env) -> None:
    env.fake.add_chat(GROUP, "supergroup", "Tòa soạn").is_forum = True
    subscribe_chat(env.db, GROUP, "supergroup", "an-ninh", thread=77)
    env.publish("Công an tuần tra")
    await env.step()
    [first] = env.fake.messages(GROUP)
    assert first.thread_id == 77
    env.fake.delete_thread(GROUP, 77)
    env.clock.at += timedelta(seconds=5)
    env.publish("Công an phường")
    for _ in range(3):
        env.clock.at += timedelta(seconds=5)
        await env.step()
    second = env.fake.messages(GROUP)[1]
    assert second.thread_id is None  # the general thread, once, saying so
    assert second.visible.startswith("ℹ️ Chủ đề diễn đàn nhận tin này đã bị xoá")
    env.publish("Công an xã")
    env.clock.at += timedelta(seconds=5)
    await env.step()
    third = env.fake.messages(GROUP)[2]
    assert third.thread_id is None and "ℹ️" not in third.visible  # said once only
    assert env.states(GROUP) == ["sent"] * 3
    with env.db.read() as conn:
        assert conn.execute(select(subscriptions.c.thread_id)).scalars().all() == [None]


async def test_hiding_ends_a_held_alert_at_once(env: Env) -> None:
    """An editor hides an article while its alert waits for a digest: the alert ends
    ``withdrawn`` now (SPEC §10: queued deliveries end), not at digest time."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    env.settings(CHAT, ChatSettings(digest=DigestSchedule(hourly=True)))
    _kept, hidden = env.publish("Công an giữ lại", "Công an bị ẩn")
    await env.step()
    assert env.states() == ["held", "held"]
    with env.db.write() as conn:
        assert set_hidden(conn, hidden.source_key, True, datetime.now(UTC), "sai") is not None
    assert env.states() == ["held", "withdrawn"]


async def test_withdrawn_articles_are_left_out_of_the_digest(env: Env) -> None:
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    env.settings(CHAT, ChatSettings(digest=DigestSchedule(hourly=True)))
    _kept, hidden = env.publish("Công an giữ lại", "Công an bị ẩn")
    await env.step()
    with env.db.write() as conn:
        conn.execute(update(articles).where(articles.c.source_key == hidden.source_key)
                     .values(hidden_at=datetime.now(UTC)))  # fmt: skip
    env.clock.at += timedelta(hours=1, minutes=1)
    await env.step()
    [digest] = env.fake.messages(CHAT)
    assert "Công an giữ lại" in digest.visible and "bị ẩn" not in digest.visible
    assert digest.visible.startswith("Tin tổng hợp · 1 tin")
    assert env.states() == ["sent", "withdrawn"]


def test_the_service_wires_digest_links_and_language() -> None:
    from feedsvc.channels.fleet import digest_edge
    from feedsvc.channels.telegram import LIMITS
    from feedsvc.config import HttpSettings, Settings, SiteSettings

    settings = Settings(http=HttpSettings(public_url="https://tin.example/"),
                        site=SiteSettings(language="en"))  # fmt: skip

    class Channel:
        limits = LIMITS

    edge = digest_edge(settings, Channel())  # type: ignore[arg-type]
    assert edge.topic_url("kien-thuy") == "https://tin.example/topics/kien-thuy"
    assert edge.words.read_all == "Read all" and edge.buttons and edge.limit == 4096


async def wait_for(done: Callable[[], bool], timeout: float) -> None:
    """Poll ``done`` (a DB read) until true, failing after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not done():
        assert loop.time() < deadline, f"not done within {timeout} s"
        await asyncio.sleep(0.05)


class RunningClock:
    """The dispatcher's clock running in real time (the send budget refills as it passes),
    set ``ahead`` by the test to reach a digest's time."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead


def digests_due_together(env: Env, chats: list[int]) -> RunningClock:
    """``chats`` subscribed to ``an-ninh`` in private, each with a daily digest at the same
    minute, one to two minutes ahead of the returned running clock: its ``ahead`` set to two
    minutes reaches it.

    Not the next minute: a set-up that then crossed into it queued the alerts after the
    digest's time, held for the next day's (CI: "not done within 30 s", at 21:05 UTC); a
    whole minute now lies between this call and the digest's time."""
    for chat in chats:
        subscribe_chat(env.db, chat, "private", "an-ninh")
    clock = RunningClock()
    due_wall = local_hhmm(clock() + timedelta(minutes=2))
    for chat in chats:
        env.settings(chat, ChatSettings(digest=DigestSchedule(times=(due_wall,))))
    return clock


async def test_a_digests_later_parts_draw_on_the_global_budget(env: Env) -> None:
    """A digest is claimed with one slot of the global budget, but a long one goes out in
    several messages: the later parts, paced only to the chat's 1 s, took no slot and passed
    no release gate. Many chats' digests due at one time (07:00 for a newsroom's readers) then
    sent up to parts-per-digest times the configured rate: here 4/s planned, and the fake Bot
    API's 5 per second broken. Each part must be a call like any other: within the budget and
    1 / rate after the call before it."""
    chats = [6100 + i for i in range(6)]
    clock = digests_due_together(env, chats)
    env.publish(*(f"Công an Kiến Thụy: tin thứ {n} về an ninh khu phố" for n in range(1, 5)))
    with FakeBotAPI(global_limit=Limit(5, 1.0)) as fake, handoffs(fake) as sent:
        sender = TelegramSender(
            fake.token, base_url=fake.base_url, read_timeout=PATIENT_READ_TIMEOUT
        )
        async with sender:
            channel = TelegramChannel(sender, VN, global_rate=4)
            d = Dispatcher(
                env.db, channel, VN, DispatchSettings(poll_seconds=0.05, backoff_base=0.05),
                digests=DigestEdge(VN, public_url=PUBLIC_URL, limit=300), clock=clock,
            )  # fmt: skip
            await d.step()  # held for the digest
            assert fake.calls == []
            clock.ahead = timedelta(minutes=2)
            task = asyncio.create_task(d.run())
            try:
                await wait_for(lambda: all(env.states(c) == ["sent"] * 4 for c in chats), 30)
            finally:
                d.stop()
                await task
        # when each call was handed to the transport, in the sending thread (tests/handoffs.py): the
        # fake's own times bunch when its thread waits for the GIL on a loaded machine
        calls = sent.times("sendmessage")
        assert len(calls) == len([c for c in fake.calls if c.method == "sendmessage"])
        assert len(calls) > len(chats)  # several parts per digest
        assert most_in_window(calls, 0.95) <= 5, calls  # the fake's global rule, on those times
        gaps = [b - a for a, b in itertools.pairwise(calls)]
        assert min(gaps) >= 0.5 / 4 - HANDOFF_SLACK, sorted(gaps)


@pytest.mark.parametrize(("db_url", "title"), on_backends([
    "🔥" * 500,  # an emoji is 12 bytes of the JSON the client sends
    ("Cháy rừng 🔥 " * 50)[:500],
    "𝐓𝐢𝐧 " * 125,  # astral letters
    "Đ" * 500,  # 6 bytes each: under the limit even whole (a guard)
], label=lambda t: ascii(t)[1:13]), indirect=["db_url"])  # fmt: skip
async def test_mute_buttons_of_long_topic_titles_keep_the_alert(env: Env, title: str) -> None:
    """An alert matching three topics whose titles are long (titles take 500 characters) had
    a mute button holding each whole title: a keyboard over Telegram's ~10 KB ("Reply markup
    is too long"), the alert refused and recorded as bad content, never sent. A button now
    shows the title's start, cut in whole graphemes."""
    now = datetime.now(UTC)
    with env.db.write() as conn:
        for i in range(3):
            save_topic(conn, TopicSpec(f"dai-{i}", f"{i}{title}"[:500], '"cháy rừng"'), "cli", now)
    subscribe_chat(env.db, CHAT, "private", "dai-0", "dai-1", "dai-2")
    env.publish("Cháy rừng ở Kiến Thụy")
    await env.step()
    assert env.states() == ["sent"]
    [alert] = env.fake.messages(CHAT)
    mutes = [row[0]["text"] for row in alert.keyboard[1:]]
    assert len(mutes) == 3
    for i, text in enumerate(mutes):
        assert text.startswith(f"🔕 Tắt {i}{title[:10]}") and text.endswith("…"), text
        assert len(text) <= 60, text
