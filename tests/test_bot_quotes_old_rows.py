"""A chat query stored before keyboard quotes were read (``«an ninh»``: the words ``«an`` and
``ninh»``) is not the phrase ``/sub «an ninh»`` now means: ``/sub`` adds the phrase beside it
(it answered "already subscribed" and kept the words), ``/unsub «an ninh»`` removes the phrase
first, then the old row by its spelling. Zalo bot (the shared actions), SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feedsvc.bot import gate
from feedsvc.channels.zalo import ZaloBotAPI
from feedsvc.channels.zalo.bot import ZaloBot
from feedsvc.channels.zalo.updates import Incoming, plain_reply
from feedsvc.db import Database
from feedsvc.store import subscriptions as subs


def say(bot: ZaloBot, text: str) -> str:
    reply = bot.answer(Incoming("z1", "private", "Lan", text, "u-z1"))
    assert reply is not None
    return plain_reply(reply)


def stored(db: Database) -> list[str | None]:
    with db.read() as conn:
        chat = subs.find_recipient(conn, "zalo", "z1")
        rows = [] if chat is None else subs.list_subscriptions(conn, chat.chat_id)
        return [s.query for s in rows]


@pytest.mark.parametrize("old", ["«an ninh»", "'an ninh'", "‚an ninh‘", "「an ninh」"])
def test_an_old_row_of_words_is_not_the_phrase(db: Database, old: str) -> None:
    with db.write() as conn:
        chat = subs.ensure_recipient(conn, "zalo", "z1", "private", "Lan", datetime.now(UTC))
        subs.subscribe(conn, chat.chat_id, topic_id=None, query=old, now=datetime.now(UTC))
    limits = gate.Limits(user_command_burst=1000, chat_command_burst=1000)
    bot = ZaloBot(db, ZaloBotAPI("1:unused", "http://127.0.0.1:9"), limits)
    assert say(bot, f"/sub {old}").startswith("Đã đăng ký: truy vấn")
    assert stored(db) == [old, '"an ninh"']
    assert say(bot, f"/unsub {old}").startswith("Đã huỷ")
    assert stored(db) == [old]
    assert say(bot, f"/unsub {old}").startswith("Đã huỷ")
    assert stored(db) == []
