"""A cap on request bodies for routes that parse forms (the web admin, its login included).

Starlette reads a urlencoded form whole into memory before parsing it, and the login form is
reachable without a session: without a cap one POST of a gigabyte costs a gigabyte. The JSON API
checks its own bodies (``feedsvc.web.api_input.MAX_BODY``). Over the cap the answer is 413 and
the rest of the body is not read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from feedsvc.web.error_pages import route_path

if TYPE_CHECKING:
    from feedsvc.web.error_pages import ErrorPages

#: Bytes an admin form may have: a topic's fields are a few KB at most.
MAX_FORM_BYTES = 256 * 1024


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: bodies of requests under ``prefix`` above ``limit`` bytes get 413."""

    def __init__(
        self,
        app: ASGIApp,
        prefix: str,
        limit: int = MAX_FORM_BYTES,
        message: str = "Request body too large.",
        pages: ErrorPages | None = None,
    ) -> None:
        """``message``: the 413 text, worded by the caller (``http.body_too_large``);
        ``pages``: a browser's page for it (:mod:`feedsvc.web.error_pages`), None: the line."""
        self.app = app
        self.prefix = prefix
        self.limit = limit
        self.message = message
        self.body = (message + "\n").encode("utf-8")
        self.pages = pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._refuse(scope, receive, send)
                return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The 413, closing the connection (the rest of the body is not read): the line, or a
        browser's page."""
        page = None
        if self.pages is not None:
            page = self.pages.page(route_path(scope), Headers(scope=scope), 413, self.message)
        if page is not None:
            page.headers["connection"] = "close"
            await page(scope, receive, send)
            return
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(self.body)).encode()),
            (b"connection", b"close"),
        ]
        if self.pages is not None:
            headers.append((b"vary", b"Accept"))  # a browser gets the page
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})
