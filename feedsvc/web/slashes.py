"""The trailing-slash redirect (``/feeds/x.rss/`` → ``/feeds/x.rss``), from ``http.public_url``.

Why not Starlette's own (``Router.redirect_slashes``): it builds an absolute URL from the
request's ``Host`` header and the scheme the socket saw, so ``Host: evil.example`` was reflected
into ``Location`` (a cache keyed on the path alone would keep a redirect to another host), and
behind a TLS-terminating proxy a reader was sent from ``https://`` to ``http://`` (tester3 F8).
Here the target is ``http.public_url`` (the base readers use, as in feed self links) plus the
path, when the operator set it; else a path-absolute ``Location`` (RFC 9110 §10.2.2 allows a
relative reference), resolved by the client against the URL it asked for. Which paths redirect
is Starlette's rule unchanged: the path with its trailing slashes removed (or one added) matches
a route.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.responses import RedirectResponse
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from feedsvc.config import HttpSettings

#: What stays unescaped in a redirected path: RFC 3986 ``pchar`` and ``/``.
PATH_SAFE = "/!$&'()*+,;=:@-._~"


def redirect_base(http: HttpSettings) -> str | None:
    """Where every redirect of the reader routes points: ``http.public_url`` without its
    trailing slash when the operator set it (its path too: a service behind a proxy at
    ``https://tin.example.vn/rss/``), else None (a path-absolute ``Location``). The one rule
    for the trailing-slash 307 here and the case 301 of ``web.feeds``."""
    return http.public_url.rstrip("/") if "public_url" in http.model_fields_set else None


def redirect_target(base: str | None, path: str, query: bytes) -> str:
    """``Location`` for ``path`` (decoded, as in the scope) and the raw query: ``base`` (no
    trailing slash) + the path, or the path alone. A path starting ``//`` would read as
    another host's (a network-path reference): its leading slashes become one."""
    escaped = quote(path, safe=PATH_SAFE, errors="surrogateescape")
    escaped = "/" + escaped.lstrip("/")
    target = f"{base}{escaped}" if base else escaped
    return f"{target}?{query.decode('latin-1')}" if query else target


def slash_redirects(router: Router, base: str | None) -> None:
    """Replace ``router``'s trailing-slash redirect with one to ``base`` (``http.public_url``
    without its trailing slash, or None: a relative ``Location``); its 404 otherwise."""
    router.redirect_slashes = False
    not_found: ASGIApp = router.default

    async def default(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path != "/":
            other = path.rstrip("/") if path.endswith("/") else path + "/"
            moved = dict(scope, path=other)
            if any(route.matches(moved)[0] is not Match.NONE for route in router.routes):
                location = redirect_target(base, other, scope.get("query_string", b""))
                await RedirectResponse(location, 307)(scope, receive, send)
                return
        await not_found(scope, receive, send)

    router.default = default
