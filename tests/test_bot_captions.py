"""A command written as a photo's caption (``/sub kien-thuy`` under a picture) is run as the
typed command is, by the same rules: another bot's ``/cmd@OtherBot`` and an unknown command in
a group stay unanswered, an edited caption is answered but not run. It used to get no answer
at all (PTB's ``CommandHandler`` reads only ``text``). Real bot, fake Bot API over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fakebot import FakeBotAPI
from test_bot import DEADLINE, USER, fast_fake, subs_of

from feedsvc.bot import BotService
from feedsvc.db import Database

GROUP = -100555
GROUP_ADMIN = 7


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with fast_fake() as server:
        server.add_chat(GROUP, "supergroup", "Nhóm", admins=[GROUP_ADMIN])
        yield server


async def caption(fake: FakeBotAPI, chat_id: int, text: str, user_id: int | None = None) -> str:
    """Send a photo captioned ``text`` and return the bot's reply."""
    before = len(fake.messages(chat_id))
    fake.user_sends(chat_id, chat_id if user_id is None else user_id, text, photo=True)
    replies = await fake.await_for(lambda: fake.messages(chat_id)[before:], timeout=DEADLINE)
    return replies[0].visible


async def settled(fake: FakeBotAPI, bot: BotService) -> None:
    """Every injected update taken and handled (no reply to wait for)."""
    await fake.await_for(
        lambda: fake.pending_updates == 0 and bot.updates_in_hand == 0, timeout=DEADLINE
    )


@pytest.mark.parametrize(
    "text",
    ["/sub kien-thuy", "/SUB kien-thuy", "/sub@feedsvc_test_bot kien-thuy", "/sub  kien-thuy "],
)
async def test_a_captioned_command_runs(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService, text: str
) -> None:
    assert await caption(fake, USER, text) == "Đã đăng ký: Kiến Thụy (kien-thuy)"
    assert subs_of(lite_db, USER) == ["kien-thuy"]
    assert "1. Kiến Thụy (kien-thuy)" in await caption(fake, USER, "/list")


async def test_captioned_commands_in_a_group_keep_the_rules(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    assert "Chỉ quản trị viên" in await caption(fake, GROUP, "/sub the-thao", user_id=99)
    fake.user_sends(GROUP, GROUP_ADMIN, "/sub@OtherBot the-thao", photo=True)
    fake.user_sends(GROUP, GROUP_ADMIN, "/frobnicate", photo=True)  # another bot's, maybe
    await settled(fake, lite_bot)
    assert len(fake.messages(GROUP)) == 1 and subs_of(lite_db, GROUP) == []
    reply = await caption(fake, GROUP, "/sub the-thao", user_id=GROUP_ADMIN)
    assert reply == "Đã đăng ký: Thể thao (the-thao)" and subs_of(lite_db, GROUP) == ["the-thao"]
    assert "/help" in await caption(fake, USER, "/frobnicate")  # a private chat: ours


async def test_an_edited_caption_is_answered_not_run(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    chat = fake.chat(USER).to_api()
    fake.inject_update({"edited_message": {
        "message_id": 77, "date": int(time.time()), "edit_date": int(time.time()), "chat": chat,
        "caption": "/sub kien-thuy", "photo": [{"file_id": "p", "file_unique_id": "u",
        "width": 8, "height": 6}], "from": {"id": USER, "is_bot": False, "first_name": "U"},
    }})  # fmt: skip
    replies = await fake.await_for(lambda: fake.messages(USER), timeout=DEADLINE)
    assert "/sub" in replies[0].visible and subs_of(lite_db, USER) == []


async def test_a_plain_caption_gets_no_answer(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    fake.user_sends(USER, USER, "ảnh /sub kien-thuy", photo=True)
    fake.user_sends(USER, USER, "/ một dấu gạch", photo=True)
    await settled(fake, lite_bot)
    assert fake.messages(USER) == [] and subs_of(lite_db, USER) == []
