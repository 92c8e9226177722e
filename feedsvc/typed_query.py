"""A query as a reader types it — **the one reading of every reader's query** — pure.

Readers type a query on a phone or paste it: keyboard quotes (``«an ninh»``, ``'an ninh'``,
``„an ninh“``, ``”an ninh”``), full-width ASCII (``－giao``, ``ａｎ``), decomposed Vietnamese,
zero-width characters, several spaces. :func:`typed_query` reads them as the query language
(SPEC §4) means them, and :func:`quote_refusal` says when a phrase's quotes cannot be read at
all (never a query of other words than meant). Used by every surface a reader's own query
comes through: the bots' ``/sub`` and ``/unsub`` (:func:`feedsvc.bot.actions.normalise`), a
chat query added by ``subs add``, the API or the admin (``operations.recipients``), and the
search feeds and their reader page, ``/feeds/search.*?q=`` (:mod:`feedsvc.on_demand`). Before,
the search feed read ``q`` as the admin's topic language: ``'an ninh'`` and ``«an ninh»`` were
the words ``'an`` and ``ninh'`` anywhere, ``”an ninh”`` a 400, ``－giao`` the required word
giao, while ``/sub`` read each as meant (a tester's).

An admin's topic query (the topics file, ``topics add``, the admin, the API, previews) is the
topic language as written, stored and shown as typed: its lexer reads the query language's
own marks (:mod:`feedsvc.phrase_marks`: ``"``, ``“``, ``”``, ``„`` in any pairing) and the
dashes and ``!`` in front of a term (:data:`feedsvc.matching.lexer.NOT_MARKS`) for everyone,
but not the other keyboards' quotes (single quotes, guillemets, brackets), whose reading would
change what a saved topic matches.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from itertools import pairwise
from typing import TYPE_CHECKING

from feedsvc.bot.typed import QuoteProblem, plain_quotes, quote_edits, quote_problem
from feedsvc.nfc import nfc
from feedsvc.typed_forms import plain_forms

if TYPE_CHECKING:
    from feedsvc.matching import QueryError

#: one character of the rewritten text and the span ``[start, end)`` of the typed text it
#: was read from (:func:`_read_units`)
_Unit = tuple[str, int, int]


def typed_query(text: str) -> str:
    """One spelling per query: invisible format characters (zero-width spaces, bidi overrides
    that would show the text reversed in /list and the admin) dropped, presentation forms of
    ASCII (full-width ``１``, ``－``, "fancy text" ``𝐊𝐢𝐞̂́𝐧``) read as the letters, digits and
    marks they show (:func:`feedsvc.typed_forms.plain_forms`: as typed, a query of them matched
    nothing), composed to NFC (:func:`feedsvc.nfc.nfc`: some keyboards send "ô" as "o" +
    U+0302), a phrase's quotes as keyboards type them (``„…“``, ``«…»``, ``「…」``, ``'…'``) as
    ``"`` (:func:`feedsvc.bot.typed.plain_quotes`), whitespace collapsed to single spaces."""
    visible = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return " ".join(plain_quotes(nfc(plain_forms(visible))).split())


def typed_position(typed: str, position: int) -> int:
    """Where ``position``, a 0-based place in ``typed_query(typed)``, is in ``typed`` as the
    person sent it: a query error's place is shown on what they typed (the API's ``position``
    slices the query sent; the bot's reply and the CLI's caret point at the character typed),
    not on the rewritten text, whose dropped zero-width characters, composed letters and
    ``''``/``«`` written ``"`` made it point a few characters early. A place inside a
    rewritten span (``''`` read as ``"``, ``e`` + U+0302 read as ``ê``) is the span's start;
    the end of the rewritten text is the end of its last character's span (whitespace and
    invisible characters the reading dropped after it follow). Computed only when an error is
    shown: the reading itself stays a few string operations."""
    units = _read_units(typed)
    if "".join(c for c, _, _ in units) != typed_query(typed):  # never, by construction
        return max(0, min(position, len(typed)))
    if position < len(units):
        return units[max(0, position)][1]
    return units[-1][2] if units else 0


