"""**The one list of what is a line break in text**: what ``str.splitlines`` breaks a line at —
LF, CR (CR LF one break), VT (Word's manual line break), FF, the file/group/record separators
U+001C–U+001E, NEL U+0085, and Unicode's LINE SEPARATOR U+2028 and PARAGRAPH SEPARATOR U+2029.

Why one list: the matcher read U+2028 in an article as a sentence end while the feeds published
it raw and the plain-text alerts made it a space (a tester's T2: "đoạn 1\\u2028đoạn 2" alerted
as "đoạn 1 đoạn 2"). Used by the matcher's cleaning (:mod:`feedsvc.matching.normalize`), the
one reading of a summary or body (:func:`feedsvc.html_text.html_to_text`: a plain text's line
breaks), the feeds' paragraphs and the plain alerts' lines (:mod:`feedsvc.feeds.sanitize`), and
the slug rule (:mod:`feedsvc.slugs`). Pure, no imports beyond ``re``.
"""

from __future__ import annotations

import re

#: Every line break (``tests/test_line_breaks.py`` checks it against ``str.splitlines`` for every
#: code point).
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
#: Of those, the two that are a line break in HTML text too: neither HTML whitespace (which LF,
#: CR and FF are) nor a control an XML document cannot hold (VT, U+001C–U+001E; NEL is C1), a
#: mandatory break in UAX #14 — the matcher reads one as a sentence end in any field, so the
#: feeds show it as ``<br>`` (:func:`feedsvc.feeds.sanitize.sanitize_html`), never raw.
SEPARATORS = "\u2028\u2029"

_OTHER_BREAKS = re.compile("\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def as_newlines(text: str) -> str:
    """``text`` with each line break (:data:`LINE_BREAKS`; CR LF one) written ``"\\n"``;
    ``text`` itself when it holds none but ``"\\n"`` (the common case: no copy)."""
    if _OTHER_BREAKS.search(text) is None:
        return text
    return _OTHER_BREAKS.sub("\n", text)
