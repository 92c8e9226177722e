"""Telegram updates handled at most once across restarts (feedsvc.bot.once): Telegram sends
again an update whose confirming offset never reached it; the state DB knows it was handled.
Another bot (another token's id) has update ids of its own. SQLite and PostgreSQL. A state DB
that cannot record an update in time, or at all: handled all the same, one warning."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from fakebot import FakeBotAPI
from sqlalchemy import text
from telegram import Update
from test_bot import fast_fake, make_bot, seed_topics, subs_of

from feedsvc.bot.once import FirstDelivery, bot_key
from feedsvc.db import Database
from feedsvc.store import zalo_updates

CHAT = 4242  # a private chat: its user's /help is answered there
OTHER_TOKEN = "987654321:AAAnotherFakeBotToken_do-not-leak"


async def ask(db: Database, fake: FakeBotAPI, texts: list[str], answers: int) -> list[int]:
    """A bot run on ``fake``: ``texts`` sent by the chat's user, until ``answers`` answers in
    the chat (each /help gets one), then an orderly stop; the update ids."""
    bot = make_bot(db, fake.base_url, fake.token)
    await bot.start()
    try:
        await fake.await_for(lambda: bot.polling)
        ids = [fake.user_sends(CHAT, CHAT, t) for t in texts]
        await fake.await_for(lambda: len(fake.messages(CHAT)) >= answers)
        await fake.await_for(lambda: fake.pending_updates == 0)  # all fetched
    finally:
        await bot.stop()
    # the cancelled long poll ends at the fake within its 1 s (it would confirm a redelivery)
    await fake.await_for(lambda: fake.in_flight == 0)
    return ids


async def test_a_restart_redelivering_handled_updates_answers_only_the_new(db: Database) -> None:
    with fast_fake() as fake:
        ids = await ask(db, fake, ["/help", "/help", "/help"], 3)
        assert len(fake.messages(CHAT)) == 3
        fake.redeliver(*ids)  # their confirmation never reached Telegram
        assert fake.pending_updates == 3
        await ask(db, fake, ["/help"], 4)  # one chat: the new one comes after the three
        assert len(fake.messages(CHAT)) == 4, [m.body for m in fake.messages(CHAT)]


async def test_other_commands_redelivered_are_not_answered_again(db: Database) -> None:
    """/list and /settings answered once; sent again after a restart, neither is."""
    with fast_fake() as fake:
        ids = await ask(db, fake, ["/list", "/settings"], 2)
        before = [m.body for m in fake.messages(CHAT)]
        fake.redeliver(*ids)
        await ask(db, fake, ["/help"], 3)
        assert [m.body for m in fake.messages(CHAT)][:2] == before
        assert len(fake.messages(CHAT)) == 3


async def test_another_bots_updates_are_handled(db: Database) -> None:
    """A new token (another bot): its update ids start at 1 again, and are all answered."""
    with fast_fake() as first:
        await ask(db, first, ["/help", "/help"], 2)
    other = FakeBotAPI(OTHER_TOKEN).start()
    try:
        ids = await ask(db, other, ["/help", "/help"], 2)
        assert ids == [1, 2]
        assert len(other.messages(CHAT)) == 2
    finally:
        other.stop()


async def test_sub_and_unsub_by_number_redelivered_are_applied_once(db: Database) -> None:
    """/sub twice and /unsub 1 applied once: sent again, /unsub 1 removed the next line."""
    seed_topics(db)
    with fast_fake() as fake:
        ids = await ask(db, fake, ["/sub the-thao", "/sub kien-thuy", "/unsub 1"], 3)
        assert subs_of(db, CHAT) == ["kien-thuy"]
        fake.redeliver(*ids)
        await ask(db, fake, ["/help"], 4)
        assert subs_of(db, CHAT) == ["kien-thuy"]
        assert len(fake.messages(CHAT)) == 4, [m.body for m in fake.messages(CHAT)]


async def test_first_delivery_once_per_bot_and_id(db: Database) -> None:
    one, again = FirstDelivery(db, "111:x"), FirstDelivery(db, "111:y")  # one bot, a new token
    other = FirstDelivery(db, OTHER_TOKEN)
    try:
        assert await one(Update(7)) and not await one(Update(7)) and not await again(Update(7))
        assert await other(Update(7)) and await one(Update(8))
        assert bot_key(OTHER_TOKEN) == "telegram:987654321"  # the id, never the secret
        assert await one("not an update")  # nothing from Telegram: nothing to tell apart
    finally:
        for admit in (one, again, other):
            admit.close()


async def test_records_are_pruned_after_two_days(db: Database) -> None:
    """Telegram keeps an update 24 h: a record older than 48 h goes, a newer one stays."""
    old = db.now() - zalo_updates.KEEP - timedelta(minutes=1)
    with db.write() as conn:
        zalo_updates.first_delivery(conn, bot_key("111:x"), "5", old)
        zalo_updates.first_delivery(conn, bot_key("111:x"), "6", db.now())
    admit = FirstDelivery(db, "111:x")
    try:
        assert await admit(Update(9))  # a record; the pruning queued behind it
        await asyncio.get_running_loop().run_in_executor(admit.recording, lambda: None)
        assert await admit(Update(5)) and not await admit(Update(6))
    finally:
        admit.close()


async def test_an_unavailable_state_db_handles_the_update(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Availability over deduplication: the update is handled, a warning says so, no token."""
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE zalo_updates"))
    caplog.set_level(logging.WARNING)
    admit = FirstDelivery(db, "111:AAsecretPart")
    try:
        assert await admit(Update(7))
        assert caplog.text.count("could not record update 7 as handled") == 1
        assert "AAsecretPart" not in caplog.text
    finally:
        admit.close()


async def test_a_locked_state_db_delays_an_update_by_the_bound_only(
    lite_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite's write lock held elsewhere (busy timeout 10 s): the update waits
    RECORD_SECONDS, not the busy timeout, and is handled, with one warning."""
    caplog.set_level(logging.WARNING)
    admit = FirstDelivery(lite_db, "111:x", seconds=0.5)
    holder = lite_db.engine.raw_connection()
    try:
        holder.driver_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
        started = asyncio.get_running_loop().time()
        assert await admit(Update(7))
        assert asyncio.get_running_loop().time() - started < 5
        assert "could not record update 7 as handled (no answer within 0.5 s)" in caplog.text
    finally:
        holder.driver_connection.execute("ROLLBACK")  # type: ignore[union-attr]
        holder.close()
        admit.close()
