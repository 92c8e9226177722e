"""The web admin at ``/admin``: sessions, CSRF and rendering (pages in ``admin_pages``, the
login page and logout in ``admin_login``).

Every request goes through :meth:`Admin.guard`: without a configured admin token the admin is
closed (503, never open); without a valid session it redirects to the login page; a POST needs
the session's CSRF token (form field ``csrf`` or header ``X-CSRF-Token``) and, when the browser
sends one, a same-site ``Origin``. Pages are Jinja2 with autoescape on, so every value a topic
or a chat supplies is rendered as text.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from feedsvc.backfill_window import BACKFILL_DAYS
from feedsvc.catalogue import translator
from feedsvc.echoes import echoed
from feedsvc.feeds.links import article_link
from feedsvc.feeds.sanitize import shown_title
from feedsvc.logs import quoted
from feedsvc.recipient_names import title_beside
from feedsvc.store import sessions
from feedsvc.topics_file import SLUG
from feedsvc.web import admin_auth as auth
from feedsvc.web.admin_text import (
    box,
    field_words,
    form_value,
    key_text,
    removal_note,
    removed,
    shown,
)
from feedsvc.web.error_pages import add_vary, reads_page, route_path
from feedsvc.web.favicon import favicon_response
from feedsvc.web.http_cache import text_response
from feedsvc.web.mount import mount_path
from feedsvc.web.queries import read_query
from feedsvc.web.security_headers import ADMIN_HEADERS, NOSNIFF

if TYPE_CHECKING:
    from feedsvc.app import Service

PREFIX = "/admin"  # where the routes are; browsers see it under http.public_url's path
STATIC = {"admin.js": "text/javascript", "admin.css": "text/css", "favicon.svg": "image/svg+xml"}


def admin_title(untitled: str, title: str) -> str:
    """The admin's ``article_title`` filter (the delivery log, the articles page, the preview's
    samples): :func:`feedsvc.feeds.sanitize.shown_title`, the one rule the feeds and reader
    pages show a title by (an editor saw ``&amp;`` and ``<b>`` where readers saw ``&`` and no
    tag); ``untitled`` in the admin's language. Its control and bidi characters, which the
    readers' rule drops, are first written as the admin writes every outside text's
    (:func:`feedsvc.web.admin_text.shown`: ``\u202e``), so an editor still sees they are there."""
    return shown_title(str(shown(title)), untitled)


@dataclass(frozen=True)
class Ctx:
    """One authenticated request: the session's key and CSRF token, for templates and checks."""

    request: Request
    key: bytes
    session: auth.Session
    csrf: str


Handler = Callable[[Request, Ctx], Awaitable[Response]]


def as_get(request: Request) -> Request:
    """A HEAD seen as the GET whose headers it asks for (RFC 9110 §9.3.2), for every admin
    handler at once. Starlette routes a HEAD to each route that takes GET, and the handlers
    tell a page from a form sent by ``method == "GET"``: a HEAD was taken for a POST the guard
    never checked (no CSRF token, no ``Origin``; it checks POSTs), so ``HEAD /admin/chats/N``
    reset the chat's digest, quiet hours and silence, and the login page's HEAD was a 403.
    The copy's scope is new: uvicorn still sends no body, reading the method from its own."""
    if request.method != "HEAD":
        return request
    return Request({**request.scope, "method": "GET"}, request.receive)


