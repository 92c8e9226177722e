"""The site's icon, our own drawing (``static/favicon.svg``: no third-party asset), at
``/favicon.svg`` — which the reader pages' and the admin's ``<link rel="icon">`` name — and at
``/favicon.ico``, which browsers ask for by themselves on any other page (a feed shown with
``/feed.xsl``): that was a 404 and a console error on every page.

``/favicon.ico`` answers the SVG itself, not a redirect: browsers read an icon by its
``Content-Type``, not its name, and one request is less than two. Cached long
(:data:`CACHE_CONTROL`): it changes with a release at most, and a stale icon for a while
harms nobody.
"""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from feedsvc.web.security_headers import NOSNIFF

#: The icon's bytes, read once.
FAVICON = resources.files("feedsvc.web").joinpath("static", "favicon.svg").read_bytes()
MEDIA_TYPE = "image/svg+xml"
#: 30 days: an icon is asked for with every page otherwise.
CACHE_CONTROL = "public, max-age=2592000"
#: The paths it is served at.
PATHS = ("/favicon.svg", "/favicon.ico")


def favicon_response() -> Response:
    """The icon with its long cache (the admin's ``/admin/static/favicon.svg`` too)."""
    headers = {"cache-control": CACHE_CONTROL, **NOSNIFF}
    return Response(FAVICON, media_type=MEDIA_TYPE, headers=headers)


async def favicon(request: Request) -> Response:
    return favicon_response()


def favicon_routes() -> list[Route]:
    return [Route(path, favicon, methods=["GET", "HEAD"]) for path in PATHS]
