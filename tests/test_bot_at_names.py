"""``/sub @bongda`` in a private chat from a reader: ``@name`` that is no topic was read as a
channel only, and the reply, "Chỉ quản trị viên của bot mới quản lý được đăng ký cho kênh",
spoke of channels to someone who meant a topic. The reply now says there is no such topic
(pointing to /topics) and, in case a channel was meant, who manages channels; a bot admin's
unknown ``@name`` is said to be neither. Real bot, fake Bot API over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakebot import FakeBotAPI
from test_bot import ADMIN, USER, ask, fast_fake, subs_of

from feedsvc.bot import BotService
from feedsvc.catalogue import Translator
from feedsvc.db import Database


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with fast_fake() as server:
        server.add_chat(-1001234567, "channel", "Tin nhanh", admins=[ADMIN], username="tinnhanh")
        yield server


@pytest.mark.parametrize(
    "command", ["/sub @bongda", "/sub @BongDa_24h", "/unsub @bongda", "/list @bongda",
                "/digest @bongda 07:30", "/sub @tinnhanh the-thao"],
)  # fmt: skip
async def test_a_readers_at_name_is_answered_as_a_topic_first(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService, command: str
) -> None:
    ref = command.split()[1]
    reply = await ask(fake, USER, command)
    assert reply.startswith(f"Không có chủ đề {ref}. Các chủ đề có sẵn: /topics.")
    assert f"Nếu {ref} là một kênh: chỉ quản trị viên của bot" in reply
    assert subs_of(lite_db, USER) == []


async def test_numeric_channel_ids_and_topics_unchanged(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    reply = await ask(fake, USER, "/sub -1001234567 the-thao")
    assert reply == "Chỉ quản trị viên của bot mới quản lý được đăng ký cho kênh."
    assert "Thể thao (the-thao)" in await ask(fake, USER, "/sub @the-thao")
    assert subs_of(lite_db, USER) == ["the-thao"]


async def test_an_admins_unknown_at_name_is_neither(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    reply = await ask(fake, ADMIN, "/sub @bongda")
    assert reply.startswith("Không có chủ đề @bongda (xem /topics), và không tìm thấy kênh")
    assert "Đã đăng ký cho kênh @tinnhanh" in await ask(fake, ADMIN, "/sub @tinnhanh the-thao")


def test_english_words() -> None:
    words = Translator("en")
    assert words("bot.not_topic_nor_channel", ref="@x").startswith("There is no topic @x.")
    assert words("bot.no_topic_no_channel", ref="@x").startswith("There is no topic @x (see")
