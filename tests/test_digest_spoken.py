"""Times as Vietnamese readers write them, beyond ``7h tối``: the day-part word first (``tối
7h``), ``kém`` (``7 giờ kém 15``), ``7 rưỡi``, ``7h30p``, ``từ 22h đến 6h`` — through
:func:`parse_digest` and :func:`parse_quiet` (the bot's, API's and admin's one parser)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedsvc.catalogue import Translator
from feedsvc.digest import SettingError, parse_digest, parse_quiet
from feedsvc.digest.options import error_text

WORD_FIRST = [
    ("tối 7h", "19:00"), ("sáng 6h30", "06:30"), ("chiều 5 giờ", "17:00"), ("trưa 12h", "12:00"),
    ("đêm 11h", "23:00"), ("đêm 12h", "00:00"), ("khuya 11h", "23:00"), ("trưa 1h", "13:00"),
    ("tối 19h", "19:00"), ("chiều 17h30", "17:30"), ("sáng 6 giờ 30 phút", "06:30"),
    ("tối 7 giờ rưỡi", "19:30"), ("buổi sáng 6h30", "06:30"), ("buổi tối 7h", "19:00"),
    ("tối7h", "19:00"), ("toi 7h", "19:00"), ("sang 6h", "06:00"), ("chieu 5 gio", "17:00"),
    ("TỐI 7H", "19:00"), ("Sáng 6H30", "06:30"), ("buoi toi 7h", "19:00"),
    ("lúc 7h tối", "19:00"), ("lúc tối 7h", "19:00"),
]  # fmt: skip
KEM = [
    ("7 giờ kém 15", "06:45"), ("7h kém 15", "06:45"), ("7h kém 15 phút", "06:45"),
    ("8 giờ kém 5 tối", "19:55"), ("7 kem 15", "06:45"), ("7h kem 15 phut", "06:45"),
    ("7 kém 15", "06:45"), ("7h kém 15p", "06:45"), ("7 giờ kém 5", "06:55"),
    ("tối 8 giờ kém 5", "19:55"), ("12 giờ kém 15 đêm", "23:45"), ("1h kém 10", "00:50"),
    ("12h kém 15 trưa", "11:45"), ("8h kém 20 pm", "19:40"), ("23h kém 1", "22:59"),
    ("7 GIỜ KÉM 15", "06:45"), ("7h kém 59", "06:01"),
]  # fmt: skip
OTHER = [
    ("7 rưỡi tối", "19:30"), ("7 rưỡi", "07:30"), ("12 rưỡi đêm", "00:30"), ("7 ruoi toi", "19:30"),
    ("19 giờ 30 phút", "19:30"), ("7g30", "07:30"), ("7h30p", "07:30"), ("19h45p", "19:45"),
    ("7h buổi tối", "19:00"), ("7h30pm", "19:30"), ("lúc 7h", "07:00"),
]  # fmt: skip


@pytest.mark.parametrize("form", ["NFC", "NFD"])
@pytest.mark.parametrize(("typed", "stored"), WORD_FIRST + KEM + OTHER)
def test_spoken_times_are_read_in_a_digest_and_at_either_end_of_a_window(
    typed: str, stored: str, form: str
) -> None:
    """``/digest tối 7h``, ``/digest 7 giờ kém 15`` and ``/digest 7 rưỡi tối`` were "“tối”
    (“kém”, “rưỡi”) không phải giờ hợp lệ"; each is one time now, in either Unicode form."""
    text = unicodedata.normalize(form, typed)
    assert parse_digest(text).stored() == stored
    other = "03:00" if stored != "03:00" else "04:00"
    window = parse_quiet(f"{text} - {other}")
    assert window is not None and window.stored() == f"{stored}-{other}"
    window = parse_quiet(f"{other} đến {text}")
    assert window is not None and window.stored() == f"{other}-{stored}"


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("sáng 7h, tối 7h", "07:00,19:00"), ("sáng 7h; tối 7h", "07:00,19:00"),
        ("tối 7h sáng 6h", "06:00,19:00"),  # two times, never "7h sáng"
        ("sáng 6h tối 7h", "06:00,19:00"), ("7h tối 6h sáng", "06:00,19:00"),
        ("7h sáng tối 7h", "07:00,19:00"), ("tối 7h 8h", "19:00,20:00"),
        ("7h sáng và 7h tối", "07:00,19:00"), ("7h va 19h", "07:00,19:00"),
        ("7h kém 15 8h", "06:45,08:00"), ("7 rưỡi 8h", "07:30,08:00"),
        ("sáng 7h, trưa 12h, chiều 5h, tối 9h", "07:00,12:00,17:00,21:00"),
    ],
)  # fmt: skip
def test_lists_split_between_times_with_words_first(text: str, stored: str) -> None:
    assert parse_digest(text).stored() == stored
    assert parse_digest(parse_digest(text).text()) == parse_digest(text)


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("tối 10h - sáng 6h", "22:00-06:00"), ("10h tối đến 6h sáng", "22:00-06:00"),
        ("từ 22h đến 6h", "22:00-06:00"), ("22h tới 6h", "22:00-06:00"),
        ("tu 22h den 6h", "22:00-06:00"), ("22h den 6h", "22:00-06:00"),
        ("22h~6h", "22:00-06:00"), ("từ 10h tối tới 6h sáng", "22:00-06:00"),
        ("Từ tối 10h đến sáng 6h", "22:00-06:00"), ("từ 22h đến 24h", "22:00-00:00"),
        ("đêm 11h - sáng 5 giờ kém 15", "23:00-04:45"), ("tối 10 rưỡi-6h", "22:30-06:00"),
    ],
)  # fmt: skip
def test_quiet_windows_with_words_first_and_spoken_separators(text: str, stored: str) -> None:
    """``/quiet tối 10h - sáng 6h`` and ``/quiet từ 22h đến 6h`` were refused (“tối 10h”,
    “từ 22h” không phải giờ hợp lệ), ``22h tới 6h`` was "HH:MM-HH:MM"."""
    for form in ("NFC", "NFD"):
        window = parse_quiet(unicodedata.normalize(form, text))
        assert window is not None and window.stored() == stored


