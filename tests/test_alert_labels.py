"""A queued alert's topic labels are decided when it is sent, not when it was queued
(``feedsvc.wanted``): after a partial unsubscribe — the chat followed A and B, both matched,
then it left B, B was disabled or deleted, or its own query stopped matching — the alert still
went out "Chủ đề: A, B", and a digest listed it under B. Corrections already relabelled; now
single alerts and digests do too, on Telegram (the fake Bot API), Zalo (the fake Zalo Bot API)
and Apprise (a local JSON receiver), all over real HTTP, each asserting the text received.

SQLite only (``backend_cases.on_sqlite`` and ``on_sqlite_only``): the point is the text each
channel receives; the labels are decided by ``wanted.wants``' SQL, run on PostgreSQL by
``test_wanted.py``, and the digests' and the outbox's statements by ``test_digest_dispatch.py``
and ``test_dispatch.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest
from backend_cases import on_sqlite, on_sqlite_only
from factories import VN, article, builtin_ingestor
from fakebot import FakeBotAPI
from fakezalo import FakeZaloAPI
from patience import PATIENT_READ_TIMEOUT
from receiver import Receiver
from sqlalchemy import select
from test_digest_dispatch import CHAT, PUBLIC_URL, Clock, digest_env

from feedsvc import operations as ops
from feedsvc.articles import Article
from feedsvc.channels.apprise import AppriseChannel
from feedsvc.channels.base import Channel
from feedsvc.channels.fleet import digest_edge
from feedsvc.channels.zalo import ZaloBotAPI, ZaloChannel
from feedsvc.config import HttpSettings, Settings
from feedsvc.db import Database
from feedsvc.db.schema import deliveries
from feedsvc.digest import ChatSettings, DigestSchedule
from feedsvc.dispatch import Dispatcher, DispatchSettings
from feedsvc.ingest import Ingestor
from feedsvc.outbox import Outbox
from feedsvc.store import digests as held
from feedsvc.store import subscriptions as sub_store
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec, save_topic

QUERY = '"tuần tra"'
CHANNELS = ["telegram", "zalo", "apprise"]


@dataclass
class World:
    """One recipient on one channel, the two topics of ``digest_env`` (``an-ninh`` "An ninh",
    ``the-thao`` "Thể thao"), the outbox and that channel's dispatcher on a moved clock."""

    db: Database
    ingestor: Ingestor
    dispatcher: Dispatcher
    clock: Clock
    channel: str
    received: Callable[[], list[str]]  # the texts the recipient got, in order
    chat_id: int = 0
    address: str | None = None
    published: dict[int, Article] = field(default_factory=dict)
    bot: FakeBotAPI | None = None  # Telegram's: its messages' buttons

    def follow(self, topic: str | None = None, query: str | None = None) -> None:
        """Subscribe as the CLI and the API do (``subs add``)."""
        if self.channel == "telegram":
            sub, _ = ops.add_subscription(self.db, CHAT, "private", topic=topic, query=query)
        else:
            sub, _ = ops.add_subscription(self.db, None, None, topic=topic, query=query,
                                          channel=self.channel, address=self.address)  # fmt: skip
        self.chat_id = sub.chat_id

    def unfollow(self, topic: str | None = None, query: str | None = None) -> None:
        """``subs remove ID`` (CLI) / ``DELETE /api/subscriptions/{id}``."""
        with self.db.read() as conn:
            subs = sub_store.list_subscriptions(conn, self.chat_id)
        [sub] = [s for s in subs if s.topic_slug == topic and s.query == query]
        ops.remove_subscription(self.db, sub.id)

    def digest(self) -> None:
        with self.db.write() as conn:
            held.save_settings(conn, self.chat_id, ChatSettings(digest=DigestSchedule(hourly=True)))

    def publish(self, *titles: str) -> None:
        for title in titles:
            n = len(self.published) + 1
            self.published[n] = article(
                n, title=title, summary=None, body=None, tags=(), section=None,
                published_at=datetime.now(VN) - timedelta(minutes=10 - n),
            )  # fmt: skip
            self._ingest(self.published[n])

    def correct(self, n: int, title: str) -> None:
        """The CMS edits article ``n`` while its alert waits."""
        self._ingest(replace(self.published[n], title=title, updated_at=datetime.now(UTC)))

    def _ingest(self, item: Article) -> None:
        with self.db.write() as conn:
            upsert_source_articles(conn, [item], datetime.now(UTC))
        assert self.ingestor.tick().error is None

    async def settle(self, steps: int = 4) -> None:
        """Dispatcher steps, the clock past the chat's pacing (or its digest) between them."""
        for _ in range(steps):
            await self.dispatcher.step()
            await self.dispatcher.drain()
            self.clock.at += timedelta(seconds=5)

    async def digest_due(self) -> None:
        await self.settle(1)
        assert self.received() == [] and set(self.states()) == {"held"}
        self.clock.at += timedelta(hours=1, minutes=1)
        await self.settle()

    def states(self) -> list[str]:
        with self.db.read() as conn:
            stmt = select(deliveries.c.state).where(deliveries.c.chat_id == self.chat_id)
            return list(conn.execute(stmt.order_by(deliveries.c.id)).scalars())

    def recorded(self) -> list[list[str]]:
        """``deliveries.topics``: the labels each alert went out with."""
        with self.db.read() as conn:
            stmt = select(deliveries.c.topics).where(deliveries.c.chat_id == self.chat_id)
            return [list(t) for t in conn.execute(stmt.order_by(deliveries.c.id)).scalars()]


