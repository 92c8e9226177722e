"""The one answer of every route whose request needs the state DB while it is unavailable.

A search feed, a ``?limit=`` feed, an admin page or an API call that reads the state DB during
an outage (down, refusing, hanging past its timeouts, locked, read-only) used to end in
Starlette's unhandled ``500 Internal Server Error`` with a traceback per request (tester 3,
F6): a cache or feed reader takes a 500 for a server bug, and the log grew ~23 MB an hour.
Now the app's exception handler for SQLAlchemy's errors (:func:`state_db_handler`) answers
**503 with** ``Retry-After`` (:data:`feedsvc.db.outage.RETRY_AFTER`) in the format the route
speaks — JSON ``{"error", "code": "state_db_unavailable", "message"}`` under ``/api/``, plain
text for feeds (as the search-concurrency 503), an HTML page elsewhere (reader pages in
``site.language``, the admin in ``admin.language``); a browser, the side's own page
(:mod:`feedsvc.web.error_pages`) — and counts the failure on the
database's :class:`~feedsvc.db.outage.Outage` (one log line per outage, no traceback).

A write refused because the state DB's disk is full (:func:`feedsvc.db.errors.is_disk_full`,
the one classifier) is said so: 503 ``state_db_disk_full`` (same ``Retry-After``), "the state
database's disk is full" in both languages. It was ``state_db_unavailable``, "does not answer"
(the admin: "cannot read the database") while reads worked and ``/api/status`` said
``state_db_disk_full: true`` (a tester's): an operator looked at the wrong thing.

An error that is not an outage (:func:`feedsvc.db.outage.is_outage`: bad SQL, a constraint)
is a bug: re-raised, so it stays a 500 with its traceback in the log.

What is served from memory needs no DB and is unaffected: plain topic feeds, ``/``,
``/topics/{slug}`` and ``/feeds.opml`` keep their last rendering through an outage.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

from starlette.responses import HTMLResponse, JSONResponse, Response

from feedsvc.catalogue import Translator
from feedsvc.db.errors import is_disk_full
from feedsvc.db.outage import RETRY_AFTER, is_outage, report
from feedsvc.db.where import state_db
from feedsvc.web.error_pages import is_admin, reads_page, route_path, varies_by
from feedsvc.web.http_cache import text_response
from feedsvc.web.security_headers import page_headers
from feedsvc.web.words import admin_words, api_words, error_pages, reader_words

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from starlette.requests import Request

    from feedsvc.app import Service

#: Paths answered in plain text (feeds and what feed readers fetch; the Zalo webhook).
_PLAIN = ("/feeds/", "/feeds.opml", "/feed.xsl", "/zalo/")


def state_db_handler(service: Service) -> Callable[[Request, Exception], Awaitable[Response]]:
    """The handler for ``sqlalchemy.exc.SQLAlchemyError`` (see the module docstring)."""
    where = state_db(service.settings.database.url)

    async def handler(request: Request, exc: Exception) -> Response:
        if not is_outage(exc):
            raise exc  # a bug: Starlette's 500, with its traceback logged
        report(exc, "web", where)
        return unavailable(request, service, DISK_FULL if is_disk_full(exc) else STATE_DB)

    return handler


@dataclass(frozen=True)
class Reason:
    """Why a 503: the API's ``code`` and English ``error``, and the catalogue keys of its
    words (``api``: the API's message; ``text``: feeds and pages), each given ``seconds``."""

    code: str
    error: str
    api: str
    text: str


#: The state DB is unavailable (this module).
STATE_DB = Reason(
    "state_db_unavailable",
    "the state database does not answer",
    "api.state_db_unavailable",
    "http.state_db_down",
)
#: A write the state DB refused for lack of space: reads still work (this module).
DISK_FULL = Reason(
    "state_db_disk_full",
    "the state database's disk is full",
    "api.state_db_disk_full",
    "http.state_db_disk_full",
)


def unavailable(request: Request, service: Service, reason: Reason = STATE_DB) -> Response:
    """The 503 for ``request`` (see the module docstring); never cached by a shared cache."""
    path = request.url.path
    seconds = RETRY_AFTER
    headers = {"Retry-After": str(seconds), "cache-control": "no-store"}
    if path.startswith("/api/"):
        words = api_words(service, request)
        body = {
            "error": reason.error,
            "code": reason.code,
            "message": words(reason.api, seconds=seconds),
        }
        return JSONResponse(body, 503, headers)
    browser = _page(request, service, reason.text, seconds)
    if browser is not None:
        browser.headers.update(headers)
        return browser
    headers["Vary"] = varies_by(route_path(request.scope))  # a browser gets the side's page
    if path.startswith(_PLAIN):
        text = reader_words(service)(reason.text, seconds=seconds)
        response = text_response(503, text + "\n")
        response.headers.update(headers)
        return response
    settings = service.settings
    admin = path == "/admin" or path.startswith("/admin/")
    headers.update(page_headers(admin))  # a page all the same (web.security_headers)
    language = settings.admin.language if admin else settings.site.language
    words = Translator(language, settings.site.timezone)
    page = _PAGE.format(
        lang=language,
        title=escape(words("http.state_db_down_title")),
        text=escape(words(reason.text, seconds=seconds)),
    )
    return HTMLResponse(page, 503, headers)


def _page(request: Request, service: Service, key: str, seconds: int) -> Response | None:
    """A browser's page of the 503 in the look of the side it asked
    (:mod:`feedsvc.web.error_pages`), else None."""
    path = route_path(request.scope)
    if not reads_page(path, request.headers):
        return None  # the service's pages are not made for it
    words = admin_words(service) if is_admin(path) else reader_words(service)
    text = words(key, seconds=seconds)
    return error_pages(service).page(path, request.headers, 503, text)


_PAGE = """<!doctype html>
<html lang="{lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title></head>
<body><h1>{title}</h1><p>{text}</p></body>
</html>
"""
