"""A day-part word and a bare time in different pieces of a digest list (across a comma, a
semicolon or ``và``): ``/digest tối 7h, 8h`` was saved as 19:00 and 08:00 without a question,
though a reader who wrote "evening 7, 8" most likely meant 20:00. Where the word would move the
time's hour it is asked about (``word_across_list``), never guessed; where it changes nothing,
or the time is written in the 24-hour clock's form, the list is saved as written. Pure parse
tests, then ``PATCH /api/chats/{id}`` on a real SQLite database (nothing stored)."""

from __future__ import annotations

import unicodedata

import httpx
import pytest
from test_digest_typed_settings import AUTH, CHAT, client  # noqa: F401  (client: the fixture)

from feedsvc.app import Service
from feedsvc.catalogue import Translator
from feedsvc.digest import SettingError, parse_digest
from feedsvc.digest.options import error_text
from feedsvc.store import digests as held

ASKED = [
    # (typed, the text named, the word, the time it might go with)
    ("tối 7h, 8h", "tối 7h, 8h", "tối", "8h"),
    ("tối 7h và 8h", "tối 7h và 8h", "tối", "8h"),
    ("tối 7h va 8h", "tối 7h va 8h", "tối", "8h"),
    ("tối 7h; 8h", "tối 7h; 8h", "tối", "8h"),
    ("toi 7h, 8h", "toi 7h, 8h", "toi", "8h"),
    ("buổi tối 7h, 8h", "buổi tối 7h, 8h", "buổi tối", "8h"),
    ("Tối 7h,8h", "tối 7h,8h", "tối", "8h"),
    ("tối 7 giờ, 8 giờ", "tối 7 giờ, 8 giờ", "tối", "8 giờ"),
    ("tối 7h, 8h30", "tối 7h, 8h30", "tối", "8h30"),
    ("tối 7h, 8:00", "tối 7h, 8:00", "tối", "8:00"),
    ("tối 7h, 9 giờ kém 15", "tối 7h, 9 giờ kém 15", "tối", "9 giờ kém 15"),
    ("tối 7h, 8h, 9h", "tối 7h, 8h", "tối", "8h"),
    ("tối 7h 8h, 6h", "tối 7h 8h, 6h", "tối", "6h"),  # 06:00 or 18:00? (pinned 06:00 before)
    # a word written last, back across the separator
    ("7h, 8h tối", "7h, 8h tối", "tối", "7h"),
    ("7h và 8h tối", "7h và 8h tối", "tối", "7h"),
    ("7h; 8h 9h tối", "7h; 8h 9h tối", "tối", "7h"),
    ("6h, 7h 8h tối", "6h, 7h 8h tối", "tối", "6h"),
    # a word after the last time of its piece, on across it ("7pm, 8")
    ("7h tối, 8h", "7h tối, 8h", "tối", "8h"),
    ("7pm, 8", "7pm, 8", "pm", "8"),
    ("7, 8pm", "7, 8pm", "pm", "7"),
    # the other words
    ("chiều 2h, 3h", "chiều 2h, 3h", "chiều", "3h"),
    ("2h, 5h chiều", "2h, 5h chiều", "chiều", "2h"),
    ("trưa 12h, 1h", "trưa 12h, 1h", "trưa", "1h"),
    ("đêm 11h, 12h", "đêm 11h, 12h", "đêm", "12h"),
    ("dem 10h và 11h", "dem 10h và 11h", "dem", "11h"),
    ("sáng 6h, 7h, tối 8h, 9h", "tối 8h, 9h", "tối", "9h"),
]


@pytest.mark.parametrize(("typed", "value", "word", "at"), ASKED)
def test_a_word_that_would_move_a_time_across_the_list_is_asked_about(
    typed: str, value: str, word: str, at: str
) -> None:
    """Saved as 19:00 and 08:00 (or 07:00 and 20:00) before, a reading likely not meant."""
    for form in ("NFC", "NFD"):
        with pytest.raises(SettingError) as caught:
            parse_digest(unicodedata.normalize(form, typed))
        err = caught.value
        assert (err.code, err.field) == ("word_across_list", "digest")
        assert (err.params["value"], err.params["word"], err.params["time"]) == (value, word, at)