@asynccontextmanager
async def other_channel(db: Database, kind: str) -> AsyncIterator[World]:
    """Zalo or Apprise, on the same topics and the same moved clock as ``digest_env``."""
    now = datetime.now(UTC)
    with db.write() as conn:
        save_topic(conn, TopicSpec("an-ninh", "An ninh", '"an ninh" OR "công an"'), "cli", now)
        save_topic(conn, TopicSpec("the-thao", "Thể thao", '"bóng đá"'), "cli", now)
    ing = builtin_ingestor(db)
    ing.hooks.append(Outbox(timedelta(hours=48)))
    settings = Settings(http=HttpSettings(public_url=PUBLIC_URL))
    with FakeZaloAPI() as fake, Receiver() as receiver:
        channel: Channel
        if kind == "zalo":
            api = ZaloBotAPI(fake.token, fake.base_url, read_timeout=PATIENT_READ_TIMEOUT)
            channel = ZaloChannel(api, VN, global_rate=50)
            address = "z-lan"

            def received() -> list[str]:
                return [m.text for m in fake.messages(address)]
        else:
            channel = AppriseChannel(VN)
            address = receiver.url("lan")

            def received() -> list[str]:
                # what a person sees: the title Apprise sends apart, above the body
                return [
                    (f"{r.body['title']}\n\n" if r.body.get("title") else "") + r.body["message"]
                    for r in receiver.at("lan")
                ]

        clock = Clock()
        dispatcher = Dispatcher(
            db, channel, VN, DispatchSettings(backoff_base=0.05, poll_seconds=0.05),
            digests=digest_edge(settings, channel), clock=clock,
        )  # fmt: skip
        await channel.start()
        try:
            yield World(db, ing, dispatcher, clock, kind, received, address=address)
        finally:
            await channel.close()


@pytest.fixture
def kind(request: pytest.FixtureRequest) -> str:
    """The channel: Telegram unless a test is parametrized over :data:`CHANNELS`."""
    return str(getattr(request, "param", "telegram"))


