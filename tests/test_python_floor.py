"""The interpreter floor in ``pyproject.toml`` (3.11.5) is what the markup scan needs: before it,
CPython's possessive quantifiers matched where their greedy forms did not (gh-100061, gh-106052),
and on Debian 12's 3.11.2 a feed hid the text after an unclosed quote that the matcher read."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

from packaging.specifiers import SpecifierSet

from feedsvc.feeds.sanitize import sanitize_html
from feedsvc.markup import html_as_read, markup_spans

ROOT = Path(__file__).resolve().parents[1]


def test_pyproject_refuses_the_releases_with_the_possessive_quantifier_bugs() -> None:
    floor = SpecifierSet(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
                         ["requires-python"])  # fmt: skip
    for bad in ("3.11.0", "3.11.2", "3.11.4"):
        assert bad not in floor
    assert "3.11.5" in floor and "3.12.0" in floor


def test_this_interpreter_matches_possessive_quantifiers_as_atomic_groups() -> None:
    """CPython's own reproducers: what a release below the floor got wrong."""
    assert sys.version_info >= (3, 11, 5)
    assert re.fullmatch("(?:ab?c)*+", "a") is None  # gh-106052
    assert re.findall("(((?!C).)++)", "ABC") == [("AB", "B")]  # gh-100061


def test_an_unclosed_quote_in_a_tag_is_text_to_the_scan_and_the_feed() -> None:
    raw = 'Trước <b class="x>chữ ẩn sau'
    assert list(markup_spans(raw)) == []  # no ">" outside quotes: text, not a tag
    assert html_as_read(raw) == 'Trước &lt;b class="x>chữ ẩn sau'
    assert "chữ ẩn sau" in sanitize_html(raw, "https://bao.example.vn/a")
