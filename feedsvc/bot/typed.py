"""What chat readers type, read as they mean it — pure, shared by the Telegram and Zalo bots.

A command is often not the first character of the message that carries it: text pasted from a
web page or a chat app brings a zero-width space (U+200B), a word joiner (U+2060), a BOM
(U+FEFF) or a direction mark (LRM/RLM, U+200E/F) along, some keyboards put one in front, and a
space or NBSP slips in. Telegram then marks no ``bot_command`` at offset 0 (PTB's
``CommandHandler`` and ``filters.COMMAND`` look only there), and Zalo's text did not begin
with ``/``: ``\u200b/sub an ninh`` got no answer on either bot while the reader saw
``/sub an ninh``. :func:`read_command` is the one reading of a command for both bots.

A phrase's quotes as keyboards type them (``„…“``, ``«…»``, ``「…」``, ``'…'``) are the
query language's ``"`` in a chat's query: :func:`plain_quotes`, :func:`quote_problem`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: ``/name`` or ``/name@addressee`` (Telegram's command names: 1-32 of ``[A-Za-z0-9_]``)
_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@(\w+))?", re.ASCII)


def unseen(char: str) -> bool:
    """Whether ``char`` shows as nothing or as blank space: whitespace (NBSP included) or an
    invisible format character (Unicode category Cf: ZWSP, word joiner, BOM, LRM/RLM…)."""
    return char.isspace() or unicodedata.category(char) == "Cf"


def visible_start(text: str) -> str:
    """``text`` from its first character that shows (:func:`unseen`)."""
    start = 0
    while start < len(text) and unseen(text[start]):
        start += 1
    return text[start:]


def read_command(text: str) -> tuple[str, str, str] | None:
    """``(name, addressee, argument)`` of the command ``text`` begins with once what does not
    show is skipped: ``"\u200b/Sub@Tin_bot  an ninh "`` → ``("sub", "Tin_bot", "an ninh")``
    (the name in lower case, as Telegram's clients match it; ``""`` without an addressee).
    None when ``text`` begins with no command: not ``/`` then a name, or the name runs on into
    other characters (``/sub-x``, ``/2½``). The argument is the rest, untouched but for what
    does not show at its ends."""
    shown = visible_start(text)
    found = _COMMAND.match(shown)
    if found is None:
        return None
    rest = shown[found.end() :]
    if rest and not unseen(rest[0]):
        return None
    argument = visible_start(visible_start(rest)[::-1])[::-1]
    return found.group(1).lower(), found.group(2) or "", argument


# --- quotes around a phrase ------------------------------------------------------------------
# The query language reads a phrase between ``"`` (and ``“…”``, SPEC §4); people's keyboards
# and pastes put other marks around it: ``„an ninh“`` (German), ``”an ninh”`` (Swedish),
# ``«an ninh»``, ``‹an ninh›``, ``「an ninh」``, ``'an ninh'``, ``''an ninh''``. Read as typed,
# most were words ANDed in any order (``«an`` and ``ninh»``: "an" and "ninh" anywhere in an
# article) while the bot said "Đã đăng ký". A chat reader's query (not the admin's topic
# language) is rewritten to ASCII quotes first (:func:`plain_quotes`, in the bots' normaliser).

#: marks of one kind close each other in either direction (``»…«`` and ``”…”`` are typed too)
_KINDS = ('"“”„‟〝〞〟', "'‘’‚‛", "«»", "‹›")
#: corner and angle brackets: each opens only, its partner closes only
_BRACKETS = {"「": "」", "『": "』", "｢": "｣", "《": "》", "〈": "〉"}
_SINGLE = _KINDS[1]


@dataclass(frozen=True, slots=True)
class QuoteProblem:
    """Why a chat query's quotes cannot be read: ``code`` ``unclosed`` (a phrase never closed),
    ``nested`` (a quote inside a phrase) or ``stray`` (a closing mark nothing opened);
    ``position``: 0-based offset of the mark in the text; ``mark``: as typed."""

    code: str
    position: int
    mark: str


def _mark(text: str, i: int, open_kind: str | None) -> tuple[str, int, bool] | None:
    """``(kind, length, closes)`` of the quote mark at ``text[i]``, None when there is none.
    A single quote is one only where it can open (no letter or digit before it, one after)
    or close an open one (none after it); elsewhere it is an apostrophe (``Tom's``,
    ``students' union``). Two single quotes in a row are one double mark. ``closes``: it may
    close a phrase its kind opened."""
    char = text[i]
    if char in _BRACKETS or char in _BRACKETS.values():
        return char, 1, True
    kind = next((kind for kind in _KINDS if char in kind), None)
    if kind != _SINGLE:
        return (kind, 1, True) if kind is not None else None
    if i + 1 < len(text) and text[i + 1] in _SINGLE:
        return _KINDS[0], 2, True
    before = i > 0 and text[i - 1].isalnum()
    after = i + 1 < len(text) and text[i + 1].isalnum()
    closes = open_kind == _SINGLE and not after
    return (kind, 1, closes) if closes or (after and not before) else None


def _quote_spans(text: str) -> tuple[list[tuple[int, int]], QuoteProblem | None]:
    """The ``(start, end)`` of each phrase's opening and closing mark, in order, up to the
    :class:`QuoteProblem` that stops reading them (None: all read)."""
    spans: list[tuple[int, int]] = []
    opened: tuple[int, int, str] | None = None  # the open phrase's mark: start, end, kind
    i = 0
    while i < len(text):
        found = _mark(text, i, opened[2] if opened else None)
        if found is None:
            i += 1
            continue
        kind, length, closes = found
        if opened is None and kind in _BRACKETS.values():
            return spans, QuoteProblem("stray", i, text[i : i + length])
        if opened is None:
            opened = (i, i + length, kind)
        elif (kind == opened[2] and kind in _KINDS and closes) or kind == _BRACKETS.get(opened[2]):
            spans += [opened[:2], (i, i + length)]
            opened = None
        else:
            return spans, QuoteProblem("nested", i, text[i : i + length])
        i += length
    if opened is not None:
        return spans, QuoteProblem("unclosed", opened[0], text[opened[0] : opened[1]])
    return spans, None


def quote_problem(text: str) -> QuoteProblem | None:
    """Why the quotes around ``text``'s phrases cannot be read (the reader is told, never
    given a query of other words than meant), or None. A phrase the query language's own
    marks (``"``, ``“``, ``”``) leave open at the end is the parser's to word, as it always
    was (:func:`plain_quotes` rewrites the phrases before it)."""
    problem = _quote_spans(text)[1]
    return None if problem is None or _parsers(problem) else problem


def _parsers(problem: QuoteProblem) -> bool:
    return problem.code == "unclosed" and problem.mark in '"“”'


def plain_quotes(text: str) -> str:
    """``text`` with each phrase's marks, whatever a keyboard typed (``„…“``, ``«…»``,
    ``「…」``, ``'…'``, ``''…''``), as the ASCII ``"`` the query language reads; unchanged when
    its quotes cannot be read (:func:`quote_problem` says why)."""
    spans, problem = _quote_spans(text)
    if problem is not None and not _parsers(problem):
        return text
    parts, last = [], 0
    for start, end in spans:
        parts += [text[last:start], '"']
        last = end
    return "".join(parts) + text[last:]