@pytest.fixture
async def world(db: Database, kind: str) -> AsyncIterator[World]:
    if kind == "telegram":
        async with digest_env(db) as env:
            texts = lambda: [m.visible for m in env.fake.messages(CHAT)]  # noqa: E731
            yield World(env.db, env.ingestor, env.dispatcher, env.clock, kind, texts, bot=env.fake)
    else:
        async with other_channel(db, kind) as w:
            yield w


def topic_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("Chủ đề:")]


def headings(digest: str) -> list[str]:
    """A digest's group headings: the line after each blank one."""
    lines = digest.splitlines()
    return [lines[i + 1] for i, line in enumerate(lines[:-1]) if not line.strip()]


# -- single alerts ------------------------------------------------------------------------------
BOTH = "Công an: bóng đá phong trào"  # matches an-ninh and the-thao


def _unfollowed(w: World) -> None:
    w.unfollow(topic="the-thao")


def _unsubscribed_by_bot(w: World) -> None:  # the bot's /unsub and mute button, Zalo's too
    with w.db.write() as conn:
        topic = ops.get_topic(w.db, "the-thao")
        assert sub_store.unsubscribe(conn, w.chat_id, topic_id=topic.id, query=None) == 1


def _disabled(w: World) -> None:
    ops.set_topic_enabled(w.db, "the-thao", False)


def _deleted(w: World) -> None:
    ops.delete_topic(w.db, "the-thao", with_subscriptions=True)


@pytest.mark.parametrize(
    ("db_url", "end"),
    on_sqlite_only([_unfollowed, _unsubscribed_by_bot, _disabled, _deleted]),
    indirect=["db_url"],
)
async def test_a_topic_the_chat_no_longer_follows_leaves_the_label(
    world: World, end: Callable[[World], None]
) -> None:
    world.follow(topic="an-ninh")
    world.follow(topic="the-thao")
    world.publish(BOTH)
    assert world.states() == ["pending"]
    end(world)
    await world.settle()
    [text] = world.received()
    assert topic_lines(text) == ["Chủ đề: An ninh"] and "Thể thao" not in text
    assert world.states() == ["sent"] and world.recorded() == [["An ninh"]]
    assert world.bot is not None
    [alert] = world.bot.messages(CHAT)  # a mute button for the topic it still follows only
    assert [row[0]["text"] for row in alert.keyboard[1:]] == ["🔕 Tắt An ninh"]


@pytest.mark.parametrize(("db_url", "kind"), on_sqlite_only(CHANNELS), indirect=True)
async def test_a_partial_unsubscribe_relabels_on_every_channel(world: World) -> None:
    world.follow(topic="an-ninh")
    world.follow(topic="the-thao")
    world.publish(BOTH)
    world.unfollow(topic="an-ninh")
    await world.settle()
    [text] = world.received()
    assert topic_lines(text) == ["Chủ đề: Thể thao"] and "An ninh" not in text


@on_sqlite
async def test_an_own_query_no_longer_matching_leaves_the_label(world: World) -> None:
    """A correction of the article while its alert waits takes it out of the query."""
    world.follow(topic="an-ninh")
    world.follow(query=QUERY)
    world.publish("Công an phường tuần tra")
    world.correct(1, "Công an phường trực đêm")
    await world.settle()
    [text] = world.received()
    assert "trực đêm" in text and topic_lines(text) == ["Chủ đề: An ninh"]


@on_sqlite
async def test_the_own_query_left_is_the_label(world: World) -> None:
    world.follow(topic="an-ninh")
    world.follow(query=QUERY)
    world.publish("Công an phường tuần tra")
    world.unfollow(topic="an-ninh")
    await world.settle()
    [text] = world.received()
    assert topic_lines(text) == [f"Chủ đề: {QUERY}"]


@on_sqlite
async def test_a_topic_retitled_meanwhile_shows_its_current_title(world: World) -> None:
    """As a correction's label does (``retraction.labels``): the title the topic has now."""
    world.follow(topic="an-ninh")
    world.follow(topic="the-thao")
    world.publish(BOTH)
    ops.edit_topic(world.db, ops.TopicEdit("an-ninh", "An ninh - Trật tự",
                                           '"an ninh" OR "công an"'), "cli")  # fmt: skip
    await world.settle()
    [text] = world.received()
    assert topic_lines(text) == ["Chủ đề: An ninh - Trật tự, Thể thao"]


