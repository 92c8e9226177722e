"""``/list`` in a forum group whose subscriptions go to different topic threads says where each
line's alerts go, seen from the thread it was asked in: listed bare, a member in one thread
read another thread's (or General's) subscriptions as this thread's. A group without thread
subscriptions lists as before. Real bot, fake Bot API over HTTP; replies stay in the thread."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakebot import FakeBotAPI
from test_bot import DEADLINE, fast_fake

from feedsvc.bot import BotService

FORUM = -1001777
ADMIN_OF_GROUP = 7
OTHER = "https://t.me/c/1777/"


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with fast_fake() as server:
        server.add_chat(FORUM, "supergroup", "Diễn đàn", admins=[ADMIN_OF_GROUP]).is_forum = True
        yield server


async def ask_in(fake: FakeBotAPI, text: str, thread: int | None) -> tuple[str, int | None]:
    """Send ``text`` in ``thread`` (None: General); the reply's text and its thread."""
    before = len(fake.messages(FORUM))
    fake.user_sends(FORUM, ADMIN_OF_GROUP, text, thread_id=thread)
    replies = await fake.await_for(lambda: fake.messages(FORUM)[before:], timeout=DEADLINE)
    return replies[0].visible, replies[0].thread_id


async def test_list_says_which_thread_gets_each_subscription(
    fake: FakeBotAPI, lite_bot: BotService
) -> None:
    await ask_in(fake, "/sub the-thao", 55)
    await ask_in(fake, "/sub kien-thuy", None)
    await ask_in(fake, "/sub bão lũ", 66)
    shown, thread = await ask_in(fake, "/list", 55)
    assert thread == 55
    assert shown.splitlines()[1:] == [
        "1. Thể thao (the-thao) — vào chủ đề này",
        "2. Kiến Thụy (kien-thuy) — vào chủ đề chung (General)",
        "3. truy vấn bão lũ — vào một chủ đề khác",
    ]
    assert f'<a href="{OTHER}66">' in fake.messages(FORUM)[-1].body
    shown, thread = await ask_in(fake, "/list", None)
    assert thread is None
    assert shown.splitlines()[1:] == [
        "1. Thể thao (the-thao) — vào một chủ đề khác",
        "2. Kiến Thụy (kien-thuy) — vào chủ đề này",
        "3. truy vấn bão lũ — vào một chủ đề khác",
    ]
    assert f'<a href="{OTHER}55">' in fake.messages(FORUM)[-1].body


async def test_a_group_without_threads_lists_as_before(
    fake: FakeBotAPI, lite_bot: BotService
) -> None:
    await ask_in(fake, "/sub the-thao", None)
    shown, _ = await ask_in(fake, "/list", None)
    assert shown.splitlines()[1:] == ["1. Thể thao (the-thao)"]
