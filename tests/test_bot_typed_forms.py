"""Presentation forms of ASCII typed to the bot (:mod:`feedsvc.typed_forms`): full-width digits
and punctuation from CJK phone keyboards, "fancy text" letters (Mathematical Alphanumeric
Symbols and their kin) pasted from generators. Each reads as the characters it shows; digits of
other scripts stay refused. Driven through the real bot against the fake Bot API."""

from __future__ import annotations

import pytest
from fakebot import FakeBotAPI
from test_bot import USER, ask, subs_of

from feedsvc.bot import BotService, actions
from feedsvc.db import Database
from feedsvc.digest.settings import parse_digest, parse_quiet, parse_switch
from feedsvc.store import digests as held


def settings_of(db: Database, chat_id: int) -> tuple[str, str | None, bool]:
    with db.read() as conn:
        found = held.get_settings(conn, chat_id)
    assert found is not None
    return found.digest.text(), found.quiet.stored() if found.quiet else None, found.silent


async def test_full_width_settings_are_saved(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    """``/digest ７:３０`` was "“７:３０” không phải giờ hợp lệ (HH:MM, ví dụ 07:30)"."""
    assert (await ask(fake, USER, "/digest ７:３０")).startswith("Đã lưu.")
    assert settings_of(lite_db, USER)[0] == "07:30"
    assert (await ask(fake, USER, "/digest ０７：３０，１８ｈ")).startswith("Đã lưu.")
    assert (await ask(fake, USER, "/quiet ２２：００－０６：００")).startswith("Đã lưu.")
    assert (await ask(fake, USER, "/silent ｏｎ")).startswith("Đã lưu.")
    assert settings_of(lite_db, USER) == ("07:30,18:00", "22:00-06:00", True)
    assert (await ask(fake, USER, "/digest ＯＦＦ")).startswith("Đã lưu.")
    assert settings_of(lite_db, USER)[0] == "off"
    # digits of another script are other digits, not a width: still refused, shown as typed
    assert "“٧:٣٠” không phải giờ hợp lệ" in await ask(fake, USER, "/digest ٧:٣٠")


async def test_fancy_text_query_is_the_plain_query(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    """``/sub 𝐊𝐢𝐞̂́𝐧 𝐓𝐡𝐮̣𝐲`` was stored as typed: a query no article could match."""
    reply = await ask(fake, USER, "/sub 𝐊𝐢𝐞̂́𝐧 𝐓𝐡𝐮̣𝐲")
    assert reply == "Đã đăng ký: truy vấn Kiến Thụy"
    assert subs_of(lite_db, USER) == ["Kiến Thụy"]
    assert "Đã đăng ký rồi" in await ask(fake, USER, "/sub Kiến Thụy")
    assert "Đã đăng ký rồi" in await ask(fake, USER, "/sub 𝕂𝕚𝕖̂́𝕟 𝕋𝕙𝕦̣𝕪")
    # a slug in styled or full-width letters names the topic
    assert "Thể thao (the-thao)" in await ask(fake, USER, "/sub ｔｈｅ－ｔｈａｏ")
    assert "Kiến Thụy (kien-thuy)" in await ask(fake, USER, "/sub 𝗸𝗶𝗲𝗻-𝘁𝗵𝘂𝘆")
    assert subs_of(lite_db, USER) == ["Kiến Thụy", "the-thao", "kien-thuy"]
    # /unsub by a full-width line number, or by the query in another style
    assert "Đã huỷ đăng ký: truy vấn Kiến Thụy" in await ask(fake, USER, "/unsub １")
    assert "Đã huỷ đăng ký: Thể thao" in await ask(fake, USER, "/unsub 𝚝𝚑𝚎-𝚝𝚑𝚊𝚘")
    assert subs_of(lite_db, USER) == ["kien-thuy"]


@pytest.mark.parametrize(
    ("typed", "plain"),
    [
        ("𝐊𝐢𝐞̂́𝐧 𝐓𝐡𝐮̣𝐲", "Kiến Thụy"),
        ("ℍ𝕒̉𝕚 ℙ𝕙𝕠̀𝕟𝕘", "Hải Phòng"),
        ("Ⓚⓘⓔ̂́ⓝ", "Kiến"),
        ("＂công an＂ ＯＲ ＂an ninh＂", '"công an" OR "an ninh"'),
        ("Kiến Thụy", "Kiến Thụy"),
        ("٧ ﬁ ½", "٧ ﬁ ½"),  # other digits, ligatures, fractions: kept
    ],
)
def test_normalise_reads_presentation_forms(typed: str, plain: str) -> None:
    assert actions.normalise(typed) == plain


def test_settings_parsers_read_full_width() -> None:
    assert parse_digest("７:３０").text() == parse_digest("7:30").text()
    window = parse_quiet("２２：００－６：００")
    assert window is not None and window.stored() == "22:00-06:00"
    assert parse_switch("ｏｆｆ") is False
    # the new module, imported here so the tests above also run on the code before it
    from feedsvc.typed_forms import plain_forms

    assert plain_forms("ａ１：") == "a1:"
