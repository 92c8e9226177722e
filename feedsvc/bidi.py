"""The bidirectional embedding, override and isolate controls: one definition.

U+202A–U+202E (LRE, RLE, PDF, LRO, RLO) and U+2066–U+2069 (LRI, RLI, FSI, PDI) open a
direction state that runs to the end of the line or paragraph: one U+202E in a title shows the
rest of that line reversed in every feed reader, page and chat that shows it (the "Trojan
Source" spoofing, CVE-2021-42574). The admin refuses them in typed text
(:mod:`feedsvc.fieldtext`), and feeds, reader pages and alerts clean them out of article text
(:func:`feedsvc.feeds.sanitize.xml_clean`); matching deletes every format character anyway
(:mod:`feedsvc.matching.normalize`), and a reader's ``?q=`` drops them
(:mod:`feedsvc.pages.listing`). The CLI's line output and the text logs show them as escapes
(``\u202e``: :func:`feedsvc.logs.escape_controls`), a terminal being a display too.

Not among them: the plain direction marks U+200E/U+200F (LRM, RLM) and U+061C (ALM). They set
no state beyond themselves (a strong character of a direction, invisible), cannot reverse what
follows, and mixed Vietnamese/Arabic/Hebrew text legitimately needs them to show numbers and
punctuation the right way round. Nor the joiners U+200C/D (some scripts and emoji need them).
Pure, no imports: the feed renderer and the CLI's light modules import it.
"""

from __future__ import annotations

#: (first, last) code points, inclusive.
BIDI_CONTROL_RANGES = ((0x202A, 0x202E), (0x2066, 0x2069))

#: The body of a regular-expression character class matching exactly them.
BIDI_CONTROLS = "".join(f"{chr(first)}-{chr(last)}" for first, last in BIDI_CONTROL_RANGES)


def class_without_bidi(first: int, last: int) -> str:
    """The body of a character class for ``first``–``last`` less the bidi controls: a cleaner's
    one class of allowed characters stays one class (one regex search on clean text)."""
    parts, start = [], first
    for low, high in BIDI_CONTROL_RANGES:
        if high < start or low > last:
            continue
        if low > start:
            parts.append(f"{chr(start)}-{chr(low - 1)}")
        start = high + 1
    if start <= last:
        parts.append(f"{chr(start)}-{chr(last)}")
    return "".join(parts)
