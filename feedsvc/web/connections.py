"""Connection limits uvicorn's httptools protocol does not have (issue #12 §7).

uvicorn arms no timer before a connection's first request and bounds no request head: a socket
that sends nothing is kept for ever (about 1,000 of them used up a process's file descriptors and
new clients were refused), and a 64 MB header is accumulated by repeated bytes concatenation in
the parser callbacks, stalling the event loop. :class:`BoundedHttpProtocol` adds, per process:

* **head timeout** (``http.header_timeout``, default 10 s): from the moment a connection opens
  or a request's first byte arrives, its whole head (request line and headers) must arrive in
  this time, or the connection is closed. Between requests uvicorn's keep-alive timeout (5 s)
  still applies. A slow body is not affected.
* **head size** (``http.max_header_bytes``, default 32 KiB): a head (request line, headers and
  the blank line ending them) larger than this is answered ``431 Request Header Fields Too
  Large`` and the connection closed. The bytes are counted *before* the parser sees them, up to
  the head's end (``CRLF CRLF``: llhttp takes no other), so the bound is exact however the head
  is split across TCP reads: a head that arrived whole in one read used to be parsed and served
  uncounted (50 KB headers got 200). A request line is also bounded by :data:`MAX_REQUEST_LINE`,
  httptools' URL limit (an English 400 past it otherwise), whatever the setting, counted as the
  parser gets it: raw non-ASCII bytes in it (``?q=Kiến`` from curl) written ``%XX`` as a browser
  sends them (:mod:`feedsvc.web.request_head`). Bytes after a request body in the same read (a
  request pipelined behind a body) go to the parser as they are, neither counted nor encoded:
  llhttp reads on past the body's end within one ``feed_data``, and httptools offers no pause
  there (a known gap: such a head with raw UTF-8 is a 400, one over the limit is served).
* **a request the parser refuses** (bad method or version, a header name or value character,
  bare LF line ends, a bad chunked body…): answered ``400`` worded from the catalogue
  (``http.bad_request``, :func:`bind_limits`) and the connection closed — after any response
  still owed on it — instead of uvicorn's English ``Invalid HTTP request received.``; one
  WARNING line (:mod:`feedsvc.web.malformed`).
* **an ``Upgrade`` offer** (``h2c``: ``curl --http2`` over plain http, Java's HttpClient; or
  ``websocket``, which feedsvc does not serve) is ignored, as RFC 9110 §7.8 allows: the request
  is plain HTTP/1.1, its body read (:meth:`BoundedHttpProtocol._without_upgrade`). llhttp stops
  at the end of such a request's head and had ended it: its body was lost, then parsed as a
  new request (a second 400 and a WARNING; uvicorn issue #2722).
* **open connections** (``http.max_connections``, default 2,000, and never more than the
  process's file-descriptor limit minus :data:`~feedsvc.web.fd_limit.FD_RESERVE`): a new
  connection over the limit first closes connections waiting on their client (for a request
  head, idle or slow; for the rest of a body; for a read of the answer; lingering:
  :meth:`StallGuard.stalled`), the one heard from longest ago first, and is itself closed when
  every connection is busy with a request.
* **open connections per client** (``http.max_connections_per_client``, default 256): one
  over its client's cap gets a 429 a second after it opened, what it sends unread, and is the
  first the connection cap closes (:mod:`feedsvc.web.client_cap`); connections are accepted a
  batch per event-loop iteration (:mod:`feedsvc.web.accept`).
* what comes after a head (the body, an answer the client does not read) is bounded by
  :class:`feedsvc.web.stalls.StallGuard`, this protocol's base.

The process's open-files limit, and the connection cap it lowers: :mod:`feedsvc.web.fd_limit`.
``feedsvc.web.wire`` subclasses this protocol, so feed polls answered in its parser callbacks and
requests passed to ASGI get the same limits.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections.abc import Sequence
from contextlib import suppress
from typing import ClassVar

import httptools

from feedsvc.catalogue.web import MESSAGES
from feedsvc.web.answers import ClosingAnswer, default_lines, too_large_answer
from feedsvc.web.client_cap import REFUSAL_DELAY, ClientCap, too_many_answer
from feedsvc.web.fd_limit import connection_cap
from feedsvc.web.head_replay import HeadAlreadyRead
from feedsvc.web.malformed import log_refusal, parse_failure, refuse_two_hosts
from feedsvc.web.request_head import HeadCount
from feedsvc.web.stalls import StallGuard

log = logging.getLogger(__name__)

#: The longest request line taken, in bytes: ``httptools.parse_url`` refuses a longer URL (which
#: uvicorn answers with an English 400), so it is a head too large whatever the setting.
MAX_REQUEST_LINE = 65535


class BoundedHttpProtocol(StallGuard):
    """uvicorn's httptools protocol with a head timeout, a head size limit and a connection cap
    (see the module docstring), and the deadlines after a head (:class:`StallGuard`). Limits are
    class attributes, set by :func:`bind_limits`."""

    header_timeout: ClassVar[float] = 10.0
    max_header_bytes: ClassVar[int] = 32768
    #: the 431 answer; unbound, in the catalogue's default language (Vietnamese)
    too_large: ClassVar[ClosingAnswer] = too_large_answer(MESSAGES["http.head_too_large"][0])
    #: the 400 answer to a request httptools cannot parse (:mod:`feedsvc.web.malformed`)
    malformed: ClassVar[ClosingAnswer] = ClosingAnswer.worded(400, MESSAGES["http.bad_request"][0])
    #: the 408 answer to a body that stalled (:mod:`feedsvc.web.stalls`)
    body_timed_out: ClassVar[ClosingAnswer] = ClosingAnswer.worded(
        408, MESSAGES["http.body_timeout"][0]
    )
    max_connections: ClassVar[int] = 2000
    #: This server's open connections, oldest first (a dict keeps insertion order).
    open_connections: ClassVar[dict[BoundedHttpProtocol, None]] = {}
    #: Each client's open connections (unbound: no cap), and the 429 past its cap
    client_cap: ClassVar[ClientCap] = ClientCap(0)
    too_many: ClassVar[ClosingAnswer] = too_many_answer(MESSAGES["http.too_many_connections"][0])

    _head_timer: asyncio.TimerHandle | None = None
    _refusal: str | None = None  # why the parser refused a request answered once idle
    _upgrade_ignored = False  # llhttp stopped after an ignored Upgrade offer's head
    _client_key: str | None = None  # what client_cap counts this connection under
    _over_client_cap = False  # answered 429 at its first bytes

    # -- connection lifecycle ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head = HeadCount()  # the head being read (counted, its request line encoded)
        self._client_key, within = self.client_cap.take(self.client[0] if self.client else None)
        if within:
            self._arm_head_timer()
        else:  # its one timer is the 429's (nothing it sends is parsed)
            self._over_client_cap = True
            self._head_timer = self.loop.call_later(REFUSAL_DELAY, self._refuse_over_cap)
        registry = type(self).open_connections
        registry[self] = None
        if len(registry) > self.max_connections:
            self._shed(registry)

    def connection_lost(self, exc: Exception | None) -> None:
        type(self).open_connections.pop(self, None)
        self.client_cap.release(self._client_key)
        self._client_key = None
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _refuse_over_cap(self) -> None:
        """The 429 to a connection over its client's cap, sent :data:`REFUSAL_DELAY` after it
        opened: a client that reconnects at once (wrk, a retry loop) costs one cheap answer per
        second per connection, not a busy loop of accepts and refusals."""
        self._head_timer = None
        if not self.transport.is_closing():
            self.write_closing(self.too_many)

    def _shed(self, registry: dict[BoundedHttpProtocol, None]) -> None:
        """Over the cap: close connections waiting on their client, those over their client's
        cap first, then the one heard from longest ago (:meth:`StallGuard.stalled`); else this
        one."""
        excess = len(registry) - self.max_connections
        stalled = (conn for conn in registry if conn is not self and conn.stalled())
        for conn in heapq.nsmallest(excess, stalled, key=_shed_order):
            conn.evict()
            registry.pop(conn, None)
            excess -= 1
        if excess > 0:
            registry.pop(self, None)
            self.transport.close()

    # -- the request head -------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        """Feed ``data`` to the parser (:meth:`_receive`); a body still to come after it gets
        its deadline, bytes after an answer that closes the connection are dropped
        (:class:`StallGuard`). What a connection over its client's cap sends is dropped."""
        if self._over_client_cap:
            return
        if self._heard():
            self._receive(data)
            self._watch_body()

    def _receive(self, data: bytes) -> None:
        """Feed ``data`` to the parser, a head at a time: each head's bytes are counted (and
        refused past the limit) before the parser sees them; body bytes go through uncounted.
        The bytes after an ignored ``Upgrade`` offer's head are fed on (:meth:`_feed`)."""
        while data:
            if self._refusal is not None:  # the parser has failed: nothing more is read
                return
            if not self._awaiting_head:
                data = self._feed(data)
            else:
                head = self._head
                take, part = head.take(data)
                if head.size > self.max_header_bytes or head.line_size > MAX_REQUEST_LINE:
                    self.write_closing(self.too_large)
                    return
                data = self._feed(part) + data[take:]
            if self.transport.is_closing():
                return

    def _feed(self, data: bytes) -> bytes:
        """uvicorn's ``data_received``, with a parse error answered by :meth:`_refuse`
        (uvicorn's own answer is a fixed English ``Invalid HTTP request received.`` whose length
        it counts in characters) and an ``Upgrade`` offer ignored (:meth:`_without_upgrade`):
        returns the bytes the parser stopped before, the request's body and what follows,
        still to be fed; else ``b""``."""
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            if self._upgrade_ignored:
                return self._without_upgrade(data[exc.args[0] :])
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError as exc:
            self._refuse(parse_failure(exc))
        return b""

    def _ignores_upgrade(self) -> bool:
        """The request just parsed offers an ``Upgrade`` this server does not take (any: it
        serves no WebSocket, ``ws="none"``; nor h2c), so it is plain HTTP/1.1 (RFC 9110 §7.8:
        a server may ignore the offer). ``CONNECT`` (which llhttp also stops after) keeps
        uvicorn's handling."""
        return (
            self.parser.should_upgrade()
            and not self._should_upgrade()
            and self.scope["method"] != "CONNECT"
        )

    def _without_upgrade(self, rest: bytes) -> bytes:
        """Go on with the request whose ``Upgrade`` offer is ignored as plain HTTP: llhttp
        stopped at the end of its head, its body unread (it is "in a different protocol"), and
        :meth:`on_message_complete` held back the request's end. A fresh parser takes over,
        fed the same head without its ``Upgrade`` header (its callbacks dropped:
        :class:`~feedsvc.web.head_replay.HeadAlreadyRead`; the request is already the app's),
        so it reads the body by the request's own framing (Content-Length or chunked) and then
        the next requests; ``rest``, the bytes after the head, is returned to be fed to it.
        Without this the body was lost (the app read an empty one) and then parsed as a new
        request: a second 400 the client never asked for, and a WARNING (uvicorn issue #2722,
        httptools #124)."""
        self._upgrade_ignored = False
        head = [
            b"%s %s HTTP/%s\r\n"
            % (self.scope["method"].encode("ascii"), self.url, self.scope["http_version"].encode())
        ]
        head += [
            name + b": " + value + b"\r\n" for name, value in self.headers if name != b"upgrade"
        ]
        parser = httptools.HttpRequestParser(HeadAlreadyRead(self))
        with suppress(AttributeError):  # httptools < 0.6.3, as uvicorn
            parser.set_dangerous_leniencies(lenient_data_after_close=True)
        self.parser = parser
        try:
            parser.feed_data(b"".join(head) + b"\r\n")
        except httptools.HttpParserError as exc:  # not expected: the head it took, less a line
            self._refuse(parse_failure(exc))
            return b""
        return rest

    def _refuse(self, reason: str) -> None:
        """Answer a request the parser refused with :attr:`malformed` and close, logged as one
        line (:func:`feedsvc.web.malformed.log_refusal`). Replies still owed on the connection
        go first: with a response being written or requests queued before the bad bytes, the
        400 waits for them (reading stops). A body that cannot be read (bad chunked encoding)
        ends its own request: 400 if its response has not begun, else the connection is closed."""
        log_refusal(self.client, reason)
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if not self._awaiting_head and cycle is not None and not cycle.response_complete:
            if not cycle.response_started:
                self.transport.write(self.malformed.bytes_with(self.default_lines()))
            cycle.disconnected = True  # now: the app's answer must not follow the 400
            cycle.message_event.set()  # its receive() waiting for the body: a disconnect
            self.transport.close()
            return
        if not self._idle():
            self._refusal = reason
            self.flow.pause_reading()
            return
        self.write_closing(self.malformed)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._refusal is not None and self._idle() and not self.transport.is_closing():
            self.write_closing(self.malformed)

    def _timeout_answer(self) -> bytes:
        """The 408 to a body that stalled, with the default headers of this moment."""
        return self.body_timed_out.bytes_with(self.default_lines())

    def write_closing(self, answer: ClosingAnswer) -> None:
        """Write ``answer`` with the default headers of this moment, and close."""
        self.transport.write(answer.bytes_with(self.default_lines()))
        self.transport.close()

    def default_lines(self) -> bytes:
        """uvicorn's default headers as header lines (:func:`default_lines`)."""
        return default_lines(self.server_state.default_headers)

    def _unsupported_upgrade_warning(self) -> None:
        """A request llhttp stopped after as an upgrade that is not an ignored ``Upgrade``
        offer (:meth:`_ignores_upgrade`: a ``CONNECT``): answered as plain HTTP by the app.
        uvicorn logged two WARNING lines per such request (one telling to install a WebSocket
        library), a line any client could repeat."""
        log.debug("upgrade request answered as plain HTTP")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._awaiting_head = True
        if self._head_timer is None:
            self._arm_head_timer()

    def on_headers_complete(self) -> None:
        refuse_two_hosts(self.headers)  # the parser's 400, like any malformed head
        self._head_done()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        if self._ignores_upgrade():  # llhttp skipped the body: the request goes on
            self._upgrade_ignored = True  # (:meth:`_without_upgrade`)
            return
        super().on_message_complete()
        self._message_done()

    def _head_done(self) -> None:
        self._awaiting_head = False
        self._head = HeadCount()
        self._cancel_head_timer()

    def _message_done(self) -> None:
        self._awaiting_head = True

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._awaiting_head and self._idle() and not self.transport.is_closing():
            self.transport.close()


