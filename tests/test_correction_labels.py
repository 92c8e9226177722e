"""A corrected alert's topic line follows the article (attack F4): a correction that takes it
out of a topic edited the sent alert's text but kept "Chủ đề: …" as queued. End to end through
ingest, the dispatcher and the follow-up worker against the fake Bot API (real HTTP).

SQLite only (``lite_db``): the point is the topic line an edited alert shows; which topics a
chat still wants is ``feedsvc.wanted``'s SQL, run on PostgreSQL by ``test_wanted.py``, and the
correction's way through the follow-up queue by ``test_retraction.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from factories import VN
from fakebot import FakeBotAPI
from test_retraction import GROUP, PRIVATE, Env, fresh, retraction_env, subscribe_chat

from feedsvc.db import Database

OWN = 3003
QUERY = '"Đoàn Xá"'


@pytest.fixture
def bot() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


@pytest.fixture
async def world(lite_db: Database, bot: FakeBotAPI) -> AsyncIterator[Env]:
    async with retraction_env(lite_db, bot) as env:
        yield env


def topic_line(text: str) -> str | None:
    found = [line for line in text.splitlines() if line.startswith("Chủ đề:")]
    assert len(found) <= 1, text
    return found[0] if found else None


# the factory's article matches both topics ("công an", "Kiến Thụy") and "Đoàn Xá" in its body
STORY = dict(
    title="Công an Kiến Thụy bắt đối tượng trộm cắp",
    summary="Lực lượng công an nhanh chóng làm rõ vụ việc.",
)
# the correction: no "công an", no "an ninh" anywhere (section and tags too), still Kiến Thụy
NOT_POLICE = dict(
    title="Kiến Thụy khánh thành trường học mới",
    summary="Trường mới đón học sinh xã Đoàn Xá.",
    section="Giáo dục",
    tags=("Giáo dục",),
)


async def sent_and_corrected(world: Env, **fix: object) -> dict[int, int]:
    first = fresh(1, **STORY)
    subscribe_chat(world.db, PRIVATE, "private", "an-ninh", "kien-thuy")
    subscribe_chat(world.db, GROUP, "group", "an-ninh")
    subscribe_chat(world.db, OWN, "private", "an-ninh", query=QUERY)
    world.publish(first)
    await world.dispatch()
    sent = world.sent()
    assert set(sent) == {PRIVATE, GROUP, OWN}
    assert topic_line(world.fake.live(PRIVATE, sent[PRIVATE]).visible) == (
        "Chủ đề: An ninh, Kiến Thụy"
    )
    assert topic_line(world.fake.live(OWN, sent[OWN]).visible) == f"Chủ đề: An ninh, {QUERY}"
    world.publish(replace(first, updated_at=datetime.now(UTC), **fix))  # type: ignore[arg-type]
    await world.follow_up()
    return sent


async def test_a_correction_leaving_a_topic_drops_its_label(world: Env) -> None:
    sent = await sent_and_corrected(world, **NOT_POLICE)
    live = world.fake.live(PRIVATE, sent[PRIVATE])
    assert live.edits and "khánh thành trường học" in live.visible
    assert topic_line(live.visible) == "Chủ đề: Kiến Thụy"
    # an own query the article still matches keeps its label; the topic it left goes
    assert topic_line(world.fake.live(OWN, sent[OWN]).visible) == f"Chủ đề: {QUERY}"


async def test_no_label_left_keeps_the_alert_without_a_topic_line(world: Env) -> None:
    sent = await sent_and_corrected(world, **NOT_POLICE)
    live = world.fake.live(GROUP, sent[GROUP])  # subscribed to an-ninh only
    assert live.edits and "khánh thành trường học" in live.visible
    assert topic_line(live.visible) is None and "An ninh" not in live.visible
    assert [o for _, _, o in world.outcomes()] == ["edited"] * 3
    assert len(world.fake.all_messages) == 3  # nothing new sent, nothing deleted


async def test_an_own_query_the_correction_no_longer_matches_loses_its_label(
    world: Env,
) -> None:
    fix = {"summary": "Lực lượng công an nhanh chóng làm rõ vụ việc.", "body": "<p>Đã rõ.</p>"}
    sent = await sent_and_corrected(world, title="Công an Kiến Thụy bắt hai đối tượng", **fix)
    assert topic_line(world.fake.live(OWN, sent[OWN]).visible) == "Chủ đề: An ninh"
    assert topic_line(world.fake.live(PRIVATE, sent[PRIVATE]).visible) == (
        "Chủ đề: An ninh, Kiến Thụy"
    )  # a correction that changes no match keeps the line as it was


def test_labels_are_ordered_as_the_outbox_orders_them() -> None:
    from feedsvc.retraction.labels import labels

    assert labels([(7, "Kiến Thụy"), (2, "An ninh")], [(9, "b"), (3, "a")]) == [
        "An ninh",
        "Kiến Thụy",
        "“a”",  # an own query quoted as its search feed's title (tests/test_search_titles.py)
        "“b”",
    ]
    assert labels([], []) == []


async def test_the_console_logs_a_correction_as_it_logs_an_alert(
    world: Env, caplog: pytest.LogCaptureFixture
) -> None:
    """A tester's: with no bot token (the demo) the console logged a new alert as text and its
    correction as Telegram's HTML (``<a href="…"><b>Title</b></a>``, ``&amp;``)."""
    from feedsvc.channels.telegram import TelegramChannel
    from feedsvc.notify import ConsoleSender
    from feedsvc.retraction.worker import FollowupSettings, FollowupWorker

    first = fresh(1, **STORY, url="https://e.vn/a?x=1&y=2")
    subscribe_chat(world.db, PRIVATE, "private", "kien-thuy")
    world.publish(first)
    await world.dispatch()
    fixed = replace(first, updated_at=datetime.now(UTC), title="Kiến Thụy <mới> & cũ")
    world.publish(fixed)  # type: ignore[arg-type]
    settings = FollowupSettings(backoff_base=0.05, poll_seconds=0.5, sweep_seconds=0.5)
    console = FollowupWorker(world.db, TelegramChannel(ConsoleSender(), VN), VN, settings)
    with caplog.at_level("INFO", "feedsvc.notify"):
        await world.follow_up(console)
    edited = [r.getMessage() for r in caplog.records if " edited:\n" in r.getMessage()]
    assert len(edited) == 1, [r.getMessage() for r in caplog.records]
    lines = edited[0].split(":\n", 1)[1].splitlines()
    assert lines[0] == "Kiến Thụy <mới> & cũ" and lines[-1] == "https://e.vn/a?x=1&y=2", lines
    assert not any("<a " in line or "&amp;" in line or "<b>" in line for line in lines), lines
