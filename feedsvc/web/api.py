"""The admin JSON API under ``/api/`` (SPEC §7): Bearer-token auth, OpenAPI description.

The endpoints are declared in :mod:`feedsvc.web.api_topics` and :mod:`feedsvc.web.api_admin`;
:mod:`feedsvc.web.api_base` turns each declaration into a route (auth, validation, error
mapping, the DB work in the thread pool) and :mod:`feedsvc.web.openapi` into its description.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from feedsvc import __version__, metrics
from feedsvc.web import api_admin, api_articles, api_topics
from feedsvc.web.api_base import Endpoint, to_route
from feedsvc.web.mount import mount_path
from feedsvc.web.openapi import openapi_document

if TYPE_CHECKING:
    from feedsvc.app import Service

OPENAPI_PATH = "/api/openapi.json"
INDEX_PATH = "/api/"


def api_index(mount: str = "") -> dict[str, str]:
    """What ``GET /api/`` answers: where the description is and how to authenticate.

    An operator told "a JSON API under /api/" opens that address first; a bare 404 there read
    as "the API is not running". The answer names no secret and needs no token, like the
    OpenAPI document it points to.
    """
    return {
        "name": "feedsvc admin API",
        "version": __version__,
        "openapi": mount + OPENAPI_PATH,  # under http.public_url's path (web.mount)
        "auth": "Authorization: Bearer <admin.token>",
    }


def endpoints() -> list[Endpoint]:
    return [*api_topics.ENDPOINTS, *api_admin.ENDPOINTS, *api_articles.ENDPOINTS]


@functools.cache
def _document(server: str) -> dict[str, Any]:
    """The OpenAPI document, built at its first request and kept: it depends on the declared
    endpoints and the ``server`` path alone, and building it (pydantic's JSON schemas) cost
    every start-up ~30-60 ms."""
    return openapi_document(endpoints(), OPENAPI_PATH, INDEX_PATH, server)


def api_routes(service: Service) -> list[BaseRoute]:
    declared = endpoints()
    mount = mount_path(service.settings.http)  # behind a proxy's path, its path
    index = api_index(mount)
    server = mount or "/"  # OpenAPI: a path is appended to the server's URL as it is

    async def openapi(_request: Request) -> Response:
        metrics.HTTP_REQUESTS.labels(f"GET {OPENAPI_PATH}", "200").inc()
        return JSONResponse(_document(server))

    async def root(_request: Request) -> Response:
        metrics.HTTP_REQUESTS.labels(f"GET {INDEX_PATH}", "200").inc()
        return JSONResponse(index)

    return [
        Route(OPENAPI_PATH, openapi, methods=["GET"]),
        Route(INDEX_PATH, root, methods=["GET"]),
        Route(INDEX_PATH.rstrip("/"), root, methods=["GET"]),
        *(to_route(e, service) for e in declared),
    ]
