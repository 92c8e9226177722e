"""Which language an HTTP answer is worded in, and Starlette's own error answers, localized.

Readers (feeds, reader pages, unknown URLs) get ``site.language``; the JSON API gets the
request's ``Accept-Language`` when it names Vietnamese or English, else ``admin.language``
(the admin pages use ``admin.language`` as they always did, and so do the 404/405 answers
under ``/admin``). A browser asking for an address no route has gets the site's HTML 404
page (:func:`not_found_page`), anything else one plain-text line. Every text comes from
:mod:`feedsvc.catalogue`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match

from feedsvc.catalogue import LANGUAGES, Translator
from feedsvc.web.feed_requests import wants_html
from feedsvc.web.http_cache import text_response
from feedsvc.web.queries import QueryNotText, not_text_response

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from feedsvc.app import Service

#: Starlette errors worded here; others keep Starlette's answer.
_HTTP_KEYS = {404: "http.not_found", 405: "http.method_not_allowed"}


def preferred_language(header: str, default: str) -> str:
    """The first of ``vi``/``en`` an ``Accept-Language`` header asks for (by q-value, then
    order: RFC 9110 §12.5.4), or ``default``. A malformed entry is skipped, never an error."""
    best: tuple[float, int, str] | None = None
    for order, item in enumerate(header.split(",")[:20]):
        tag, *params = (part.strip() for part in item.split(";"))
        primary = tag.split("-", 1)[0].lower()
        if primary not in LANGUAGES:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0 and (best is None or (-q, order) < (-best[0], best[1])):
            best = (q, order, primary)
    return best[2] if best else default


def reader_words(service: Service) -> Translator:
    site = service.settings.site
    return Translator(site.language, site.timezone)


def admin_words(service: Service) -> Translator:
    """The admin's language (``admin.language``): its pages and, under ``/admin``, the
    answers to an address or method no admin route has (they said it in the site's)."""
    settings = service.settings
    return Translator(settings.admin.language, settings.site.timezone)


def _admin(request: Request) -> bool:
    path = request.url.path
    return path == "/admin" or path.startswith("/admin/")


def api_words(service: Service, request: Request) -> Translator:
    settings = service.settings
    language = preferred_language(
        request.headers.get("accept-language", ""), settings.admin.language
    )
    return Translator(language, settings.site.timezone)


def error_handlers(
    service: Service,
) -> dict[type[Exception] | int, Callable[[Request, Exception], Awaitable[Response]]]:
    """Starlette's 404 (unknown URL) and 405 answers in the reader's language; JSON under
    ``/api/`` (``{"error", "code", "message"}`` like every API error); a query parameter a
    route read that is not UTF-8 text (:class:`~feedsvc.web.queries.QueryNotText`), the worded
    400, in the admin's language under ``/admin``."""

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        key = _HTTP_KEYS.get(exc.status_code)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        if key is None:
            response = text_response(exc.status_code, f"{exc.detail}\n")
        elif exc.status_code == 404 and browser_reader(request):
            response = not_found_page(service)
        elif request.url.path.startswith("/api/"):
            words = api_words(service, request)
            code = key.partition(".")[2]
            body = {"error": code.replace("_", " "), "code": code, "message": words(key)}
            response = JSONResponse(body, exc.status_code)
        else:
            words = admin_words(service) if _admin(request) else reader_words(service)
            response = text_response(exc.status_code, words(key) + "\n")
        if exc.status_code == 404 and not request.url.path.startswith("/api/"):
            response.headers["vary"] = "Accept"  # the page for a browser, a line for the rest
        response.headers.update(headers)
        return response

    async def gone(request: Request, exc: Exception) -> Response:
        """The client is gone while the app read its body (it hung up mid-upload, or the
        protocol refused the body, answered 400 itself and closed: ``web.connections``).
        Nothing can reach it: an empty answer, which the server drops, and no ERROR with a
        traceback in the log for what a client did."""
        return Response(status_code=400)

    async def query_not_text(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, QueryNotText)
        admin = admin_words(service)
        return not_text_response(request, exc, reader=reader_words(service), admin=admin)

    return {HTTPException: http_error, ClientDisconnect: gone, QueryNotText: query_not_text}


def browser_reader(request: Request) -> bool:
    """A person in a browser asked for an address of the reader side (not the API, not the
    admin, not a feed reader's ``/feeds/`` address): it gets the site's 404 page."""
    path = request.url.path
    reader = not path.startswith(("/api/", "/feeds/")) and not _admin(request)
    return reader and wants_html(request.headers)


def not_found_page(service: Service) -> Response:
    """The site's HTML 404 page (:func:`feedsvc.pages.render_not_found`), never stored by a
    cache (as the plain-text line), varying by ``Accept``."""
    body = service.publisher.not_found_page()
    headers = {"cache-control": "no-store", "x-content-type-options": "nosniff"}
    return Response(body, 404, headers, media_type="text/html")


def allowed_methods(request: Request) -> str:
    """The ``Allow`` header of a 405 (RFC 9110 §15.5.6: required): every method some route of
    the app takes at this path. Starlette's own lists only the first route matching the path,
    and the reader's and admin's 405s dropped it; the API has one route per method (``GET``,
    ``PUT``, ``DELETE`` of ``/api/topics/{slug}`` are three routes)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE:  # the path matches (GET or not)
            methods |= set(getattr(route, "methods", None) or ())
    order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return ", ".join(sorted(methods, key=lambda m: (order.index(m) if m in order else 99, m)))
