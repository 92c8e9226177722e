"""Numbers people type are ASCII digits (feedsvc.digits) at every entry point that reads one.

``int()`` reads full-width "１２３" and Arabic-Indic "١٢٣" as 123, and ``str.isdigit()`` is true
for "²", which ``int()`` then refuses (a crash behind a check). Each pure reader of a typed
number is checked here with the same variants; the CLI (tests/test_cli_errors.py,
tests/test_cli_subs.py), the API (tests/test_api_inputs.py) and the admin
(tests/test_admin.py) are checked end to end.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedsvc.bot.actions import list_number
from feedsvc.channels.recipients import RecipientError, recipient_spec
from feedsvc.digest.edge import parse_callback
from feedsvc.digits import MAX_DIGITS, ascii_count, ascii_decimal, ascii_int
from feedsvc.web.admin_pages import id_param, page_param
from feedsvc.web.api_base import ApiError, Call
from feedsvc.web.feed_requests import BadRequest, parse_limit

#: Each reads as a number to int() (or passes str.isdigit()), none is ASCII digits.
NOT_ASCII = [
    "１２３", "١٢٣", "۱۲۳", "४२", "১২", "๑๒", "𝟏𝟐", "²", "¹²", "-１", "-١٢", "１2", "2١",
    "1_0", "+5", " 5", "5 ", "5\n", "\t5", "--5", "-", "", "0x1f", "1e3", "5.0", "٣.٥",
]  # fmt: skip


@pytest.mark.parametrize("text", NOT_ASCII)
def test_ascii_int_refuses_what_int_would_read(text: str) -> None:
    assert ascii_int(text) is None


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("42", 42), ("-1001234", -1001234),
                                             ("007", 7), ("9" * 40, int("9" * 40))])  # fmt: skip
def test_ascii_int_reads_ascii_digits(text: str, value: int) -> None:
    assert ascii_int(text) == value
    assert ascii_int(text, signed=False) == (value if not text.startswith("-") else None)


@given(st.text(max_size=12))
def test_ascii_int_is_exactly_an_optional_minus_and_ascii_digits(text: str) -> None:
    expected = int(text) if re.fullmatch(r"-?[0-9]+", text, re.ASCII) else None
    assert ascii_int(text) == expected


def test_too_many_digits_is_not_a_number_not_a_crash() -> None:
    assert ascii_int("9" * (MAX_DIGITS + 1)) is None
    assert ascii_int("9" * 5000) is None  # int() raises ValueError past 4,300 digits


@pytest.mark.parametrize("text", ["３０", "٣", "1e3", "nan", "inf", "+1", " 1", "1_0", "½", "."])
def test_ascii_decimal_refuses_what_float_would_read(text: str) -> None:
    assert ascii_decimal(text) is None


def test_ascii_count_caps_any_number_of_digits() -> None:
    read = [ascii_count(t, 200) for t in ("0", "000", "7", "0200", "201", "9" * (MAX_DIGITS + 9))]
    assert read == [0, 0, 7, 200, 200, 200]
    assert ascii_count("1" + "0" * 3, 999) == 999 and ascii_count("5", 0) == 0


@pytest.mark.parametrize("text", ["", "-1", "+1", " 1", "1_0", "１２", "²", "1.0", "0x10"])
def test_ascii_count_refuses_all_but_ascii_digits(text: str) -> None:
    assert ascii_count(text, 200) is None


def test_ascii_decimal_reads_ascii_numbers() -> None:
    assert [ascii_decimal(t) for t in ("30", "0.5", "-2", "7.")] == [30.0, 0.5, -2.0, 7.0]


def _limit(text: str) -> object:
    try:
        return parse_limit(text)
    except BadRequest:
        return None


def _path_id(text: str) -> object:
    try:
        return Call({"id": text}).int_param("id")
    except ApiError as exc:
        assert exc.status == 400 and exc.code == "not_integer" and exc.body["field"] == "id"
        return None


def _telegram_address(text: str) -> object:
    try:
        return recipient_spec("telegram", None, "group", text).chat_id
    except RecipientError as exc:
        assert exc.code == "address_invalid" and exc.field == "address"
        return None


def _callback(text: str) -> object:
    return parse_callback(f"mute:{text}")


#: every pure reader of a typed number: feed ?limit=, API path ids, admin URL ids, Telegram
#: chat ids typed as an address (CLI --to, API address), button callback data
READERS: dict[str, Callable[[str], object]] = {
    "feed limit": _limit,
    "api path id": _path_id,
    "admin id": id_param,
    "telegram address": _telegram_address,
    "bot callback": _callback,
    "bot /unsub number": list_number,
}


#: readers that trim surrounding whitespace before reading (as they always did)
TRIMMED = (_limit, _telegram_address)


def _refused(reader: Callable[[str], object], text: str) -> bool:
    """Whether ``reader`` must refuse ``text``: not when it trims ASCII digits out of padding
    (a padded ?limit= or pasted address, as it always did: tested with the ASCII readers)."""
    padded_ascii = text.strip() != text and ascii_int(text.strip()) is not None
    return not (reader in TRIMMED and padded_ascii)


@pytest.mark.parametrize(
    ("reader", "text"),
    [
        pytest.param(reader, text, id=f"{name}-{text!r}")
        for name, reader in READERS.items()
        for text in NOT_ASCII
        if text.strip(" \t") and text != "-" and _refused(reader, text)
    ],
)
def test_every_reader_refuses_non_ascii_digits(reader: Callable[[str], object], text: str) -> None:
    assert reader(text) is None


def test_the_readers_still_read_ascii_digits() -> None:
    assert _limit("12") == 12 and _path_id("-5") == -5 and id_param("7") == 7
    assert _telegram_address("-1234") == -1234 and _telegram_address(" -42 ") == -42
    assert _callback("12") == ("mute", 12, None)
    assert parse_callback("undo:3:45") == ("undo", 3, 45)


@pytest.mark.parametrize("text", ["１２", "²", "+2", "2_0", "-3", "0"])
def test_an_admin_page_number_that_is_not_one_is_page_1(text: str) -> None:
    assert page_param(text) == 1
