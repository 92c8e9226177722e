"""``/sub @slug`` alone is the topic itself (tester4 G5): a chat on ``kien-thuy`` that sent
``/sub @kien-thuy`` got a second, query subscription to the same articles, and after muting the
topic with an alert's button the query kept sending them. Driven through the real bot against
the fake Bot API (``test_bot``'s set-up); a disabled topic's ``@slug`` and a query with more
terms stay queries."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from backend_cases import module_on_sqlite
from fakebot import FakeBotAPI
from test_bot import USER, ask, running, subs_of

from feedsvc.bot import BotService, options
from feedsvc.db import Database
from feedsvc.store.topics import get_topic

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)


@pytest.fixture
async def bot(db: Database, fake: FakeBotAPI) -> AsyncIterator[BotService]:
    async with running(db, fake) as service:
        yield service


async def test_a_lone_reference_is_the_topic(
    db: Database, fake: FakeBotAPI, bot: BotService
) -> None:
    assert "Đã đăng ký: Kiến Thụy" in await ask(fake, USER, "/sub kien-thuy")
    for same in ("/sub @kien-thuy", "/sub @KIEN-THUY", "/sub  @Kien-Thuy "):
        assert "Đã đăng ký rồi: Kiến Thụy" in await ask(fake, USER, same), same
    assert subs_of(db, USER) == ["kien-thuy"]
    with db.read() as conn:
        topic = get_topic(conn, "kien-thuy")
    assert topic is not None
    options.mute(db, USER, topic.id)  # the alert's mute button: nothing else keeps sending
    assert subs_of(db, USER) == []


async def test_sub_and_unsub_by_reference(db: Database, fake: FakeBotAPI, bot: BotService) -> None:
    assert "Đã đăng ký: Thể thao" in await ask(fake, USER, "/sub @the-thao")
    assert subs_of(db, USER) == ["the-thao"]
    assert "Đã huỷ đăng ký: Thể thao" in await ask(fake, USER, "/unsub @the-thao")
    assert subs_of(db, USER) == []
    assert "Không có đăng ký" in await ask(fake, USER, "/unsub @the-thao")


async def test_other_references_stay_queries(
    db: Database, fake: FakeBotAPI, bot: BotService
) -> None:
    assert "truy vấn @cu" in await ask(fake, USER, "/sub @cu")  # disabled: lends its query
    assert "truy vấn @kien-thuy cầu" in await ask(fake, USER, "/sub @kien-thuy cầu")
    unknown = await ask(fake, USER, "/sub @khong-co")  # refused as before
    assert "không có chủ đề @khong-co" in unknown
    assert subs_of(db, USER) == ["@cu", "@kien-thuy cầu"]
    assert "Đã huỷ đăng ký: truy vấn @cu" in await ask(fake, USER, "/unsub @cu")
    assert subs_of(db, USER) == ["@kien-thuy cầu"]