@pytest.mark.parametrize(
    ("text", "code", "value"),
    [
        # the word first, by the same table as the word after
        ("tối 3h", "time_contradicts", "tối 3h"), ("sáng 19h", "time_contradicts", "sáng 19h"),
        ("chiều 7h", "time_contradicts", "chiều 7h"), ("đêm 5h", "time_contradicts", "đêm 5h"),
        ("trưa 3h", "time_contradicts", "trưa 3h"), ("toi 3h", "time_contradicts", "toi 3h"),
        ("buổi tối 3h", "time_contradicts", "buổi tối 3h"),
        ("sáng 12h", "time_ambiguous", "sáng 12h"), ("sang 12h30", "time_ambiguous", "sang 12h30"),
        ("8h, sáng 19h", "time_contradicts", "sáng 19h"),
        # kém: 1-59 minutes; a written 0 has nothing to take them from
        ("7h kém 60", "minus_range", "7h kém 60"), ("7h kém 0", "minus_range", "7h kém 0"),
        ("7 giờ kém 75 phút", "minus_range", "7 giờ kém 75 phút"),
        ("7h kém 100", "minus_range", "7h kém 100"),
        ("0h kém 15", "minus_midnight", "0h kém 15"), ("0 giờ kém 5", "minus_midnight",
                                                        "0 giờ kém 5"),
        ("19h kém 15 sáng", "time_contradicts", "19h kém 15 sáng"),
        # a setting repeats daily: "tomorrow", "tonight" are not read as a one-off
        ("7 giờ sáng mai", "time_day", "mai"), ("tối nay 7h", "time_day", "nay"),
        ("7h ngày mai", "time_day", "ngày"), ("hôm nay 7h", "time_day", "hôm"),
        # still no time: two words, a word alone, kém without minutes
        ("tối 7h tối", "bad_time", "tối"), ("tối", "bad_time", "tối"),
        ("7h kém", "bad_time", "kém"), ("kém 15", "bad_time", "kém"),
    ],
)  # fmt: skip
def test_spoken_times_that_cannot_be_used_are_refused_in_words(
    text: str, code: str, value: str
) -> None:
    with pytest.raises(SettingError) as err:
        parse_digest(text)
    assert (err.value.code, err.value.field, err.value.params["value"]) == (code, "digest", value)
    for language in ("vi", "en"):
        said = error_text(err.value, Translator(language))
        assert value in said and "⟦" not in said and "{" not in said, said
    if code != "bad_time":  # the same refusal as a window's end
        with pytest.raises(SettingError) as quiet_err:
            parse_quiet(f"05:00 - {text.split(', ')[-1]}")
        assert (quiet_err.value.code, quiet_err.value.field) == (code, "quiet")


def test_kem_refusals_say_what_to_type() -> None:
    with pytest.raises(SettingError) as err:
        parse_digest("0h kém 15")
    assert error_text(err.value, Translator("vi")) == (
        "“0h kém 15” là 23:45 của ngày hôm trước: hãy gõ 23:45."
    )
    assert "give 23:45" in error_text(err.value, Translator("en"))
    with pytest.raises(SettingError) as err:
        parse_quiet("22h - 7h kém 60")
    assert "“7h kém 60”: “kém” đi với 1 đến 59 phút" in error_text(err.value, Translator("vi"))


_PIECES = ["0", "1", "7", "8", "12", "19", "23", "5", "15", "30", "60", "h", "g", "giờ", "gio",
           "phút", "p", "rưỡi", "kém", "kem", "sáng", "tối", "toi", "trưa", "chiều", "đêm",
           "buổi", "lúc", "mai", "nay", "và", "từ", "đến", "tới", "pm", "a.m.", "-", "~", ":",
           "nửa", " ", " ", " ", ",", "\u0301", "x"]  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=9), st.sampled_from(["NFC", "NFD"]))
def test_the_parser_raises_only_its_own_error(pieces: list[str], form: str) -> None:
    """Whatever these pieces make, the digest and quiet parsers answer a value or a
    :class:`SettingError` the catalogue words (never another exception, an unworded code or a
    time out of range), and what they store reads back to itself."""
    text = unicodedata.normalize(form, "".join(pieces))
    for parse in (parse_digest, parse_quiet):
        try:
            value = parse(text)
        except SettingError as err:
            said = error_text(err, Translator("vi"))
            assert "⟦" not in said and "{" not in said, (text, said)
            continue
        stored = value.stored() if value is not None else None
        if stored is not None:
            assert parse(stored) == value, text
