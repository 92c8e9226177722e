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

from feedsvc.bot.typed import QuoteProblem, plain_quotes, quote_problem
from feedsvc.nfc import nfc
from feedsvc.typed_forms import plain_forms


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


def quote_refusal(query: str) -> QuoteProblem | None:
    """Why the quotes of ``query`` (as :func:`typed_query` gives it) cannot be read, or None
    (:func:`feedsvc.bot.typed.quote_problem`); each surface refuses it in its words."""
    return quote_problem(query)


def parsed_form(text: str) -> str:
    """``text`` as :func:`typed_query` reads it, for a surface that parses it right away and
    answers a refusal as a query error (the search feeds: a 400 in the catalogue's words,
    ``query.quote_<code>``). Raises :class:`~feedsvc.matching.QueryError` (code
    ``quote_unclosed``, ``quote_nested`` or ``quote_stray``, params ``mark``; its position in
    the text as read) when the quotes cannot be read."""
    from feedsvc.catalogue import ENGLISH
    from feedsvc.matching import QueryError

    query = typed_query(text)
    if (problem := quote_refusal(query)) is not None:
        code, params = f"quote_{problem.code}", dict[str, object](mark=problem.mark)
        raise QueryError(
            ENGLISH(f"query.{code}", **params), problem.position, code=code, params=params
        )
    return query
