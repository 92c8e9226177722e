"""What a query that parses may not mean as typed: the hints a front end shows beside it.

Two slips make a query that will rarely match, and nothing refuses them (each is a valid query):

* an operator typed as a word — ``an ninh or công an`` searches for the word "or" (SPEC §4:
  operators are ``OR``, ``AND``, ``NOT`` in capitals): :func:`operator_words`;
* Vietnamese typed without its marks — ``kien thuy``: matching is accent-sensitive by default
  (SPEC §4: "Thủy" ≠ "Thụy", "án" ≠ "an"), so it finds only text written without marks, not
  "Kiến Thụy"; ``~kien ~thuy`` or the marks typed is what was meant: :func:`unaccented_words`.

The topic preview (admin, CLI, API: :mod:`feedsvc.preview`) warns of the first, and a chat's
``/sub`` of a query (Telegram, Zalo: :func:`feedsvc.bot.actions.subscribe`) gets a hint line
for each, never a refusal. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from feedsvc.matching import parse_query
from feedsvc.nfc import nfc

#: Words an editor types meaning an operator, which the language reads as words the articles
#: must contain (SPEC §4: operators are OR, AND, NOT in capitals): ``covid or 19`` matched
#: nothing and said nothing (a tester's). "và" and "không" are not here: they are ordinary
#: words of nearly every article, so typing them costs no match.
OPERATOR_WORDS = {"or": "OR", "and": "AND", "not": "NOT", "hoặc": "OR"}


@dataclass(frozen=True)
class OperatorWord:
    """A bare term that is an operator's name in lower case (or Vietnamese): the warning as
    data. ``position``: the term's first character in the query, counted from 1."""

    word: str
    operator: str
    position: int

    def english(self) -> str:
        return (
            f"{self.word} (character {self.position}) is a word the articles must contain;"
            f" for the operator, write {self.operator}"
        )


#: What an ``@slug`` stands for here: one term that is no operator's name, nor a word.
_REFERENCE = "x"


def operator_words(query: str) -> list[OperatorWord]:
    """The bare terms typed in ``query`` (no quotes, field or ``~``; its ``@slug`` references
    not opened: their terms are another topic's, at positions of another text) that are
    :data:`OPERATOR_WORDS` and must be in the articles (``-or``, ``NOT or`` are not: they keep
    articles out, not empty the result), when the query has other terms (``or`` alone is a
    search for the word). ``query`` must parse (:class:`~feedsvc.matching.QueryError`
    otherwise)."""
    parsed = parse_query(query, lambda _slug: _REFERENCE)
    terms = list(parsed.terms())
    if len(terms) < 2:
        return []
    return [
        OperatorWord(term.label, OPERATOR_WORDS[nfc(term.label).casefold()], term.position + 1)
        for term, positive in terms
        if positive and nfc(term.label).casefold() in OPERATOR_WORDS
    ]


#: A Vietnamese syllable written in ASCII letters alone: onset, vowels, final consonant.
#: ``covid`` (final d), ``apple``, ``iphone`` (final e after a consonant cluster) are not.
_ASCII_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?[aeiouy]{1,3}(?:ng|nh|ch|[cmnpt])?"
)
#: Vowels that Vietnamese never writes without a mark: iê, yê, uô/ươ, uâ before a final
#: consonant (``kien``, ``yen``, ``muon``, ``tuan``): a word holding one lost its marks.
_MARKS_LOST = re.compile(r"ie|ye|uo|ua(?=ng|nh|ch|[cmnpt]$)|uu")


def unaccented_words(query: str) -> list[str]:
    """The words of ``query``'s accent-sensitive terms when they look like Vietnamese typed
    without its marks (``kien thuy``, ``tin tuc``, ``cong an``), else ``[]``: no term holds a
    Vietnamese mark or ``đ`` (a reader who types one knows to), every word of those terms
    (folded ``~`` terms and numbers aside) is a syllable of ASCII letters
    (:data:`_ASCII_SYLLABLE`), and
    there are two or more, or one that Vietnamese never writes unmarked (``kien``:
    :data:`_MARKS_LOST`). ``@slug`` references are not opened (another topic's terms). English
    of Vietnamese shape (``the cat``) is flagged too: the hint never refuses. ``query`` must
    parse."""
    parsed = parse_query(query, lambda _slug: "~" + _REFERENCE)
    keys = (key for term, _ in parsed.terms() if not term.folded for key in term.keys)
    # a number ("2024", "5a") is neither; a tone is a digit after the letters ("thụy": "thuy5")
    # and "or" has its own hint (operator_words)
    words = [key for key in keys if not key[:1].isdigit() and key not in OPERATOR_WORDS]
    if not words or not all(w.isascii() and _ASCII_SYLLABLE.fullmatch(w) for w in words):
        return []
    if len(words) < 2 and not _MARKS_LOST.search(words[0]):
        return []
    return list(dict.fromkeys(words))
