"""Presentation forms of ASCII characters, read as the characters they show — pure.

People type ``７:３０`` (a CJK phone keyboard's full-width digits), ``／digest ｏｆｆ`` and paste
``𝐊𝐢𝐞̂́𝐧 𝐓𝐡𝐮̣𝐲`` from a "fancy text" generator (Mathematical Alphanumeric Symbols, U+1D400–
U+1D7FF; also ℍ, Ⓚ, 🄺, ²). Each of those characters is, by Unicode's compatibility
decomposition (NFKC), one plain ASCII letter, digit or punctuation mark in another width or
style. Read as typed, ``/digest ７:３０`` was "not a valid time (HH:MM, e.g. 07:30)" to a user
who saw exactly that shape, and ``/sub 𝐊𝐢𝐞̂́𝐧 𝐓𝐡𝐮̣𝐲`` was a subscription that no article could
ever match (the matcher's keys of ``𝐊`` are not ``k``'s) while the bot said "Đã đăng ký".

:func:`plain_forms` is the one rule, applied where the bot reads what a user typed (a chat's
own query: :func:`feedsvc.bot.actions.normalise`; a delivery setting:
``feedsvc.digest.settings``). Only a character whose NFKC form is *one* ASCII character is
replaced: digits in other scripts (``٧``, Arabic-Indic) are other digits, not this one's width,
and stay refused by :mod:`feedsvc.digits`' ASCII rule; ligatures and fractions (``ﬁ``, ``½``)
are kept as typed. Combining marks are kept, so ``𝐞`` + U+0302 + U+0301 composes to ``ế``
under the NFC that follows.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=4096)
def _plain(char: str) -> str:
    folded = unicodedata.normalize("NFKC", char)
    if len(folded) == 1 and folded.isascii() and folded.isprintable() and not folded.isspace():
        return folded
    return char


def plain_forms(text: str) -> str:
    """``text`` with each non-ASCII character whose compatibility form is one printable ASCII
    character (full-width ``７``, ``：``, ``ｏ``; styled ``𝐊``, ``𝕂``, ``Ⓚ``) replaced by it."""
    if text.isascii():
        return text
    return "".join(c if c.isascii() else _plain(c) for c in text)
