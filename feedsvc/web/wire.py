"""Feed polls answered inside uvicorn's HTTP protocol, before any ASGI machinery.

Why: a conditional poll answered 304 is a ~250-byte reply, yet per request uvicorn builds a
scope, a request/response cycle object, an asyncio task and two ``send`` awaits. Measured on a
2-vCPU VM (``bench/serve.py``), that overhead capped one process at ~30k 304s/s while nginx
serves the same static file at ~100k/s. Here the parser callbacks hand a plain poll straight to
:meth:`FeedFastPath.answer` (the same decision the ASGI fast path and the Starlette routes make)
and write the prepared reply to the socket.

Only the safe case is taken: GET/HEAD of ``/feeds/SLUG.FMT`` with no query, no body, no
``Expect`` and no upgrade, a snapshot in memory, nothing earlier on the connection still being
answered (pipelined replies stay in order) and the socket accepting writes. Anything else goes
to uvicorn unchanged. Keep-alive follows uvicorn's rules (HTTP/1.0 closes; the idle timer is
re-armed), and the ``date`` header comes from uvicorn's once-a-second cache
(:func:`feedsvc.web.connections.default_lines`, as for the protocol's own 400 and 431).

This subclasses ``uvicorn.protocols.http.httptools_impl.HttpToolsProtocol`` and is handed to
``uvicorn.Config(http=...)``, which takes a protocol class. The parser callbacks and attributes
used here are uvicorn internals, not API: the uvicorn range in ``pyproject.toml`` is capped, and
``tests/test_web_wire.py`` exercises them over real sockets.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE

from feedsvc.web.connections import BoundedHttpProtocol, bind_limits
from feedsvc.web.fast_path import FeedFastPath, count_feed_response
from feedsvc.web.http_cache import Reply
from feedsvc.web.malformed import refuse_two_hosts
from feedsvc.web.paths import path_text
from feedsvc.web.stalls import StallGuard

_BODY_HEADERS = (b"content-length", b"transfer-encoding")
_CLOSE = b"connection: close\r\n"

log = logging.getLogger(__name__)


class FeedWireProtocol(BoundedHttpProtocol):
    """uvicorn's httptools protocol with plain feed polls answered in the parser callbacks,
    under the connection limits of :class:`~feedsvc.web.connections.BoundedHttpProtocol`."""

    fast: FeedFastPath  # set by :func:`wire_protocol`

    _direct = False  # the request being parsed was answered here
    _answered = False  # something was answered here during the current data_received

    def data_received(self, data: bytes) -> None:
        self._answered = False
        super().data_received(data)
        if (
            self._answered
            and self._idle()
            and self.timeout_keep_alive_task is None
            and not self.transport.is_closing()
        ):
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    def on_message_begin(self) -> None:
        self._direct = False
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        refuse_two_hosts(self.headers)  # the parser's 400 (BoundedHttpProtocol's check too)
        self._head_done()
        try:
            found = self._poll()
        except Exception:  # httptools would turn it into a misleading 400: let ASGI answer 500
            log.exception("feed poll fast path failed; answering through ASGI")
            found = None
        if found is None:
            super().on_headers_complete()
            return
        reply, fmt, slug = found
        self._direct = self._answered = True
        keep_alive = self.parser.get_http_version() != "1.0" and self.parser.should_keep_alive()
        # the bytes uvicorn would send for this reply, in its order
        close = b"" if keep_alive else _CLOSE
        head = b"".join(
            (STATUS_LINE[reply.status], self.default_lines(), reply.lines, close, b"\r\n")
        )
        self.server_state.total_requests += 1
        count_feed_response(fmt, reply.status)  # before the write: a client may look next
        self.fast.backend.polled(slug)
        self.transport.writelines((head, reply.body) if reply.body else (head,))
        if not keep_alive:
            self.transport.close()

    def on_body(self, body: bytes) -> None:
        if not self._direct:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._direct:
            super().on_message_complete()
        else:
            self._message_done()

    def _poll(self) -> tuple[Reply, str, str] | None:
        """The reply if this request is a plain feed poll that is safe to answer here."""
        if (
            self.expect_100_continue
            or self.root_path
            or not self._idle()
            or self.flow.write_paused
            or self.transport.is_closing()
            or self.parser.should_upgrade()
        ):
            return None
        for name, _ in self.headers:
            if name in _BODY_HEADERS:
                return None
        try:
            parsed = httptools.parse_url(self.url)
        except httptools.HttpParserInvalidURLError:
            return None
        path = path_text(parsed.path)
        if path is None:  # not UTF-8 text: the ASGI app's 400 (feedsvc.web.paths)
            return None
        method = self.parser.get_method().decode("ascii")
        return self.fast.answer(method, path, parsed.query, self.headers)


def wire_protocol(
    fast: FeedFastPath,
    *,
    header_timeout: float = 10.0,
    max_header_bytes: int = 32768,
    max_connections: int = 2000,
    head_too_large: str | None = None,
    bad_request: str | None = None,
    body_timeout: float = StallGuard.body_timeout,
    body_idle_timeout: float = StallGuard.body_idle_timeout,
    send_timeout: float = StallGuard.send_timeout,
    body_timed_out: str | None = None,
    max_connections_per_client: int = 0,
    trusted_proxies: Sequence[str] = (),
    too_many_connections: str | None = None,
) -> type[asyncio.Protocol]:
    """A :class:`FeedWireProtocol` class bound to ``fast`` and these connection limits (see
    :mod:`feedsvc.web.connections` and :mod:`feedsvc.web.stalls`; ``head_too_large``: the 431
    text, ``bad_request`` the 400's to a request that cannot be parsed, ``body_timed_out`` the
    408's to a body that stalled, ``too_many_connections`` the 429's to a connection over its
    client's cap, worded by the caller from the catalogue), for
    ``uvicorn.Config(http=...)``."""
    limits = bind_limits(
        FeedWireProtocol,
        header_timeout=header_timeout,
        max_header_bytes=max_header_bytes,
        max_connections=max_connections,
        head_too_large=head_too_large,
        bad_request=bad_request,
        body_timeout=body_timeout,
        body_idle_timeout=body_idle_timeout,
        send_timeout=send_timeout,
        body_timed_out=body_timed_out,
        max_connections_per_client=max_connections_per_client,
        trusted_proxies=trusted_proxies,
        too_many_connections=too_many_connections,
    )
    return type("BoundFeedWireProtocol", (FeedWireProtocol,), {"fast": fast, **limits})
