"""A request path whose percent-encoded bytes are not UTF-8 text: the one decision.

``/topics/%ED%A0%80`` (a surrogate, which UTF-8 cannot encode), ``/feeds/%FF.xml``,
``/api/topics/%C3`` (a sequence cut short): uvicorn decodes the path with
``urllib.parse.unquote``, which turns each such sequence into U+FFFD, so the request was routed
with a slug no topic has and answered 404 "not found" — as if a topic ``�`` had been asked for
(and a real ``%EF%BF%BD`` could not be told from it). It is refused as what it is, here:

* :func:`path_text` decodes a raw path strictly (None when it is not text); the feed polls
  answered in the protocol (:mod:`feedsvc.web.wire`) read their path with it too;
* :class:`PathText`, the app's first Starlette middleware, answers every such path outside
  ``/api/`` with a worded 400 (``http.path_not_text``: the site's language, the
  admin's under ``/admin``), naming the bytes (a browser: that as a page,
  :mod:`feedsvc.web.error_pages`); under ``/api/`` it routes the path with the
  bytes kept as lone surrogates (``surrogateescape``) and without trailing slashes (no redirect
  is built from it), so the API names the path parameter
  that holds them (:func:`refused_param`: 422 ``not_text``, worded by ``api.not_text``) like every
  other refused text (:mod:`feedsvc.web.api_text`). A query parameter: the same decoding,
  :mod:`feedsvc.web.queries` (refused only where a route reads it). Pure but for the wrapper's
  answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import unquote_to_bytes

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from feedsvc.catalogue import Translator
from feedsvc.web.http_cache import text_response

if TYPE_CHECKING:
    from feedsvc.web.error_pages import ErrorPages

#: What ``surrogateescape`` makes of a byte that is not part of any UTF-8 character; a strictly
#: decoded path never holds one (UTF-8 cannot encode a surrogate).
_ESCAPED = re.compile("[\udc80-\udcff]+")
#: The most bytes an answer shows.
MAX_SHOWN = 12


def path_text(raw_path: bytes) -> str | None:
    """``raw_path`` (as sent: ASCII, percent-encoded) decoded, or None when its bytes are not
    UTF-8 text (a byte no UTF-8 character starts or continues with, a sequence cut short, an
    encoded surrogate or an overlong form)."""
    if b"%" not in raw_path:
        return raw_path.decode("latin-1")  # the parser takes only ASCII in a request line
    try:
        return unquote_to_bytes(raw_path).decode("utf-8")
    except UnicodeDecodeError:
        return None


def escaped_path(raw_path: bytes) -> str:
    """``raw_path`` decoded with its bytes that are not UTF-8 kept as lone surrogates."""
    return unquote_to_bytes(raw_path).decode("utf-8", "surrogateescape")


def shown_bytes(text: str) -> str | None:
    """The first run of bytes in ``text`` (:func:`escaped_path`'s) that is not UTF-8, as the
    client percent-encoded it (``%ED%A0%80``; at most :data:`MAX_SHOWN` bytes), or None."""
    found = _ESCAPED.search(text)
    if found is None:
        return None
    raw = found[0].encode("utf-8", "surrogateescape")
    return "".join(f"%{b:02X}" for b in raw[:MAX_SHOWN]) + ("…" if len(raw) > MAX_SHOWN else "")


def refused_param(params: Mapping[str, object]) -> tuple[str, str] | None:
    """``(name, "%C3")`` for the first path parameter that holds bytes that are not UTF-8 (a
    path :class:`PathText` routed with them escaped), else None."""
    for name, value in params.items():
        if isinstance(value, str) and (shown := shown_bytes(value)) is not None:
            return name, shown
    return None


def answer_words(path: str, *, reader: Translator, admin: Translator) -> Translator:
    """Whose words a refusal of a request for ``path`` is in: the admin's under ``/admin``,
    else the site's (:mod:`feedsvc.web.words`)."""
    return admin if path == "/admin" or path.startswith("/admin/") else reader


class PathText:
    """ASGI middleware: a path that is not UTF-8 text gets the worded 400 (outside ``/api/``) or
    is routed escaped (under ``/api/``). ``reader`` and ``admin``: the site's and the admin's
    words (:mod:`feedsvc.web.words`)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        reader: Translator,
        admin: Translator,
        pages: ErrorPages | None = None,
    ) -> None:
        self.app = app
        self.reader = reader
        self.admin = admin
        self.pages = pages  # a browser's page for the 400 (web.error_pages); None: the line

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path") if scope["type"] == "http" else None
        if raw and b"%" in raw and path_text(raw) is None:
            escaped = escaped_path(raw)
            if not escaped.startswith("/api/"):
                words = answer_words(escaped, reader=self.reader, admin=self.admin)
                text = words("http.path_not_text", bytes=shown_bytes(escaped))
                answer = text_response(400, text + "\n")
                if self.pages is not None:
                    headers = Headers(scope=scope)
                    answer = self.pages.answer(escaped, headers, 400, text, answer)
                await answer(scope, receive, send)
                return
            # Without its trailing slashes: Starlette's redirect of "/api/topics/%FF/" to the
            # path without them builds its Location from the escaped path, and a lone surrogate
            # cannot be encoded (a 500); routed as that path, the parameter is named instead.
            scope = {**scope, "path": escaped.rstrip("/")}
        await self.app(scope, receive, send)
