"""``/digest 7 giờ 5`` was stored as two digests, 05:00 and 07:00 (one-digit minutes after
``giờ`` read as a second time); ``12h nửa đêm`` and a window ending ``24 giờ`` were refused."""

from __future__ import annotations

import unicodedata

import pytest

from feedsvc.digest import SettingError, parse_digest, parse_quiet


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("7 giờ 5", "07:05"), ("7 giờ 5 phút", "07:05"), ("7giờ5", "07:05"), ("7 gio 5", "07:05"),
        ("7 giờ 5 tối", "19:05"), ("tối 7 giờ 5", "19:05"), ("7 GIỜ 9 PHÚT SÁNG", "07:09"),
        ("0 giờ 1", "00:01"), ("23 giờ 9", "23:09"),
        ("12h nửa đêm", "00:00"), ("nửa đêm 12h", "00:00"), ("12 giờ 30 nửa đêm", "00:30"),
        ("0h nua dem", "00:00"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_one_digit_minutes_after_gio_and_nua_dem(typed: str, stored: str, form: str) -> None:
    text = unicodedata.normalize(form, typed)
    assert parse_digest(text).stored() == stored
    window = parse_quiet(f"{text} - 03:00")
    assert window is not None and window.stored() == f"{stored}-03:00"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("7 giờ 5 18h", "07:05,18:00"), ("7 giờ 5, 7 giờ 50", "07:05,07:50"),
     ("7 giờ 18h", "07:00,18:00"), ("7 giờ 8h", "07:00,08:00"), ("7h 5", "05:00,07:00")],
)  # fmt: skip
def test_lists_with_one_digit_minutes(typed: str, stored: str) -> None:
    """Only ``giờ`` takes one-digit minutes after a space; ``7h 5`` stays two times as ``7h 15``."""
    assert parse_digest(typed).stored() == stored


@pytest.mark.parametrize("typed", ["11h nửa đêm", "7h nửa đêm", "1h nua dem"])
def test_nua_dem_goes_with_midnight_only(typed: str) -> None:
    with pytest.raises(SettingError) as err:
        parse_digest(typed)
    assert err.value.code == "time_contradicts" and err.value.params["hours"] == "0, 12"


@pytest.mark.parametrize(
    "typed", ["22 giờ - 24 giờ", "từ 22h đến 24 giờ", "22h-24 gio", "22 giờ đến 24 giờ 00"]
)
def test_a_window_ending_at_24_gio_ends_at_midnight(typed: str) -> None:
    window = parse_quiet(typed)
    assert window is not None and window.stored() == "22:00-00:00"


@pytest.mark.parametrize("typed", ["24 giờ - 6h", "22h - 24 giờ 30"])
def test_24_gio_is_no_start_and_has_no_minutes(typed: str) -> None:
    with pytest.raises(SettingError) as err:
        parse_quiet(typed)
    assert err.value.code == "bad_time"
