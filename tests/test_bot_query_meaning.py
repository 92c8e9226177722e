"""A chat's query is one subscription whatever its spelling the matcher ignores (case, Unicode
form, tone-mark placement, term order): ``/sub kiến thụy`` beside a stored ``Kiến Thụy`` was a
second subscription, ``/unsub KIẾN THỤY`` "no subscription"; and a query that is an enabled
topic's own query (``"KIẾN THỤY" OR "Núi Đối"``) is that topic, said so, not a query beside it
that the topic's mute button left sending the same articles (:mod:`feedsvc.bot.meaning`).
Real bot, fake Bot API over HTTP."""

from __future__ import annotations

import pytest
from fakebot import FakeBotAPI
from test_bot import USER, ask, subs_of

from feedsvc.bot import BotService
from feedsvc.db import Database


@pytest.mark.parametrize(
    "again", ["kiến thụy", "KIẾN THỤY", "Kiến Thuỵ", "thụy kiến", "(kiến thụy) kiến", '"kiến" thụy']
)
async def test_a_query_spelled_otherwise_is_the_same_subscription(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService, again: str
) -> None:
    assert await ask(fake, USER, "/sub Kiến Thụy") == "Đã đăng ký: truy vấn Kiến Thụy"
    assert await ask(fake, USER, f"/sub {again}") == "Đã đăng ký rồi: truy vấn Kiến Thụy"
    assert subs_of(lite_db, USER) == ["Kiến Thụy"]
    assert await ask(fake, USER, f"/unsub {again}") == "Đã huỷ đăng ký: truy vấn Kiến Thụy"
    assert subs_of(lite_db, USER) == []


async def test_other_meanings_stay_other_subscriptions(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    for query in ("Kiến Thụy", "~kien thuy", "Kiến Thủy", '"Kiến Thụy"', "Kiến OR Thụy"):
        assert (await ask(fake, USER, f"/sub {query}")).startswith("Đã đăng ký: truy vấn")
    assert len(subs_of(lite_db, USER)) == 5


@pytest.mark.parametrize(
    "typed", ['"KIẾN THỤY" OR "Núi Đối"', '"núi đối" OR "kiến thuỵ"', '"Kiến Thụy" OR "Núi Đối"']
)
async def test_a_topics_own_query_is_the_topic(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService, typed: str
) -> None:
    reply = await ask(fake, USER, f"/sub {typed}")
    assert reply == (
        f"Truy vấn {typed} chính là truy vấn của chủ đề Kiến Thụy (kien-thuy), nên được đăng ký"
        " theo chủ đề.\nĐã đăng ký: Kiến Thụy (kien-thuy)"
    )
    assert subs_of(lite_db, USER) == ["kien-thuy"]
    assert "Đã đăng ký rồi: Kiến Thụy" in await ask(fake, USER, '/sub "Núi Đối" OR "Kiến Thụy"')
    reply = await ask(fake, USER, '/unsub "NÚI ĐỐI" OR "KIẾN THỤY"')
    assert reply == "Đã huỷ đăng ký: Kiến Thụy (kien-thuy)" and subs_of(lite_db, USER) == []


async def test_a_disabled_topics_query_stays_a_query(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    assert await ask(fake, USER, "/sub CŨ") == "Đã đăng ký: truy vấn CŨ"
    assert subs_of(lite_db, USER) == ["CŨ"]
