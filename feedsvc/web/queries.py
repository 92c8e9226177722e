"""A query string whose percent-encoded bytes are not UTF-8 text: the one decision.

``/?q=%FF``, ``/feeds/search.rss?q=%ED%A0%80`` (a surrogate, which UTF-8 cannot encode),
``?limit=%C3`` (a sequence cut short), ``?q=%C0%AF`` (an overlong ``/``), ``?%FF=1`` (the
name): Starlette, and the feed routes' own reader, decoded such bytes as U+FFFD, so the index
filtered its topics by "�" and a search feed searched for it (answered 400 "'�' has no
letters or digits", as if the reader had typed it). Such a query is read as what it is, here,
by the same strict UTF-8 decoding :mod:`feedsvc.web.paths` gives a path:

* :func:`query_items` decodes a query string strictly, escapes and raw bytes alike (``+`` a
  space), None when a name or value is not text; the feed routes read their parameters with it
  (:func:`feedsvc.web.feed_requests.query_params`);
* :func:`query_refusal` is the rule for every request outside ``/api/``, which
  :class:`QueryText`, the app's middleware after :class:`~feedsvc.web.paths.PathText` (a path
  that is not text is named first), applies: a worded 400
  (``http.query_not_text``, naming the bytes; the site's language, the admin's under
  ``/admin``), with the headers of every error, except ``/``, whose page promises no error
  (:mod:`feedsvc.pages.listing`): it shows every topic, first page, with a notice
  (``reader.query_not_text``), never a search for U+FFFD;
* :func:`refused_query`: the API's reading (422 ``not_text`` naming the parameter).

A NUL or another control character (``%00``) is text: each route reads it as before (the
index's ``clean_query`` makes it a space). The feed fast paths take no query string at all,
so a poll with one is the routes' (one decision). Pure.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

from feedsvc.catalogue import Translator
from feedsvc.web.http_cache import text_response
from feedsvc.web.paths import answer_words, shown_bytes

#: The one path outside ``/api/`` that never answers an error for its query string.
INDEX_PATH = "/"


def _pairs(query_string: bytes, errors: str) -> list[tuple[str, str]]:
    """``name=value`` pairs split at ``&`` as ``urllib.parse.parse_qsl`` splits them (blank
    values kept, empty pieces skipped, ``+`` a space), each name and value percent-decoded and
    decoded as UTF-8 with ``errors`` (``strict`` raises ``UnicodeDecodeError``)."""

    def text(part: bytes) -> str:
        return unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8", errors)

    pairs = []
    for piece in query_string.split(b"&"):
        if piece:
            name, _, value = piece.partition(b"=")
            pairs.append((text(name), text(value)))
    return pairs


def query_items(query_string: bytes) -> list[tuple[str, str]] | None:
    """The query string's ``(name, value)`` pairs, in order; None when a name or value is not
    UTF-8 text once percent-decoded (a byte no UTF-8 character starts or continues with, a
    sequence cut short, an encoded surrogate, an overlong form). Bytes sent unescaped are read
    as UTF-8 too (some feed readers send ``?q=Kiến`` so; the HTTP parser refuses them, but
    not every ASGI server does)."""
    try:
        return _pairs(query_string, "strict")
    except UnicodeDecodeError:
        return None


def refused_query(query_string: bytes) -> tuple[str, str] | None:
    """``(name, "%FF")`` for the first parameter whose name or value is not UTF-8 text (a name
    shown with its bytes percent-encoded), else None."""
    if query_items(query_string) is not None:
        return None
    for name, value in _pairs(query_string, "surrogateescape"):
        if (shown := shown_bytes(name)) is not None:
            return "".join(shown_bytes(ch) or ch for ch in name), shown
        if (shown := shown_bytes(value)) is not None:
            return name, shown
    return None  # not reached: query_items failed on one of them


def query_refusal(path: str, query_string: bytes) -> str | None:
    """The bytes (``%FF``) for the 400 a request for ``path`` (decoded) gets when its query
    string is not text, else None: under ``/api/`` the API names the parameter
    (:func:`refused_query`), and ``/`` shows its notice instead."""
    if not query_string or path == INDEX_PATH or path.startswith("/api/"):
        return None
    found = refused_query(query_string)
    return None if found is None else found[1]


class QueryText:
    """ASGI middleware: a request outside ``/api/`` and ``/`` whose query string is not UTF-8
    text gets the worded 400 (:func:`query_refusal`). ``reader`` and ``admin``: the site's and
    the admin's words (:mod:`feedsvc.web.words`)."""

    def __init__(self, app: ASGIApp, *, reader: Translator, admin: Translator) -> None:
        self.app = app
        self.reader = reader
        self.admin = admin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string") if scope["type"] == "http" else None
        if query:
            path = scope["path"]
            root = scope.get("root_path", "")
            if root and path.startswith(root):  # as the router matches it
                path = path[len(root) :] or "/"
            if (shown := query_refusal(path, query)) is not None:
                words = answer_words(path, reader=self.reader, admin=self.admin)
                text = words("http.query_not_text", bytes=shown)
                await text_response(400, text + "\n")(scope, receive, send)
                return
        await self.app(scope, receive, send)
