"""Whether an error answer is an HTML page for a person's browser or one plain-text line: the
one decision, and the page.

Every error the app answers outside ``/api/`` (a 404 under ``/admin`` or ``/feeds/``, a 405
anywhere, a path or query string that is not UTF-8 text, the admin's 413, a feed's 400, a
429, a 500) was one line of ``text/plain`` to a browser too: on a phone a small monospace
line with no ``lang``, no title and no way on. A browser now gets a page in the look of the
side it asked — the admin's (its stylesheet, ``admin.language``, never a session's navigation:
a logged-out visitor learns nothing) under ``/admin``, the site's (``site.language``, the way
to every topic) elsewhere — with the same status and headers and ``Vary`` naming what decided.
Everything else keeps the line as it was: curl (``*/*``), scripts (``application/json``), feed
readers (which may name ``text/html`` in ``Accept``: at a feed's address only a browser's
navigation, :func:`~feedsvc.web.feed_requests.browser_navigation`, gets the page), and the API
its JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.responses import Response
from starlette.types import Scope

from feedsvc.catalogue import Translator
from feedsvc.web.feed_requests import NAVIGATION_HEADERS, browser_navigation, wants_html
from feedsvc.web.security_headers import ADMIN_HEADERS, READER_PAGE_HEADERS

#: What feed readers fetch: a page only for a browser's navigation (:func:`reads_page`).
FEED_ADDRESSES = ("/feeds/", "/feeds.opml", "/feed.xsl")
#: The heading of each status's page (others keep their line).
TITLES = {
    400: "http.title_400",
    404: "http.title_404",
    405: "http.title_405",
    413: "http.title_413",
    429: "http.title_429",
    500: "http.title_500",
    503: "http.title_503",
}
#: What a site's page is sent with: never kept by a cache (the line is the same URL's answer),
#: and the reader pages' security headers (:mod:`feedsvc.web.security_headers`).
PAGE_HEADERS = {"cache-control": "no-store", **READER_PAGE_HEADERS}


def is_admin(path: str) -> bool:
    return path == "/admin" or path.startswith("/admin/")


def route_path(scope: Scope) -> str:
    """The path as the router matches it (``root_path`` taken off)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :] or "/"
    return path


def reads_page(path: str, headers: Mapping[str, str]) -> bool:
    """A person's browser will show the error answer to a request for ``path``: never under
    ``/api/`` (JSON); at a feed reader's address only a browser's navigation; elsewhere an
    ``Accept`` naming HTML (:func:`~feedsvc.web.feed_requests.wants_html`)."""
    if path.startswith("/api/"):
        return False
    if path.startswith(FEED_ADDRESSES):
        return browser_navigation(headers)
    return wants_html(headers)


def varies_by(path: str) -> str:
    """The ``Vary`` of an error answer at ``path``: what :func:`reads_page` read."""
    return NAVIGATION_HEADERS["vary"] if path.startswith(FEED_ADDRESSES) else "Accept"


def add_vary(response: Response, value: str) -> Response:
    """``value`` added to ``response``'s ``Vary`` (kept once)."""
    have = [v.strip() for v in response.headers.get("vary", "").split(",") if v.strip()]
    for name in value.split(","):
        if name.strip().lower() not in {h.lower() for h in have}:
            have.append(name.strip())
    response.headers["vary"] = ", ".join(have)
    return response


#: ``(title, text)`` → the site's page (:meth:`feedsvc.publish.rendered.Rendered.error_page`)
SitePage = Callable[[str, str], bytes]
#: ``(status, title, text)`` → the admin's page, logged out (``templates/error.html``)
AdminPage = Callable[[int, str, str], Response]


class ErrorPages:
    """The pages (see the module doc). ``reader``/``admin``: the site's and the admin's words,
    for the headings; the caller words ``text`` itself, as its plain line."""

    def __init__(
        self, site_page: SitePage, admin_page: AdminPage, *, reader: Translator, admin: Translator
    ) -> None:
        self.site_page = site_page
        self.admin_page = admin_page
        self.reader = reader
        self.admin = admin

    def page(
        self,
        path: str,
        headers: Mapping[str, str],
        status: int,
        text: str,
        site_body: bytes | None = None,
    ) -> Response | None:
        """The page answering a browser's request for ``path`` with ``status`` and ``text``
        (the worded line, without its line break), or None: not a browser, or a status
        without a page. ``site_body``: the site's page when the caller has a fitter one (the
        404 pages of :mod:`feedsvc.pages`)."""
        key = TITLES.get(status)
        if key is None or not reads_page(path, headers):
            return None
        if is_admin(path):
            response = self.admin_page(status, self.admin(key), text)
        else:
            body = site_body if site_body is not None else self.site_page(self.reader(key), text)
            response = Response(body, status, PAGE_HEADERS, media_type="text/html")
        return add_vary(response, varies_by(path))

    def answer(
        self,
        path: str,
        headers: Mapping[str, str],
        status: int,
        text: str,
        plain: Response,
        site_body: bytes | None = None,
    ) -> Response:
        """:meth:`page`, else ``plain`` (the line, as it was) saying what it varied by; under
        ``/admin`` with the admin's security headers, as every admin answer."""
        found = self.page(path, headers, status, text, site_body)
        if found is not None:
            return found
        if is_admin(path):
            plain.headers.update(ADMIN_HEADERS)
        if status in TITLES and not path.startswith("/api/"):
            add_vary(plain, varies_by(path))
        return plain
