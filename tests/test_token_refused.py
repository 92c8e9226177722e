"""A bot token the channel refuses (revoked in @BotFather, mistyped: Telegram answers 401, PTB
raises ``InvalidToken``; Zalo 401) is the operator's to fix, never a network error: it was
retried as one, each try an attempt, until every queued alert was a dead letter (``failed``)
and nothing went out once the token was fixed; the delivery log said "a network error … it will
be tried again" (a tester's). Now the alerts wait unspent (``retry_kind`` ``token_refused``),
the dispatcher claims nothing between tries (one ERROR line, the token never in it), and the
right token sends each alert once. Real PTB clients against the fake Bot API; both DBs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from backend_cases import module_on_sqlite
from factories import VN
from fakebot import FakeBotAPI
from fakeserver import await_until
from handoffs import handoffs
from patience import PATIENT_READ_TIMEOUT
from sqlalchemy import select, update
from test_dispatch_fair import add_articles, queue

from feedsvc import dispatch, send_record
from feedsvc.catalogue import Translator
from feedsvc.channels.telegram import TelegramChannel
from feedsvc.db import Database
from feedsvc.db.schema import deliveries
from feedsvc.dispatch import Dispatcher, DispatchSettings
from feedsvc.notify import TelegramSender

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

CHATS = [7100, 7101, 7102]
WRONG = "123456789:AAFwrongTOKENwrongTOKENwrong_-0"
TRY_AGAIN = 0.3  # seconds between two tries of a refused token, here (60 s in service)


def rows(db: Database) -> list[tuple[str, int, str | None]]:
    with db.read() as conn:
        stmt = select(deliveries.c.state, deliveries.c.attempts, deliveries.c.retry_kind)
        return [tuple(r) for r in conn.execute(stmt.order_by(deliveries.c.id))]  # type: ignore[misc]


@asynccontextmanager
async def dispatching(db: Database, fake: FakeBotAPI, token: str) -> AsyncIterator[Dispatcher]:
    async with TelegramSender(
        token, base_url=fake.base_url, read_timeout=PATIENT_READ_TIMEOUT
    ) as sender:
        channel = TelegramChannel(sender, VN)
        settings = DispatchSettings(poll_seconds=0.5, backoff_base=0.01, max_attempts=2)
        d = Dispatcher(db, channel, VN, settings)
        task = asyncio.create_task(d.run())
        try:
            yield d
        finally:
            d.stop()
            await task


async def test_alerts_wait_unspent_for_a_fixed_token(
    db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(send_record, "TOKEN_RETRY_SECONDS", TRY_AGAIN)
    monkeypatch.setattr(dispatch, "TOKEN_RETRY_SECONDS", TRY_AGAIN)
    queue(db, CHATS, add_articles(db, range(1, 3)), datetime.now(UTC))  # 6 alerts
    caplog.set_level(logging.INFO, logger="feedsvc")
    with FakeBotAPI() as fake:
        with handoffs(fake) as sent:
            async with dispatching(db, fake, WRONG):
                # refused many times over (max_attempts is 2): none may end or spend a try
                await await_until(lambda: len(sent.times("sendmessage")) >= 12)
        assert all(r[:2] == ("pending", 0) for r in rows(db)), rows(db)
        assert sum(r[2] == "token_refused" for r in rows(db)) >= len(CHATS)
        assert fake.messages(CHATS[0]) == []
        refusals = [r for r in caplog.records if "refuses the bot token" in r.getMessage()]
        assert [r.levelname for r in refusals] == ["ERROR"]  # one line for the run of them
        assert "wrongTOKEN" not in caplog.text
        with db.write() as conn:  # the minute passed
            conn.execute(update(deliveries).values(due_at=db.now()))
        async with dispatching(db, fake, fake.token):
            await await_until(lambda: all(r[0] == "sent" for r in rows(db)))
        for chat in CHATS:
            assert len(fake.messages(chat)) == 2  # each alert once


async def test_claims_pause_between_tries(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """With 30 alerts queued and the token refused, the queue is not walked at the rate
    budget (25 failing calls a second): the first claim's calls, then one claim per try."""
    monkeypatch.setattr(send_record, "TOKEN_RETRY_SECONDS", 30.0)
    monkeypatch.setattr(dispatch, "TOKEN_RETRY_SECONDS", 30.0)
    queue(db, [7200 + n for n in range(30)], add_articles(db, range(1, 2)), datetime.now(UTC))
    with FakeBotAPI() as fake, handoffs(fake) as sent:
        async with dispatching(db, fake, WRONG):
            await await_until(lambda: any(r[2] == "token_refused" for r in rows(db)))
            first = len(sent.times("sendmessage"))
            waited = asyncio.get_running_loop().time() + 1.5
            while asyncio.get_running_loop().time() < waited:  # a span to count calls in
                await asyncio.sleep(0.1)
            later = len(sent.times("sendmessage"))
    refused = [r for r in rows(db) if r[2] == "token_refused"]
    assert later - first <= 10, (first, later)  # at most what was claimed already
    assert len(refused) <= later < 30
    assert all(r[:2] == ("pending", 0) for r in rows(db))


def test_the_delivery_log_says_what_to_do() -> None:
    words = Translator("en").delivery_error("pending", "telegram", "token_refused")
    assert "refuses the bot's token" in words and "fix the token" in words
