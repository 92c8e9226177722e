"""How far a day-part word reaches, three traps a chat reader tripped on:

1. ``/quiet 9h-11h tối`` was saved as 09:00-23:00 and ``10h - 6h sáng`` as 10:00-06:00: each
   end of a window was read alone. A word on one end now goes with the other, bare 12-hour end
   where that is the word's run and keeps the window inside its part of the day (21:00-23:00),
   and a window a reader could mean two ways is asked about (``window_scope``).
2. ``/digest 7h tối 8h`` was saved as 19:00 and 08:00 while ``7h tối, 8h`` was asked about: a
   word after a time that would move the next bare time is asked about (``word_scope``).
3. ``/digest 7:30 CH`` (a Vietnamese phone's PM; ``SA`` its AM) was "not a time".

Pure parses with variants as readers type them (dashes, ``đến``/``tới``, ``từ``, no marks, NFD,
full-width digits, capitals), then the Telegram bot (fake Bot API), the Zalo bot and ``PATCH
/api/chats/{id}`` on real SQLite databases."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

import httpx
import pytest
from factories import VN
from fakebot import FakeBotAPI
from test_bot import USER, ask, running
from test_digest_typed_settings import AUTH, CHAT, client  # noqa: F401  (client: the fixture)

from feedsvc.app import Service
from feedsvc.catalogue import Translator
from feedsvc.channels.zalo import ZaloBotAPI
from feedsvc.channels.zalo.bot import ZaloBot
from feedsvc.channels.zalo.updates import Incoming
from feedsvc.db import Database
from feedsvc.digest import SettingError, parse_digest, parse_quiet
from feedsvc.digest.options import error_text
from feedsvc.store import digests as held
from feedsvc.store.subscriptions import find_recipient

_WIDE = str.maketrans("0123456789:", "０１２３４５６７８９：")


def window_forms(start: str, end: str) -> Iterator[str]:
    """The window as readers type it: each separator, ``từ … đến``, NFD, full-width digits,
    capitals."""
    for sep in ("-", " - ", "\u2013", " \u2014 ", " đến ", " tới ", " den ", "~", " to "):
        yield f"{start}{sep}{end}"
    yield f"từ {start} đến {end}"
    yield f"Từ {start} tới {end}"
    yield unicodedata.normalize("NFD", f"{start} - {end}")
    yield unicodedata.normalize("NFD", f"từ {start} đến {end}")
    yield f"{start} - {end}".translate(_WIDE)
    yield f"{start} - {end}".upper()


def stored_window(text: str) -> str | None:
    window = parse_quiet(text)
    return window.stored() if window is not None else None


def refusal(parse: object, text: str) -> SettingError:
    assert callable(parse)
    with pytest.raises(SettingError) as caught:
        parse(text)
    for language in ("vi", "en"):  # worded by the catalogue, every parameter filled
        said = error_text(caught.value, Translator(language))
        assert "⟦" not in said and "{" not in said, said
    return caught.value


# --- 1. a quiet window's two ends read together ----------------------------------------------

SHARED = [
    # a word after the end goes back to the bare start, one before the start on to the end
    ("9h", "11h tối", "21:00-23:00"), ("9", "11h tối", "21:00-23:00"),
    ("9 giờ", "11 giờ tối", "21:00-23:00"), ("9h", "11h toi", "21:00-23:00"),
    ("9h", "11h buổi tối", "21:00-23:00"), ("9h30", "11h tối", "21:30-23:00"),
    ("9h", "11h kém 15 tối", "21:00-22:45"), ("9 rưỡi", "11h tối", "21:30-23:00"),
    ("tối 9h", "11h", "21:00-23:00"), ("toi 9h", "11h", "21:00-23:00"),
    ("buổi tối 9h", "11 giờ", "21:00-23:00"), ("tối 6h", "10h30", "18:00-22:30"),
    ("9h", "11h đêm", "21:00-23:00"), ("9h", "11h khuya", "21:00-23:00"),
    ("10h", "2h đêm", "22:00-02:00"), ("9h", "12h đêm", "21:00-00:00"),
    ("đêm 11h", "4h", "23:00-04:00"),
    ("1h", "5h chiều", "13:00-17:00"), ("chiều 1h", "5h", "13:00-17:00"),
    ("2h", "6 giờ chieu", "14:00-18:00"), ("11h", "1h trưa", "11:00-13:00"),
    ("9", "11pm", "21:00-23:00"), ("9", "11 p.m.", "21:00-23:00"),
    ("9:00", "11:00 CH", "21:00-23:00"),
    # the word changes nothing for the other end: as written
    ("7h", "11h sáng", "07:00-11:00"), ("1h", "5h sáng", "01:00-05:00"),
    ("6", "10am", "06:00-10:00"),
]  # fmt: skip
AS_WRITTEN = [
    # both ends with their words, the pinned readings
    ("10h tối", "6h sáng", "22:00-06:00"), ("tối 10h", "sáng 6h", "22:00-06:00"),
    ("10:00 CH", "6:00 SA", "22:00-06:00"), ("10pm", "6am", "22:00-06:00"),
    # a word the other end cannot share inside its part: that end as written
    ("10h tối", "6h", "22:00-06:00"), ("tối 10h", "6h", "22:00-06:00"),
    ("tối 10 rưỡi", "6h", "22:30-06:00"), ("11h tối", "1h", "23:00-01:00"),
    ("tối 9h", "3h", "21:00-03:00"), ("9h", "6h chiều", "09:00-18:00"),
    ("8h tối", "8h", "20:00-08:00"), ("10pm", "6", "22:00-06:00"),
    # an end in the 24-hour clock's form, or no word at all: each end alone, as before
    ("21h", "6h sáng", "21:00-06:00"), ("09h", "11h tối", "09:00-23:00"),
    ("tối 10h", "07:00", "22:00-07:00"), ("tối 10h", "24h", "22:00-00:00"),
    ("22h", "6h", "22:00-06:00"), ("22:00", "06:00", "22:00-06:00"),
    ("10h", "6h", "10:00-06:00"), ("0h", "5h sáng", "00:00-05:00"),
]  # fmt: skip


@pytest.mark.parametrize(("start", "end", "stored"), SHARED + AS_WRITTEN)
def test_a_window_word_goes_with_the_bare_end_of_its_run(start: str, end: str, stored: str
                                                         ) -> None:  # fmt: skip
    """``/quiet 9h-11h tối`` was 09:00-23:00, ``tối 9h-11h`` 21:00-11:00, ``1h-5h chiều``
    01:00-17:00; the readings of windows with both or no words stay."""
    for text in window_forms(start, end):
        assert stored_window(text) == stored, text
    assert stored_window(stored) == stored  # what is stored reads back to itself


ASKED = [
    # (start, end, the two readings): the word cannot be shared, and the end as written makes
    # a window of more than 12 hours where its other 12-hour reading would not
    ("10h", "6h sáng", "10:00-06:00", "22:00-06:00"),
    ("10 giờ", "6 giờ sáng", "10:00-06:00", "22:00-06:00"),
    ("10h", "6h sang", "10:00-06:00", "22:00-06:00"),
    ("11h", "5h sáng", "11:00-05:00", "23:00-05:00"),
    ("10", "6 SA", "10:00-06:00", "22:00-06:00"), ("10", "6am", "10:00-06:00", "22:00-06:00"),
    ("3h", "11h tối", "03:00-23:00", "15:00-23:00"),
    ("5h", "10h tối", "05:00-22:00", "17:00-22:00"),
    ("12h", "6h sáng", "00:00-06:00", "12:00-06:00"),
    ("10h tối", "12h", "22:00-00:00", "22:00-12:00"),
    # a word between the times: its own time's, or both? (either window is whole)
    ("9h tối", "11h", "21:00-11:00", "21:00-23:00"),
    ("9h", "tối 11h", "09:00-23:00", "21:00-23:00"),
    ("9pm", "11", "21:00-11:00", "21:00-23:00"),
    ("9:00 CH", "11:00", "21:00-11:00", "21:00-23:00"),
]  # fmt: skip


@pytest.mark.parametrize(("start", "end", "first", "second"), ASKED)
def test_a_window_a_reader_could_mean_two_ways_is_asked_about(
    start: str, end: str, first: str, second: str
) -> None:
    """``/quiet 10h - 6h sáng`` was saved as 10:00-06:00, a 20-hour "night"."""
    for text in window_forms(start, end):
        err = refusal(parse_quiet, text)
        assert (err.code, err.field) == ("window_scope", "quiet"), text
        assert (err.params["first"], err.params["second"]) == (first, second)


def test_the_window_question_names_what_was_typed_and_both_readings() -> None:
    err = refusal(parse_quiet, "Từ 10h đến 6h sáng")
    assert err.params["value"] == "từ 10h đến 6h sáng"
    assert error_text(err, Translator("vi")).startswith(
        "“từ 10h đến 6h sáng” là 10:00-06:00 hay 22:00-06:00? Hãy ghi buổi cạnh cả hai giờ"
    )
    assert error_text(err, Translator("en")).startswith(
        "Does “từ 10h đến 6h sáng” mean 10:00-06:00 or 22:00-06:00?"
    )


def test_an_end_that_is_no_time_is_still_named_first() -> None:
    """A refusal of one end comes before any weighing of the two (``tối 3h`` contradicts)."""
    assert refusal(parse_quiet, "9h - tối 3h").code == "time_contradicts"
    assert refusal(parse_quiet, "9h - 11h toi nay").code == "time_day"
    assert refusal(parse_quiet, "9h - 11h tối tối").code == "bad_time"
    assert refusal(parse_quiet, "9h tối - 9h tối").code == "quiet_empty"


# --- 2. one piece: a word after a time that would move the next bare time --------------------


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("7h tối 8h", "7h tối 8h"), ("7 giờ tối 8 giờ", "7 giờ tối 8 giờ"),
        ("7h toi 8h", "7h toi 8h"), ("7h tối 8h30", "7h tối 8h30"), ("7h tối 6h", "7h tối 6h"),
        ("7 rưỡi tối 8h", "7 rưỡi tối 8h"), ("7pm 8", "7pm 8"), ("7:30 CH 8:30", "7:30 ch 8:30"),
        ("2h chiều 3h", "2h chiều 3h"), ("11h đêm 12h", "11h đêm 12h"),
        ("6h sáng, 7h tối 8h", "7h tối 8h"), ("7H TỐI 8H", "7h tối 8h"),
    ],
)  # fmt: skip
def test_a_word_that_might_go_on_to_the_next_time_is_asked_about(typed: str, value: str) -> None:
    """``/digest 7h tối 8h`` was saved as 19:00 and 08:00 (``7h tối, 8h`` was asked about)."""
    for form in ("NFC", "NFD"):
        err = refusal(parse_digest, unicodedata.normalize(form, typed))
        assert (err.code, err.params["value"]) == ("word_scope", value)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("7h tối 6h sáng", "06:00,19:00"), ("7h tối 18h", "18:00,19:00"),
        ("7h tối 3h", "03:00,19:00"), ("7h sáng 8h", "07:00,08:00"), ("7am 8", "07:00,08:00"),
        ("7h tối 08:00", "08:00,19:00"), ("7h tối 8h tối", "19:00,20:00"),
        ("tối 7h 8h", "19:00,20:00"), ("7h 8h tối", "19:00,20:00"),
        ("7h tối 8h 9h sáng", "08:00,09:00,19:00"),
    ],
)  # fmt: skip
def test_a_word_that_cannot_move_the_next_time_reads_as_written(typed: str, stored: str) -> None:
    for form in ("NFC", "NFD"):
        assert parse_digest(unicodedata.normalize(form, typed)).stored() == stored


# --- 3. a phone's SA / CH (AM / PM in the Vietnamese locale) ---------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("7:30 CH", "19:30"), ("7:30 SA", "07:30"), ("7h CH", "19:00"), ("7:30CH", "19:30"),
        ("7:30 ch", "19:30"), ("7:30 Ch", "19:30"), ("7:30 cH", "19:30"), ("7 CH", "19:00"),
        ("7:30sa", "07:30"), ("12:30 SA", "00:30"), ("12:15 CH", "12:15"),
        ("７:３０ ＣＨ", "19:30"), ("lúc 7:30 CH", "19:30"), ("7:30 CH.", "19:30"),
        ("7:30 SA, 7:30 CH", "07:30,19:30"), ("6:30 SA và 5:00 CH", "06:30,17:00"),
        ("6:30 SA 5:00 CH", "06:30,17:00"), ("7:30 8:30 CH", "19:30,20:30"),
        # copied from a phone: a (narrow) no-break space before the marker
        ("7:30\u202fCH", "19:30"), ("7:30\u00a0SA", "07:30"),
    ],
)  # fmt: skip
def test_a_phones_sa_and_ch_are_am_and_pm(typed: str, stored: str) -> None:
    """``/digest 7:30 CH`` was "“ch” is not a time of day"."""
    assert parse_digest(typed).stored() == stored


@pytest.mark.parametrize(
    ("typed", "code"),
    [("19:30 CH", "time_contradicts"), ("13h SA", "time_contradicts"),
     ("7:30 CH, 8:00", "word_across_list"), ("CH 7:30", "bad_time")],
)  # fmt: skip
def test_sa_and_ch_keep_the_am_pm_refusals(typed: str, code: str) -> None:
    assert refusal(parse_digest, typed).code == code


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("10:00 CH - 6:00 SA", "22:00-06:00"), ("9:00 - 11:00 CH", "21:00-23:00"),
     ("từ 10 CH đến 6 SA", "22:00-06:00"), ("１０:００ ＣＨ－６:００ ＳＡ", "22:00-06:00"),
     ("10:00\u202fCH\u2009–\u20096:00\u202fSA", "22:00-06:00")],
)  # fmt: skip
def test_sa_and_ch_in_a_quiet_window(typed: str, stored: str) -> None:
    assert stored_window(typed) == stored


# --- through the Telegram bot, the Zalo bot and the API --------------------------------------


def stored_settings(db: Database, chat_id: int) -> tuple[str, str | None]:
    with db.read() as conn:
        found = held.get_settings(conn, chat_id)
    assert found is not None
    return found.digest.text(), found.quiet.stored() if found.quiet else None


async def test_the_telegram_bot_reads_asks_and_stores_nothing_asked(
    lite_db: Database, fake: FakeBotAPI
) -> None:
    async with running(lite_db, fake):
        reply = await ask(fake, USER, "/quiet 9h-11h tối")
        assert reply.startswith("Đã lưu.") and "yên lặng 21:00-23:00" in reply, reply
        assert "yên lặng 13:00-17:00" in await ask(fake, USER, "/quiet từ 1h đến 5h chiều")
        assert "bản tổng hợp lúc 19:30" in await ask(fake, USER, "/digest 7:30 CH")
        assert stored_settings(lite_db, USER) == ("19:30", "13:00-17:00")
        asked = await ask(fake, USER, "/quiet 10h - 6h sáng")
        assert "“10h - 6h sáng” là 10:00-06:00 hay 22:00-06:00?" in asked, asked
        assert "Đã lưu" not in asked
        asked = await ask(fake, USER, "/digest 7h tối 8h")
        assert "“7h tối 8h”: không rõ buổi nào đi với giờ nào" in asked, asked
        assert stored_settings(lite_db, USER) == ("19:30", "13:00-17:00")
        reply = await ask(fake, USER, "/quiet 10:00 CH – 6:00 SA")
        assert "yên lặng 22:00-06:00" in reply, reply
        assert stored_settings(lite_db, USER) == ("19:30", "22:00-06:00")


def test_the_zalo_bot_reads_the_same(lite_db: Database) -> None:
    bot = ZaloBot(lite_db, ZaloBotAPI("1:unused", "http://127.0.0.1:9"), tz=VN)

    def say(text: str) -> str:
        reply = bot.answer(Incoming("z-day", "private", "Lan", text, "u-day"))
        assert reply is not None
        return reply

    assert "21:00-23:00" in say("/quiet 9h–11h đêm")
    assert "19:30" in say("/digest 7:30 CH")
    assert "22:00-06:00" in say("/quiet 10h - 6h sáng")  # the question names both readings
    assert "không rõ buổi nào" in say("/digest 7pm 8")
    with lite_db.read() as conn:
        chat = find_recipient(conn, "zalo", "z-day")
        assert chat is not None
    assert stored_settings(lite_db, chat.chat_id) == ("19:30", "21:00-23:00")


async def test_the_api_reads_asks_and_half_applies_nothing(
    client: tuple[httpx.AsyncClient, Service],  # noqa: F811  (the imported fixture)
) -> None:
    """``PATCH /api/chats/{id}`` with ``"quiet": "9h-11h tối"`` stored 09:00-23:00."""
    http, service = client
    body = {"quiet": "9h-11h tối", "digest": "7:30 SA, 7:30 CH"}
    answer = await http.patch(f"/api/chats/{CHAT}", headers=AUTH, json=body)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["quiet"], answer.json()["digest"]) == ("21:00-23:00", "07:30,19:30")
    for body, field, code in (
        ({"quiet": "10h - 6h sáng", "digest": "off"}, "quiet", "setting_window_scope"),
        ({"quiet": "tối 9h-11h", "digest": "7h tối 8h"}, "digest", "setting_word_scope"),
    ):
        refused = await http.patch(f"/api/chats/{CHAT}", json=body,
                                   headers={**AUTH, "Accept-Language": "en"})  # fmt: skip
        assert refused.status_code == 400, refused.text
        assert (refused.json()["field"], refused.json()["code"]) == (field, code)
        with service.db.read() as conn:
            found = held.get_settings(conn, CHAT)
        assert found is not None and found.quiet is not None
        assert (found.digest.stored(), found.quiet.stored()) == ("07:30,19:30", "21:00-23:00")
    refused = await http.patch(f"/api/chats/{CHAT}", json={"quiet": "10h - 6h sáng"},
                               headers={**AUTH, "Accept-Language": "en"})  # fmt: skip
    assert "mean 10:00-06:00 or 22:00-06:00?" in refused.json()["message"]
    answer = await http.patch(f"/api/chats/{CHAT}", headers=AUTH, json={"quiet": "tối 9h-11h"})
    assert answer.json()["quiet"] == "21:00-23:00"
