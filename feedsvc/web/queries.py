"""A query string whose percent-encoded bytes are not UTF-8 text: the one decision.

``/?q=%FF``, ``/feeds/search.rss?q=%ED%A0%80`` (a surrogate, which UTF-8 cannot encode),
``?limit=%C3`` (a sequence cut short), ``?q=%C0%AF`` (an overlong ``/``): Starlette, and the
feed routes' own reader, decoded such bytes as U+FFFD, so the index filtered its topics by "�"
and a search feed searched for it. Such a parameter is read as what it is, here, by the strict
UTF-8 decoding :mod:`feedsvc.web.paths` gives a path, and only when a route reads it: HTTP's
norm is that a parameter a resource does not use is ignored (a feed URL carrying a Latin-1
``utm_source=caf%E9`` from an old newsletter is still the feed; a poller given a 400 takes the
feed for broken).

* :func:`read_query` splits a query string into the pairs that are text and the names of those
  that are not (a name that is itself not text is dropped: every name feedsvc reads is ASCII);
* :class:`QueryText`, the app's middleware after :class:`~feedsvc.web.paths.PathText`, applies
  it outside ``/api/``: the pairs that are not text are removed from the scope's
  ``query_string`` (Starlette never reads them as U+FFFD) and the reading is kept in the scope;
* :func:`query_param` is the one way a route outside ``/api/`` reads a parameter (a test keeps
  ``request.query_params`` out of every other module): UTF-8 strictly, escapes and raw bytes
  alike; a parameter it reads that was not text raises :class:`QueryNotText`, and one given
  twice with values that disagree :class:`QueryRepeated` (``/readyz``'s rule; the same value
  again is read once), which the app answers with a worded 400 (:func:`refused_response`:
  ``http.query_not_text`` naming the bytes, ``http.query_repeated`` the values; the site's
  language, the admin's under ``/admin``), the feed routes with the same words, and ``/`` a
  value not text with its page of every topic and a notice;
* :func:`query_for_url`: the query string carried over to a redirect's target, unread;
* :func:`refused_query`: the API's reading (422 ``not_text`` naming the parameter; unknown
  parameters are refused there anyway).

A NUL or another control character (``%00``) is text: each route reads it as before (the
index's ``clean_query`` makes it a space). The feed fast paths take no query string at all,
so a poll with one is the routes' (one decision). Pure but for the middleware.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import overload
from urllib.parse import quote_from_bytes, unquote_to_bytes

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from feedsvc.catalogue import Translator
from feedsvc.web.http_cache import text_response
from feedsvc.web.paths import answer_words, shown_bytes

#: Where :class:`QueryText` (or the first :func:`query_param`) keeps its reading in the scope.
SCOPE_KEY = "feedsvc.query"


def _text(part: bytes, errors: str) -> str:
    """One name or value: ``+`` a space, percent-decoded, decoded as UTF-8 with ``errors``
    (``strict`` raises ``UnicodeDecodeError``)."""
    return unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8", errors)


def _pieces(query_string: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """``(piece, name, value)`` split at ``&`` and the first ``=`` as
    ``urllib.parse.parse_qsl`` splits them (blank values kept, empty pieces skipped)."""
    found = []
    for piece in query_string.split(b"&"):
        if piece:
            name, _, value = piece.partition(b"=")
            found.append((piece, name, value))
    return found


def query_items(query_string: bytes) -> list[tuple[str, str]] | None:
    """The query string's ``(name, value)`` pairs, in order; None when a name or value is not
    UTF-8 text once percent-decoded (a byte no UTF-8 character starts or continues with, a
    sequence cut short, an encoded surrogate, an overlong form). Bytes sent unescaped are read
    as UTF-8 too (some feed readers send ``?q=Kiến`` so; the HTTP parser refuses them, but
    not every ASGI server does)."""
    try:
        return [(_text(n, "strict"), _text(v, "strict")) for _, n, v in _pieces(query_string)]
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True)
class QueryReading:
    """A query string as the routes outside ``/api/`` see it: ``items``, the pairs whose name
    and value are text, in order (``kept``: their bytes, joined by ``&``); ``refused``, each
    name (text) whose value, somewhere in the string, is not: the bytes to name, the first;
    ``sent``, the query string as the client sent it (a redirect passes it on unread);
    ``bare``, the indexes in ``items`` of names given without ``=`` (``?ingest``: a flag)."""

    items: tuple[tuple[str, str], ...]
    kept: bytes
    refused: dict[str, str]
    sent: bytes = b""
    bare: frozenset[int] = frozenset()


def read_query(query_string: bytes) -> QueryReading:
    """The one decision (pure): a pair whose name or value is not UTF-8 text is removed; its
    name is kept in ``refused`` when it is text (a route reading it must refuse, never read the
    parameter as absent), dropped when not (no name feedsvc reads is)."""
    items: list[tuple[str, str]] = []
    kept: list[bytes] = []
    refused: dict[str, str] = {}
    bare: set[int] = set()
    for piece, raw_name, raw_value in _pieces(query_string):
        try:
            name = _text(raw_name, "strict")
        except UnicodeDecodeError:
            continue  # not a name any route reads: ignored
        try:
            value = _text(raw_value, "strict")
        except UnicodeDecodeError:
            shown = shown_bytes(_text(raw_value, "surrogateescape"))
            refused.setdefault(name, shown or "")
            continue
        if b"=" not in piece:
            bare.add(len(items))
        items.append((name, value))
        kept.append(piece)
    return QueryReading(tuple(items), b"&".join(kept), refused, query_string, frozenset(bare))


def reading(scope: Scope) -> QueryReading:
    """The scope's reading: :class:`QueryText`'s, else made from its query string (routes
    mounted without the middleware, in tests or elsewhere, decide alike) and kept there."""
    found = scope.get(SCOPE_KEY)
    if not isinstance(found, QueryReading):
        found = scope[SCOPE_KEY] = read_query(scope.get("query_string") or b"")
    return found


class QueryRefused(Exception):
    """A parameter a route read that it cannot take: answered 400 (the app's handler,
    :func:`refused_response`; the feed routes with the same words) in the catalogue's ``key``
    with ``params``, each a value as shown (escaped, cut). Not a ``ValueError``: no handler's
    ``except ValueError`` around a read may take it for a value it can correct."""

    key = ""

    def __init__(self, message: str, **params: str) -> None:
        super().__init__(message)
        self.params = params


class QueryNotText(QueryRefused):
    """A route read the parameter ``name``, whose value holds bytes that are not UTF-8 text
    (``shown``: ``%FF``)."""

    key = "http.query_not_text"

    def __init__(self, name: str, shown: str) -> None:
        super().__init__(f"query parameter {name!r} is not UTF-8 text ({shown})", bytes=shown)
        self.name = name
        self.shown = shown


class QueryRepeated(QueryRefused):
    """A route read the parameter ``name``, given more than once with values it reads
    differently (``first``, ``other``: as sent): which one was meant is a guess, as
    ``/readyz?ingest=1&ingest=0`` is (``web.health``), so neither is taken. A monitor's or a
    newsletter's URL built by appending (``/feeds/x.rss?limit=5`` + ``&limit=6``) was served with
    the last one, self link ``?limit=6`` (a tester's U7)."""

    key = "http.query_repeated"

    def __init__(self, name: str, first: str, other: str) -> None:
        from feedsvc.echoes import echoed
        from feedsvc.logs import escape_controls

        def shown(text: str) -> str:
            return escape_controls(echoed(text))

        super().__init__(
            f"query parameter {name!r} given with different values",
            name=shown(name), first=shown(first), other=shown(other),
        )  # fmt: skip


@overload
def query_param(
    request: Request, name: str, *, same: Callable[[str], object] | None = None
) -> str | None: ...
@overload
def query_param(
    request: Request, name: str, default: str, *, same: Callable[[str], object] | None = None
) -> str: ...
def query_param(
    request: Request,
    name: str,
    default: str | None = None,
    *,
    same: Callable[[str], object] | None = None,
) -> str | None:
    """The query parameter ``name``, else ``default``: the one way a route outside ``/api/``
    reads one. Given more than once, the values must agree — read alike by ``same``, the
    route's own reading of one (``?limit=5&limit=05``; default: the same text) — and the first
    is taken; values that disagree raise :class:`QueryRepeated`, the rule of ``/readyz``'s
    ``ingest`` (it was the last one, silently). :class:`QueryNotText` when a value given for it
    is not UTF-8 text: refused, never read as U+FFFD nor as absent. ``same`` may raise the
    route's own error for a value it refuses."""
    found = reading(request.scope)
    if (shown := found.refused.get(name)) is not None:
        raise QueryNotText(name, shown)
    values = [item for key, item in found.items if key == name]
    if not values:
        return default
    first = values[0]
    reads = same or str
    meant = reads(first) if len(values) > 1 else None
    for other in values[1:]:
        if other != first and reads(other) != meant:
            raise QueryRepeated(name, first, other)
    return first


def query_values(request: Request, name: str) -> list[str | None]:
    """Every value given for the query parameter ``name``, in order, None where it was given
    bare (``?ingest``, no ``=``; ``?ingest=`` is the empty value): for a route that must not
    pick one of two answers it was given (:func:`query_param` takes the last).
    :class:`QueryNotText` as :func:`query_param`."""
    found = reading(request.scope)
    if (shown := found.refused.get(name)) is not None:
        raise QueryNotText(name, shown)
    return [None if i in found.bare else value
            for i, (key, value) in enumerate(found.items) if key == name]  # fmt: skip


def refused_response(
    request: Request, exc: QueryRefused, *, reader: Translator, admin: Translator
) -> Response:
    """The worded 400 for :class:`QueryRefused` (``http.query_not_text`` naming the bytes,
    ``http.query_repeated`` the values), with the headers of every error; in the admin's words
    under ``/admin``."""
    path = request.scope["path"]
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):  # as the router matches it
        path = path[len(root) :] or "/"
    words = answer_words(path, reader=reader, admin=admin)
    return text_response(400, words(exc.key, **exc.params) + "\n")


