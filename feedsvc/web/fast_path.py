"""The hottest request, a feed reader polling a topic feed, answered before Starlette
(:class:`FeedFastPath`), and the feed-response counter it shares with the routes
(:mod:`feedsvc.web.feeds`) and the wire-level path (:mod:`feedsvc.web.wire`).

Why apart from the routes: one backend dictionary lookup plus the snapshot's prepared
:class:`~feedsvc.web.http_cache.Replies` is the whole answer; Starlette's request, routing and
response objects cost several times that (``bench/fastpath.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from feedsvc import metrics
from feedsvc.feeds.model import FORMATS
from feedsvc.web.feed_backend import FeedBackend
from feedsvc.web.feed_requests import DEFAULT_LIMIT, SEARCH_SLUG, split_feed_name
from feedsvc.web.http_cache import Reply, list_field, replies
from feedsvc.web.paths import path_text

# Pre-bound children for the common answers: the fast path counts every poll.
_FEED_COUNTERS = {
    (fmt, status): metrics.FEED_RESPONSES.labels(fmt, str(status))
    for fmt in FORMATS
    for status in (200, 304)
}


def count_feed_response(fmt: str, status: int) -> None:
    """``feedsvc_feed_responses_total{format, status}``: poll volume and the 304 share."""
    counter = _FEED_COUNTERS.get((fmt, status))
    if counter is None:
        counter = metrics.FEED_RESPONSES.labels(fmt, str(status))
    counter.inc()


_GET_HEAD = ("GET", "HEAD")
#: The request headers the fast path reads: the conditional ones, and the Fetch Metadata mode
#: that may mark a person's browser navigation (then the route decides).
_AE, _INM, _IMS = b"accept-encoding", b"if-none-match", b"if-modified-since"
_READ = frozenset((_AE, _INM, _IMS, b"sec-fetch-mode"))
_REPLY = "feedsvc.fast_reply"  # the scope key handing the reply to :meth:`FeedFastPath._send_reply`


class FeedFastPath:
    """ASGI wrapper answering a plain GET/HEAD of a cached topic feed without Starlette.

    Only ``/feeds/SLUG.FMT`` with no query string and a snapshot in memory is handled here;
    everything else (search, ``?limit=``, unknown slugs → 404, other routes, lifespan) goes to
    ``app``. Starlette's request, routing and response objects cost several times what the
    reply itself does, and feed readers poll far more often than anyone else calls.
    :meth:`answer` is the one decision; ``feedsvc.web.wire`` uses it below ASGI too.
    """

    def __init__(
        self,
        app: ASGIApp,
        backend: FeedBackend,
        max_age: int,
        guard: Callable[[ASGIApp], ASGIApp] | None = None,
    ) -> None:
        self.app = app
        self.backend = backend
        self.max_age = max_age
        #: the fast path's own replies, through ``guard`` as the routes go through it
        #: (:class:`feedsvc.web.stopping.StopAnswer`: a poll the service's stop cancels while
        #: its client does not read was uvicorn's "Exception in ASGI application" traceback)
        self._reply: ASGIApp = self._send_reply if guard is None else guard(self._send_reply)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = None
        if scope["type"] == "http" and not scope.get("root_path"):
            path: str | None = scope["path"]
            raw = scope.get("raw_path")
            if raw and b"%" in raw:  # decoded strictly: not UTF-8 is the app's 400
                path = path_text(raw)
            if path is not None:
                found = self.answer(
                    scope["method"], path, scope.get("query_string"), scope["headers"]
                )
        if found is None:
            await self.app(scope, receive, send)
            return
        reply, fmt, slug = found
        await self._reply({**scope, _REPLY: reply}, receive, send)
        count_feed_response(fmt, reply.status)
        self.backend.polled(slug)

    @staticmethod
    async def _send_reply(scope: Scope, receive: Receive, send: Send) -> None:
        reply: Reply = scope[_REPLY]
        start = {"type": "http.response.start", "status": reply.status, "headers": reply.headers}
        await send(start)
        await send({"type": "http.response.body", "body": reply.body})

    def answer(
        self, method: str, path: str, query: bytes | None, headers: Iterable[tuple[bytes, bytes]]
    ) -> tuple[Reply, str, str] | None:
        """The reply, format and topic slug for a plain poll of a cached topic feed, else None.

        ``headers`` are the request's (lower-case name, value) pairs, as in an ASGI scope.
        """
        if method not in _GET_HEAD or query or not path.startswith("/feeds/"):
            return None
        parsed = split_feed_name(path[len("/feeds/") :])
        if parsed is None or parsed[0] == SEARCH_SLUG:
            return None
        snapshot = self.backend.snapshot(parsed[0], parsed[1], DEFAULT_LIMIT)
        if snapshot is None:
            return None
        read: dict[bytes, list[str]] = {}
        for name, value in headers:
            if name in _READ:  # every line, in order: lists are joined, as the route does
                read.setdefault(name, []).append(value.decode("latin-1"))
        if read.get(b"sec-fetch-mode", [""])[0] == "navigate":
            return None  # perhaps a person in a browser: the route decides
        since = read.get(_IMS)  # one date: the first line wins, as in Starlette
        reply = replies(snapshot, self.max_age).reply(
            method,
            list_field(read.get(_AE, [])),
            list_field(read.get(_INM, [])),
            None if since is None else since[0],
        )
        return reply, parsed[1], parsed[0]
