"""Cuts never split what a reader sees as one character (``feedsvc.graphemes``): a tester's
Telegram alert whose summary was 1,500 "🇻🇳" ended in a lone "🇻…" (the cut fell between a
flag's two regional indicators). The class: flags, emoji ZWJ sequences, keycaps, skin tones,
a letter and its combining tone marks (decomposed Vietnamese), CR LF, Hangul; in every cut an
alert, a digest, a Zalo or Apprise text, a bot reply, a feed excerpt or a CLI cell makes.

The reference is a whole-text segmentation by ``regex``'s ``\\X``; ``prefix`` segments only
near the cut, so a property test compares the two on texts built from the tricky pieces.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC

import pytest
import regex
from factories import article
from hypothesis import given, settings
from hypothesis import strategies as st

from feedsvc.bot.texts import shown
from feedsvc.channels.plain import format_plain_alert
from feedsvc.channels.zalo.updates import parse_update
from feedsvc.cli.common import cell
from feedsvc.feeds.sanitize import plain_text, sanitize_html
from feedsvc.graphemes import LOOK_BACK, prefix, shortened, utf16_units
from feedsvc.notify.message import format_alert, trim_utf16
from feedsvc.pages.listing import clean_query

FLAG = "🇻🇳"
FAMILY = "👨\u200d👩\u200d👧"
KEYCAP = "1\ufe0f\u20e3"
THUMB = "👍🏽"
NFD = unicodedata.normalize("NFD", "Thụy")  # tone marks as combining characters
#: whole clusters (and a lone regional indicator)
WHOLE = [FLAG, FAMILY, KEYCAP, THUMB, NFD, "\r\n", "각", "\u1100\u1161\u11a8", "a", " ", "🇻"]
#: bare marks that join what precedes them (Extend, SpacingMark, ZWJ) or follows (Prepend):
#: after a flag, a tester's fuzzing found cuts inside a flag (57 of 100,000 texts)
PIECES = [*WHOLE, "\u0e33", "\u0301", "\u200d", "\u0600", "🏻"]


def reference(text: str, budget: int, utf16: bool = False) -> str:
    """The longest start of whole clusters within ``budget``, segmenting the whole text."""
    width = utf16_units if utf16 else len
    used = end = 0
    for match in regex.finditer(r"\X", text):
        used += width(match.group())
        if used > budget:
            break
        end = match.end()
    return text[:end]


def test_a_flag_is_never_cut_in_half_in_a_telegram_alert() -> None:
    for lead in ("Tin mới ", "Tin mới x ", "Tin mới xy "):  # either parity at the cut
        summary = lead + FLAG * 1500
        msg = format_alert(article(1, summary=summary, body=""), ["An ninh"], UTC)
        assert utf16_units(msg.plain_text) <= 4096
        cut = next(line for line in msg.plain_text.split("\n") if FLAG in line)
        assert cut.endswith(FLAG + "…"), cut[-6:]
        assert cut.removesuffix("…").replace(FLAG, "").strip() == lead.strip()


def test_zalo_and_apprise_texts_cut_whole_clusters() -> None:
    for piece in (FLAG, FAMILY, KEYCAP, THUMB, NFD):
        summary = piece * 900
        text = format_plain_alert(article(1, title="Tin", summary=summary, body=""), ["An"], UTC)
        assert utf16_units(text) <= 2000
        summary = unicodedata.normalize("NFC", summary)  # alert text is composed anyway
        rows = unicodedata.normalize("NFC", text).split("\n")
        kept = next(row for row in rows if row.startswith(summary[:4])).removesuffix("…")
        assert summary.startswith(kept) and reference(summary, len(kept)) == kept, kept[-8:]


def test_trim_utf16_for_every_piece_and_budget() -> None:
    for piece in WHOLE:  # "x" and 40 marks would be one cluster, wider than most budgets
        text = "x" + piece * 40
        for limit in range(1, utf16_units(text) + 2):
            cut = trim_utf16(text, limit)
            assert utf16_units(cut) <= limit
            if cut != text:
                assert cut.endswith("…")
                kept = cut.removesuffix("…")
                assert text.startswith(kept) and reference(text, len(kept)) == kept


def test_a_run_of_flags_keeps_its_pairs_wherever_the_cut_falls() -> None:
    """Regional indicators pair from the run's start (UAX #29 GB12, GB13), further back than
    :data:`LOOK_BACK`, and an odd one out before the run shifts every pair."""
    for lead in ("", "🇻", "ab"):
        text = lead + FLAG * (LOOK_BACK * 2)
        for budget in range(len(text) - 5, len(text) - 1):
            assert prefix(text, budget) == reference(text, budget)


def test_a_mark_after_a_run_of_flags_does_not_shift_their_pairs() -> None:
    """The tester's input: the look-back took the place between a flag's two halves for a
    cluster's start, so the segmentation from there paired the indicators wrongly."""
    text = "👍🏻🇺🇸🇺🇸\u0e33\u0e33👍🏻👍🏻"
    assert prefix(text, 7) == reference(text, 7) == "👍🏻🇺🇸"
    for mark in ("\u0e33", "\u0301", "\u200d", "🏻"):
        for flags in range(1, 5):
            text = "x" + FLAG * flags + mark * 3 + "y"
            for budget in range(len(text) + 1):
                assert prefix(text, budget) == reference(text, budget), (text, budget)