def _shed_order(conn: BoundedHttpProtocol) -> tuple[bool, float]:
    """Which stalled connection the cap closes first: one over its client's cap, then the one
    heard from longest ago."""
    return (not conn._over_client_cap, conn.stalled_since())


def bind_limits(
    protocol: type[BoundedHttpProtocol],
    *,
    header_timeout: float,
    max_header_bytes: int,
    max_connections: int,
    head_too_large: str | None = None,
    bad_request: str | None = None,
    body_timeout: float = StallGuard.body_timeout,
    body_idle_timeout: float = StallGuard.body_idle_timeout,
    send_timeout: float = StallGuard.send_timeout,
    body_timed_out: str | None = None,
    max_connections_per_client: int = 0,
    trusted_proxies: Sequence[str] = (),
    too_many_connections: str | None = None,
) -> dict[str, object]:
    """Class attributes for a subclass of ``protocol`` with these limits and its own registries;
    ``head_too_large``: the 431 text, ``bad_request`` the 400's, ``body_timed_out`` the 408's,
    ``too_many_connections`` the 429's (the catalogue's ``http.head_too_large``,
    ``http.bad_request``, ``http.body_timeout``, ``http.too_many_connections`` in the site's
    language; default the protocol's own); ``max_connections_per_client`` 0: no per-client cap,
    ``trusted_proxies``' connections not counted (:class:`ClientCap`)."""
    worded: dict[str, object] = {}
    if head_too_large is not None:
        worded["too_large"] = too_large_answer(head_too_large)
    if bad_request is not None:
        worded["malformed"] = ClosingAnswer.worded(400, bad_request)
    if body_timed_out is not None:
        worded["body_timed_out"] = ClosingAnswer.worded(408, body_timed_out)
    if too_many_connections is not None:
        worded["too_many"] = too_many_answer(too_many_connections)
    return {
        "header_timeout": header_timeout,
        "max_header_bytes": max_header_bytes,
        "max_connections": connection_cap(max_connections),
        "body_timeout": body_timeout,
        "body_idle_timeout": body_idle_timeout,
        "send_timeout": send_timeout,
        "open_connections": {},
        "client_cap": ClientCap(max_connections_per_client, trusted_proxies),
        **worded,
    }
