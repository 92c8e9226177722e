"""Cuts never split what a reader sees as one character (``feedsvc.graphemes``): a tester's
Telegram alert whose summary was 1,500 "🇻🇳" ended in a lone "🇻…" (the cut fell between a
flag's two regional indicators). The class: flags, emoji ZWJ sequences, keycaps, skin tones,
a letter and its combining tone marks (decomposed Vietnamese), CR LF, Hangul; in every cut an
alert, a digest, a Zalo or Apprise text, a bot reply, a feed excerpt or a CLI cell makes.

The reference is a whole-text segmentation by ``regex``'s ``\\X``; ``prefix`` segments only
near the cut, so a property test compares the two on texts built from the tricky pieces.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC

import regex
from factories import article
from hypothesis import given, settings
from hypothesis import strategies as st

from feedsvc.bot.texts import shown
from feedsvc.channels.plain import format_plain_alert
from feedsvc.cli.common import cell
from feedsvc.feeds.sanitize import plain_text
from feedsvc.graphemes import LOOK_BACK, prefix, shortened, utf16_units
from feedsvc.notify.message import format_alert, trim_utf16

FLAG = "🇻🇳"
FAMILY = "👨\u200d👩\u200d👧"
KEYCAP = "1\ufe0f\u20e3"
THUMB = "👍🏽"
NFD = unicodedata.normalize("NFD", "Thụy")  # tone marks as combining characters
PIECES = [FLAG, FAMILY, KEYCAP, THUMB, NFD, "\r\n", "각", "\u1100\u1161\u11a8", "a", " ", "🇻"]


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
    for piece in PIECES:
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


def test_a_letter_under_endless_marks_still_gives_a_start() -> None:
    text = "e" + "\u0301" * 100_000
    assert prefix(text, 10) == text[:10]  # one cluster wider than the budget: code points
    assert shortened("ab" + text, 10) == "ab…"


@settings(max_examples=300, deadline=None)
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
