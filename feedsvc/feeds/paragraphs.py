"""Line breaks in the feeds' HTML: a plain-text summary or body as paragraphs and lines
(:func:`paragraphs`), and U+2028/U+2029 in the cleaned HTML as ``<br>``
(:func:`separators_as_breaks`), so a feed reader shows every line break the matcher and the plain
alerts read (:mod:`feedsvc.line_breaks`). Used by :func:`feedsvc.feeds.sanitize.sanitize_html`.
Pure.
"""

from __future__ import annotations

import re

from feedsvc.line_breaks import SEPARATORS

#: A tag of the cleaner's output (html5ever serialises every attribute value between double
#: quotes, a ``"`` in it as ``&quot;``, and every text ``<`` as ``&lt;``).
_OUTPUT_TAG = r'<[^">]*+(?:"[^"]*+"[^">]*+)*+>'
_SEPARATOR_OR_TAG = re.compile(f"({_OUTPUT_TAG})|[{SEPARATORS}]")
_SEPARATOR_SPACES = str.maketrans(dict.fromkeys(SEPARATORS, " "))


def separators_as_breaks(cleaned: str) -> str:
    """The cleaner's output with each U+2028/U+2029 of its text a ``<br>`` and of an attribute
    a space: a line break wherever the matcher and the plain alerts read one
    (:data:`feedsvc.line_breaks.SEPARATORS`), never the raw character in a feed (a reader
    shows it or not, a JSON Feed carries it unescaped). Unchanged (no copy) without one."""
    if not any(sep in cleaned for sep in SEPARATORS):
        return cleaned
    return _SEPARATOR_OR_TAG.sub(
        lambda m: m[1].translate(_SEPARATOR_SPACES) if m[1] else "<br>", cleaned
    )


_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n\s*")
#: A plain text's markup characters as HTML text; ``&`` is left as it is for the sanitiser to
#: judge ("&amp;" stays an entity, "AT&T" becomes "AT&amp;T").
_AS_HTML_TEXT = str.maketrans({"<": "&lt;", ">": "&gt;"})


def paragraphs(text: str) -> str:
    """Plain text (its line breaks ``"\\n"``: :func:`feedsvc.line_breaks.as_newlines`) as
    HTML: a blank line separates paragraphs, a newline is a line break, every ``<`` and ``>``
    is text.

    Without this a reader shows a plain-text body as one run-on paragraph.
    """
    text = text.strip()
    if "\n" not in text:
        return text.translate(_AS_HTML_TEXT)
    paras = [p.strip() for p in _BLANK_LINE.split(text) if p.strip()]
    return "".join(
        "<p>"
        + "<br>".join(line.strip().translate(_AS_HTML_TEXT) for line in p.split("\n"))
        + "</p>"
        for p in paras
    )
