"""Text stored in NFC (Unicode canonical composition), the one normaliser of stored text's form.

Vietnamese arrives in NFC, NFD and mixes (FIELD-NOTES, "Vietnamese text"): "Kiến" typed as
``e`` + U+0302 + U+0301 was stored and served as typed, and some fonts place the marks badly in
feeds, pages and alerts. Matching never minded (it normalises its own keys); what is shown did.
So text is composed where it enters storage: articles in :func:`feedsvc.articles.parse_article`,
admin-typed text in :mod:`feedsvc.fieldtext`. Pure.

An article's summary and body are HTML, and NFC is not markup-blind: ``<``, ``=`` and ``>``
followed by U+0338 (combining long solidus) compose to ``≮``, ``≠``, ``≯``, which would eat a
tag's bracket or an attribute's ``=``; U+037E (Greek question mark) decomposes to ``;``, which
could end an entity. :func:`nfc` therefore composes the text between markup characters only,
and keeps a stretch as it was when composing it would create one.
"""

from __future__ import annotations

import re
import unicodedata

#: Characters HTML's structure is made of; never composed with, never created.
MARKUP = "<>=&;\"'"
_SPLIT = re.compile(f"([{re.escape(MARKUP)}])")
_MARKUP_CHARS = frozenset(MARKUP)


def nfc(text: str) -> str:
    """``text`` in NFC, its markup characters (:data:`MARKUP`) untouched: each stretch between
    them composed on its own (a stretch that would gain one is kept as it was). Already-NFC
    text (nearly all of it) is returned as is, at the cost of CPython's own quick check inside
    ``normalize`` (~6 ns a character; a separate ``is_normalized`` call doubled it)."""
    if text.isascii() or unicodedata.normalize("NFC", text) == text:
        return text
    parts = _SPLIT.split(text)
    for i in range(0, len(parts), 2):  # the even items are the stretches between delimiters
        part = parts[i]
        composed = unicodedata.normalize("NFC", part)
        if composed != part and not _MARKUP_CHARS.intersection(composed):
            parts[i] = composed
    return "".join(parts)
