"""The digest package's pure cores: settings parsing, DST-safe schedules, the digest message."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from fakebot import check_html
from hypothesis import given, settings
from hypothesis import strategies as st

from feedsvc.articles import Article
from feedsvc.catalogue import Translator
from feedsvc.digest import (
    ChatSettings,
    DigestSchedule,
    QuietWindow,
    SettingError,
    next_digest,
    next_local,
    parse_digest,
    parse_quiet,
    parse_switch,
    quiet_end,
    release_at,
)
from feedsvc.digest.message import DigestEntry, DigestGroup, DigestWords, format_digest
from feedsvc.digest.options import error_text
from feedsvc.digest.schedule import next_hour
from feedsvc.notify.message import TEXT_LIMIT, utf16_len

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
BERLIN = ZoneInfo("Europe/Berlin")  # DST: 2026-03-29 02:00→03:00, 2026-10-25 03:00→02:00
KOLKATA = ZoneInfo("Asia/Kolkata")  # +05:30: the top of a local hour is :30 UTC
WORDS = DigestWords("Tin tổng hợp · {count} tin", "Đọc tất cả", "(tiếp)")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- settings ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("off", None), ("OFF", None), ("tắt", None), ("hourly", "hourly"), ("Mỗi giờ", "hourly"),
        ("8:00", "08:00"), ("08:00", "08:00"), ("8h", "08:00"), ("8h30", "08:30"),
        ("18:00,7:30", "07:30,18:00"), ("7:30 18:00  12:00", "07:30,12:00,18:00"),
        ("7:00, 7:00,7h", "07:00"), ("0:00,23:59", "00:00,23:59"),
        ("6:00,9:00,12:00,18:00", "06:00,09:00,12:00,18:00"),
        ("1h,7h", "01:00,07:00"), ("1h30", "01:30"),  # in a list or with minutes: a time
        ("８:００", "08:00"), ("０７：３０，１８ｈ", "07:30,18:00"),  # full-width: CJK keyboards
    ],
)  # fmt: skip
def test_parse_digest(text: str, stored: str | None) -> None:
    assert parse_digest(text).stored() == stored
    again = parse_digest(parse_digest(text).text())  # what /settings shows parses back
    assert again == parse_digest(text)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "digest_empty"), ("sometimes", "bad_time"), ("24:00", "bad_time"),
        ("8:60", "bad_time"), ("-1:00", "bad_time"), ("٨:٠٠", "bad_time"),
        ("1:00,2:00,3:00,4:00,5:00", "digest_too_many"), ("8:00;;x", "bad_time"),
        # only separators: no time given, as for "" (it read as "off", switching digests off)
        (",", "digest_empty"), (",,", "digest_empty"), (";", "digest_empty"),
        (" , ; ", "digest_empty"), (",\t,", "digest_empty"),
        # "8h" is 08:00, so "1h" alone could be 01:00 as well as hourly: asked, not guessed
        ("1h", "digest_ambiguous"), ("1H", "digest_ambiguous"), (" 1h ", "digest_ambiguous"),
        ("1 h", "digest_ambiguous"),
        (";;;", "digest_empty"), (", ;", "digest_empty"), ("，", "digest_empty"),
    ],
)  # fmt: skip
def test_parse_digest_refuses(text: str, code: str) -> None:
    with pytest.raises(SettingError) as err:
        parse_digest(text)
    assert err.value.code == code and err.value.field == "digest"


@pytest.mark.parametrize(
    ("text", "stored"),
    [("22:00-06:00", "22:00-06:00"), ("22h - 6h", "22:00-06:00"), ("12:30–13:30", "12:30-13:30"),
     ("23:00 đến 5:00", "23:00-05:00"), ("off", None), ("22:00-24:00", "22:00-00:00"),
     ("22h-24h", "22:00-00:00"), ("21:30 - 24", "21:30-00:00"), ("18:00 đến 24g00", "18:00-00:00"),
     ("6:00-24:00", "06:00-00:00")],
)  # fmt: skip
def test_parse_quiet(text: str, stored: str | None) -> None:
    window = parse_quiet(text)
    assert (window.stored() if window else None) == stored


@pytest.mark.parametrize(
    ("text", "code"),
    [("22:00", "quiet_format"), ("22:00-", "quiet_format"), ("6:00-6:00", "quiet_empty"),
     ("22:00-25:00", "bad_time"), ("a-b", "bad_time"), ("1-2-3", "quiet_format"),
     ("24:00-06:00", "bad_time"), ("0:00-24:00", "quiet_empty"), ("22:00-24:30", "bad_time")],
)  # fmt: skip
def test_parse_quiet_refuses(text: str, code: str) -> None:
    with pytest.raises(SettingError) as err:
        parse_quiet(text)
    assert err.value.code == code and err.value.field == "quiet"


@pytest.mark.parametrize("text", ["0:00-24:00", "00:00-00:00", "7:00-7:00", "22h-22h"])
@pytest.mark.parametrize(("language", "pause"), [("vi", "tạm dừng"), ("en", "pause")])
def test_a_whole_day_window_is_refused_with_the_way_to_stop_alerts(
    text: str, language: str, pause: str
) -> None:
    """``/quiet 0:00-24:00`` meant "nothing, all day"; it was told only "the start and the end
    are the same time", which the user had not written. The refusal now says a window is
    shorter than a day and that pausing the chat stops alerts."""
    with pytest.raises(SettingError) as err:
        parse_quiet(text)
    said = error_text(err.value, Translator(language))
    assert err.value.code == "quiet_empty" and pause in said and "24:00" in said, said


def test_switch_and_stored_rows() -> None:
    assert parse_switch("on") and parse_switch("Bật") and not parse_switch("tắt")
    with pytest.raises(SettingError):
        parse_switch("maybe")
    assert ChatSettings.from_row(None, None, False) == ChatSettings()
    # a hand-edited row the parser refuses reads as unset: it can never stop alerts
    assert ChatSettings.from_row("garbage", "x-y", True) == ChatSettings(silent=True)


@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_vietnamese_words_read_whatever_their_unicode_form(form: str) -> None:
    """Decomposed input (tone marks as combining characters, as some keyboards and pastes send
    it) and capitals mean the same words as the composed lower-case forms."""

    def typed(text: str) -> str:
        return unicodedata.normalize(form, text)

    for word in ("tắt", "TẮT", "Tắt"):
        assert parse_digest(typed(word)).instant
        assert parse_quiet(typed(word)) is None
        assert parse_switch(typed(word)) is False
    for word in ("bật", "BẬT"):
        assert parse_switch(typed(word)) is True
    for word in ("hằng giờ", "Hàng Giờ", "mỗi\u00a0giờ"):
        assert parse_digest(typed(word)).hourly
    window = parse_quiet(typed("23:00 ĐẾN 5:00"))
    assert window is not None and window.stored() == "23:00-05:00"


@pytest.mark.parametrize("form", ["NFC", "NFD"])
@pytest.mark.parametrize("word", ["không", "Không", "KHÔNG", "khong"])
def test_khong_is_off_wherever_off_is_read(form: str, word: str) -> None:
    """ "không" (no) is off for /silent, /preview, /digest and /quiet, as "có" (yes) is on:
    "/silent không" was refused while "/silent có" was read."""
    typed = unicodedata.normalize(form, word)
    assert parse_switch(typed) is False and parse_switch(typed, "preview") is False
    assert parse_digest(typed).instant
    assert parse_quiet(typed) is None
    assert parse_switch(unicodedata.normalize(form, "Có")) is True
    assert parse_switch("co") is True


# --- times as people write them: day-part words, "giờ", am/pm ---------------------------------
SPOKEN = [
    # (typed, the time it is)
    ("7h tối", "19:00"), ("6 giờ chiều", "18:00"), ("7h sáng", "07:00"), ("12h trưa", "12:00"),
    ("9g30 tối", "21:30"), ("19g", "19:00"), ("7 giờ 30", "07:30"), ("11h đêm", "23:00"),
    ("12h đêm", "00:00"), ("7pm", "19:00"), ("7:30 PM", "19:30"), ("12:00 AM", "00:00"),
    ("12 noon", "12:00"), ("12am", "00:00"), ("12pm", "12:00"), ("12:30 a.m.", "00:30"),
    ("7 p.m.", "19:00"), ("7 P.M", "19:00"), ("11 AM", "11:00"), ("7 giờ", "07:00"),
    ("7 giờ 30 phút", "07:30"), ("7 giờ 30 phút tối", "19:30"), ("7giờ30", "07:30"),
    ("7 gio 30", "07:30"), ("7h rưỡi tối", "19:30"), ("7 giờ rưỡi", "07:30"),
    ("1h trưa", "13:00"), ("2h30 trưa", "14:30"), ("11h trưa", "11:00"), ("13h trưa", "13:00"),
    ("1h chiều", "13:00"), ("6h chiều", "18:00"), ("12h chiều", "12:00"), ("17h chiều", "17:00"),
    ("6h tối", "18:00"), ("11h tối", "23:00"), ("18h tối", "18:00"), ("23:30 tối", "23:30"),
    ("9h đêm", "21:00"), ("1h đêm", "01:00"), ("4h đêm", "04:00"), ("12h30 đêm", "00:30"),
    ("22h đêm", "22:00"), ("11h khuya", "23:00"), ("1h sáng", "01:00"), ("11:59 sáng", "11:59"),
    ("8.30 sáng", "08:30"), ("12 midnight", "00:00"),
    # with no space before the word, no marks, capitals, extra spaces
    ("7htối", "19:00"), ("7h toi", "19:00"), ("6 gio chieu", "18:00"), ("7H SÁNG", "07:00"),
    ("12H TRUA", "12:00"), ("11h dem", "23:00"), ("7h sang", "07:00"), ("  7h   tối  ", "19:00"),
    ("7h\u00a0tối", "19:00"), ("7 GIỜ 30 PHÚT", "07:30"), ("7PM", "19:00"), ("7:30pm", "19:30"),
]  # fmt: skip


@pytest.mark.parametrize("form", ["NFC", "NFD"])
@pytest.mark.parametrize(("typed", "stored"), SPOKEN)
def test_times_with_day_part_words_are_read(typed: str, stored: str, form: str) -> None:
    """``/digest 7h tối`` was "“tối” is not a time" (the word split off as a time of its own);
    a day-part word, ``giờ`` or am/pm now reads as the reader means it, in either Unicode form."""
    text = unicodedata.normalize(form, typed)
    assert parse_digest(text).stored() == stored
    window = parse_quiet(f"{text} - 03:00" if stored != "03:00" else f"{text}-04:00")
    assert window is not None and window.stored().startswith(stored)
    end = parse_quiet(f"05:15 đến {text}")
    assert end is not None and end.stored() == f"05:15-{stored}"


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("7h tối, 6h sáng", "06:00,19:00"), ("7h tối; 6h sáng", "06:00,19:00"),
        ("7h tối 6h sáng", "06:00,19:00"), ("7h 18h", "07:00,18:00"), ("7pm 7am", "07:00,19:00"),
        ("7 giờ 30, 18 giờ", "07:30,18:00"), ("7 giờ 18h", "07:00,18:00"),
        ("7h 15", "07:00,15:00"),  # no space between "h" and minutes: two times, as before
        ("6h sáng,12h trưa,6h chiều,10h tối", "06:00,12:00,18:00,22:00"),
        ("7h tối, 19:00, 7pm", "19:00"), ("1h sáng", "01:00"), ("1h chiều", "13:00"),
    ],
)  # fmt: skip
def test_digest_lists_of_spoken_times(text: str, stored: str) -> None:
    assert parse_digest(text).stored() == stored
    assert parse_digest(parse_digest(text).text()) == parse_digest(text)


@pytest.mark.parametrize(
    ("text", "stored"),
    [("10h tối - 6h sáng", "22:00-06:00"), ("10h toi-6h sang", "22:00-06:00"),
     ("10pm to 6am", "22:00-06:00"), ("10 P.M. - 6 A.M.", "22:00-06:00"),
     ("11h đêm đến 5h sáng", "23:00-05:00"), ("22h-12h đêm", "22:00-00:00"),
     ("12h trưa-2h chiều", "12:00-14:00"), ("9 giờ tối đến 6 giờ 30 sáng", "21:00-06:30"),
     ("10h tối-24h", "22:00-00:00")],
)  # fmt: skip
def test_quiet_windows_in_spoken_times(text: str, stored: str) -> None:
    window = parse_quiet(text)
    assert window is not None and window.stored() == stored


@pytest.mark.parametrize(
    ("text", "code", "value"),
    [
        ("19h sáng", "time_contradicts", "19h sáng"), ("3h tối", "time_contradicts", "3h tối"),
        ("15pm", "time_contradicts", "15pm"), ("13:00 AM", "time_contradicts", "13:00 am"),
        ("0am", "time_contradicts", "0am"), ("0h sáng", "time_contradicts", "0h sáng"),
        ("7h chiều", "time_contradicts", "7h chiều"), ("5h đêm", "time_contradicts", "5h đêm"),
        ("3h trưa", "time_contradicts", "3h trưa"), ("12h tối", "time_contradicts", "12h tối"),
        ("11 noon", "time_contradicts", "11 noon"),
        ("8h, 19h SÁNG", "time_contradicts", "19h sáng"),
        ("12h sáng", "time_ambiguous", "12h sáng"), ("12:30 sang", "time_ambiguous", "12:30 sang"),
        ("tối", "bad_time", "tối"), ("7h tối xyz", "bad_time", "xyz"),
        ("7 h tối", "bad_time", "h"), ("7h tốii", "bad_time", "tốii"),
        ("25h tối", "bad_time", "25h"),
        ("7h30 phútt", "bad_time", "phútt"), ("1 giờ", "digest_ambiguous", "1 giờ"),
    ],
)  # fmt: skip
def test_contradicting_or_unreadable_spoken_times_are_refused(
    text: str, code: str, value: str
) -> None:
    with pytest.raises(SettingError) as err:
        parse_digest(text)
    assert err.value.code == code and err.value.field == "digest"
    assert err.value.params["value"] == value
    if code.startswith("time_"):
        for language in ("vi", "en"):
            said = error_text(err.value, Translator(language))
            assert value in said and "⟦" not in said and "{" not in said, said
        with pytest.raises(SettingError) as quiet_err:  # the same refusal as a window's start
            parse_quiet(f"{text.split(',')[-1]}-23:00")
        assert quiet_err.value.code == code and quiet_err.value.field == "quiet"


def test_a_contradiction_names_the_hours_its_word_goes_with() -> None:
    with pytest.raises(SettingError) as err:
        parse_quiet("3h tối - 6h sáng")
    assert err.value.params == {"value": "3h tối", "word": "tối", "hours": "6–11, 18–23"}
    assert "“3h tối” mâu thuẫn: “tối” chỉ đi với 6–11, 18–23 giờ" in error_text(
        err.value, Translator("vi")
    )
    with pytest.raises(SettingError) as err:
        parse_digest("15 p.m.")
    assert err.value.params["hours"] == "1–12"
    assert "“p.m.” goes with the hours 1–12 only" in error_text(err.value, Translator("en"))


_PIECES = ["0", "1", "7", "9", "11", "12", "13", "19", "23", "24", "30", "05", "59", ":", ".",
           "h", "g", "giờ", "gio", "phút", "rưỡi", "sáng", "trưa", "chiều", "tối", "toi", "đêm",
           "khuya", "am", "p.m.", "PM", "noon", "midnight", " ", " ", ",", "x"]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=7))
def test_every_accepted_digest_is_stored_in_a_form_that_reads_back_to_itself(
    pieces: list[str],
) -> None:
    text = "".join(pieces)
    try:
        schedule = parse_digest(text)
    except SettingError:
        return
    stored = schedule.text()
    assert parse_digest(stored) == schedule and parse_digest(stored).text() == stored


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 12), st.integers(0, 59), st.sampled_from(["am", "pm"]))
def test_am_pm_agree_with_the_24_hour_clock(hour: int, minute: int, half: str) -> None:
    expected = hour % 12 + (12 if half == "pm" else 0)
    assert parse_digest(f"{hour}:{minute:02d} {half}").times == (time(expected, minute),)


def test_quiet_window_crossing_midnight() -> None:
    night = QuietWindow(time(22), time(6))
    assert night.contains(time(23, 59)) and night.contains(time(0)) and night.contains(time(5, 59))
    assert not night.contains(time(6)) and not night.contains(time(21, 59))
    lunch = QuietWindow(time(12), time(13, 30))
    assert lunch.contains(time(12)) and not lunch.contains(time(13, 30))


# --- schedules ---------------------------------------------------------------------------------
def test_next_local_plain_zone() -> None:
    # 10:00 in Hanoi is 03:00 UTC; 08:00 local already passed → tomorrow 01:00 UTC
    assert next_local(time(8), utc(2026, 11, 30, 3), HANOI) == utc(2026, 12, 1, 1)
    assert next_local(time(10, 1), utc(2026, 11, 30, 3), HANOI) == utc(2026, 11, 30, 3, 1)
    # strictly after: the same instant is the next day's
    assert next_local(time(10), utc(2026, 11, 30, 3), HANOI) == utc(2026, 12, 1, 3)


def test_next_local_across_dst() -> None:
    # spring forward: 02:30 does not exist on 29 March in Berlin; it fires at the gap's end,
    # 03:00 CEST (it fired at 03:30, after a 03:15 digest of the same chat)
    got = next_local(time(2, 30), utc(2026, 3, 28, 12), BERLIN)
    assert got == utc(2026, 3, 29, 1) and got.astimezone(BERLIN).time() == time(3)
    # the day after the change, 08:00 is 06:00 UTC (CEST), the day before 07:00 UTC (CET)
    assert next_local(time(8), utc(2026, 3, 28, 0), BERLIN) == utc(2026, 3, 28, 7)
    assert next_local(time(8), utc(2026, 3, 29, 0), BERLIN) == utc(2026, 3, 29, 6)
    # fall back: 02:30 happens twice on 25 October; the digest fires once, at the first
    first = next_local(time(2, 30), utc(2026, 10, 24, 12), BERLIN)
    assert first == utc(2026, 10, 25, 0, 30)
    assert next_local(time(2, 30), first, BERLIN) == utc(2026, 10, 26, 1, 30)


def test_next_hour_is_the_local_top_of_the_hour() -> None:
    assert next_hour(utc(2026, 11, 30, 3, 0), HANOI) == utc(2026, 11, 30, 4)
    assert next_hour(utc(2026, 11, 30, 3, 59, 59), HANOI) == utc(2026, 11, 30, 4)
    assert next_hour(utc(2026, 11, 30, 3, 10), KOLKATA) == utc(2026, 11, 30, 3, 30)
    assert next_hour(utc(2026, 3, 29, 0, 30), BERLIN) == utc(2026, 3, 29, 1)  # 03:00 CEST


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31),
                 timezones=st.just(UTC)),
    st.sampled_from([HANOI, BERLIN, KOLKATA, ZoneInfo("America/New_York"),
                     ZoneInfo("Australia/Lord_Howe")]),
    st.lists(st.times().map(lambda t: t.replace(second=0, microsecond=0)), min_size=1,
             max_size=4),
)  # fmt: skip
def test_next_digest_properties(now: datetime, tz: ZoneInfo, times: list[time]) -> None:
    """Strictly in the future, within ~a day, on one of the chosen wall times (or at the end of
    a DST gap that swallowed it); hourly lands on a local :00 (or such a gap's end) within the
    next 2 hours."""
    due = next_digest(DigestSchedule(times=tuple(sorted(set(times)))), now, tz)
    assert due is not None and now < due <= now + timedelta(hours=26)
    wall = due.astimezone(tz).time().replace(tzinfo=None)
    assert any(wall == t or (due - timedelta(hours=1)).astimezone(tz).time() < t for t in times)
    hourly = next_digest(DigestSchedule(hourly=True), now, tz)
    assert hourly is not None and now < hourly <= now + timedelta(hours=2)
    # a local :00, or the end of a gap that skipped one (Lord Howe's 02:00 comes at 02:30)
    changed = (hourly - timedelta(seconds=1)).astimezone(tz).utcoffset() != hourly.astimezone(
        tz
    ).utcoffset()
    assert (hourly.astimezone(tz).minute == 0 or changed) and hourly.second == 0


def test_release_at() -> None:
    night = QuietWindow(time(22), time(6))
    instant = ChatSettings()
    assert release_at(instant, utc(2026, 11, 30, 16), HANOI) is None  # 23:00 local, no window
    quiet = ChatSettings(quiet=night)
    assert release_at(quiet, utc(2026, 11, 30, 10), HANOI) is None  # 17:00: send now
    assert release_at(quiet, utc(2026, 11, 30, 16), HANOI) == utc(2026, 11, 30, 23)  # → 06:00
    assert release_at(quiet, utc(2026, 11, 30, 21), HANOI) == utc(2026, 11, 30, 23)  # 04:00
    daily = ChatSettings(digest=DigestSchedule(times=(time(7), time(23))), quiet=night)
    # matched at 21:00 local: the 23:00 digest is inside the window → the window's end (06:00)
    assert release_at(daily, utc(2026, 11, 30, 14), HANOI) == utc(2026, 11, 30, 23)
    # matched at 06:30: the 07:00 digest
    assert release_at(daily, utc(2026, 11, 30, 23, 30), HANOI) == utc(2026, 12, 1, 0)
    hourly = ChatSettings(digest=DigestSchedule(hourly=True), quiet=night)
    assert release_at(hourly, utc(2026, 11, 30, 8, 5), HANOI) == utc(2026, 11, 30, 9)
    assert release_at(hourly, utc(2026, 11, 30, 15, 5), HANOI) == utc(2026, 11, 30, 23)
    assert quiet_end(night, utc(2026, 11, 30, 10), HANOI) is None


# --- the digest message ------------------------------------------------------------------------
def entry(n: int, group: DigestGroup, minutes: int, **kw: object) -> DigestEntry:
    fields: dict[str, object] = {
        "source_key": f"k{n}", "url": f"https://news.example/a/{n}?x=1&y=2",
        "title": f"Bài {n}", "published_at": utc(2026, 11, 30, 1) + timedelta(minutes=minutes),
    }  # fmt: skip
    fields.update(kw)
    return DigestEntry(n, Article(**fields), group)  # type: ignore[arg-type]


KT = DigestGroup("Kiến Thụy", "https://feeds.example/topics/kien-thuy")
TT = DigestGroup("Thể thao", "https://feeds.example/topics/the-thao")
Q = DigestGroup('truy vấn "công an"')


def test_digest_layout_groups_newest_first() -> None:
    entries = [entry(1, KT, 0), entry(2, TT, 30), entry(3, KT, 10), entry(4, Q, 5)]
    [part] = format_digest(entries, HANOI, WORDS)
    visible = check_html(part.message.text)
    assert visible.splitlines() == [
        "Tin tổng hợp · 4 tin", "", "Thể thao", "• Bài 2 08:30 30/11", "Đọc tất cả »",
        "", "Kiến Thụy", "• Bài 3 08:10 30/11", "• Bài 1 08:00 30/11", "Đọc tất cả »",
        "", 'truy vấn "công an"', "• Bài 4 08:05 30/11",
    ]  # fmt: skip
    assert 'href="https://news.example/a/3?x=1&amp;y=2"' in part.message.text
    assert '<a href="https://feeds.example/topics/kien-thuy">' in part.message.text
    assert sorted(part.delivery_ids) == [1, 2, 3, 4]
    assert "https://news.example/a/3?x=1&y=2" in part.message.plain_text
    assert "Đọc tất cả: https://feeds.example/topics/the-thao" in part.message.plain_text


def test_digest_hostile_text_is_escaped() -> None:
    hostile = DigestGroup("<b>A & B</b>", 'https://x.example/?a="<>"')
    title = "&lt;/a&gt;&lt;script&gt; A &amp;amp; B <i>x</i>"  # CMS HTML, as in alerts
    part = format_digest([entry(1, hostile, 0, title=title)], HANOI, WORDS)[0]
    visible = check_html(part.message.text)
    assert "<b>A & B</b>" in visible and "</a><script> A &amp; B x" in visible


@pytest.mark.parametrize("limit", [TEXT_LIMIT, 2000, 1000])
def test_digest_splits_only_at_the_limit(limit: int) -> None:
    long_title = "Tiêu đề rất dài 🚓 " * 30  # emoji: two UTF-16 units each
    entries = [entry(n, (KT, TT, Q)[n % 3], n, title=f"{n} {long_title}") for n in range(60)]
    parts = format_digest(entries, HANOI, WORDS, limit=limit)
    assert len(parts) > 1
    seen: list[int] = []
    for i, part in enumerate(parts):
        visible = check_html(part.message.text)
        assert utf16_len(visible) <= limit and utf16_len(part.message.plain_text) <= limit
        if i:  # only the limit forced this split: the next line would not have fit before it
            assert visible.startswith("(tiếp)")
        seen += part.delivery_ids
    assert sorted(seen) == list(range(60))  # every article exactly once
    short = [entry(n, KT, n) for n in range(8)]
    assert len(format_digest(short, HANOI, WORDS, limit=limit)) == 1  # fits: one message


@pytest.mark.parametrize("url_units", [1650, 1800, 1900, 1950, 1999])
@pytest.mark.parametrize("position", [0, 1, 5])
def test_digest_line_with_a_long_url_fits_a_zalo_part(url_units: int, position: int) -> None:
    """A URL under the alert's URL cap (2,000) but longer than a 2,000-unit part (Zalo, Apprise)
    leaves room for: the line goes without its spelled-out link rather than raise, which failed
    the dispatcher's claim on every step (the channel's alerts stopped); every article is sent."""
    long_url = "https://news.example/a/" + "x" * (url_units - 23)
    entries = [entry(n, KT, n, title="Tiêu đề " * 50) for n in range(8)]
    entries[position] = entry(position, KT, position, url=long_url, title="Tiêu đề " * 50)
    parts = format_digest(entries, HANOI, WORDS, limit=2000)
    seen: list[int] = []
    for part in parts:
        visible = check_html(part.message.text)
        assert utf16_len(visible) <= 2000 and utf16_len(part.message.plain_text) <= 2000
        seen += part.delivery_ids
    assert sorted(seen) == list(range(8))
    assert any(f'href="{long_url}"' in part.message.text for part in parts)  # HTML keeps it
    assert all(part.delivery_ids for part in parts)  # no part without an article


def test_empty_digest_has_no_parts() -> None:
    assert format_digest([], HANOI, WORDS) == []