@on_sqlite
async def test_labels_stay_as_queued_while_both_are_followed(world: World) -> None:
    world.follow(topic="an-ninh")
    world.follow(topic="the-thao")
    world.follow(query=QUERY)
    world.publish(BOTH, "Công an phường tuần tra")
    await world.settle()
    first, second = world.received()
    assert topic_lines(first) == ["Chủ đề: An ninh, Thể thao"]
    assert topic_lines(second) == [f"Chủ đề: An ninh, {QUERY}"]
    assert world.recorded() == [["An ninh", "Thể thao"], ["An ninh", QUERY]]


@pytest.mark.parametrize(("db_url", "kind"), on_sqlite_only(CHANNELS), indirect=True)
async def test_an_own_query_of_words_is_labelled_as_its_search_feed_is_titled(
    world: World,
) -> None:
    """Quoted as a search feed's title quotes it (``fieldtext.quoted_query``): a chat's own
    query of bare words went out "Chủ đề: An ninh, tuần tra", a topic's title to the eye."""
    world.follow(topic="an-ninh")
    world.follow(query="tuần tra")
    world.publish("Công an phường tuần tra")
    await world.settle()
    [text] = world.received()
    assert topic_lines(text) == ["Chủ đề: An ninh, “tuần tra”"]
    assert world.recorded() == [["An ninh", "“tuần tra”"]]


# -- digests ------------------------------------------------------------------------------------
@on_sqlite
async def test_a_digest_lists_an_entry_under_a_topic_still_followed(world: World) -> None:
    """The chat's first topic was disabled: its articles go under the one it still follows."""
    world.follow(topic="an-ninh")
    world.follow(topic="the-thao")
    world.digest()
    world.publish(BOTH, "Bóng đá: Hải Phòng thắng")
    ops.set_topic_enabled(world.db, "an-ninh", False)
    await world.digest_due()
    [digest] = world.received()
    assert headings(digest) == ["Thể thao"] and "An ninh" not in digest
    assert "bóng đá phong trào" in digest and "Hải Phòng thắng" in digest
    assert world.states() == ["sent", "sent"]


@pytest.mark.parametrize(("db_url", "kind"), on_sqlite_only(CHANNELS), indirect=True)
async def test_a_digest_entry_goes_under_the_own_query_left(world: World) -> None:
    world.follow(topic="an-ninh")
    world.follow(query=QUERY)
    world.digest()
    world.publish("Công an phường tuần tra", "An ninh khu phố")
    world.unfollow(topic="an-ninh")
    await world.digest_due()
    [digest] = world.received()
    assert headings(digest) == [QUERY] and "An ninh" not in digest
    assert "Công an phường tuần tra" in digest
    assert world.states() == ["sent", "unsubscribed"] and world.recorded()[0] == [QUERY]


@on_sqlite
async def test_a_digest_group_of_an_own_query_of_words_is_quoted(world: World) -> None:
    world.follow(query="tuần tra")
    world.digest()
    world.publish("Công an phường tuần tra")
    await world.digest_due()
    [digest] = world.received()
    assert headings(digest) == ["“tuần tra”"] and world.recorded() == [["“tuần tra”"]]


@on_sqlite
async def test_a_digest_entry_leaves_an_own_query_it_no_longer_matches(world: World) -> None:
    world.follow(query=QUERY)
    world.follow(query='"công an"')
    world.digest()
    world.publish("Công an phường tuần tra")
    world.correct(1, "Công an phường trực đêm")
    await world.digest_due()
    [digest] = world.received()
    assert headings(digest) == ['"công an"'] and QUERY not in digest
