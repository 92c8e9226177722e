"""The fake Bot API refuses what Telegram refuses and takes what it takes, where it was lax or
strict by mistake: ``allowed_updates`` is enforced (an update of a kind the bot did not ask for
never reaches it; none named is every kind but chat_member and the reactions), a lookup
(getChat, getChatMember) of a chat the bot is no part of is "chat not found" (the fake made
one up from the id's sign), and ``@username`` is found in any case, as Telegram finds it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fakebot import FakeBotAPI
from telegram import Bot
from telegram.error import BadRequest
from test_bot import ADMIN, ask, running, subs_of
from test_fakebot import patient_client

from feedsvc.bot import BotService
from feedsvc.db import Database


@pytest.fixture
async def bot(fake: FakeBotAPI) -> AsyncIterator[Bot]:
    async with patient_client(fake) as client:  # getUpdates' own client patient too
        yield client


async def test_allowed_updates_are_enforced(fake: FakeBotAPI, bot: Bot) -> None:
    fake.channel_post(-100777, "before any call: every kind but chat_member")
    fake.inject_update({"chat_member": {"x": 1}})
    first = await bot.get_updates(timeout=0, allowed_updates=["message", "callback_query"])
    assert [u.channel_post.text for u in first if u.channel_post] == [
        "before any call: every kind but chat_member"
    ]
    assert len(first) == 1 and len(fake.filtered) == 1
    fake.channel_post(-100777, "not asked for")
    fake.member_update(-100777, 9, "administrator")
    fake.user_sends(50, 50, "/start")
    again = await bot.get_updates(offset=first[-1].update_id + 1, timeout=1)
    assert len(again) == 1 and again[0].message is not None
    assert [set(u) - {"update_id"} for u in fake.filtered[1:]] == [
        {"channel_post"}, {"my_chat_member"}
    ]  # fmt: skip
    await bot.get_updates(offset=again[-1].update_id + 1, timeout=0, allowed_updates=[])
    fake.channel_post(-100777, "an empty list: the default again")
    assert len(await bot.get_updates(offset=again[-1].update_id + 1, timeout=0)) == 1


async def test_lookups_of_unknown_chats_and_username_case(fake: FakeBotAPI, bot: Bot) -> None:
    fake.add_chat(-1001, "channel", "News", admins=[7], username="TinNhanh")
    for name in ("@TinNhanh", "@tinnhanh", "@TINNHANH"):
        assert (await bot.get_chat(name)).id == -1001
    for unknown in (-1009999, -5, 12345):
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.get_chat(unknown)
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.get_chat_member(unknown, 7)
    assert (await bot.send_message(12345, "a user who wrote the bot")).chat.id == 12345


@pytest.fixture
async def lite_bot(lite_db: Database, fake: FakeBotAPI) -> AsyncIterator[BotService]:
    fake.add_chat(-1001234567, "channel", "Tin nhanh", admins=[ADMIN], username="TinNhanh")
    async with running(lite_db, fake) as service:
        yield service


async def test_a_channel_named_in_another_case(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    reply = await ask(fake, ADMIN, "/sub @tinnhanh the-thao")
    assert reply == "Đã đăng ký cho kênh @TinNhanh: Thể thao (the-thao)"
    assert subs_of(lite_db, -1001234567) == ["the-thao"]
    assert "Không tìm thấy kênh -1009999999" in await ask(fake, ADMIN, "/list -1009999999")