class Admin:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.settings = service.settings
        self.t = translator(self.settings.admin.language, self.settings.site.timezone)
        http = self.settings.http
        self.secure = http.public_url.startswith("https://")
        # behind a proxy serving feedsvc under a path (http.public_url "https://x.vn/rss/"),
        # links, forms, redirects and the cookies' path carry it
        self.base = mount_path(http) + PREFIX
        self.limiter = service.token_failures  # one budget with the API's Bearer token
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader("feedsvc.web", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            finalize=shown,  # outside text's controls visible, never acted on (admin_text)
        )
        self.env.globals.update(
            t=self.t, prefix=self.base, lang=self.t.language, site=self.settings.site,
            slug_pattern=SLUG.pattern,  # the slug field's check in the browser: the server's rule
            backfill_days=BACKFILL_DAYS,  # what "backfill on save" covers (backfill_window)
            # under an editable box: what `box` took out of it, and a save's error (admin_text)
            removal_note=partial(removal_note, self.t), field_words=partial(field_words, self.t),
        )  # fmt: skip
        # every time in site.timezone with its offset, durations in words, numbers grouped
        self.env.filters.update(
            local=self.t.time,
            ago=self.t.ago,
            number=self.t.number,
            form_value=form_value,
            box=box,  # every editable box's value: never `shown`'s escapes (admin_text)
            removed=removed,
            key_text=key_text,
            # a chat by its channel and own id in the admin's language (chat Telegram -1001,
            # Apprise json://***#…), never feedsvc's internal number, which stays in URLs and
            # forms (recipient_names; Translator.recipient)
            recipient=self.t.recipient,
            title_beside=title_beside,  # its title unless its name ends with it (Apprise's)
            article_link=article_link,  # the address every output links an article to
            # an article's title as readers see it (entities decoded, markup dropped): the feeds'
            article_title=partial(admin_title, self.t("reader.feed_untitled")),
        )

    # -- helpers --------------------------------------------------------------------------
    def key(self) -> bytes | None:
        """Read per request, so a changed token (env or file) takes effect on the next restart
        or file change and logs every session out. None: no usable token (admin closed)."""
        token = auth.configured_token(self.settings)
        return auth.derive_key(token) if token else None

    def page(
        self, name: str, ctx: Ctx | None = None, status: int = 200, **values: Any
    ) -> HTMLResponse:
        flash = None
        if ctx is not None:
            try:
                raw = auth.unsign_value(ctx.key, ctx.request.cookies.get(auth.FLASH_COOKIE))
            except auth.Malformed:
                raw = None
            if raw:
                try:
                    flash = json.loads(raw)
                except ValueError:
                    flash = None
        html = self.env.get_template(name).render(
            csrf=ctx.csrf if ctx else "", flash=flash, logged_in=ctx is not None, **values
        )
        response = HTMLResponse(html, status_code=status, headers=ADMIN_HEADERS)
        if flash is not None:
            response.delete_cookie(auth.FLASH_COOKIE, path=self.base)
        return response

    def location(self, path: str) -> str:
        """Where a redirect to the admin's ``path`` (``/topics``, a route's path without
        :data:`PREFIX`) points: path-absolute under ``http.public_url``'s path
        (``/rss/admin/topics``), never another host: an operator who reaches the admin through
        a tunnel to the service's own port stays on it (a path-absolute ``Location`` is
        resolved against the URL the browser asked for, RFC 9110 §10.2.2)."""
        return self.base + path

    def message(self, text: str, status: int, ctx: Ctx | None = None) -> HTMLResponse:
        """``text`` as an error page. With ``ctx`` (a signed-in admin's request, inside
        :meth:`guard`) it has the admin's navigation, so an id that names nothing
        (``/admin/chats/abc``) leaves a way on; without, the logged-out look (nothing about the
        admin shown to a visitor)."""
        return self.page("message.html", ctx, status, text=text)

    def refusal(self, request: Request, text: str, status: int) -> Response:
        """``text`` refused with ``status`` before any session is read (the admin closed, a
        file or id that names nothing, a cookie no feedsvc issued): the logged-out page for a
        browser, one plain-text line for curl and scripts, by the app's one rule
        (:func:`feedsvc.web.error_pages.reads_page`: an ``Accept`` naming HTML); ``Vary:
        Accept`` either way."""
        if reads_page(route_path(request.scope), request.headers):
            response: Response = self.message(text, status)
        else:
            response = text_response(status, text + "\n")
            response.headers.update(ADMIN_HEADERS)
        return add_vary(response, "Accept")

    def redirect(self, ctx: Ctx, path: str, flash: str | None = None, ok: bool = True) -> Response:
        """303 after a POST (so reload does not resubmit), with a one-shot flash message."""
        response = RedirectResponse(self.location(path), 303, headers=ADMIN_HEADERS)
        if flash is not None:
            value = auth.sign_value(ctx.key, json.dumps({"ok": ok, "text": flash}))
            self.cookie(response, auth.FLASH_COOKIE, value, 120)
        return response

    def cookie(self, response: Response, name: str, value: str, max_age: int) -> None:
        """Set one of the admin's cookies: under its path only, never read by scripts, never
        sent cross-site, over https only behind an https ``http.public_url``."""
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=self.base,
            httponly=True,
            samesite="strict",
            secure=self.secure,
        )

    async def revoked(self, sid: str) -> bool:
        """Logged out (on any replica, before any restart): :mod:`feedsvc.store.sessions`."""

        def check() -> bool:
            with self.service.web_db.read() as conn:
                return sessions.is_revoked(conn, sid)

        return await run_in_threadpool(check)

    def malformed(self, request: Request, as_json: bool = False) -> Response:
        """400 for a cookie or CSRF value no feedsvc issued; a damaged admin cookie is cleared
        so the browser's next request starts clean. ``as_json``: a route answering JSON (the
        preview), ``{"error": words}``, the one shape its script shows."""
        words = self.t("malformed")
        response = self._refuse(words, True) if as_json else self.refusal(request, words, 400)
        for name in (auth.SESSION_COOKIE, auth.LOGIN_COOKIE, auth.FLASH_COOKIE):
            if not request.cookies.get(name, "").isascii():
                response.delete_cookie(name, path=self.base)
        return response

    # -- the guard ------------------------------------------------------------------------
    def guard(self, handler: Handler, *, json_errors: bool = False) -> Callable[..., Any]:
        async def endpoint(request: Request) -> Response:
            key = self.key()
            if key is None:
                if json_errors:
                    return self._refuse(self.t("not_configured"), True, 503)
                return self.refusal(request, self.t("not_configured"), 503)
            try:
                return await checked(as_get(request), key)
            except auth.Malformed:
                return self.malformed(request, json_errors)

        async def checked(request: Request, key: bytes) -> Response:
            if any("\x00" in str(value) for value in request.path_params.values()):
                return self.refusal(request, self.t("not_found"), 404)  # no id holds a NUL
            session = auth.read_session(key, request.cookies.get(auth.SESSION_COOKIE))
            if session is None or await self.revoked(session.id):
                if request.method != "GET" or json_errors:
                    return self._deny(json_errors, 401)
                # the route's path (PREFIX + …) and its query (`?q=Kiến`), one `next` value
                query = request.scope.get("query_string", b"").decode("latin-1")
                target = quote(request.url.path + (f"?{query}" if query else ""), safe="/")
                login = self.location(f"/login?next={target}")
                return RedirectResponse(login, 303, headers=ADMIN_HEADERS)
            ctx = Ctx(request, key, session, auth.csrf_token(key, session.id))
            if request.method == "POST" and (
                refused := await self.form_refused(request, json_errors)
            ):
                return refused
            if request.method == "POST":
                if not auth.origin_allowed(request, self.settings.http.public_url):
                    return self._deny(json_errors, 403)
                given = request.headers.get("x-csrf-token")
                if given is None and "form" in request.headers.get("content-type", ""):
                    given = str((await request.form()).get("csrf") or "")
                if not auth.check_csrf(key, session.id, given):
                    return self._deny(json_errors, 403)
            return await handler(request, ctx)

        return endpoint

    async def form_refused(self, request: Request, as_json: bool = False) -> Response | None:
        """A form refused whole (400, nothing saved), else None; for a route answering JSON
        (the preview) as ``{"error": words}``, which its script shows as the preview's own 400s:

        - a field whose percent-encoded bytes are not UTF-8 text, naming the bytes
          (:func:`feedsvc.web.queries.read_query`, the query strings' rule): Starlette reads
          them as U+FFFD, and a title was saved as "Kh\ufffdnh H\ufffda";
        - a field given more than once (``title=a&title=b``), naming it: Starlette keeps the
          last, so what was saved depended on the order a client wrote them. No admin form
          has two fields of one name; the API refuses a repeated parameter the same way;
        - a multipart body Starlette cannot read (no boundary, broken parts, over 1,000 fields
          or a part over 1 MB): its 400 said so in English, plain text, to an admin reading
          Vietnamese and to the preview's script, which reads JSON."""
        kind = request.headers.get("content-type", "")
        if "application/x-www-form-urlencoded" in kind:
            refused = read_query(await request.body()).refused
            if refused:
                words = self.t("form_not_text", bytes=next(iter(refused.values())))
                return self._refuse(words, as_json)
        if "form" not in kind:
            return None
        try:
            form = await request.form()
        except HTTPException:  # Starlette's multipart refusals, a 400 in its English words
            return self._refuse(self.t("form_unreadable"), as_json)
        seen: set[str] = set()
        for name, _ in form.multi_items():
            if name in seen:
                field = quoted(echoed(name))
                return self._refuse(self.t("form_repeated", field=field), as_json)
            seen.add(name)
        return None

    def _refuse(self, words: str, as_json: bool, status: int = 400) -> Response:
        if as_json:
            return JSONResponse({"error": words}, status_code=status, headers=ADMIN_HEADERS)
        return self.message(words, status)

    def _deny(self, as_json: bool, status: int) -> Response:
        """401 (no session) or 403 (cross-origin, CSRF): for the JSON route ``{"error": words}``
        in ``admin.language``, the one shape its script shows; it showed English ``error``
        ("login required") to an admin reading Vietnamese, with the words unread beside it."""
        words = self.t("forbidden" if status == 403 else "login_required")
        if as_json:
            return JSONResponse({"error": words}, status_code=status, headers=ADMIN_HEADERS)
        return self.message(words, status)

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return self.refusal(request, self.t("not_found"), 404)
        if name == "favicon.svg":  # the site's icon, cached long (feedsvc.web.favicon)
            return favicon_response()
        body = resources.files("feedsvc.web").joinpath("static", name).read_bytes()
        return Response(
            body,
            media_type=STATIC[name],
            headers={"cache-control": "public, max-age=300", **NOSNIFF},
        )


def admin_routes(service: Service) -> list[BaseRoute]:
    from feedsvc.web.admin_articles import article_routes
    from feedsvc.web.admin_chats import chat_routes
    from feedsvc.web.admin_login import login_routes
    from feedsvc.web.admin_pages import page_routes
    from feedsvc.web.admin_preview import preview_routes
    from feedsvc.web.admin_recipients import recipient_routes
    from feedsvc.web.admin_stats import chart_routes
    from feedsvc.web.admin_topic_actions import topic_action_routes

    admin = Admin(service)

    async def home(request: Request) -> Response:
        return RedirectResponse(admin.location("/topics"), 303, headers=ADMIN_HEADERS)

    return [
        Route(PREFIX, home, methods=["GET"]),
        Route(PREFIX + "/", home, methods=["GET"]),
        *login_routes(admin),
        Route(PREFIX + "/static/{name}", admin.static, methods=["GET"]),
        *page_routes(admin),
        *topic_action_routes(admin),
        *recipient_routes(admin),
        *preview_routes(admin),
        *chat_routes(admin),
        *article_routes(admin),
        *chart_routes(admin),
    ]
