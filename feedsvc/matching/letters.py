"""Which characters are a syllable's letters: one answer for the normaliser's scan and the
abbreviation rule (:mod:`.normalize`, :mod:`.abbreviations`).

Apostrophes and quote marks that Unicode files as *letters* (modifier letters, Lm; the
saltillo, Ll) are not: ``ʼ`` U+02BC MODIFIER LETTER APOSTROPHE (what some keyboards, fonts'
autocorrect and Word type for ``'``), ``ʹ`` U+02B9, ``ʺ`` U+02BA, ``ʻ`` U+02BB, ``ʽ`` U+02BD,
``ʾ``/``ʿ`` U+02BE/F, ``ˈ`` U+02C8, ``ˮ`` U+02EE, ``Ꞌ``/``ꞌ`` U+A78B/C. As letters they joined
syllables (``Kiếnʼ Thụy`` read "kiếnʼ", so a topic ``"Kiến Thụy"`` missed it, and ``KiếnʼThụy``
was one syllable); in Vietnamese text each is an apostrophe, so each is what ``'``, ``’``,
``՚`` (U+055A) and ``＇`` (U+FF07) already were: a separator between syllables, not a sentence
break. Pure.
"""

from __future__ import annotations

#: The apostrophe-like characters ``\\w`` counts as letters (see the module doc).
APOSTROPHE_LETTERS = "\u02b9\u02ba\u02bb\u02bc\u02bd\u02be\u02bf\u02c8\u02ee\ua78b\ua78c"

#: A syllable's letter or digit as a regex class: a word character (``\\w``) but ``_`` and
#: :data:`APOSTROPHE_LETTERS`.
LETTER = rf"[^\W_{APOSTROPHE_LETTERS}]"


def is_letter(char: str) -> bool:
    """``char`` (one character) is a letter or digit of a syllable (:data:`LETTER`)."""
    return char.isalnum() and char not in APOSTROPHE_LETTERS
