"""A command behind characters that do not show (``\\u200b/sub an ninh``: text pasted from a
web page, a keyboard's zero-width space, word joiner, BOM, LRM/RLM, a leading space or NBSP)
is run as the command the reader sees, on Telegram (real python-telegram-bot against the fake
Bot API, whose ``bot_command`` entity is then past offset 0, or absent) and on Zalo. It used
to get no answer on either: PTB looks for the entity at offset 0 only, Zalo's text did not
begin with ``/``. The rules a typed command meets still hold (another bot's, unknown names in
groups)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from backend_cases import module_on_sqlite
from fakebot import FakeBotAPI
from fakezalo import FakeZaloAPI
from test_bot import DEADLINE, USER, fast_fake, subs_of

from feedsvc.bot import BotService, gate
from feedsvc.channels.zalo import ZaloBotAPI
from feedsvc.channels.zalo.bot import ZaloBot
from feedsvc.channels.zalo.updates import parse_command, parse_update, plain_reply
from feedsvc.db import Database
from feedsvc.store import subscriptions as subs
from feedsvc.store.topics import TopicSpec, save_topic

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

GROUP = -100777
GROUP_ADMIN = 7
#: what a paste or a keyboard puts before the ``/``: ZWSP, word joiner, BOM, LRM, RLM, LRI,
#: a space, NBSP, an ideographic space, and a mix
LEADS = ["\u200b", "\u2060", "\ufeff", "\u200e", "\u200f", "\u2066", " ", "\u00a0", "\u3000",
         "\ufeff\u200b \u00a0"]  # fmt: skip


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with fast_fake() as server:
        server.add_chat(GROUP, "supergroup", "Nhóm", admins=[GROUP_ADMIN])
        yield server


async def said(
    fake: FakeBotAPI, chat_id: int, text: str, *, entity: bool = True, photo: bool = False
) -> str:
    """Send ``text`` (a photo's caption with ``photo``) and return the bot's reply."""
    before = len(fake.messages(chat_id))
    sender = GROUP_ADMIN if chat_id == GROUP else chat_id
    fake.user_sends(chat_id, sender, text, entity=entity, photo=photo)
    replies = await fake.await_for(lambda: fake.messages(chat_id)[before:], timeout=DEADLINE)
    return replies[0].visible


@pytest.mark.parametrize(
    "shape",
    [{}, {"entity": False}, {"photo": True}],
    ids=["entity-past-offset-0", "no-entity", "caption"],
)
async def test_a_command_behind_invisible_characters_runs_on_telegram(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService, shape: dict[str, bool]
) -> None:
    expected = []
    for i, lead in enumerate(LEADS):
        reply = await said(fake, USER, f"{lead}/sub an ninh {i}", **shape)
        assert reply.startswith("Đã đăng ký"), (lead, reply)
        expected.append(f"an ninh {i}")
    assert subs_of(lite_db, USER) == expected
    assert "1. " in await said(fake, USER, "\u200b/list", **shape)
    assert "Đã huỷ" in await said(fake, USER, "\u2060/unsub an ninh 0", **shape)


async def test_an_invisible_character_after_the_name_separates_the_argument(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    """``/sub\\u200ban ninh``: Telegram's entity is ``/sub``; the argument was ``ninh``."""
    assert (await said(fake, USER, "/sub\u200ban ninh")).startswith("Đã đăng ký")
    assert (await said(fake, USER, "\u200b/sub\u2060kien-thuy")).startswith("Đã đăng ký")
    assert subs_of(lite_db, USER) == ["an ninh", "kien-thuy"]


async def test_in_a_group_the_rules_of_a_typed_command_hold(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    fake.user_sends(GROUP, GROUP_ADMIN, "\u200b/sub@OtherBot the-thao")
    fake.user_sends(GROUP, GROUP_ADMIN, "\u200b/frobnicate", entity=False)  # another bot's?
    reply = await said(fake, GROUP, "\u200b/sub@feedsvc_test_bot the-thao")
    assert reply == "Đã đăng ký: Thể thao (the-thao)"
    assert len(fake.messages(GROUP)) == 1 and subs_of(lite_db, GROUP) == ["the-thao"]
    assert "/help" in await said(fake, GROUP, "\u200b/frobnicate@feedsvc_test_bot")


async def test_text_that_merely_contains_a_command_stays_unanswered(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    for text in ("xem \u200b/sub an ninh", "\u200b/ sub an ninh", "\u200bsub an ninh"):
        fake.user_sends(USER, USER, text)
    await fake.await_for(
        lambda: fake.pending_updates == 0 and lite_bot.updates_in_hand == 0, timeout=DEADLINE
    )
    assert fake.messages(USER) == [] and subs_of(lite_db, USER) == []


@pytest.fixture
def zalo(db: Database) -> ZaloBot:
    with db.write() as conn:
        save_topic(conn, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "cli",
                   datetime.now(UTC))  # fmt: skip
    limits = gate.Limits(user_command_burst=1000, chat_command_burst=1000)  # not the point
    return ZaloBot(db, ZaloBotAPI("1:unused", "http://127.0.0.1:9"), limits)


def test_a_command_behind_invisible_characters_runs_on_zalo(db: Database, zalo: ZaloBot) -> None:
    fake = FakeZaloAPI()  # its update shapes only: no server started
    for i, lead in enumerate(LEADS):
        incoming = parse_update(fake.update("z1", f"{lead}/sub an ninh {i}"))
        assert incoming is not None
        reply = zalo.answer(incoming)
        assert reply is not None and plain_reply(reply).startswith("Đã đăng ký"), (lead, reply)
    incoming = parse_update(fake.update("z1", "/sub\u200bkien-thuy"))
    assert incoming is not None and "Kiến Thụy" in (zalo.answer(incoming) or "")
    with db.read() as conn:
        chat = subs.find_recipient(conn, "zalo", "z1")
        assert chat is not None
        stored = [s.topic_slug or s.query for s in subs.list_subscriptions(conn, chat.chat_id)]
    assert stored == [f"an ninh {i}" for i in range(len(LEADS))] + ["kien-thuy"]


@pytest.mark.parametrize("text", ["xem \u200b/sub x", "\u200b/ sub x", "\u200bsub x", "/sub-x"])
def test_zalo_text_that_is_no_command_stays_unanswered(text: str) -> None:
    assert parse_command(text) is None
