"""Integers people type: ids, counts, page numbers, header numbers — ASCII digits only.

``int()`` takes far more than digits: full-width ``"１２３"``, Arabic-Indic ``"١٢٣"``, ``"1_000"``,
``" 12 "`` and ``"+5"`` all parse, and ``str.isdigit()`` is true for ``"²"``, which ``int()`` then
refuses with a ``ValueError`` (a crash where the check was meant to protect it). A chat id
pasted as ``"１２３"`` would be stored as 123 and never match what Telegram sends. So every
integer a person or a client types — CLI parameters (:mod:`feedsvc.cli.common`), the API's
path and query parameters (:mod:`feedsvc.web.api_base`, :mod:`feedsvc.web.api_models`), the
admin's URLs, feed ``?limit=``, bot arguments and button data, ``Content-Length`` — is read by
:func:`ascii_int`: optional ``-``, then ASCII digits, nothing else. Pure, stdlib only (the CLI
imports it at start-up).
"""

from __future__ import annotations

import re

#: The largest id a state DB column holds (signed 64 bits): a larger typed id cannot exist.
MAX_ID = 2**63 - 1
#: Longer than this is not a number anyone typed (and ``int()`` refuses over 4,300 digits).
MAX_DIGITS = 4000
_INTEGER = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]*)?")


def ascii_int(text: str, *, signed: bool = True) -> int | None:
    """``text`` as an integer when it is an optional ``-`` (only when ``signed``: Telegram group
    ids are negative) and ASCII digits, without spaces, ``+`` or ``_``; else None. Callers
    check ranges and word their own error (the value was not a number)."""
    if len(text) > MAX_DIGITS or not _INTEGER.fullmatch(text):
        return None
    if not signed and text.startswith("-"):
        return None
    return int(text)


def ascii_count(text: str, cap: int) -> int | None:
    """``text`` as a count capped at ``cap`` (``cap`` ≥ 0) when it is ASCII digits only (no sign,
    spaces, ``+`` or ``_``); else None. Any number of digits is read (``"9" * 5000`` is
    ``cap``, where :func:`ascii_int` gives None), none converted past ``cap``'s own length:
    a value above the cap is the cap, not an error (feed ``?limit=``)."""
    if not text.isascii() or not text.isdigit():
        return None
    digits = text.lstrip("0")
    if len(digits) > len(str(cap)):
        return cap
    return min(int(digits or "0"), cap)


def ascii_decimal(text: str) -> float | None:
    """``text`` as a number when it is an optional ``-``, ASCII digits and optionally a ``.``
    and more digits (``30``, ``0.5``); else None (``float()`` also takes ``"３０"``, ``"1e3"``,
    ``"nan"`` and ``"inf"``)."""
    if len(text) > MAX_DIGITS or not _DECIMAL.fullmatch(text):
        return None
    return float(text)
