"""Cross-origin reads of the public feeds (SPEC §5): the one policy.

Why: a browser-based feed reader or a newsroom's embed widget on another site reads a feed
with ``fetch()``; without ``Access-Control-Allow-Origin`` the browser hid every answer from the
script, and the preflight a script's ``If-None-Match`` needs was a 405. The feeds are public
and read-only, and nothing at their addresses reads a credential (no cookie, no token), so:

* every answer at a feed address (:func:`feed_address`: ``/feeds/…`` — topic and search
  feeds —, ``/feeds.opml``) says ``Access-Control-Allow-Origin: *`` (:data:`PUBLIC_READ`):
  200 and HEAD, 304 (a conditional poll by script), and also the errors and redirects there (a
  search's 400 a widget can show, 404/410, 429/503 with their ``Retry-After``; a 301 to a
  topic's stored slug, which a CORS fetch follows only if it says so). ``ETag`` and
  ``Retry-After`` are exposed to scripts (``Last-Modified`` is safelisted already): a script
  revalidating by hand needs the tag;
* an ``OPTIONS`` there, a CORS preflight or not, is :func:`preflight`'s 204: ``GET, HEAD``,
  the two conditional request headers, kept a day by the browser (Firefox's cap; Chromium
  keeps it 2 h), and ``Allow`` for a plain ``OPTIONS`` (RFC 9110 §9.3.7). No route and no
  database is reached;
* never under ``/admin`` or ``/api`` (a session cookie, the Bearer token), nor on the reader
  pages; ``*`` never credentials, so no ``Vary: Origin``: the answer is the same whichever
  origin asks, and a cache keeps one copy.

Where: the feed snapshots' prepared header lines (:func:`feedsvc.web.security_headers.
snapshot_headers`, by media type: the fast paths' replies never reach an ASGI middleware) and
:class:`feedsvc.web.address_headers.AddressHeaders` for every other answer at those addresses.
"""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

from feedsvc.feeds.model import MEDIA_TYPES

#: What every answer at a feed address says (see the module docstring).
PUBLIC_READ = {
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "ETag, Retry-After",
}
#: The media types of what is served there: the three feed formats and the OPML.
FEED_MEDIA_TYPES = frozenset({*MEDIA_TYPES.values(), "text/x-opml"})
#: The preflight's answer: what a script may send, and how long a browser keeps the answer.
PREFLIGHT = {
    **PUBLIC_READ,
    "access-control-allow-methods": "GET, HEAD",
    "access-control-allow-headers": "If-None-Match, If-Modified-Since",
    "access-control-max-age": "86400",
    "allow": "GET, HEAD, OPTIONS",
}
_PREFLIGHT_LINES = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in PREFLIGHT.items()]


def feed_address(path: str) -> bool:
    """``path`` (as routed) is a feed's: ``/feeds/…`` or ``/feeds.opml`` (``/feed.xsl``, the
    reader pages and the QR codes are not: a browser loads them for a page of this site);
    ``/feeds.opml/`` too, whose 307 a CORS fetch follows only if it says so."""
    return path.startswith("/feeds/") or path.rstrip("/") == "/feeds.opml"


def feed_media_type(media_type: str) -> bool:
    """``media_type`` (bare or with parameters) is a feed's or the OPML's."""
    return media_type.partition(";")[0].strip().lower() in FEED_MEDIA_TYPES


async def preflight(scope: Scope, receive: Receive, send: Send) -> None:
    """The 204 to an ``OPTIONS`` at a feed address (an ASGI app; its body, if any, unread)."""
    await send({"type": "http.response.start", "status": 204, "headers": _PREFLIGHT_LINES})
    await send({"type": "http.response.body", "body": b""})
