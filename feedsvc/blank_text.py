"""What shows nothing: the one rule for text that is there but that a reader cannot see.

An emptied CMS field or a verifier's "is it empty" test holds such text: a lone ZERO WIDTH
SPACE, a BOM, a soft hyphen, a Hangul filler. Treated as text, it became an empty headline, a
topic without a visible title, an alert or a feed summary showing nothing where the body had
words. Used by :mod:`feedsvc.articles` (a required title), :func:`feedsvc.limits.title_missing`
(a topic's title) and :func:`feedsvc.feeds.sanitize.shown_summary` (which of summary and body a
reader is shown) — pure.
"""

from __future__ import annotations

from feedsvc.keys import trim_key

#: Printable characters that are drawn as blank space: the Hangul fillers (U+115F, U+1160,
#: U+3164, U+FFA0; Unicode's Default_Ignorable_Code_Point) and the BRAILLE PATTERN BLANK
#: U+2800, used to pass "is it empty" checks (a verifier's titles).
BLANK_LETTERS = frozenset("ᅟᅠㅤﾠ⠀")


def shows_nothing(value: str) -> bool:
    """Whether ``value`` shows nothing: empty, or only the characters the matcher deletes
    (Unicode category Cf, :func:`feedsvc.matching.normalize.clean_text`: ZERO WIDTH SPACE,
    WORD JOINER, a BOM, SOFT HYPHEN, bidi marks), :data:`feedsvc.keys.KEY_SPACE` and
    :data:`BLANK_LETTERS`. A title of a lone U+200B was stored and published as an empty
    headline, while ``""`` was refused. Text around such characters is kept as given."""
    text = value.strip()
    if not text:
        return True
    if text[0].isprintable() and text[0] not in BLANK_LETTERS:  # the common text (Cf never is)
        return False
    from feedsvc.matching.normalize import clean_text  # here: feedsvc.matching imports articles

    return all(c.isspace() or c in BLANK_LETTERS for c in trim_key(clean_text(text)))
