"""``/sub`` of a query that will rarely match as typed says so, and subscribes all the same.

A tester's chat typed ``kien thuy`` (no marks: matching is accent-sensitive by design, SPEC §4,
so it finds only text written without them, never "Kiến Thụy") and ``an ninh or công an``
(``or`` is a word the articles must hold: the operator is ``OR``); both subscribed silently and
no alert ever came. Now the reply carries a hint line for each (:mod:`feedsvc.query_hints`),
Telegram and Zalo, Vietnamese and English. Real bot, fake Bot API over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from backend_cases import module_on_sqlite
from fakebot import FakeBotAPI
from test_bot import USER, ask, subs_of
from test_zalo_words import say

from feedsvc.bot import BotService, texts
from feedsvc.channels.zalo import ZaloBotAPI
from feedsvc.channels.zalo.bot import ZaloBot
from feedsvc.db import Database

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

#: typed without marks → the words the hint puts ~ before
UNMARKED = {
    "kien thuy": "~kien ~thuy",  # the tester's
    "KIEN THUY": "~kien ~thuy",
    '"kien thuy"': "~kien ~thuy",
    "cong an": "~cong ~an",
    "tin tuc Hai Phong 2024": "~tin ~tuc ~hai ~phong",  # a number is no word
    "nguyen": "~nguyen",  # one word Vietnamese never writes unmarked
    "title:kien -thuy": "~kien ~thuy",
}
#: each with a lower-case operator word → (word, operator)
OPERATOR = {
    "an ninh or công an": ("or", "OR"),  # the tester's
    '"an ninh" or "công an"': ("or", "OR"),
    "Kiến Thụy and Đồ Sơn": ("and", "AND"),
    "công an not giao": ("not", "NOT"),
    "an ninh hoặc trật tự": ("hoặc", "OR"),
}
#: as meant: no hint
MEANT = [
    "Kiến Thụy", '"an ninh" OR "công an"', "~kien ~thuy", '~"kien thuy"', "covid", "covid 19",
    "an", "kien Thụy", "kien-thuy", "@kien-thuy", "Đồ Sơn -giao", "or",
]  # fmt: skip


@pytest.mark.parametrize(("typed", "folded"), UNMARKED.items())
async def test_a_query_without_marks_is_subscribed_with_a_hint(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService, typed: str, folded: str
) -> None:
    reply = await ask(fake, USER, f"/sub {typed}")
    lines = reply.split("\n")
    assert lines[0] == f"Đã đăng ký: truy vấn {typed}", reply
    assert lines[1].startswith("Lưu ý: tìm kiếm phân biệt dấu") and lines[1].endswith(folded)
    assert f"{typed} chỉ khớp chữ viết không dấu" in lines[1]
    assert subs_of(lite_db, USER) == [typed]
    again = await ask(fake, USER, f"/sub {typed}")  # said again when it is there already
    assert again.startswith("Đã đăng ký rồi") and folded in again


@pytest.mark.parametrize(("typed", "word"), OPERATOR.items())
async def test_a_lower_case_operator_is_subscribed_with_a_hint(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService, typed: str, word: tuple[str, str]
) -> None:
    reply = await ask(fake, USER, f"/sub {typed}")
    lines = reply.split("\n")
    assert lines[0] == f"Đã đăng ký: truy vấn {typed}", reply
    at = typed.index(f" {word[0]} ") + 2
    assert lines[1] == (
        f"Lưu ý: “{word[0]}” (ký tự {at}) là một từ bài viết phải có; muốn dùng toán tử thì"
        f" viết {word[1]} (chữ hoa)."
    )
    assert subs_of(lite_db, USER) == [typed]


@pytest.mark.parametrize("typed", MEANT)
async def test_a_query_as_meant_gets_no_hint(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService, typed: str
) -> None:
    reply = await ask(fake, USER, f"/sub {typed}")
    assert "Lưu ý" not in reply and "\n" not in reply.strip(), reply


def test_both_hints_at_once_and_in_english() -> None:
    texts.set_language("en")
    try:
        hints = texts.query_hints("kien thuy or nui doi").split("\n")
    finally:
        texts.set_language("vi")
    assert hints[0] == ""
    assert hints[1] == (
        "Note: “or” (character 11) is a word the articles must contain; for the operator,"
        " write OR (capitals)."
    )
    assert hints[2].startswith("Note: matching is accent-sensitive, so kien thuy or nui doi")
    assert hints[2].endswith("~kien ~thuy ~nui ~doi")  # "or" has its own hint


def test_what_looks_vietnamese_without_marks() -> None:
    from feedsvc.query_hints import unaccented_words

    assert unaccented_words("kien") == ["kien"]
    assert unaccented_words("an") == []  # one word, written so unmarked too
    assert unaccented_words("iphone apple") == []
    assert unaccented_words("kien Thụy") == []  # a reader who types a mark knows to


@pytest.fixture(params=["vi", "en"])
def language(request: pytest.FixtureRequest) -> Iterator[str]:
    texts.set_language(request.param)
    yield request.param
    texts.set_language("vi")


def test_zalo_says_it_too(db: Database, language: str) -> None:
    bot = ZaloBot(db, ZaloBotAPI("1:unused", "http://127.0.0.1:9"))
    reply = say(bot, "z-1", "/sub kien thuy")
    head = "Đã đăng ký: truy vấn kien thuy" if language == "vi" else "Subscribed: query kien thuy"
    assert reply.startswith(head + "\n"), reply
    assert reply.endswith("~kien ~thuy") and "Kiến Thụy" in reply
    reply = say(bot, "z-1", "/sub an ninh or công an")
    assert "“or”" in reply and "OR" in reply.split("\n")[1], reply