def refused_query(query_string: bytes) -> tuple[str, str] | None:
    """The API's rule: ``(name, "%FF")`` for the first parameter whose name or value is not
    UTF-8 text (a name shown with its bytes percent-encoded), else None."""
    if query_items(query_string) is not None:
        return None
    for _, raw_name, raw_value in _pieces(query_string):
        name, value = _text(raw_name, "surrogateescape"), _text(raw_value, "surrogateescape")
        if (shown := shown_bytes(name)) is not None:
            return "".join(shown_bytes(ch) or ch for ch in name), shown
        if (shown := shown_bytes(value)) is not None:
            return name, shown
    return None  # not reached: query_items failed on one of them


class QueryText:
    """ASGI middleware: outside ``/api/``, the pairs of a query string that are not UTF-8 text
    are taken out of ``query_string`` and the reading (:func:`read_query`) kept in the scope,
    for :func:`query_param`. The API reads its query string itself (:func:`refused_query`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string") if scope["type"] == "http" else None
        if query:
            path = scope["path"]
            root = scope.get("root_path", "")
            if root and path.startswith(root):  # as the router matches it
                path = path[len(root) :] or "/"
            if not path.startswith("/api/"):
                found = read_query(query)
                scope = {**scope, "query_string": found.kept, SCOPE_KEY: found}
        await self.app(scope, receive, send)


def query_for_url(request: Request) -> str:
    """The request's query string as the client sent it (before :class:`QueryText` removed
    the pairs that are not text: a redirect passes ``?utm_source=caf%E9`` on to the route that
    ignores it) for a redirect's ``Location``: ASCII kept as sent (escapes included), any other
    byte percent-encoded, so the target receives the same bytes. Not a reading: nothing is
    decoded, so nothing can be misread."""
    return quote_from_bytes(reading(request.scope).sent, safe="!#$%&'()*+,/:;=?@[]~")