def test_the_question_says_to_write_the_word_with_each_time_in_both_languages() -> None:
    with pytest.raises(SettingError) as caught:
        parse_digest("tối 7h, 8h")
    vi, en = (error_text(caught.value, Translator(lang)) for lang in ("vi", "en"))
    assert vi.startswith("“tối 7h, 8h”: “tối” có đi cả với “8h” không?") and "7h tối, 8h tối" in vi
    assert en.startswith("“tối 7h, 8h”: does “tối” go with “8h” too?") and "7h tối, 8h tối" in en


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        # the word changes nothing for the other time: no doubt
        ("sáng 7h, 8h", "07:00,08:00"), ("sáng 7h và 8h", "07:00,08:00"),
        ("7h, 8h sáng", "07:00,08:00"), ("7am, 8", "07:00,08:00"),
        ("tối 7h, 18h", "18:00,19:00"), ("chiều 5h, 13h", "13:00,17:00"),
        ("trưa 12h, 11h", "11:00,12:00"),
        # a word that does not go with the hour cannot be meant for it
        ("tối 7h, 3h", "03:00,19:00"),
        # a leading zero is the 24-hour clock's form: exactly that hour
        ("tối 7h, 08:00", "08:00,19:00"), ("tối 7h và 08h", "08:00,19:00"),
        ("06h, 7h 8h tối", "06:00,19:00,20:00"),
        # every time with its own word, or a word nearer in the time's own piece
        ("7h sáng, 7h tối", "07:00,19:00"), ("7h tối, 8h sáng", "08:00,19:00"),
        ("tối 7h, sáng 8h", "08:00,19:00"), ("7h, tối 8h", "07:00,20:00"),
        ("tối 7h 8h, 9h tối", "19:00,20:00,21:00"), ("7h tối 6h sáng, 8h", "06:00,08:00,19:00"),
        ("tối 7h sáng 6h, 8h", "06:00,08:00,19:00"),
        # no words, or one piece: as before
        ("tối 7h sáng 6h", "06:00,19:00"), ("7h 18h", "07:00,18:00"), ("1h, 7h", "01:00,07:00"),
        ("tối 7h 8h", "19:00,20:00"), ("7h 8h tối", "19:00,20:00"), ("7h tối 18h", "18:00,19:00"),
    ],
)  # fmt: skip
def test_a_list_the_word_cannot_change_is_saved_as_written(typed: str, stored: str) -> None:
    for form in ("NFC", "NFD"):
        assert parse_digest(unicodedata.normalize(form, typed)).stored() == stored


def test_a_doubt_inside_a_piece_is_named_first() -> None:
    """The piece's own question comes before the list's (``word_scope``: 19:00 twice?)."""
    for typed in ("tối 7h 19h, 8h", "7h tối 6h, 8h"):  # the latter saved 06:00 before
        with pytest.raises(SettingError) as caught:
            parse_digest(typed)
        assert caught.value.code == "word_scope"


async def test_the_api_asks_and_stores_nothing(
    client: tuple[httpx.AsyncClient, Service],  # noqa: F811  (the imported fixture)
) -> None:
    """``PATCH /api/chats/{id}`` with ``tối 7h, 8h`` stored 19:00 and 08:00; it is a 400 now,
    the chat's settings (digest and quiet of the same request) left as they were."""
    http, service = client
    first = await http.patch(f"/api/chats/{CHAT}", headers=AUTH,
                             json={"digest": "7h sáng, 6h chiều"})  # fmt: skip
    assert first.status_code == 200 and first.json()["digest"] == "07:00,18:00"
    for typed in ("tối 7h, 8h", "tối 7h và 8h", "7h, 8h tối"):
        answer = await http.patch(f"/api/chats/{CHAT}", headers={**AUTH, "Accept-Language": "en"},
                                  json={"digest": typed, "quiet": "22h-6h"})  # fmt: skip
        assert answer.status_code == 400, answer.text
        body = answer.json()
        assert (body["field"], body["code"]) == ("digest", "setting_word_across_list")
        assert "Write the part of the day with each time" in body["message"]
        with service.db.read() as conn:
            found = held.get_settings(conn, CHAT)
        assert found is not None
        assert (found.digest.stored(), found.quiet) == ("07:00,18:00", None)
    answer = await http.patch(f"/api/chats/{CHAT}", headers=AUTH, json={"digest": "7h tối, 8h tối"})
    assert answer.status_code == 200 and answer.json()["digest"] == "19:00,20:00"
