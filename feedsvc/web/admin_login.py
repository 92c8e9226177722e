"""The admin's way in and out: the login page (the admin token checked under the failure budget
the API's Bearer token shares, a CSRF token bound to a one-time login cookie, a ``next`` page
under ``/admin`` only) and logout (the session revoked in the state DB, on every replica).
Every other route goes through :meth:`feedsvc.web.admin.Admin.guard`.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Route

from feedsvc.store import sessions
from feedsvc.web import admin_auth as auth
from feedsvc.web.admin import PREFIX, Ctx, as_get
from feedsvc.web.clients import request_client
from feedsvc.web.queries import query_param

if TYPE_CHECKING:
    from feedsvc.web.admin import Admin


def login_routes(admin: Admin) -> list[Route]:
    """``/admin/login`` (GET: the form; POST: the token) and ``/admin/logout`` (POST, guarded)."""

    async def login(request: Request) -> Response:
        key = admin.key()
        if key is None:
            return admin.refusal(request, admin.t("not_configured"), 503)
        try:
            return await _login(admin, as_get(request), key)
        except auth.Malformed:
            return admin.malformed(request)

    async def logout(request: Request, ctx: Ctx) -> Response:
        expires = datetime.fromtimestamp(ctx.session.issued + auth.SESSION_SECONDS, UTC)

        def revoke() -> None:
            with admin.service.web_db.write() as conn:
                sessions.revoke(conn, ctx.session.id, expires, datetime.now(UTC))

        await run_in_threadpool(revoke)
        response = RedirectResponse(admin.location("/login"), 303)
        response.delete_cookie(auth.SESSION_COOKIE, path=admin.base)
        return response

    return [
        Route(PREFIX + "/login", login, methods=["GET", "POST"]),
        Route(PREFIX + "/logout", admin.guard(logout), methods=["POST"]),
    ]


async def _login(admin: Admin, request: Request, key: bytes) -> Response:
    """The form, or the token sent with it checked: a session cookie and the ``next`` page."""
    next_path = shown_page(request.app.routes, next_page(query_param(request, "next", "")))
    if request.method == "GET":
        return _login_form(admin, key, next_path)
    if not auth.origin_allowed(request, admin.settings.http.public_url):
        return admin.message(admin.t("forbidden"), 403)
    if refused := await admin.form_refused(request):
        return refused
    form = await request.form()
    given = auth.require_ascii(str(form.get("csrf", "")))
    nonce = auth.unsign_value(key, request.cookies.get(auth.LOGIN_COOKIE))
    if nonce is None or not auth.check_csrf(key, "login:" + nonce, given):
        return admin.message(admin.t("forbidden"), 403)
    client = request_client(request)  # through http.trusted_proxies only
    wait = admin.limiter.blocked(client)
    if wait is not None:
        response = _login_form(
            admin, key, next_path, admin.t("login_limited", seconds=round(wait)), 429
        )
        response.headers["Retry-After"] = str(round(wait))
        return response
    token = auth.configured_token(admin.settings) or ""
    if not auth.check_token(str(form.get("token", "")), token):
        auth.token_refused(admin.limiter, client, "login form")
        return _login_form(admin, key, next_path, admin.t("login_failed"), 401)
    admin.limiter.succeeded(client)
    done = RedirectResponse(admin.location(next_path.removeprefix(PREFIX)), 303)
    admin.cookie(done, auth.SESSION_COOKIE, auth.new_session_cookie(key), auth.SESSION_SECONDS)
    done.delete_cookie(auth.LOGIN_COOKIE, path=admin.base)
    return done


#: The longest ``next`` taken (characters); a 60,000-character one was echoed whole.
MAX_NEXT = 2000
#: Characters a ``next`` page may hold: a path of the admin's own pages and their query.
_PAGE_CHARS = frozenset(string.ascii_letters + string.digits + "/-._~%?&=+,;:@")
#: Path segments a browser reads as "this" or "the parent" (percent-encoded dots included,
#: WHATWG URL "single-dot/double-dot path segment").
_DOT_SEGMENTS = frozenset({".", "..", "%2e", ".%2e", "%2e.", "%2e%2e"})


def next_page(typed: str) -> str:
    """The page under ``/admin/`` a login goes on to: ``typed`` (the ``next`` parameter)
    when it is one, else ``/admin/topics``. Refused: anything outside ``/admin/``, ``//``,
    a backslash (browsers read it as ``/``), dot segments (``/admin/../..//evil.com`` was
    echoed into ``Location``: same-site, but not an admin page), characters a plain path
    and query never need (controls, spaces, ``#``)."""
    if len(typed) > MAX_NEXT:  # echoed into Location: a page's path and query are short
        return PREFIX + "/topics"
    path = typed.split("?", 1)[0]
    segments = path.split("/")
    if (
        not typed.startswith(PREFIX + "/")
        or "//" in path
        or not set(typed) <= _PAGE_CHARS
        or any(segment.lower() in _DOT_SEGMENTS for segment in segments)
    ):
        return PREFIX + "/topics"
    return typed


def shown_page(routes: Sequence[BaseRoute], page: str) -> str:
    """``page`` (a :func:`next_page`) when the admin answers a GET there, else the nearest page
    above it that does (``/admin/topics/kien-thuy/enable`` → ``/admin/topics``,
    ``/admin/chats/5/pause`` → ``/admin/chats/5``): a POST-only route taken as ``next`` ended
    the login on a 405, a path naming no route on a 404. Never the login page itself."""
    path, query = page.split("?", 1) if "?" in page else (page, "")
    while path.startswith(PREFIX + "/") and path != PREFIX + "/login":
        scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
        if any(route.matches(scope)[0] is Match.FULL for route in routes):
            return f"{path}?{query}" if query else path
        path, query = path.rsplit("/", 1)[0] or "/", ""
    return PREFIX + "/topics"


def _login_form(
    admin: Admin, key: bytes, next_path: str, error: str | None = None, status: int = 200
) -> HTMLResponse:
    """The login page, with a fresh one-time nonce in a signed cookie its CSRF token binds."""
    nonce = secrets.token_urlsafe(12)
    response = admin.page(
        "login.html",
        None,
        status,
        error=error,
        next=next_path,
        login_csrf=auth.csrf_token(key, "login:" + nonce),
    )
    admin.cookie(response, auth.LOGIN_COOKIE, auth.sign_value(key, nonce), 3600)
    return response