def test_a_letter_under_endless_marks_still_gives_a_start() -> None:
    text = "e" + "\u0301" * 100_000
    assert prefix(text, 10) == text[:10]  # one cluster wider than the budget: code points
    assert shortened("ab" + text, 10) == "ab…"


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=200), st.integers(0, 700), st.booleans())
def test_prefix_agrees_with_a_whole_text_segmentation(
    pieces: list[str], budget: int, utf16: bool
) -> None:
    text = "".join(pieces)
    expected = reference(text, budget, utf16)
    got = prefix(text, budget, utf16=utf16)
    if expected or not text:
        assert got == expected
    else:  # the first cluster alone is wider than the budget: cut between code points
        assert text.startswith(got) and len(got) <= budget


def test_bot_replies_cli_cells_and_feed_excerpts_cut_whole_clusters() -> None:
    query = "an ninh " + FAMILY * 200
    echoed = shown(query, 100)
    assert echoed.endswith("…") and echoed.removesuffix("…").endswith(FAMILY)
    assert cell(FLAG * 30, 10) == FLAG * 4 + "…"
    excerpt = plain_text("<p>" + THUMB * 500 + "</p>", max_chars=101)
    assert excerpt.removesuffix("…").endswith(THUMB) and len(excerpt) <= 102


def ends_in_a_whole_flag_run(text: str) -> bool:
    """Whether a run of regional indicators at the end of ``text`` holds whole pairs."""
    run = len(text) - len(text.rstrip("".join(chr(c) for c in range(0x1F1E6, 0x1F200))))
    return run % 2 == 0


@pytest.mark.parametrize("limit", range(1, 60))
def test_a_cli_cell_is_never_cut_inside_an_escape(limit: int) -> None:
    """A tester's: the cut came after escaping, so a cell ended "aaaa\\u20…"."""
    for text in ("a" * 40 + "\u202e" + "xyz", "\u2066" * 30, "ab\tc\n" * 10, FLAG + "\u202e" * 9):
        shown = cell(text, limit)
        assert len(shown) <= limit, (text, limit, shown)
        kept = shown.removesuffix("…")
        assert not re.search(r"\\(?:u[0-9a-f]{0,3}|x[0-9a-f]?)?$", kept), (text, limit, shown)
        if limit > len(FLAG):  # else the first cluster alone is too wide: cut inside it
            assert ends_in_a_whole_flag_run(kept), (text, limit, shown)


def test_a_long_body_cut_for_a_feed_keeps_its_flags_whole() -> None:
    """A tester's: a body past the feed's bound was sliced, its content ended in a lone "🇻"
    before the link to the full article."""
    for lead in ("a", "ab"):
        shown = sanitize_html(lead + FLAG * 100, "https://example.vn/1", max_chars=60)
        text = shown.split("<p><a", 1)[0]
        assert text.startswith(lead) and "…" not in text[:1]
        assert ends_in_a_whole_flag_run(text.rstrip("…").rstrip()), shown[:300]


def test_the_index_search_and_a_zalo_chat_name_keep_whole_clusters() -> None:
    for lead in ("a" * 199, "a" * 198):
        assert ends_in_a_whole_flag_run(clean_query(lead + FLAG * 3))
        chat = {"id": 77, "chat_type": "GROUP", "name": lead + FLAG * 3}
        body = {"event_name": "message.text.received", "message": {"chat": chat, "text": "/l"}}
        got = parse_update(body)
        assert got is not None and got.title is not None and ends_in_a_whole_flag_run(got.title)
