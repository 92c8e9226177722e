"""A chat switched off after refusing alerts is live again once it writes to the bot.

README: a Zalo chat refused 3 times "is disabled until it writes to the bot again"; a Telegram
chat, "until it talks to the bot again". A tester's: only /start, /sub, /pause and /resume did
that. A Zalo user who unblocked the OA and wrote "xin chào", /list or /settings stayed off, and
every article published meanwhile was never queued for them; /list even answered "Đã tắt" to
the user plainly talking to the bot. Now any command (Telegram) or any message (Zalo) from the
chat switches it back on (``bot.actions.heard_from``); other chats stay as they are.

What the Zalo user writes is given one state DB backend per case (``backend_cases.on_backends``):
a message or a command reaches the same ``heard_from`` and the same update of the chat's row.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from backend_cases import on_backends
from factories import VN, article, builtin_ingestor
from fakebot import FakeBotAPI
from fakezalo import FakeZaloAPI
from sqlalchemy import select
from test_bot import USER, ask, chat_row
from test_zalo import add_topic, dispatch_until_done, states, zalo_subscriber

from feedsvc.bot import BotService
from feedsvc.channels.zalo import ZaloBotAPI
from feedsvc.channels.zalo.bot import ZaloBot
from feedsvc.channels.zalo.updates import Incoming
from feedsvc.db import Database
from feedsvc.db.schema import chats
from feedsvc.outbox import Outbox
from feedsvc.store import subscriptions as subs
from feedsvc.store.source_articles import upsert_source_articles

REASON = "blocked|403: Forbidden: bot was blocked by the user"


def state(db: Database, chat_id: int) -> tuple[str | None, int]:
    """The chat's (disabled_reason, failures)."""
    with db.read() as conn:
        row = conn.execute(
            select(chats.c.disabled_reason, chats.c.failures).where(chats.c.chat_id == chat_id)
        ).one()
    return row[0], row[1]


def switch_off(db: Database, chat_id: int) -> None:
    with db.write() as conn:
        subs.ensure_chat(conn, chat_id, "private" if chat_id > 0 else "group", "C", db.now())
        subs.disable_chat(conn, chat_id, REASON)
        conn.execute(chats.update().where(chats.c.chat_id == chat_id).values(failures=3))


@pytest.mark.parametrize(
    "command", ["/list", "/help", "/topics", "/settings", "/digest", "/nope", "/unsub 9"]
)
async def test_any_telegram_command_switches_the_chat_back_on(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService, command: str,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    switch_off(lite_db, USER)
    switch_off(lite_db, -5)  # another chat, silent: it stays off
    with caplog.at_level(logging.INFO, logger="feedsvc.bot"):
        listing = await ask(fake, USER, command)
    assert state(lite_db, USER) == (None, 0)
    assert f"chat {USER} re-enabled: it wrote to the bot again" in caplog.text
    assert "Đã tắt" not in listing  # /list no longer says the chat is off to its own user
    assert state(lite_db, -5) == (REASON, 3)


async def test_a_live_chat_is_left_as_it_is(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="feedsvc.bot"):
        await ask(fake, USER, "/start")
        await ask(fake, USER, "/list")
    assert "re-enabled" not in caplog.text
    row = chat_row(lite_db, USER)
    assert row is not None and row.disabled_reason is None


@pytest.mark.parametrize(
    ("db_url", "said"), on_backends(["xin chào", "/settings"]), indirect=["db_url"]
)
async def test_a_zalo_chat_that_writes_again_gets_the_next_alert(
    db: Database, said: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The tester's journey: blocked, three refusals switch the chat off, the user unblocks
    the OA and writes anything; the next article reaches them."""
    add_topic(db)
    ing = builtin_ingestor(db)
    ing.hooks.append(Outbox(timedelta(hours=48)))
    with FakeZaloAPI() as fake:
        chat_id = zalo_subscriber(db, "z1")
        fake.block("z1")
        with db.write() as conn:
            upsert_source_articles(conn, [article(n, published_at=datetime.now(VN))
                                          for n in (1, 2, 3)], datetime.now(UTC))  # fmt: skip
        assert ing.tick().error is None
        await dispatch_until_done(db, fake)
        assert states(db) == ["blocked"] * 3
        fake._blocked.discard("z1")  # the user unblocks the OA
        bot = ZaloBot(db, ZaloBotAPI(fake.token, fake.base_url), tz=VN)
        with caplog.at_level(logging.INFO, logger="feedsvc.zalo"):
            await bot.handle(Incoming("z1", "private", "Lan", said, "u1", key=f"k-{said}"))
        assert "zalo: zalo chat z1 re-enabled: it wrote to the OA again" in caplog.text
        assert state(db, chat_id) == (None, 0)
        with db.write() as conn:
            upsert_source_articles(conn, [article(4, published_at=datetime.now(VN))],
                                   datetime.now(UTC))  # fmt: skip
        assert ing.tick().error is None
        await dispatch_until_done(db, fake)
        assert states(db) == ["blocked"] * 3 + ["sent"]
        assert any("https://example.vn/tin/4.html" in m.text for m in fake.messages("z1"))


async def test_a_copy_of_an_old_zalo_update_does_not_switch_the_chat_on(db: Database) -> None:
    """Only an update that acts (fresh, first copy) is the chat writing again."""
    with FakeZaloAPI() as fake:
        now = datetime.now(UTC)
        with db.write() as conn:
            chat = subs.ensure_recipient(conn, "zalo", "z2", "private", "Lan", now)
            subs.disable_chat(conn, chat.chat_id, REASON)
        bot = ZaloBot(db, ZaloBotAPI(fake.token, fake.base_url), tz=VN)
        old = Incoming("z2", "private", "Lan", "/list", "u2", key="k-old",
                       sent_at=now - timedelta(days=3))  # fmt: skip
        await bot.handle(old)
        with db.read() as conn:
            found = subs.find_recipient(conn, "zalo", "z2")
        assert found is not None and found.disabled_reason == REASON
