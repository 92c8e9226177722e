"""The caret under an invalid query's error (``cli.query_caret.caret_lines``): a window of the query
around the position, the caret counted in terminal columns (verifier: a 10,001-character query
printed whole with a caret line of 2,000 spaces; a tab or a wide character moved the caret)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from feedsvc.cli import cli
from feedsvc.cli.query_caret import CARET_WINDOW, caret_lines


def test_a_long_query_is_shown_around_its_error_only() -> None:
    query = "a " * 45 + ") " + "c " * 45
    result = CliRunner().invoke(cli, ["match", "--query", query], input="")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("feedsvc: invalid query: at character 91: unbalanced ')'")
    shown, caret = lines[1][2:], lines[2][2:]
    assert len(shown) <= CARET_WINDOW + 2 and shown.startswith("…") and shown.endswith("…")
    assert len(caret) <= CARET_WINDOW + 2 and caret.endswith("^")
    assert len(result.stderr) < 500


@pytest.mark.parametrize(
    ("text", "position", "under"),
    [
        ("kiến\tAND (", 9, "("),  # a tab is one column once shown as a space
        ("😀 a b OR c", 6, "O"),  # an emoji takes two columns
        ("Thu\u0323y a b OR c", 10, "O"),  # NFD: the combining dot takes none
        ("汉字 a b OR c", 7, "O"),
        ("a b OR c", 4, "O"),
    ],
)
def test_the_caret_is_under_the_character_in_columns(text: str, position: int, under: str) -> None:
    import unicodedata

    assert text[position] == under
    shown, caret = caret_lines(text, position)
    columns, at = 0, None
    for char in shown:  # the column each shown character starts at, as a terminal lays it out
        if columns == len(caret) - 1 and at is None and not unicodedata.combining(char):
            at = char
        columns += (
            0
            if unicodedata.combining(char)
            else (2 if unicodedata.east_asian_width(char) in ("W", "F") else 1)
        )
    assert at == under, (shown, caret)


@pytest.mark.parametrize("position", [0, 1, 35, 36, 5000, 9999, 10000, 10001])
def test_the_window_holds_the_position_at_any_place(position: int) -> None:
    text = "".join(chr(ord("a") + i % 26) for i in range(10_000))
    shown, caret = caret_lines(text, position)
    plain = shown.strip("…")
    assert len(plain) <= CARET_WINDOW
    offset = len(caret) - 1 - (1 if shown.startswith("…") else 0)
    if position < len(text):
        assert plain[offset] == text[position]
    else:
        assert offset == len(plain)  # just past the end


FAMILY = "👨\u200d👩\u200d👧"


@pytest.mark.parametrize("position", range(0, 120, 7))
@pytest.mark.parametrize("unit", [FAMILY, "🇻🇳", "e\u0301\u0323", "1\ufe0f\u20e3"])
def test_the_window_never_cuts_inside_a_character(position: int, unit: str) -> None:
    """A tester's: the window's edges cut inside an emoji, and its ZWJ showed as spaces
    ("… 👩 👧👨 👩 👧")."""
    import regex

    text = "".join(unit + chr(0x4E00 + i) for i in range(40)) + " OR ("  # each place unique
    position = min(position, len(text) - 1)
    shown, _caret = caret_lines(text, position)
    plain = shown.removeprefix("…").removesuffix("…")
    assert plain and text.find(plain) >= 0, (shown, position)
    at = text.find(plain)
    clusters = {m.start() for m in regex.finditer(r"\X", text)} | {len(text)}
    assert at in clusters and at + len(plain) in clusters, (shown, position)
    assert at <= position < at + len(plain) or position == len(text)
    assert ("\u200d" in shown) == ("\u200d" in unit)  # the family stays one sign
