"""Which language an HTTP answer is worded in, and Starlette's own error answers, localized.

Readers (feeds, reader pages, unknown URLs) get ``site.language``; the JSON API gets the
request's ``Accept-Language`` when it names Vietnamese or English, else ``admin.language``
(the admin pages use ``admin.language`` as they always did, and so do the 404/405 answers
under ``/admin``). A browser asking for an address no route has, or with a method its route
does not take, gets an HTML page (:mod:`feedsvc.web.error_pages`: the site's 404 page, the
admin's look under ``/admin``), anything else one plain-text line. Every text comes from
:mod:`feedsvc.catalogue`.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Match

from feedsvc.catalogue import LANGUAGES, Translator
from feedsvc.web.error_pages import ErrorPages, is_admin, route_path
from feedsvc.web.http_cache import text_response
from feedsvc.web.queries import QueryRefused, refused_response

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


#: each service's pages, made once (the app's handlers and middleware, the 503s)
_PAGES: weakref.WeakKeyDictionary[Service, ErrorPages] = weakref.WeakKeyDictionary()


def error_pages(service: Service) -> ErrorPages:
    """The service's :class:`~feedsvc.web.error_pages.ErrorPages` (one per service): the
    site's page from the publisher, the admin's from an :class:`~feedsvc.web.admin.Admin`
    logged out."""
    found = _PAGES.get(service)
    if found is None:
        found = _PAGES[service] = _make_pages(service)
    return found


def _make_pages(service: Service) -> ErrorPages:
    from feedsvc.web.admin import Admin

    admin = Admin(service)

    def admin_page(status: int, title: str, text: str) -> Response:
        return admin.page("error.html", None, status, title=title, text=text)

    return ErrorPages(
        service.publisher.error_page,
        admin_page,
        reader=reader_words(service),
        admin=admin_words(service),
    )


def error_handlers(
    service: Service, pages: ErrorPages | None = None
) -> dict[type[Exception] | int, Callable[[Request, Exception], Awaitable[Response]]]:
    """Starlette's 404 (unknown URL) and 405 answers in the reader's language; JSON under
    ``/api/`` (``{"error", "code", "message"}`` like every API error); a query parameter a
    route read that is not UTF-8 text, or given twice with values that disagree
    (:class:`~feedsvc.web.queries.QueryRefused`), the worded 400, in the admin's language
    under ``/admin``; a browser gets each as a page (:mod:`feedsvc.web.error_pages`), and a 500
    too (others: Starlette's line)."""
    pages = pages or error_pages(service)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        key = _HTTP_KEYS.get(exc.status_code)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        path = route_path(request.scope)
        if key is None:
            response = text_response(exc.status_code, f"{exc.detail}\n")
        elif path.startswith("/api/"):
            words = api_words(service, request)
            code = key.partition(".")[2]
            body = {"error": code.replace("_", " "), "code": code, "message": words(key)}
            response = JSONResponse(body, exc.status_code)
        else:
            text = (admin_words(service) if _admin(request) else reader_words(service))(key)
            plain = text_response(exc.status_code, text + "\n")
            site = service.publisher.not_found_page() if exc.status_code == 404 else None
            response = pages.answer(path, request.headers, exc.status_code, text, plain, site)
        response.headers.update(headers)
        return response

    async def gone(request: Request, exc: Exception) -> Response:
        """The client is gone while the app read its body (it hung up mid-upload, or the
        protocol refused the body, answered 400 itself and closed: ``web.connections``).
        Nothing can reach it: an empty answer, which the server drops, and no ERROR with a
        traceback in the log for what a client did."""
        return Response(status_code=400)

    async def query_refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, QueryRefused)
        admin = admin_words(service)
        plain = refused_response(request, exc, reader=reader_words(service), admin=admin)
        path = route_path(request.scope)
        words = admin if is_admin(path) else reader_words(service)
        text = words(exc.key, **exc.params)
        return pages.answer(path, request.headers, 400, text, plain)

    async def server_error(request: Request, exc: Exception) -> Response:
        """A bug (its traceback is logged by the server all the same): Starlette's line, or
        for a browser outside ``/api/`` the page saying so in the side's words."""
        path = route_path(request.scope)
        text = (admin_words(service) if _admin(request) else reader_words(service))(
            "http.server_error"
        )
        found = pages.page(path, request.headers, 500, text)
        return found or PlainTextResponse("Internal Server Error", status_code=500)

    return {
        HTTPException: http_error,
        ClientDisconnect: gone,
        QueryRefused: query_refused,
        500: server_error,
    }


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
