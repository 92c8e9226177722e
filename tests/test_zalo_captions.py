"""A command as a Zalo photo's (a sticker's…) caption (``/sub an ninh`` under a picture) is run
as the typed command is, through the same path (``ZaloBot.accept`` → ``answer``: the same
checks, budgets and group rules), as the Telegram bot runs a captioned command. It used to be
ignored: only ``message.text.received`` was read. A photo without a caption, a caption that is
no command and ``message.unsupported.received`` still get nothing. Real bot against the fake
Zalo Bot API over HTTP; SQLite (``module_on_sqlite``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from backend_cases import module_on_sqlite
from fakezalo import FakeZaloAPI
from patience import PATIENT_READ_TIMEOUT

from feedsvc.channels.zalo import ZaloBotAPI
from feedsvc.channels.zalo.bot import ZaloBot
from feedsvc.channels.zalo.updates import parse_update
from feedsvc.db import Database
from feedsvc.store.subscriptions import find_recipient, list_subscriptions
from feedsvc.store.topics import TopicSpec, save_topic

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

WAIT = 60  # seconds: bounds a failure only
IMAGE = "message.image.received"
STICKER = "message.sticker.received"


@pytest.fixture
def fake() -> Iterator[FakeZaloAPI]:
    with FakeZaloAPI() as server:
        yield server


@asynccontextmanager
async def bot_on(db: Database, fake: FakeZaloAPI) -> AsyncIterator[ZaloBot]:
    with db.write() as conn:
        save_topic(conn, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "cli",
                   datetime.now(UTC))  # fmt: skip
    api = ZaloBotAPI(fake.token, fake.base_url, read_timeout=PATIENT_READ_TIMEOUT)
    bot = ZaloBot(db, api)
    try:
        yield bot
    finally:
        await asyncio.wait_for(bot.drain(), WAIT)
        await api.close()


async def reply_to(bot: ZaloBot, fake: FakeZaloAPI, chat: str, body: Any) -> str:
    before = len(fake.messages(chat))
    assert bot.accept(body)
    await asyncio.wait_for(bot.drain(), WAIT)
    sent = fake.messages(chat)[before:]
    assert len(sent) == 1, sent
    return sent[0].text


def stored(db: Database, chat: str) -> list[str | None]:
    with db.read() as conn:
        row = find_recipient(conn, "zalo", chat)
        return [] if row is None else [
            s.topic_slug or s.query for s in list_subscriptions(conn, row.chat_id)]  # fmt: skip


@pytest.mark.parametrize("event", [IMAGE, STICKER, "message.file.received"])
async def test_a_captioned_command_runs(db: Database, fake: FakeZaloAPI, event: str) -> None:
    async with bot_on(db, fake) as bot:
        for caption in ("/sub kien-thuy", "/SUB an ninh", "\u200b/sub@tin_bot công an"):
            reply = await reply_to(bot, fake, "z1", fake.update("z1", caption, event=event))
            assert reply.startswith("Đã đăng ký"), (caption, reply)
        wrapped = {"ok": True, "result": fake.update("z1", "/list", event=event)}
        assert "1. Kiến Thụy" in await reply_to(bot, fake, "z1", wrapped)
    assert stored(db, "z1") == ["kien-thuy", "an ninh", "công an"]


async def test_a_captioned_command_in_a_group_keeps_the_rules(
    db: Database, fake: FakeZaloAPI
) -> None:
    async with bot_on(db, fake) as bot:
        update = fake.update("g1", "/sub kien-thuy", chat_type="GROUP", event=IMAGE)
        assert "riêng" in await reply_to(bot, fake, "g1", update)  # a private chat's command
        update = fake.update("g1", "/topics", chat_type="GROUP", event=IMAGE)
        assert "kien-thuy" in await reply_to(bot, fake, "g1", update)
    assert stored(db, "g1") == []


async def test_what_carries_no_command_gets_nothing(db: Database, fake: FakeZaloAPI) -> None:
    async with bot_on(db, fake) as bot:
        photo = fake.update("z2", "", event=IMAGE)
        del photo["message"]["caption"]
        unsupported = fake.update("z2", "/sub kien-thuy", event="message.unsupported.received")
        odd = fake.update("z2", "/sub kien-thuy", event=IMAGE)
        odd["message"]["caption"] = ["/sub kien-thuy"]
        for body in (photo, unsupported, odd):
            assert not bot.accept(body)
        assert bot.accept(fake.update("z2", "ảnh /sub kien-thuy", event=IMAGE))
        await asyncio.wait_for(bot.drain(), WAIT)
    assert fake.messages("z2") == [] and stored(db, "z2") == []


def test_a_photo_update_reads_its_caption_not_a_text_field() -> None:
    """A photo's update with a stray ``text`` besides its caption: the caption is what the
    user wrote under the picture."""
    body = FakeZaloAPI().update("z3", "/help", event=IMAGE)
    body["message"]["text"] = "/sub kien-thuy"
    incoming = parse_update(body)
    assert incoming is not None and incoming.text == "/help"
