"""Which characters of a printed key are shown as escapes although they are ordinary text: the
ones that show as nothing, as a blank, or as no glyph a standard defines. Pure.

Why: :func:`feedsvc.keys.spelled` promises that two stored keys never print alike, and an
editor picks the row to take down by what it shows. The text logs' and the CLI's rule
(:func:`feedsvc.logs.escape_controls`) escapes only what breaks a line or reorders it and a
few invisible characters no ordinary text needs; it leaves the direction marks, the joiners,
variation selectors, the soft hyphen and every Unicode space as they are, since escaping them
garbles titles. A key is no title: ``lrmKEY`` and ``lrm`` + LRM (U+200E) + ``KEY`` printed
alike in ``articles find`` and the admin's rows (a tester's), as did keys holding a no-break
space and a space. In a printed key, :func:`shows_blank` characters are spelled ``\\uHHHH``
(:func:`feedsvc.logs.spell` ``only``), which the CLI reads back (``logs.unescape_controls``):

- the default-ignorable code points (Unicode's ``Default_Ignorable_Code_Point``,
  DerivedCoreProperties.txt; :data:`DEFAULT_IGNORABLE`, the same from Unicode 14 to 16):
  what a renderer shows as nothing when it has no glyph for it — the soft hyphen, CGJ, ALM,
  LRM/RLM, ZWSP/ZWNJ/ZWJ, word joiner and invisible operators, the Hangul fillers, the
  Mongolian free variation selectors and vowel separator, the variation selectors, the tag
  characters, BOM;
- every space but the ASCII one (category Zs: no-break space U+00A0, U+2000–U+200A, narrow
  no-break U+202F, U+205F, ideographic U+3000, Ogham U+1680) and U+2800 BRAILLE PATTERN BLANK:
  each looks like a space, or like two;
- format characters (Cf: the Arabic number signs and the rest), private-use (Co), unassigned
  (Cn, by Python's Unicode tables) and surrogate (Cs) code points: no standard glyph tells
  two of them apart (the same missing-glyph box).

Inside an emoji this spells the joiner and the presentation selector too (``👨\\u200d👩``,
``❤\\ufe0f``): deliberately, a key that is the family emoji and one that is its three people
apart print alike in every terminal that does not draw the sequence. Not covered: letters of
other scripts that look like Latin ones (Cyrillic ``а``; confusables, UTS #39) — they are
letters, shown as they are, and no table of them is kept here.

Other rules for what does not show are other decisions: which characters a URL
percent-encodes (:mod:`feedsvc.url_chars`: no whitespace, which ingest refuses there) and what
a bot skips before a command (:func:`feedsvc.bot.typed.unseen`: whitespace and Cf).
"""

from __future__ import annotations

import unicodedata

#: ``Default_Ignorable_Code_Point`` (DerivedCoreProperties.txt, Unicode 14.0–16.0), inclusive
#: ranges; reserved ones (U+2065, U+FFF0–U+FFF8, most of U+E0000–U+E0FFF) too, as Unicode
#: reserves them as ignorable.
DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
    (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)  # fmt: skip

#: Characters of another category that show as a blank.
BLANK_GLYPHS = frozenset("\u2800")

#: Categories of which every character shows blank: format, private use, unassigned, surrogate.
_UNSEEN_CATEGORIES = frozenset({"Cf", "Co", "Cn", "Cs"})


def shows_blank(char: str) -> bool:
    """Whether the one character ``char`` is spelled as an escape in a printed key (see the
    module docstring). ASCII never is (controls are escaped by ``logs.escape_controls``)."""
    if char < "\x80":
        return False
    point = ord(char)
    if any(low <= point <= high for low, high in DEFAULT_IGNORABLE):
        return True
    category = unicodedata.category(char)
    return category in _UNSEEN_CATEGORIES or category == "Zs" or char in BLANK_GLYPHS
