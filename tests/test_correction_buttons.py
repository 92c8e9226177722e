"""A corrected alert keeps the "↩ Bật lại" a reader was offered: pressing "🔕 Tắt" under an alert
unsubscribes the chat and swaps the button for its undo, and a correction of the article then
rebuilt the keyboard from what the chat follows now, so the undo vanished with the mute. End to
end through ingest, the dispatcher, the bot's button handler and the follow-up worker against
the fake Bot API (real HTTP); the rule itself is :mod:`feedsvc.retraction.undo`.

SQLite only (``lite_db``): the point is which buttons an edited alert carries; the mute and its
undo are the bot's statements, run on PostgreSQL by ``test_digest_bot.py`` (the mute button
and its undo), and the correction's way through the follow-up queue by
``test_retraction.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from factories import VN
from fakebot import FakeBotAPI
from sqlalchemy import select
from test_bot import ask, make_bot, subs_of
from test_retraction import PRIVATE, Env, fresh, retraction_env, subscribe_chat

from feedsvc.bot import options
from feedsvc.channels.telegram import TelegramChannel
from feedsvc.db import Database
from feedsvc.db.schema import article_topics
from feedsvc.digest.edge import DigestEdge
from feedsvc.retraction.worker import FollowupSettings, FollowupWorker
from feedsvc.store.subscriptions import subscribe
from feedsvc.store.topics import TopicSpec, delete_topic, get_topic, save_topic

URL = "https://example.vn/tin/1.html"
# matches both topics of the environment: "công an" (an-ninh) and "Kiến Thụy" (kien-thuy)
STORY = dict(
    title="Công an Kiến Thụy bắt đối tượng trộm cắp",
    summary="Lực lượng công an nhanh chóng làm rõ vụ việc.",
    url=URL,
)
FIX = dict(title="Công an huyện Kiến Thụy bắt hai đối tượng trộm cắp")
Keyboard = list[list[dict[str, Any]]]


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


@pytest.fixture
async def world(lite_db: Database, fake: FakeBotAPI) -> AsyncIterator[Env]:
    async with retraction_env(lite_db, fake) as env:
        yield env


def topic_id(db: Database, slug: str) -> int:
    with db.read() as conn:
        topic = get_topic(conn, slug)
    assert topic is not None
    return topic.id


def add_topic(db: Database, slug: str, title: str, query: str) -> int:
    with db.write() as conn:
        save_topic(conn, TopicSpec(slug, title, query), "cli", datetime.now(UTC))
    return topic_id(db, slug)


def matched(db: Database) -> set[int]:
    """The topics the article matches now (``article_topics``)."""
    with db.read() as conn:
        return set(conn.execute(select(article_topics.c.topic_id)).scalars())


def read() -> dict[str, str]:
    return {"text": "Đọc bài", "url": URL}


def mute(db: Database, slug: str, title: str) -> dict[str, str]:
    return {"text": f"🔕 Tắt {title}", "callback_data": f"mute:{topic_id(db, slug)}"}


def undo(topic: int, title: str) -> dict[str, str]:
    return {"text": f"↩ Bật lại {title}", "callback_data": f"undo:{topic}"}


async def alerted(world: Env) -> int:
    """PRIVATE follows both topics and gets the alert (a link, then a mute button per topic
    in subscription order); its message id."""
    subscribe_chat(world.db, PRIVATE, "private", "an-ninh", "kien-thuy")
    world.publish(fresh(1, **STORY))
    await world.dispatch()
    mid = world.sent()[PRIVATE]
    sent = world.fake.live(PRIVATE, mid)
    assert "Chủ đề: An ninh, Kiến Thụy" in sent.visible
    [message] = [m for m in world.fake.all_messages if m.chat_id == PRIVATE]
    assert message.keyboard == [
        [read()], [mute(world.db, "an-ninh", "An ninh")],
        [mute(world.db, "kien-thuy", "Kiến Thụy")],
    ]  # fmt: skip
    return mid


async def corrected(world: Env, mid: int, n: int = 1) -> Keyboard:
    """The article corrected in the source (the ``n``-th time); the keyboard its edit sent."""
    title = f"{FIX['title']} ({n})" if n > 1 else FIX["title"]
    when = datetime.now(UTC) + timedelta(seconds=n)
    world.publish(replace(fresh(1, **STORY), title=title, updated_at=when))
    settings = FollowupSettings(backoff_base=0.05, poll_seconds=0.5, sweep_seconds=0.5)
    worker = FollowupWorker(world.db, TelegramChannel(world.sender, VN), VN, settings,
                            digests=DigestEdge(VN))  # fmt: skip
    await world.follow_up(worker)
    live = world.fake.live(PRIVATE, mid)
    assert len(live.edits) == n and title in live.visible
    markup = world.fake.markups[(PRIVATE, mid)]
    assert markup is not None
    return list(markup["inline_keyboard"])


async def test_a_correction_keeps_the_undo_of_a_topic_muted_by_its_button(world: Env) -> None:
    """The reader presses "🔕 Tắt An ninh" (the bot's real handler); the correction's keyboard
    still offers "↩ Bật lại An ninh" and keeps the other topic's mute button, and so does a
    second correction (the labels the alert went out with are not rewritten)."""
    mid = await alerted(world)
    an_ninh = topic_id(world.db, "an-ninh")
    bot = make_bot(world.db, world.fake.base_url, world.fake.token)
    await bot.start()
    try:
        await world.fake.await_for(lambda: bot.polling)
        world.fake.user_presses(PRIVATE, PRIVATE, mid, f"mute:{an_ninh}")
        pressed = await world.fake.await_for(lambda: world.fake.markups.get((PRIVATE, mid)))
    finally:
        await bot.stop()
    assert world.fake.callback_answers[0]["text"].startswith("Đã tắt An ninh")
    assert pressed["inline_keyboard"][1] == [undo(an_ninh, "An ninh")]
    assert subs_of(world.db, PRIVATE) == ["kien-thuy"]
    expected = [[read()], [mute(world.db, "kien-thuy", "Kiến Thụy")], [undo(an_ninh, "An ninh")]]
    assert await corrected(world, mid) == expected
    assert await corrected(world, mid, 2) == expected


async def test_a_correction_offers_the_undo_after_unsub(world: Env) -> None:
    """Unsubscribed by ``/unsub`` after the alert went out, not by its button: the correction
    offers the undo all the same (the alert named the topic)."""
    mid = await alerted(world)
    bot = make_bot(world.db, world.fake.base_url, world.fake.token)
    await bot.start()
    try:
        await world.fake.await_for(lambda: bot.polling)
        await ask(world.fake, PRIVATE, "/unsub kien-thuy")
    finally:
        await bot.stop()
    assert subs_of(world.db, PRIVATE) == ["an-ninh"]
    assert await corrected(world, mid) == [
        [read()], [mute(world.db, "an-ninh", "An ninh")],
        [undo(topic_id(world.db, "kien-thuy"), "Kiến Thụy")],
    ]  # fmt: skip


async def test_no_undo_for_a_deleted_topic_or_one_created_after_the_alert(world: Env) -> None:
    """Both topics muted; one is then deleted, and a new topic of its title created, which
    the corrected article matches: the undo stays only for the topic that is still there
    (a gone topic has nothing to follow again; the new one was never followed)."""
    mid = await alerted(world)
    kien_thuy = topic_id(world.db, "kien-thuy")
    for slug in ("an-ninh", "kien-thuy"):
        title, thread = options.mute(world.db, PRIVATE, topic_id(world.db, slug))
        assert title is not None and thread is None
    with world.db.write() as conn:
        assert delete_topic(conn, "an-ninh", world.db.now()) is not None
    new = add_topic(world.db, "an-ninh-moi", "An ninh", '"công an"')
    keyboard = await corrected(world, mid)
    assert new in matched(world.db)  # the correction matched it
    assert keyboard == [[read()], [undo(kien_thuy, "Kiến Thụy")]]


async def test_no_button_for_a_topic_the_chat_never_followed(world: Env) -> None:
    """Topics the article matches that the chat never followed get no button, not even one
    whose title is that of a topic the chat follows; the muted one gets its undo."""
    trom_cap = add_topic(world.db, "trom-cap", "Trộm cắp", '"trộm cắp"')
    twin = add_topic(world.db, "an-ninh-2", "An ninh", '"công an"')
    mid = await alerted(world)
    options.mute(world.db, PRIVATE, topic_id(world.db, "kien-thuy"))
    keyboard = await corrected(world, mid)
    assert {trom_cap, twin} <= matched(world.db)
    assert keyboard == [
        [read()], [mute(world.db, "an-ninh", "An ninh")],
        [undo(topic_id(world.db, "kien-thuy"), "Kiến Thụy")],
    ]  # fmt: skip
    pressed = [b.get("callback_data", "") for row in keyboard for b in row]
    assert not any(d.endswith(f":{t}") for d in pressed for t in (trom_cap, twin))


async def test_a_chat_that_subscribed_again_gets_the_mute_again(world: Env) -> None:
    """Both muted, then one followed again (/sub, the undo button): that one is a mute button
    again, the other keeps its undo."""
    mid = await alerted(world)
    an_ninh, kien_thuy = topic_id(world.db, "an-ninh"), topic_id(world.db, "kien-thuy")
    for topic in (an_ninh, kien_thuy):
        options.mute(world.db, PRIVATE, topic)
    with world.db.write() as conn:
        subscribe(conn, PRIVATE, topic_id=an_ninh, query=None, now=datetime.now(UTC))
    assert await corrected(world, mid) == [
        [read()], [mute(world.db, "an-ninh", "An ninh")], [undo(kien_thuy, "Kiến Thụy")],
    ]  # fmt: skip


# -- the rule, pure ----------------------------------------------------------------------------
SENT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
BEFORE = SENT - timedelta(days=1)


def test_which_unfollowed_topics_get_an_undo() -> None:
    from feedsvc.retraction.undo import undo_topics
    from feedsvc.store.digests import Match, Unfollowed

    a, b = Unfollowed(1, "a", "A", BEFORE), Unfollowed(2, "b", "B", BEFORE)
    twin = Unfollowed(3, "a-2", "A", BEFORE)
    followed_a = Match(1, "a", "A", None)
    ids = lambda found: [m.topic_id for m in found]  # noqa: E731
    assert ids(undo_topics(["A", "B"], [], [b, a], [], SENT)) == [1, 2]  # the labels' order
    assert all(m.thread_id is None for m in undo_topics(["A"], [], [a], [], SENT))
    assert undo_topics(["A"], [], [a], [], None) == []  # send time unknown
    assert undo_topics(["B"], [], [a], [], SENT) == []  # not named by the alert
    late = Unfollowed(1, "a", "A", SENT + timedelta(seconds=1))
    assert undo_topics(["A"], [], [late], [], SENT) == []  # created after the send
    # "A" accounted for by a topic the chat follows, or by its own query of that text
    assert undo_topics(["A"], [followed_a], [twin], [], SENT) == []
    assert undo_topics(["A"], [], [a], ["A"], SENT) == []
    # two unfollowed topics titled "A", one label: which one the alert named is not known
    assert undo_topics(["A"], [], [a, twin], [], SENT) == []
    assert ids(undo_topics(["A", "A"], [], [a, twin], [], SENT)) == [1, 3]


def test_undo_buttons_are_kept_first_within_the_cap() -> None:
    from feedsvc.store.digests import Match

    followed = [Match(i, f"t{i}", f"T{i}", None) for i in range(1, 5)]
    rows = DigestEdge(VN).buttons_for(URL, followed, [Match(9, "m", "M", 77)])
    assert [b.data for (b,) in rows[1:]] == ["mute:1", "mute:2", "undo:9:77"]
    assert rows[-1][0].text == "↩ Bật lại M"


@pytest.mark.parametrize(
    "url",
    ["http://intranet/tin/1.html", "https://tin/1", "http://localhost:8080/a", "https://vn./a"],
)
def test_no_read_button_for_a_bare_host(url: str) -> None:
    """Telegram refuses a message whose URL button has a host without a dot (400
    BUTTON_URL_INVALID), and that refusal lost the alert: such an article gets no read button,
    its mute buttons stay."""
    from feedsvc.store.digests import Match

    rows = DigestEdge(VN).buttons_for(url, [Match(1, "t1", "T1", None)])
    assert [b.data for (b,) in rows] == ["mute:1"]


@pytest.mark.parametrize(
    "url", ["https://example.vn/tin/1.html", "http://10.0.0.5/a", "http://[::1]:8080/a"]
)
def test_read_button_for_a_dotted_host_or_an_ip(url: str) -> None:
    rows = DigestEdge(VN).buttons_for(url, [])
    assert [b.url for (b,) in rows] == [url]
