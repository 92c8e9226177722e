"""``feedsvc.blank_text``: the one rule for text that is there but shows nothing."""

from __future__ import annotations

import pytest

from feedsvc.blank_text import shows_nothing

#: What an emptied CMS field, or a verifier's "is it empty" test, holds.
SHOWS_NOTHING = [
    "", "   ", "\u200b", "\u200b \u200b", "\ufeff", "\u2060\u2060", "\u00ad", "\u200e",
    "\u3164", "\u115f", "\uffa0", "\u2800", "\xa0\u200b\u3000", "\u200c\u200d",
]  # fmt: skip
SHOWS_SOMETHING = ["a", "\u200ba", "Tin\u00adtức", " Bão ", "\u3164ㅎ", "0", "…"]


@pytest.mark.parametrize("text", SHOWS_NOTHING)
def test_invisible_text_shows_nothing(text: str) -> None:
    assert shows_nothing(text)


@pytest.mark.parametrize("text", SHOWS_SOMETHING)
def test_a_visible_character_anywhere_shows_something(text: str) -> None:
    assert not shows_nothing(text)
