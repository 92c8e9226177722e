"""HTTP: health and metrics, feeds, and (later) the admin UI and API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

if TYPE_CHECKING:
    from feedsvc.app import Service
    from feedsvc.web.error_pages import ErrorPages


def routes(service: Service, pages: ErrorPages | None = None) -> list[BaseRoute]:
    """Every route; ``pages``: a browser's page for the feed routes' errors
    (:mod:`feedsvc.web.error_pages`)."""
    from feedsvc.web.admin import admin_routes
    from feedsvc.web.api import api_routes
    from feedsvc.web.clients import RateLimiter
    from feedsvc.web.favicon import favicon_routes
    from feedsvc.web.feeds import feed_routes
    from feedsvc.web.health import health_routes
    from feedsvc.web.mount import mount_path
    from feedsvc.web.slashes import redirect_base
    from feedsvc.web.words import reader_words
    from feedsvc.web.zalo import zalo_routes

    http = service.settings.http
    limiter = RateLimiter(http.client_rate, http.client_burst)
    return [
        *health_routes(service),
        *feed_routes(
            service.publisher,
            http.cache_seconds,
            limiter,
            reader_words(service),
            redirect_base(http),
            mount_path(http),
            pages,
        ),
        *api_routes(service),
        *admin_routes(service),
        *zalo_routes(service),
        *favicon_routes(),
    ]
