"""Who the client is, and how much it may ask: trusted proxies and the per-client rate limit.

**Client address.** ``X-Forwarded-For`` is believed only from the peers listed in
``http.trusted_proxies`` (addresses or CIDR networks); with none listed it is ignored, so a
client cannot pick its own address to dodge a limit. uvicorn's ``ProxyHeadersMiddleware`` does
the work (it walks the header from the right, skipping trusted hops, and also takes
``X-Forwarded-Proto``); :func:`with_trusted_proxies` installs it in our app rather than in
uvicorn's config, so tests and embedders get the same behaviour as ``feedsvc run``. uvicorn's own
default (trust loopback) is switched off in :func:`feedsvc.server.uvicorn_config`.

**Limits key** (:func:`client_key`): an IPv4 address, or the /64 network of an IPv6 one — one
subscriber's LAN gets a /64, so per-address limits would let one host use 2^64 addresses.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import cast

from starlette.requests import Request
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from feedsvc.ratelimit import MAX_CLIENTS, RateLimiter

__all__ = ["MAX_CLIENTS", "RateLimiter", "client_key", "request_client", "with_trusted_proxies"]


def with_trusted_proxies(app: ASGIApp, trusted: Sequence[str]) -> ASGIApp:
    """``app`` behind uvicorn's proxy-header middleware trusting exactly ``trusted``."""
    if not trusted:
        return app
    middleware = ProxyHeadersMiddleware(app, trusted_hosts=list(trusted))  # type: ignore[arg-type]
    return cast(ASGIApp, middleware)  # uvicorn types ASGI with its own TypedDicts


def client_key(host: str | None) -> str:
    """The address limits count per: IPv4 as is, IPv6 by its /64; other text as is."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def request_client(request: Request) -> str:
    """:func:`client_key` of the request's client (already resolved through trusted proxies)."""
    return client_key(request.client.host if request.client else None)
