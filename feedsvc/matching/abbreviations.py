"""Abbreviation dots in Vietnamese news text: which ``.`` does not end a sentence (SPEC §4).

Newsroom text is full of dotted abbreviations — ``TP.HCM``, ``Q.1``, ``TP. Hải Phòng``,
``Th.S``, ``PGS.TS`` — and a phrase must be able to match across them.  The normaliser
(:mod:`.normalize`) applies two rules, on documents and queries alike:

1. A dot *inside* a token (a letter or digit on both sides, no space) is a separator, not a
   sentence end: ``TP.HCM`` reads as the syllables ``tp hcm``, ``Q.1`` as ``q 1`` — exactly like
   ``TP HCM`` and ``Q 1``, so a phrase typed with or without the dot finds both spellings.
   (This rule lives in the normaliser's break pattern; digits on both sides were already number
   formatting: ``1.000``.)
2. A dot that ends a *known abbreviation* (:data:`ABBREVIATIONS`) and is followed by a space, a
   line end or the end of the text is not a sentence end either: ``TP. Hải Phòng`` reads as
   ``tp hai3 phong2``.  The abbreviation is the run of letters, digits and dots just before the
   dot (``PGS.TS.`` → ``PGS.TS``); it counts as known when the whole run or its last dotted part
   is in the list (``PGS.TS`` by ``TS``, ``Th.S`` as itself), case-insensitively, except that a
   single letter counts only in capitals (``Q.``, ``P.``, ``H.``, ``X.``: quận, phường, huyện,
   xã), so a lower-case "x." stays a sentence end.

Known cost of rule 2: an anonymised name at a sentence end ("… Nguyễn Văn H. Tại …") joins two
sentences, so a phrase could match across that one boundary; whole-syllable matching keeps it
from mattering in practice.  The list is the usual administrative and academic prefixes of
Vietnamese newsrooms; it is data, extend it here (tests in ``tests/test_matching_cases.py``).
"""

from __future__ import annotations

from .letters import is_letter

#: Multi-letter abbreviations that usually precede a name or number, lower case.
ABBREVIATIONS = frozenset(
    {
        # administrative units: thành phố, thị xã, thị trấn
        "tp", "tx", "tt",
        # academic and professional titles: giáo sư, phó giáo sư, tiến sĩ (khoa học), thạc sĩ,
        # bác sĩ (chuyên khoa), dược sĩ, kỹ sư, kiến trúc sư, luật sư, nghiên cứu sinh
        "gs", "pgs", "ts", "tskh", "ths", "th.s", "bs", "bsck", "bscki", "bsckii", "ck", "cki",
        "ckii", "ds", "ks", "kts", "ls", "ncs",
        # honorary titles: nghệ sĩ / nhà giáo / thầy thuốc nhân dân, ưu tú
        "nsnd", "nsưt", "ngnd", "ngưt", "ttnd", "ttưt",
    }
)  # fmt: skip
#: Single capital letters used as unit prefixes: quận, phường, huyện, xã.
SINGLE_LETTERS = frozenset({"Q", "P", "H", "X"})


def is_abbreviation(word: str) -> bool:
    """Is ``word`` (no trailing dot) a known abbreviation?  See the module doc for the rule."""
    if len(word) == 1:
        return word in SINGLE_LETTERS
    return word.lower() in ABBREVIATIONS


def abbreviation_dot(text: str, i: int) -> bool:
    """True when the ``"."`` at ``text[i]`` ends a known abbreviation and is not a sentence end.

    ``text`` is cleaned text (NFC); the dot must be followed by whitespace (``str.isspace``, the
    same whitespace the normaliser splits on) or the end of ``text``.  Looks only at ``text`` near
    ``i``, so a whitespace-separated chunk on its own gives the same answer as the whole text.
    """
    if i + 1 < len(text) and not text[i + 1].isspace():
        return False
    start = i
    while start > 0 and (is_letter(text[start - 1]) or text[start - 1] == "."):
        start -= 1
    run = text[start:i]
    return bool(run) and (is_abbreviation(run) or is_abbreviation(run.rpartition(".")[2]))
