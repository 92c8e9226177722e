"""Headers every answer under an address carries, whoever wrote the answer: one ASGI
middleware (:class:`AddressHeaders`), so no path is missed — a route, Starlette's 404/405 and
500, the outage's 503 (:mod:`feedsvc.web.outage`), the stop's (:mod:`feedsvc.web.stopping`),
``PathText``'s refusals, a trailing-slash redirect.

* ``/api`` and below: ``Cache-Control: no-store`` and ``nosniff``
  (:data:`feedsvc.web.security_headers.API_HEADERS`). The API's answers had neither while the
  admin's pages had both: an answer holding subscriptions, chats or delivery errors could be
  kept by a shared cache or a browser's disk cache, and an error echoing a request's text could
  be sniffed as HTML.
* a feed's address: cross-origin reads (:mod:`feedsvc.web.cors`), and its ``OPTIONS``
  preflight answered here.

Placed inside ``Mounted`` (the paths as routed) and outside everything else of the app
(``server.create_app``). The feed polls the fast paths answer never come here: their prepared
lines carry the same headers (:func:`feedsvc.web.security_headers.snapshot_headers`).
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from feedsvc.web import cors
from feedsvc.web.security_headers import API_HEADERS

Lines = list[tuple[bytes, bytes]]


def _lines(headers: Mapping[str, str]) -> Lines:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


_API = _lines(API_HEADERS)
_FEEDS = _lines(cors.PUBLIC_READ)


def is_api(path: str) -> bool:
    """``path`` (as routed) is the JSON API's: ``/api`` or below."""
    return path == "/api" or path.startswith("/api/")


def with_lines(headers: Lines, lines: Lines) -> Lines:
    """``headers`` with ``lines`` set: a header of the same name replaced, never repeated."""
    names = {name for name, _ in lines}
    return [*(h for h in headers if h[0].lower() not in names), *lines]


class AddressHeaders:
    """ASGI middleware: the headers of an address family on every answer there (see the module
    docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if is_api(path):
            lines = _API
        elif cors.feed_address(path):
            if scope["method"] == "OPTIONS":
                await cors.preflight(scope, receive, send)
                return
            lines = _FEEDS
        else:
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": with_lines(list(message.get("headers", [])), lines),
                }
            await send(message)

        await self.app(scope, receive, sending)
