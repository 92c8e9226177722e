"""A phrase between the quotes people's keyboards type (``„an ninh“``, ``«an ninh»``,
``「an ninh」``, ``'an ninh'``, ``''an ninh''``…) is the phrase ``"an ninh"`` in a chat
reader's query, on both bots (``bot.actions.normalise``, their one normaliser). Most were read
as words ANDed anywhere (``«an`` and ``ninh»``) while the bot said "Đã đăng ký". Quotes that
cannot be read (never closed, quotes that cross, a closing mark that closes nothing) are refused
saying which and where, never a query of other words than meant. Apostrophes stay letters
(quotations inside a phrase and lone single quotes: tests/test_quotes_inside_phrase.py).

Quotes that cannot be read run on SQLite only (``backend_cases.on_sqlite_only``): they are
refused by the normaliser before anything is stored (``stored(db) == []``). Queries that are
stored keep both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from backend_cases import on_sqlite_only
from fakebot import FakeBotAPI
from test_bot import USER, ask, subs_of

from feedsvc.bot import BotService, actions, gate, texts
from feedsvc.channels.zalo import ZaloBotAPI
from feedsvc.channels.zalo.bot import ZaloBot
from feedsvc.channels.zalo.updates import Incoming, plain_reply
from feedsvc.db import Database
from feedsvc.matching import parse_chat_query
from feedsvc.store import subscriptions as subs
from feedsvc.store.topics import TopicSpec, save_topic

#: ``an ninh`` as a phrase, between the marks keyboards and pastes put around it
PHRASES = [
    "„an ninh“", "„an ninh”", "«an ninh»", "»an ninh«", "« an ninh »", "‹an ninh›",
    "「an ninh」", "『an ninh』", "《an ninh》", "＂an ninh＂", "”an ninh”", "“an ninh“",
    "''an ninh''", "'an ninh'", "‘an ninh’", "’an ninh’", "‚an ninh‘", "〝an ninh〞",
]  # fmt: skip


@pytest.mark.parametrize("typed", PHRASES)
def test_keyboard_quotes_are_a_phrase(typed: str) -> None:
    query = actions.normalise(typed)
    assert query.replace(" ", "") == '"anninh"', query
    assert parse_chat_query(query).root == parse_chat_query('"an ninh"').root


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("title:«công an» OR -„an ninh“", 'title:"công an" OR -"an ninh"'),
        ("(「kiến thụy」 OR ‹núi đối›) ~'hai phong'", '("kiến thụy" OR "núi đối") ~"hai phong"'),
        ("'a' ''b'' «c»", '"a" "b" "c"'),
        ("Tom's car", "Tom's car"),  # an apostrophe inside a word
        ("students' union", "students' union"),  # and at its end
        ("rock 'n' roll", 'rock "n" roll'),
        ('"Tom\'s car"', '"Tom\'s car"'),
    ],
)
def test_marks_in_a_larger_query(typed: str, meant: str) -> None:
    assert actions.normalise(typed) == meant


@pytest.fixture(params=["vi", "en"])
def language(request: pytest.FixtureRequest) -> Iterator[str]:
    texts.set_language(request.param)
    yield request.param
    texts.set_language("vi")


@pytest.fixture
def zalo(db: Database) -> ZaloBot:
    with db.write() as conn:
        save_topic(conn, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "cli",
                   datetime.now(UTC))  # fmt: skip
    limits = gate.Limits(user_command_burst=1000, chat_command_burst=1000)  # not the point
    return ZaloBot(db, ZaloBotAPI("1:unused", "http://127.0.0.1:9"), limits)


def say(bot: ZaloBot, text: str) -> str:
    reply = bot.answer(Incoming("z1", "private", "Lan", text, "u-z1"))
    assert reply is not None
    return plain_reply(reply)


def stored(db: Database) -> list[str | None]:
    with db.read() as conn:
        chat = subs.find_recipient(conn, "zalo", "z1")
        rows = [] if chat is None else subs.list_subscriptions(conn, chat.chat_id)
        return [s.topic_slug or s.query for s in rows]


def test_every_form_is_one_subscription_on_zalo(db: Database, zalo: ZaloBot) -> None:
    assert say(zalo, "/sub «an ninh»").startswith("Đã đăng ký: truy vấn")
    for typed in PHRASES:
        assert say(zalo, f"/sub {typed}").startswith("Đã đăng ký rồi"), typed
    assert stored(db) == ['"an ninh"']
    assert say(zalo, "/unsub „an ninh“").startswith("Đã huỷ")
    assert stored(db) == []


@pytest.mark.parametrize(
    ("db_url", "typed", "mark", "column"),
    on_sqlite_only(
        [
            ("«an ninh", "«", 1),
            ("„an ninh", "„", 1),
            ("an ninh»", "»", 8),
            ("「an ninh", "「", 1),
            ("an ninh」", "」", 8),
            ("«an „ninh» x“", "„", 5),
            ('"a «b" c»', "«", 4),
            ("「an ninh』", "』", 9),
            ('"an ninh»', "»", 9),
            ("title:«công an» OR «an ninh", "«", 20),
        ]
    ),
    indirect=["db_url"],
)
def test_quotes_that_cannot_be_read_are_refused_saying_where(
    db: Database, zalo: ZaloBot, language: str, typed: str, mark: str, column: int
) -> None:
    reply = say(zalo, f"/sub {typed}")
    assert reply.startswith(("Truy vấn không hợp lệ", "Invalid query")), reply
    assert mark in reply.split("\n")[1] and str(column) in reply.split("\n")[1], reply
    assert ("Xin lỗi" not in reply) and stored(db) == []


async def test_telegram_reads_them_alike(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    assert (await ask(fake, USER, "/sub „công an“ OR «an ninh»")).startswith("Đã đăng ký")
    assert (await ask(fake, USER, '/sub "công an" OR "an ninh"')).startswith("Đã đăng ký rồi")
    assert "Truy vấn không hợp lệ" in await ask(fake, USER, "/sub «an „ninh» x“")
    assert subs_of(lite_db, USER) == ['"công an" OR "an ninh"']


@pytest.mark.parametrize(
    ("typed", "column"), [('„a b“ "c', 7), ("«a b» “c", 7), ("'a b' x”", 8), ('"an ninh', 1)]
)
def test_a_phrase_the_languages_own_quote_leaves_open_is_the_parsers_to_refuse(
    db: Database, zalo: ZaloBot, typed: str, column: int
) -> None:
    """The readable phrases before it are rewritten, so the parser's refusal is about the
    quote left open (as it always was for ``"``), never a query of ``„a`` and ``b“``."""
    reply = say(zalo, f"/sub {typed}")
    assert reply.startswith("Truy vấn không hợp lệ"), reply
    assert ("ngoặc kép" in reply) and f"(tại ký tự {column})" in reply, reply
    assert stored(db) == []