def composed_position(text: str, position: int) -> int:
    """Where ``position``, a 0-based place in ``nfc(text)`` (:func:`feedsvc.nfc.nfc`), is in
    ``text`` as sent: an admin's topic query is stored composed (``feedsvc.fieldtext``), and an
    error the parser found there was placed on the composed text, a few characters early in a
    query sent decomposed (``e`` + U+0302 + U+0301 is one "ế"). A place inside a composed
    character is its first unit; the end of the composed text is the end of ``text``. The same
    units as :func:`typed_position`'s, without the reader's other rewrites."""
    units = _composed([(c, i, i + 1) for i, c in enumerate(text)])
    if position < len(units):
        return units[max(0, position)][1]
    return len(text)


def typed_error(typed: str, exc: QueryError) -> QueryError:
    """``exc``, raised on ``typed_query(typed)``, with its place in ``typed``
    (:func:`typed_position`): **the one turn of a reader's query error into the one shown**
    (``operations.recipients``, ``bot.actions``, ``on_demand``). Its ``cause`` (an error
    inside an ``@reference``) keeps its place in that topic's query."""
    return exc if exc.position is None else exc.placed(typed_position(typed, exc.position))


def _read_units(typed: str) -> list[_Unit]:
    """:func:`typed_query`'s steps over characters that remember their span in ``typed``."""
    units = [(plain_forms(c), i, i + 1) for i, c in enumerate(typed)
             if unicodedata.category(c) != "Cf"]  # fmt: skip
    units = _composed(units)
    units = _edited(units, quote_edits("".join(c for c, _, _ in units)))
    out: list[_Unit] = []
    gap: _Unit | None = None
    for char, start, end in units:
        if char.isspace():
            gap = gap or (" ", start, end)
        else:
            if gap is not None and out:
                out.append(gap)
            out.append((char, start, end))
            gap = None
    return out


def _composed(units: list[_Unit]) -> list[_Unit]:
    """``units`` after :func:`feedsvc.nfc.nfc`: cut where composing the two sides apart gives
    the same text as composing the whole (before a character that composes with nothing
    before it), each piece's composed characters spanning the piece (one for one when its
    length is kept)."""
    text = "".join(c for c, _, _ in units)
    whole = nfc(text)
    if whole == text:
        return units
    cuts = [0] + [k for k in range(1, len(text)) if not unicodedata.combining(text[k])
                  and nfc(text[:k]) + nfc(text[k:]) == whole] + [len(text)]  # fmt: skip
    out: list[_Unit] = []
    for a, b in pairwise(cuts):
        piece = nfc(text[a:b])
        if len(piece) == b - a:
            out += [(c, u[1], u[2]) for c, u in zip(piece, units[a:b], strict=True)]
        else:
            out += [(c, units[a][1], units[b - 1][2]) for c in piece]
    return out


def _edited(units: list[_Unit], edits: list[tuple[int, int, str]]) -> list[_Unit]:
    """``units`` with :func:`feedsvc.bot.typed.quote_edits`' rewrites: a mark's characters
    become what it is written as, spanning the mark."""
    out: list[_Unit] = []
    last = 0
    for start, end, written in edits:
        out += units[last:start]
        out += [(c, units[start][1], units[end - 1][2]) for c in written]
        last = end
    return out + units[last:]


def quote_refusal(typed: str) -> QuoteProblem | None:
    """Why the quotes of ``typed_query(typed)`` cannot be read, or None
    (:func:`feedsvc.bot.typed.quote_problem`), its ``position`` in ``typed`` as sent
    (:func:`typed_position`); each surface refuses it in its words."""
    problem = quote_problem(typed_query(typed))
    if problem is None:
        return None
    return replace(problem, position=typed_position(typed, problem.position))


def parsed_form(text: str) -> str:
    """``text`` as :func:`typed_query` reads it, for a surface that parses it right away and
    answers a refusal as a query error (the search feeds: a 400 in the catalogue's words,
    ``query.quote_<code>``). Raises :class:`~feedsvc.matching.QueryError` (code
    ``quote_unclosed``, ``quote_nested`` or ``quote_stray``, params ``mark``; its position in
    ``text`` as sent) when the quotes cannot be read; an error of the parser on what it
    returns is placed in ``text`` by :func:`typed_error`."""
    from feedsvc.catalogue import ENGLISH
    from feedsvc.matching import QueryError

    if (problem := quote_refusal(text)) is not None:
        code, params = f"quote_{problem.code}", dict[str, object](mark=problem.mark)
        raise QueryError(
            ENGLISH(f"query.{code}", **params), problem.position, code=code, params=params
        )
    return typed_query(text)
