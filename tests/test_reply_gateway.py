"""A bot's answer met with a gateway's error page is not sent again (a re-tester's, medium).

Before: nginx in front of the Bot API passed ``sendMessage`` on (the message WAS delivered) and
then answered the bot ``504`` with its own HTML page, as it does when upstream is slow; the bot
read it as "not sent" (``TRANSIENT``) and sent the answer again: ``/help`` reached the user three
times (and, a version earlier, three apologies too); 502 and 500 pages alike, on Zalo too. Now a
bot's answer goes again only when it surely did not take effect (the channel's classifier's
``never_acted``: no connection made; a 429 waits its pause as before): any 5xx — a gateway's
page, an empty body, or the Bot API's own JSON, which no document says was not acted on — is an
unknown outcome: not sent again, one WARNING line naming the chat, no apology (the command had
its effect). Callback answers and keyboard edits alike; the apology is sent once.

A small HTTP gateway (``tests/gateway.py``, 127.0.0.1) in front of the fake Bot API and the
fake Zalo API; real python-telegram-bot, the real Zalo client, SQLite.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fakebot import FakeBotAPI, Fault
from fakezalo import FakeZaloAPI
from fakezalo import Fault as ZaloFault
from gateway import Gateway, nginx_page
from patience import PATIENT_READ_TIMEOUT
from telegram.error import NetworkError, TimedOut
from test_bot import DEADLINE, make_bot, seed_topics, subs_of
from test_digest_bot import alert_with_buttons
from test_dispatch import fake as fake  # the fixture

from feedsvc.bot import BotService, actions
from feedsvc.budget import bot_budget
from feedsvc.channels.zalo import bot as zalo_bot
from feedsvc.channels.zalo.api import ZaloBotAPI, ZaloError
from feedsvc.channels.zalo.bot import ZaloBot
from feedsvc.channels.zalo.channel import LIMITS as ZALO_LIMITS
from feedsvc.channels.zalo.channel import classify
from feedsvc.db import Database
from feedsvc.notify.answers import NotBotApiAnswer
from feedsvc.notify.outcome import OutcomeKind
from feedsvc.notify.telegram import failure_outcome, never_reached
from feedsvc.store.topics import get_topic

CHAT = 1801
SLUG = "kien-thuy"
REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 504: "Gateway Time-out"}
UNKNOWN = "failed with an unknown outcome"


def page(status: int, kind: str) -> bytes:
    return nginx_page(status, REASONS[status]) if kind == "nginx" else b""


@pytest.fixture
def gw(fake: FakeBotAPI) -> Iterator[Gateway]:
    with Gateway(fake.base_url) as started:
        yield started


@pytest.fixture
async def bot(lite_db: Database, fake: FakeBotAPI, gw: Gateway) -> AsyncIterator[BotService]:
    """The bot on SQLite, its ``telegram.base_url`` at the gateway."""
    seed_topics(lite_db)
    service = make_bot(lite_db, gw.base_url, fake.token)
    await service.start()
    try:
        await fake.await_for(lambda: service.polling, timeout=DEADLINE)
        yield service
    finally:
        await service.stop()


def lines(caplog: pytest.LogCaptureFixture, words: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if words in r.getMessage()]


def no_error(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert "Traceback" not in caplog.text and "bot handler failed" not in caplog.text


def no_apology(fake: FakeBotAPI, chat: int = CHAT) -> None:
    assert not [m for m in fake.messages(chat) if "Xin lỗi" in m.visible]


async def next_answer_is_plain(fake: FakeBotAPI, count: int) -> None:
    """``/list`` is answered once, at once: nothing was still pending."""
    fake.user_sends(CHAT, CHAT, "/list")
    await fake.await_for(lambda: len(fake.messages(CHAT)) > count, timeout=DEADLINE)
    assert len(fake.messages(CHAT)) == count + 1
    no_apology(fake)


# --- Telegram: commands' answers ----------------------------------------------------------
@pytest.mark.parametrize("kind", ["nginx", "empty"])
@pytest.mark.parametrize("status", [504, 502, 500])
@pytest.mark.parametrize("command", ["/help", f"/sub {SLUG}"])
async def test_an_answer_passed_on_then_met_with_a_gateway_page_is_sent_once(
    lite_db: Database, fake: FakeBotAPI, gw: Gateway, bot: BotService,
    caplog: pytest.LogCaptureFixture, kind: str, status: int, command: str,
) -> None:  # fmt: skip
    caplog.set_level(logging.INFO)
    gw.after("sendmessage", status, page(status, kind), times=3)  # the re-tester's: every try
    fake.user_sends(CHAT, CHAT, command)
    line = f"bot: reply to telegram chat {CHAT} {UNKNOWN}"
    await fake.await_for(lambda: lines(caplog, line), timeout=DEADLINE)
    [answer] = fake.messages(CHAT)  # delivered once: the gateway passed it on
    assert gw.seen["sendmessage"] == 1 and "Xin lỗi" not in answer.visible
    [told] = lines(caplog, "reply to telegram chat")
    assert told.levelno == logging.WARNING and "it may have arrived" in told.getMessage()
    assert subs_of(lite_db, CHAT) == ([SLUG] if "sub" in command else [])
    no_error(caplog)
    gw.clear()  # the pages not used: the next answer goes through
    await next_answer_is_plain(fake, 1)


async def test_a_gateway_page_without_passing_the_answer_on_is_not_sent_again_either(
    fake: FakeBotAPI, gw: Gateway, bot: BotService, caplog: pytest.LogCaptureFixture
) -> None:
    """A 502 with upstream down looks the same as one after passing it on: the answer is lost
    (the reader asks again), never doubled."""
    caplog.set_level(logging.INFO)
    gw.instead("sendmessage", 502, page(502, "nginx"))
    fake.user_sends(CHAT, CHAT, "/help")
    await fake.await_for(lambda: lines(caplog, UNKNOWN), timeout=DEADLINE)
    assert fake.messages(CHAT) == [] and gw.seen["sendmessage"] == 1
    no_error(caplog)
    await next_answer_is_plain(fake, 0)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_the_bot_apis_own_5xx_is_an_unknown_outcome(
    lite_db: Database, fake: FakeBotAPI, bot: BotService, caplog: pytest.LogCaptureFixture,
    status: int,
) -> None:  # fmt: skip
    """Telegram's own ``{"ok": false, "error_code": 5xx}``: no Bot API document says it was not
    acted on, so it is not sent again (decided: unknown, as a gateway's)."""
    caplog.set_level(logging.INFO)
    fake.script(CHAT, Fault.server_error(status))
    fake.user_sends(CHAT, CHAT, f"/sub {SLUG}")
    await fake.await_for(lambda: lines(caplog, UNKNOWN), timeout=DEADLINE)
    sent = [c.status for c in fake.calls if c.chat_id == CHAT and c.method == "sendmessage"]
    assert sent == [status] and subs_of(lite_db, CHAT) == [SLUG]
    [told] = lines(caplog, "reply to telegram chat")
    assert told.levelno == logging.WARNING
    no_error(caplog)
    await next_answer_is_plain(fake, 0)


async def test_the_apology_is_sent_once_through_a_gateway_page(
    fake: FakeBotAPI, gw: Gateway, bot: BotService, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A command that failed before its effect is apologised for, once: the apology met with a
    504 after it was passed on is not sent again (three went before)."""
    caplog.set_level(logging.INFO)

    def boom(*_: object, **__: object) -> str:
        raise RuntimeError("database exploded")

    monkeypatch.setattr(actions, "subscribe", boom)
    gw.after("sendmessage", 504, page(504, "nginx"), times=3)
    fake.user_sends(CHAT, CHAT, f"/sub {SLUG}")
    await fake.await_for(lambda: lines(caplog, UNKNOWN), timeout=DEADLINE)
    [apology] = fake.messages(CHAT)
    assert "Xin lỗi" in apology.visible and gw.seen["sendmessage"] == 1
    [told] = lines(caplog, "reply to telegram chat")
    assert told.levelno == logging.WARNING


# --- Telegram: a pressed button's answer and its keyboard edit ----------------------------
async def pressed(lite_db: Database, fake: FakeBotAPI) -> tuple[int, int]:
    """An alert with a mute button for a subscribed topic, pressed: (its message id, topic)."""
    fake.user_sends(CHAT, CHAT, f"/sub {SLUG}")
    await fake.await_for(lambda: fake.messages(CHAT), timeout=DEADLINE)
    with lite_db.read() as conn:
        topic = get_topic(conn, SLUG)
    assert topic is not None
    message_id = await alert_with_buttons(fake, CHAT, topic.id)
    fake.user_presses(CHAT, CHAT, message_id, f"mute:{topic.id}")
    return message_id, topic.id


@pytest.mark.parametrize("status", [504, 502])
async def test_a_button_answer_met_with_a_gateway_page_brings_no_apology(
    lite_db: Database, fake: FakeBotAPI, gw: Gateway, bot: BotService,
    caplog: pytest.LogCaptureFixture, status: int,
) -> None:  # fmt: skip
    """The mute is done and the toast shown (the gateway passed it on): the 504 after it told
    the reader "an error occurred" under the alert."""
    caplog.set_level(logging.INFO)
    gw.after("answercallbackquery", status, page(status, "nginx"))
    message_id, _ = await pressed(lite_db, fake)
    line = f"bot: button answer to telegram chat {CHAT} {UNKNOWN}"
    await fake.await_for(lambda: lines(caplog, line), timeout=DEADLINE)
    await fake.await_for(lambda: fake.markups.get((CHAT, message_id)), timeout=DEADLINE)
    assert len(fake.callback_answers) == 1 and gw.seen["answercallbackquery"] == 1
    assert subs_of(lite_db, CHAT) == []
    no_apology(fake)
    no_error(caplog)


async def test_a_keyboard_edit_met_with_a_gateway_page_is_not_made_again(
    lite_db: Database, fake: FakeBotAPI, gw: Gateway, bot: BotService,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.INFO)
    gw.after("editmessagereplymarkup", 504, page(504, "nginx"), times=3)
    message_id, _ = await pressed(lite_db, fake)
    line = f"bot: keyboard edit to telegram chat {CHAT} {UNKNOWN}"
    await fake.await_for(lambda: lines(caplog, line), timeout=DEADLINE)
    assert fake.markups.get((CHAT, message_id)) and gw.seen["editmessagereplymarkup"] == 1
    no_apology(fake)
    no_error(caplog)


# --- the classifier ------------------------------------------------------------------------
def _raised(error: Exception, cause: BaseException | None) -> Exception:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "again"),
    [
        (_raised(TimedOut(), httpx.ConnectTimeout("x")), True),
        (_raised(TimedOut(), httpx.PoolTimeout("x")), True),
        (_raised(NetworkError("httpx.ConnectError: x"), httpx.ConnectError("x")), True),
        (_raised(TimedOut(), httpx.ReadTimeout("x")), False),
        (_raised(NetworkError("x"), httpx.RemoteProtocolError("x")), False),
        (NotBotApiAnswer("HTTP 504 answer of 160 bytes: not a Bot API answer"), False),
        (NotBotApiAnswer("HTTP 502 answer of 0 bytes: not a Bot API answer"), False),
        (NetworkError("Bad Gateway"), False),  # PTB's reading of the Bot API's own 502
        (NetworkError("Internal Server Error (500)"), False),
    ],
)  # fmt: skip
def test_only_a_call_that_never_reached_telegram_goes_again(error: Exception, again: bool) -> None:
    assert never_reached(error) is again


@pytest.mark.parametrize(
    "error",
    [NotBotApiAnswer("HTTP 504 answer of 160 bytes"), NetworkError("Bad Gateway"),
     _raised(NetworkError("httpx.ConnectError: x"), httpx.ConnectError("x"))],
)  # fmt: skip
def test_alerts_read_a_5xx_as_before(error: Exception) -> None:
    """The outbox's reading is unchanged: transient, retried later (an alert's unknown outcome
    stays the read timeout's and the dropped connection's)."""
    outcome = failure_outcome(error)
    assert outcome is not None and outcome.kind is OutcomeKind.TRANSIENT


@pytest.mark.parametrize(
    ("error", "again"),
    [
        (httpx.ConnectError("x"), True),
        (httpx.ConnectTimeout("x"), True),
        (httpx.PoolTimeout("x"), True),
        (httpx.ReadTimeout("x"), False),
        (ZaloError(504, "HTTP 504 answer of 160 bytes: not a Zalo Bot API answer", foreign=True),
         False),
        (ZaloError(502, "HTTP 502 answer of 0 bytes", foreign=True), False),
        (ZaloError(500, "Internal server error"), False),
        (ZaloError(-500, "busy", status=503), False),
    ],
)  # fmt: skip
def test_only_a_zalo_call_that_never_reached_zalo_goes_again(error: Exception, again: bool) -> None:
    outcome = classify(error)
    assert outcome.never_acted is again
    assert outcome.kind in (OutcomeKind.TRANSIENT, OutcomeKind.AMBIGUOUS)  # alerts as before


# --- Zalo ----------------------------------------------------------------------------------
async def zalo_command(db: Database, base_url: str, token: str, update: object) -> None:
    """``update`` (a command from a private chat) through a ZaloBot whose ``zalo.base_url`` is
    ``base_url``, handled to its end (its answer's tries over)."""
    budget = bot_budget(db, 50, ZALO_LIMITS)
    api = ZaloBotAPI(token, base_url, read_timeout=PATIENT_READ_TIMEOUT, charge=budget.charge)
    seed_topics(db)
    bot = ZaloBot(db, api, refused=budget.refused)
    try:
        assert bot.accept(update)
        await bot.drain()
    finally:
        await api.close()


@pytest.mark.parametrize("kind", ["nginx", "empty"])
@pytest.mark.parametrize("status", [504, 502, 500])
async def test_a_zalo_answer_passed_on_then_met_with_a_gateway_page_is_sent_once(
    lite_db: Database, caplog: pytest.LogCaptureFixture, kind: str, status: int
) -> None:
    caplog.set_level(logging.INFO)
    with FakeZaloAPI() as zalo, Gateway(zalo.base_url) as gw:
        gw.after("sendmessage", status, page(status, kind), times=3)
        await zalo_command(lite_db, gw.base_url, zalo.token, zalo.update("z18", f"/sub {SLUG}"))
        sent = zalo.messages("z18")
        seen = gw.seen["sendmessage"]
    assert len(sent) == 1 and sent[0].text.startswith("Đã đăng ký") and seen == 1
    [told] = lines(caplog, "reply to zalo chat z18")
    assert told.levelno == logging.WARNING and UNKNOWN in told.getMessage()
    assert "<html" not in told.getMessage()  # its status and size, never the page
    no_error(caplog)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_zalos_own_5xx_is_an_unknown_outcome(
    lite_db: Database, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    caplog.set_level(logging.INFO)
    with FakeZaloAPI() as zalo:
        zalo.script("z19", ZaloFault.server_error(status))
        await zalo_command(lite_db, zalo.base_url, zalo.token, zalo.update("z19", f"/sub {SLUG}"))
        sent = zalo.messages("z19")
    assert sent == []
    [told] = lines(caplog, "reply to zalo chat z19")
    assert told.levelno == logging.WARNING and UNKNOWN in told.getMessage()
    no_error(caplog)


async def test_the_zalo_apology_is_sent_once_through_a_gateway_page(
    lite_db: Database, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO)

    def boom(*_: object, **__: object) -> str:
        raise RuntimeError("database exploded")

    monkeypatch.setattr(zalo_bot, "_run", boom)
    with FakeZaloAPI() as zalo, Gateway(zalo.base_url) as gw:
        gw.after("sendmessage", 504, page(504, "nginx"), times=3)
        await zalo_command(lite_db, gw.base_url, zalo.token, zalo.update("z20", "/help"))
        sent = zalo.messages("z20")
        seen = gw.seen["sendmessage"]
    assert len(sent) == 1 and "Xin lỗi" in sent[0].text and seen == 1
