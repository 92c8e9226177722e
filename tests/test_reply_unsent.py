"""A bot's answer that never reached Telegram or Zalo goes again (a CI run's report).

Before: one loopback connect timeout under load (``httpx.ConnectTimeout``: no connection was
made, nothing was sent) dropped the answer to ``/help``, and the bot's apology went out instead;
a real deployment's network blip did the same. Now
(:func:`feedsvc.notify.resend.resent_after_pause` with the channel's classifier: Telegram's
:func:`feedsvc.notify.telegram.never_reached`, Zalo's ``classify``) such an answer is sent again,
at most ``REPLY_RETRIES`` times; one that may have been delivered (a read timeout, a dropped
connection) or that was refused is not.

A connection that is never made cannot be scripted at the fake (a loopback connect succeeds in
the kernel), so the bot's HTTP client goes through a transport that fails the first sends as
httpx would, before anything leaves, and hands every other request to the fake.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from backend_cases import module_on_sqlite
from fakebot import FakeBotAPI, Fault
from fakezalo import FakeZaloAPI
from patience import PATIENT_READ_TIMEOUT
from test_bot import running
from test_dispatch import fake as fake  # the fixture

from feedsvc.bot import BotService, clients, texts
from feedsvc.budget import bot_budget
from feedsvc.channels.zalo.api import ZaloBotAPI
from feedsvc.channels.zalo.bot import ZaloBot
from feedsvc.channels.zalo.channel import LIMITS as ZALO_LIMITS
from feedsvc.db import Database
from feedsvc.notify.charged import ChargedRequest
from feedsvc.notify.outcome import REPLY_RETRIES
from feedsvc.store.subscriptions import ensure_chat, ensure_recipient

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

CHAT = 15301
WAIT = 30.0  # seconds: a poll's deadline, not a cost when the test passes


class Failing:
    """The next ``count`` sendMessage requests fail with ``error`` (shared by every client)."""

    def __init__(self) -> None:
        self.count = 0
        self.error: type[httpx.TransportError] = httpx.ConnectTimeout
        self.failed = 0


class FailingTransport(httpx.AsyncBaseTransport):
    def __init__(self, failing: Failing) -> None:
        self.failing = failing
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.lower().endswith("/sendmessage") and self.failing.count > 0:
            self.failing.count -= 1
            self.failing.failed += 1
            raise self.failing.error("scripted by the test", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def failing(monkeypatch: pytest.MonkeyPatch) -> Iterator[Failing]:
    """The bot's HTTP clients (PTB's ``httpx_kwargs``) go through a :class:`FailingTransport`."""
    shared = Failing()

    class Through(ChargedRequest):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            given = kwargs.pop("httpx_kwargs", None) or {}
            transport = FailingTransport(shared)
            super().__init__(*args, httpx_kwargs={**given, "transport": transport}, **kwargs)

    monkeypatch.setattr(clients, "ChargedRequest", Through)  # looked up at each call
    yield shared


@pytest.fixture
async def bot(db: Database, fake: FakeBotAPI, failing: Failing) -> AsyncIterator[BotService]:
    with db.write() as conn:
        ensure_chat(conn, CHAT, "private", "Lan", datetime.now(UTC))
    async with running(db, fake) as started:
        yield started


def sends(fake: FakeBotAPI) -> list[int]:
    """The statuses of the sendMessage calls to the chat the fake answered."""
    return [c.status for c in fake.calls if c.chat_id == CHAT and c.method == "sendmessage"]


@pytest.mark.parametrize("error", [httpx.ConnectTimeout, httpx.ConnectError, httpx.PoolTimeout])
@pytest.mark.parametrize("count", range(1, REPLY_RETRIES + 1))
async def test_an_answer_that_never_left_is_sent_again(
    fake: FakeBotAPI,
    bot: BotService,
    failing: Failing,
    caplog: pytest.LogCaptureFixture,
    error: type[httpx.TransportError],
    count: int,
) -> None:
    caplog.set_level(logging.INFO)
    failing.error, failing.count = error, count
    fake.user_sends(CHAT, CHAT, "/help")
    [reply] = await fake.await_for(lambda: fake.messages(CHAT), timeout=WAIT)
    assert "/sub" in reply.visible and "Xin lỗi" not in reply.visible  # the answer, no apology
    assert failing.failed == count and sends(fake) == [200]  # delivered once
    assert "bot handler failed" not in caplog.text


async def test_an_answer_failing_beyond_the_bound_is_given_up(
    fake: FakeBotAPI, bot: BotService, failing: Failing, caplog: pytest.LogCaptureFixture
) -> None:
    """Bounded: ``REPLY_RETRIES`` more tries, then one WARNING line and no apology (the
    command had its effect: ``bot.replies``); the next command is answered."""
    caplog.set_level(logging.INFO)
    failing.count = REPLY_RETRIES + 1
    fake.user_sends(CHAT, CHAT, "/help")
    line = f"reply to telegram chat {CHAT} not delivered after {REPLY_RETRIES + 1} tries"
    await fake.await_for(lambda: line in caplog.text, timeout=WAIT)
    fake.user_sends(CHAT, CHAT, "/help")
    [reply] = await fake.await_for(lambda: fake.messages(CHAT), timeout=WAIT)
    assert "/sub" in reply.visible and reply.visible != texts.t("apology")
    assert failing.failed == REPLY_RETRIES + 1 and sends(fake) == [200]
    assert "bot handler failed" not in caplog.text


@pytest.mark.parametrize("error", [httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError])
async def test_an_answer_that_may_have_arrived_is_not_sent_again(
    fake: FakeBotAPI, bot: BotService, failing: Failing, error: type[httpx.TransportError],
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """A read timeout or a dropped connection: the request may have been acted on, so the
    answer is not repeated (the user may ask again), nor apologised for: one WARNING."""
    caplog.set_level(logging.INFO)
    failing.error, failing.count = error, 1
    fake.user_sends(CHAT, CHAT, "/help")
    line = f"reply to telegram chat {CHAT}: no answer from Telegram"
    await fake.await_for(lambda: line in caplog.text, timeout=WAIT)
    fake.user_sends(CHAT, CHAT, "/help")
    [reply] = await fake.await_for(lambda: fake.messages(CHAT), timeout=WAIT)
    assert reply.visible != texts.t("apology") and failing.failed == 1
    assert sends(fake) == [200] and "bot handler failed" not in caplog.text


async def test_an_answer_refused_for_good_is_not_sent_again(
    fake: FakeBotAPI, bot: BotService
) -> None:
    fake.script(CHAT, Fault.blocked())
    fake.user_sends(CHAT, CHAT, "/help")
    await fake.await_for(lambda: sends(fake), timeout=WAIT)
    fake.user_sends(CHAT, CHAT, "/help")  # the next command is answered: nothing went again
    await fake.await_for(lambda: fake.messages(CHAT), timeout=WAIT)
    assert sends(fake) == [403, 200]


@pytest.mark.parametrize("error", [httpx.ConnectTimeout, httpx.ConnectError, httpx.WriteTimeout])
@pytest.mark.parametrize("count", range(1, REPLY_RETRIES + 2))
async def test_a_zalo_answer_that_never_left_is_sent_again(
    db: Database, error: type[httpx.TransportError], count: int
) -> None:
    """The same on Zalo, by its classifier; beyond the bound the answer is dropped (a
    WARNING, no apology: the Zalo bot's way)."""
    failing = Failing()
    failing.error, failing.count = error, count
    with FakeZaloAPI() as zalo:
        budget = bot_budget(db, 50, ZALO_LIMITS)
        api = ZaloBotAPI(zalo.token, zalo.base_url, read_timeout=PATIENT_READ_TIMEOUT,
                         charge=budget.charge)  # fmt: skip
        await api.start()
        assert api._client is not None
        await api._client.aclose()
        api._client = httpx.AsyncClient(transport=FailingTransport(failing))
        with db.write() as conn:
            ensure_recipient(conn, "zalo", "z-lan", "private", "Lan", db.now())
        bot = ZaloBot(db, api, refused=budget.refused)
        try:
            assert bot.accept(zalo.update("z-lan", "/help"))
            await bot.drain()
        finally:
            await api.close()
        sent = zalo.messages("z-lan")
    if count <= REPLY_RETRIES:
        [reply] = sent
        assert "/sub" in reply.text and "Xin lỗi" not in reply.text
    else:
        assert sent == []
    assert failing.failed == min(count, REPLY_RETRIES + 1)
