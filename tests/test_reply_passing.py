"""A command's answer that fails for a passing reason (a chat tester's report, medium).

Before: a 502 once on the answer to ``/sub an-ninh`` left the chat with only the apology ("Xin
lỗi, đã có lỗi xảy ra. Vui lòng thử lại sau.") though the subscription was made, and logged
ERROR with PTB's whole traceback; a slow answer (past the read timeout) gave the reader the
apology and then the answer; on Zalo a 500 lost the answer without a word to the chat. Now
(:func:`feedsvc.notify.resend.resent_after_pause`, the one place a bot's answer goes again;
:mod:`feedsvc.bot.replies`; ``ZaloBot._reply``): no apology follows an answer's failure (the
command had its effect); what is left is one WARNING line naming the chat, never ERROR with a
traceback. A 5xx is an unknown outcome (a gateway may have passed the call on:
``tests/test_reply_gateway.py``), as a read timeout is: not sent again.

Real python-telegram-bot against the fake Bot API, the real Zalo client against the fake Zalo
API, SQLite (the code paths do not depend on the state DB).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from fakebot import FakeBotAPI, Fault
from fakezalo import FakeZaloAPI
from fakezalo import Fault as ZaloFault
from patience import PATIENT_READ_TIMEOUT
from test_bot import DEADLINE, TOPICS, make_bot, seed_topics, subs_of
from test_dispatch import fake as fake  # the fixture

from feedsvc.bot import BotService
from feedsvc.budget import bot_budget
from feedsvc.channels.zalo.api import ZaloBotAPI
from feedsvc.channels.zalo.bot import ZaloBot
from feedsvc.channels.zalo.channel import LIMITS as ZALO_LIMITS
from feedsvc.db import Database
from feedsvc.store.subscriptions import ensure_recipient

CHAT = 1701
SLUG = TOPICS[0].slug  # kien-thuy
SLOW_READ = 1.0  # seconds: the bot's read timeout in the slow-answer cases


@pytest.fixture
async def bot(lite_db: Database, fake: FakeBotAPI) -> AsyncIterator[BotService]:
    """The bot on SQLite; ``read_timeout`` short enough for a slow answer to time out."""
    seed_topics(lite_db)
    service = make_bot(lite_db, fake.base_url, fake.token, read_timeout=SLOW_READ)
    await service.start()
    try:
        await fake.await_for(lambda: service.polling, timeout=DEADLINE)
        yield service
    finally:
        await service.stop()


def answers(fake: FakeBotAPI, chat: int = CHAT) -> list[int]:
    """The statuses of the sendMessage calls to ``chat`` the fake answered (or is answering)."""
    return [c.status for c in fake.calls if c.chat_id == chat and c.method == "sendmessage"]


def no_error(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert "Traceback" not in caplog.text and "bot handler failed" not in caplog.text


@pytest.mark.parametrize(
    ("status", "command"),
    [(502, f"/sub {SLUG}"), (500, f"/sub {SLUG}"), (503, f"/sub {SLUG}"), (502, "/help"),
     (504, "/unsub 1")],
)  # fmt: skip
async def test_an_answer_met_with_a_5xx_is_one_warning_and_no_apology(
    lite_db: Database, fake: FakeBotAPI, bot: BotService, caplog: pytest.LogCaptureFixture,
    status: int, command: str,
) -> None:  # fmt: skip
    """Telegram's own 5xx: the command had its effect, the answer's outcome is unknown (no
    Bot API document says a 5xx was not acted on; ``tests/test_reply_gateway.py`` has a
    gateway's): not sent again, no apology, one WARNING line naming the chat."""
    caplog.set_level(logging.INFO)
    if command.startswith("/unsub"):  # something to remove, answered before the faults
        fake.user_sends(CHAT, CHAT, f"/sub {SLUG}")
        await fake.await_for(lambda: fake.messages(CHAT), timeout=DEADLINE)
    before, calls = len(fake.messages(CHAT)), len(answers(fake))
    fake.script(CHAT, Fault.server_error(status))
    fake.user_sends(CHAT, CHAT, command)
    line = f"reply to telegram chat {CHAT} failed with an unknown outcome"
    await fake.await_for(lambda: line in caplog.text, timeout=DEADLINE)
    assert answers(fake)[calls:] == [status]  # not sent again, no apology went after it
    assert len(fake.messages(CHAT)) == before
    expected = [] if command.startswith("/unsub") else [SLUG] if "sub" in command else []
    assert subs_of(lite_db, CHAT) == expected
    assert len([r for r in caplog.records if "reply to telegram chat" in r.getMessage()]) == 1
    no_error(caplog)
    fake.user_sends(CHAT, CHAT, "/list")  # the next command is answered: nothing else went
    await fake.await_for(lambda: len(fake.messages(CHAT)) > before, timeout=DEADLINE)
    [answer] = fake.messages(CHAT)[before:]
    assert answers(fake)[-1] == 200 and "Xin lỗi" not in answer.visible


async def test_the_shown_case_sub_an_ninh_502(
    lite_db: Database, fake: FakeBotAPI, bot: BotService, caplog: pytest.LogCaptureFixture
) -> None:
    """The tester's input: ``/sub an-ninh``, Telegram 502 once on the answer's sendMessage: the
    subscription is made and no apology says otherwise."""
    caplog.set_level(logging.INFO)
    fake.script(CHAT, Fault.server_error(502))
    fake.user_sends(CHAT, CHAT, "/sub kien-thuy")
    line = f"reply to telegram chat {CHAT} failed with an unknown outcome"
    await fake.await_for(lambda: line in caplog.text, timeout=DEADLINE)
    assert fake.messages(CHAT) == [] and subs_of(lite_db, CHAT) == [SLUG]
    no_error(caplog)


@pytest.mark.parametrize("fault", ["slow", "late"])
async def test_a_slow_answer_is_not_sent_again_nor_apologised_for(
    lite_db: Database, fake: FakeBotAPI, bot: BotService, caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:  # fmt: skip
    """Past the read timeout the outcome is unknown: the answer is not sent again (the fake
    delivers it after all, as Telegram usually does), and no apology goes before it."""
    caplog.set_level(logging.INFO)
    delay = SLOW_READ + 1.5
    fake.script(CHAT, Fault.slow(delay) if fault == "slow" else Fault.late(delay))
    fake.user_sends(CHAT, CHAT, f"/sub {SLUG}")
    line = f"reply to telegram chat {CHAT}: no answer from Telegram"
    await fake.await_for(lambda: line in caplog.text and answers(fake), timeout=DEADLINE)
    assert "it may have arrived" in caplog.text
    [answer] = fake.messages(CHAT)
    assert answer.visible.startswith("Đã đăng ký") and len(answers(fake)) == 1
    assert subs_of(lite_db, CHAT) == [SLUG]
    no_error(caplog)


# --- Zalo ------------------------------------------------------------------------------------
async def zalo_command(
    db: Database, zalo: FakeZaloAPI, chat: str, text: str, read_timeout: float
) -> None:
    """``text`` from ``chat`` through a ZaloBot on ``zalo``, handled to its end."""
    budget = bot_budget(db, 50, ZALO_LIMITS)
    api = ZaloBotAPI(zalo.token, zalo.base_url, read_timeout=read_timeout, charge=budget.charge)
    seed_topics(db)
    with db.write() as conn:
        ensure_recipient(conn, "zalo", chat, "private", "Lan", db.now())
    bot = ZaloBot(db, api, refused=budget.refused)
    try:
        assert bot.accept(zalo.update(chat, text))
        await bot.drain()
    finally:
        await api.close()


def zalo_subs(db: Database, chat: str) -> list[str]:
    from feedsvc.store import subscriptions as subs

    with db.read() as conn:
        found = subs.find_recipient(conn, "zalo", chat)
        assert found is not None
        return [s.topic_slug or "" for s in subs.list_subscriptions(conn, found.chat_id)]


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_zalo_answer_met_with_a_5xx_is_one_warning_naming_the_chat(
    lite_db: Database, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    """Zalo's own 5xx: the outcome is unknown, the answer not sent again; the command had its
    effect."""
    caplog.set_level(logging.INFO)
    with FakeZaloAPI() as zalo:
        zalo.script("z17", ZaloFault.server_error(status))
        await zalo_command(lite_db, zalo, "z17", f"/sub {SLUG}", PATIENT_READ_TIMEOUT)
        sent = zalo.messages("z17")
    assert sent == [] and zalo_subs(lite_db, "z17") == [SLUG]
    [line] = [r for r in caplog.records if "reply to zalo chat z17" in r.getMessage()]
    assert line.levelno == logging.WARNING and "unknown outcome" in line.message
    no_error(caplog)


async def test_a_slow_zalo_answer_is_not_sent_again(
    lite_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with FakeZaloAPI() as zalo:
        zalo.script("z17", ZaloFault.slow(SLOW_READ + 1.5))
        await zalo_command(lite_db, zalo, "z17", f"/sub {SLUG}", SLOW_READ)
        sent = await zalo.await_for(lambda: zalo.messages("z17"), timeout=DEADLINE)
    assert len(sent) == 1 and sent[0].text.startswith("Đã đăng ký")
    assert "reply to zalo chat z17: no answer from Zalo" in caplog.text
    no_error(caplog)
