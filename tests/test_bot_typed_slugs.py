"""A topic's slug typed as a hashtag or with a sentence's punctuation (``/sub #kien-thuy``,
``/sub kien-thuy.``, ``/sub the-thao!``), or with underscores for hyphens (``kien_thuy``), is
that topic. Read as a query, it was a subscription
to the slug's syllables as toneless words, matching next to nothing, answered "Đã đăng ký".
A word that names no topic either way stays a query as typed. Real bot, fake Bot API."""

from __future__ import annotations

import pytest
from fakebot import FakeBotAPI
from test_bot import USER, ask, subs_of

from feedsvc.bot import BotService
from feedsvc.db import Database


@pytest.mark.parametrize(
    "typed",
    [
        "#kien-thuy", "kien-thuy.", "kien-thuy!", "#Kien-Thuy...", "kien-thuy?", "kien-thuy…",
        "kien_thuy", "#kien_thuy", "KIEN_THUY.",  # a tester's: underscores for hyphens
    ],
)  # fmt: skip
async def test_a_wrapped_slug_is_its_topic(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService, typed: str
) -> None:
    assert await ask(fake, USER, f"/sub {typed}") == "Đã đăng ký: Kiến Thụy (kien-thuy)"
    assert subs_of(lite_db, USER) == ["kien-thuy"]
    assert await ask(fake, USER, f"/unsub {typed}") == "Đã huỷ đăng ký: Kiến Thụy (kien-thuy)"
    assert subs_of(lite_db, USER) == []


async def test_wrapped_slugs_in_a_list_and_disabled_topics(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    reply = await ask(fake, USER, "/sub #kien-thuy, the-thao.")
    assert reply == "Đã đăng ký: Kiến Thụy (kien-thuy)\nĐã đăng ký: Thể thao (the-thao)"
    assert await ask(fake, USER, "/sub cu.") == "Chủ đề cu đang tạm ngưng. Xem /topics."
    assert subs_of(lite_db, USER) == ["kien-thuy", "the-thao"]


@pytest.mark.parametrize(
    "typed", ["#bongda", "bão.", "#", "kien-thuy.x", "##kien-thuy", "bong_da", "kien_thuy_x"]
)
async def test_words_naming_no_topic_stay_queries(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService, typed: str
) -> None:
    reply = await ask(fake, USER, f"/sub {typed}")
    assert "Kiến Thụy (kien-thuy)" not in reply
    assert subs_of(lite_db, USER) in ([typed], [])
