"""The bot takes different chats' updates at once and one chat's in order (feedsvc/bot/updates):
an answer waiting for its chat's pace (an alert just went there) must not hold other chats'
answers, and ``/sub`` then ``/unsub`` in one chat must not swap. Real python-telegram-bot
against the fake Bot API, SQLite."""

from __future__ import annotations

from datetime import UTC, datetime

from fakebot import FakeBotAPI
from test_bot import seed_topics, subs_of
from test_budget import dispatching, polling
from test_dispatch_fair import add_articles, queue

from feedsvc.bot.updates import update_line
from feedsvc.db import Database

ALERTED, OTHER = 5101, 5102


async def test_an_answer_waiting_for_its_chat_does_not_hold_another_chats(
    lite_db: Database,
) -> None:
    queue(lite_db, [ALERTED], add_articles(lite_db, range(1, 2)), datetime.now(UTC))
    with FakeBotAPI() as fake:
        async with dispatching(lite_db, fake, 10.0), polling(lite_db, fake):
            alert = (await fake.await_for(lambda: fake.messages(ALERTED)))[0]
            fake.user_sends(ALERTED, ALERTED, "/help")  # waits ~1 s for the chat's pace
            fake.user_sends(OTHER, OTHER, "/help")
            paced = (await fake.await_for(lambda: fake.messages(ALERTED)[1:]))[0]
            other = (await fake.await_for(lambda: fake.messages(OTHER)))[0]
    assert paced.at - alert.at >= 0.95
    assert other.at < paced.at  # one update at a time, it waited behind the paced answer


async def test_one_chats_updates_stay_in_order(lite_db: Database) -> None:
    seed_topics(lite_db)
    with FakeBotAPI() as fake:
        async with polling(lite_db, fake):
            for text in ("/sub the-thao", "/unsub the-thao", "/sub kien-thuy", "/list"):
                fake.user_sends(OTHER, OTHER, text)
            await fake.await_for(lambda: len(fake.messages(OTHER)) >= 4)
            replies = fake.messages(OTHER)
    assert subs_of(lite_db, OTHER) == ["kien-thuy"]
    assert "kien-thuy" in replies[3].visible.lower() or "Kiến Thụy" in replies[3].visible


def test_a_migrations_two_messages_share_one_line() -> None:
    from telegram import Chat, Message, Update

    when = datetime.now(UTC)
    old, new = Chat(-5, "group"), Chat(-1005, "supergroup")
    to = Update(1, message=Message(1, when, old, migrate_to_chat_id=-1005))
    back = Update(2, message=Message(1, when, new, migrate_from_chat_id=-5))
    plain = Update(3, message=Message(2, when, old, text="/help"))
    assert update_line(to) == update_line(back) != update_line(plain) == -5
    assert update_line(object()) is None
