"""``/unsub N`` removes line N of ``/list``, as ``/help`` offers (``/unsub ‹… số thứ tự>``).

A tester's: after ``/sub an-ninh``, ``/sub kien-thuy``, ``/sub 1``, ``/list`` showed
"1. An ninh … 3. truy vấn 1", and ``/unsub 1`` removed line 3 — the query whose text is "1" —
not line 1: the query's text was tried before the number. Now a number of a line wins; such a
query is removed by its own line's number, or by its text once no line has that number.
Several numbers (``/unsub 1 3``, ``1, 3``) remove those lines, read before any is removed.
"""

from __future__ import annotations

import pytest
from fakebot import FakeBotAPI
from test_bot import USER, ask, subs_of

from feedsvc.bot import BotService
from feedsvc.db import Database


async def subscribed(fake: FakeBotAPI, *args: str) -> None:
    for arg in args:
        assert "Đã đăng ký" in await ask(fake, USER, f"/sub {arg}")


@pytest.mark.parametrize("typed", ["1", "１", " 1 "])
async def test_a_number_is_the_line_even_when_a_query_reads_the_same(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService, typed: str
) -> None:
    await subscribed(fake, "the-thao", "kien-thuy", "1")
    listing = await ask(fake, USER, "/list")
    assert "1. Thể thao (the-thao)" in listing and "3. truy vấn 1" in listing
    assert "Đã huỷ đăng ký: Thể thao" in await ask(fake, USER, f"/unsub {typed}")
    assert subs_of(lite_db, USER) == ["kien-thuy", "1"]


async def test_a_query_that_is_a_number_is_still_removed_by_its_text_past_the_list(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    await subscribed(fake, "2026")  # one line: 2026 is no line number
    assert "Đã huỷ đăng ký: truy vấn 2026" in await ask(fake, USER, "/unsub 2026")
    assert subs_of(lite_db, USER) == []


@pytest.mark.parametrize("typed", ["1 3", "1, 3", "3;1", "1 3 1"])
async def test_several_numbers_remove_those_lines(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService, typed: str
) -> None:
    await subscribed(fake, "the-thao", "kien-thuy", '"xe buýt"', "cầu")
    reply = await ask(fake, USER, f"/unsub {typed}")
    assert "Đã huỷ đăng ký: Thể thao" in reply and 'Đã huỷ đăng ký: truy vấn "xe buýt"' in reply
    assert subs_of(lite_db, USER) == ["kien-thuy", "cầu"]


@pytest.mark.parametrize("typed", ["1 9", "0", "1 x"])
async def test_a_number_past_the_list_removes_nothing(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService, typed: str
) -> None:
    await subscribed(fake, "the-thao", "kien-thuy")
    assert "Không có đăng ký" in await ask(fake, USER, f"/unsub {typed}")
    assert subs_of(lite_db, USER) == ["the-thao", "kien-thuy"]
