"""``/start <payload>`` reads the topic as ``/sub`` reads a slug (a chat tester's report, low).

Before: ``/start an_ninh`` (a deep link's payload may hold ``A-Za-z0-9_-``: Telegram's deep
linking) answered "Không tìm thấy chủ đề an_ninh" while ``/sub an_ninh`` subscribed to
``an-ninh`` (README: underscores read as hyphens). Now ``actions.start_topic`` finds the topic
by :func:`feedsvc.bot.meaning.typed_topic`, the one slug reading, on Telegram and on Zalo.
The bot builds its own links with the slug as it is (``pages.render.telegram_link``): those
still work.
"""

from __future__ import annotations

import pytest
from fakebot import FakeBotAPI
from test_bot import ask, subs_of
from test_dispatch import fake as fake  # the fixture
from test_zalo import VN

from feedsvc.bot import BotService
from feedsvc.channels.zalo.api import ZaloBotAPI
from feedsvc.channels.zalo.bot import ZaloBot
from feedsvc.channels.zalo.updates import Incoming
from feedsvc.db import Database
from feedsvc.pages.render import telegram_link
from feedsvc.store import subscriptions as subs

USER = 4301


@pytest.mark.parametrize("payload", ["kien_thuy", "the_thao", "kien-thuy"])
async def test_a_start_payload_with_underscores_subscribes_to_its_topic(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService, payload: str
) -> None:
    slug = payload.replace("_", "-")
    reply = await ask(fake, USER, f"/start {payload}")
    assert reply.startswith("Xin chào") and f"({slug})" in reply and "Không tìm thấy" not in reply
    assert subs_of(lite_db, USER) == [slug]


async def test_an_unknown_payload_is_still_no_topic(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    for unknown in ("khong_co", "kien__thuy", "kien_thuy_x"):
        reply = await ask(fake, USER, f"/start {unknown}")
        assert f"Không tìm thấy chủ đề {unknown}" in reply
    assert subs_of(lite_db, USER) == []


def test_the_bots_own_link_carries_the_slug_as_it_is() -> None:
    assert telegram_link("tin_bot", "kien-thuy") == "https://t.me/tin_bot?start=kien-thuy"


@pytest.mark.parametrize("payload", ["kien_thuy", "kien-thuy"])
def test_zalo_start_reads_the_payload_alike(lite_db: Database, payload: str) -> None:
    from test_bot import seed_topics

    seed_topics(lite_db)
    bot = ZaloBot(lite_db, ZaloBotAPI("1:unused", "http://127.0.0.1:9"), tz=VN)
    reply = bot.answer(Incoming("z-start", "private", "Lan", f"/start {payload}", "u-start"))
    assert reply is not None and "(<code>kien-thuy</code>)" in reply
    with lite_db.read() as conn:
        chat = subs.find_recipient(conn, "zalo", "z-start")
        assert chat is not None
        assert [s.topic_slug for s in subs.list_subscriptions(conn, chat.chat_id)] == ["kien-thuy"]
