"""Deadlines for a client that stalls after its request head (tester 3, F1).

The head is bounded by :mod:`feedsvc.web.connections` (``http.header_timeout``) and the time
between requests by uvicorn's keep-alive timeout; nothing bounded what comes after a head. A
request announcing a body (``Content-Length: 100000``, or chunked) and sending it a byte at a
time — to any URL, the pre-auth ``POST /admin/login`` included — held its connection for ever,
and such a connection was not among those the connection cap closes: 2,000 of them locked every
other client out. :class:`StallGuard`, the base of the server's protocol, bounds every phase in
which the server waits on its client:

* **the body** (``http.body_idle_timeout``, default 10 s, without a byte; ``http.body_timeout``,
  default 60 s, for the whole body from the end of the head): past either, ``408 Request
  Timeout`` (``http.body_timeout`` in the catalogue; the connection closed) when no answer has
  begun, the route's ``receive()`` told the client is gone. The idle bound is suspended while
  the server itself is not reading (the app has not read what it has, pipelining) or has not yet
  sent an awaited ``100 Continue``.
* **a body nobody reads**: a response that begins before its request's body has all arrived (the
  route did not need it: ``/healthz``, a feed, a 401) says ``Connection: close``; once sent, the
  server stops reading requests, half-closes and drops what the client still sends for at most
  :data:`LINGER_SECONDS`, then closes. It waited for such a body before (every byte cancelled
  uvicorn's keep-alive timer). The half-close first keeps the kernel from answering the unread
  bytes with a reset that could destroy the response in flight (Go and nginx linger alike).
* **the answer** (``http.send_timeout``, default 30 s): a client that does not read what it asked
  for (a slow reader; or bytes still owed when a connection is closed: ``close()`` waits for
  them) is cut (``abort``) when no byte has left the server's buffer for that long. The
  transport's high-water mark is 0, so every moment bytes wait in it is watched.

:meth:`StallGuard.stalled` and :meth:`StallGuard.evict` serve the connection cap: every
connection waiting on its client (for a head, a body, a read, or lingering) may be closed to
let a new client in, the one heard from longest ago first; a connection whose request is being
answered by the app is not.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import ClassVar

from uvicorn._types import ASGISendEvent
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

log = logging.getLogger(__name__)

#: Seconds a connection whose answer is sent may still take to drop a body nobody reads.
LINGER_SECONDS = 2.0


class ClosingCycle(RequestResponseCycle):
    """uvicorn's request/response cycle, with an answer that begins before its request's body
    has all arrived saying ``Connection: close``, and the connection closed by the protocol's
    lingering close (``linger``) once the answer is sent, instead of waiting for the body."""

    closes_after = False  # the answer said Connection: close because the body was unread
    linger: Callable[[], None] | None = None  # set by StallGuard when it adopts the cycle

    async def send(self, message: ASGISendEvent) -> None:
        if self.flow.write_paused and not self.disconnected:
            try:
                await self.flow.drain()  # uvicorn's own wait, taken here to look after it
            except asyncio.CancelledError:
                # the service's stop gave up on a client that does not read: nothing more
                # reaches it (a 503 in its place would wait for it again; uvicorn then logged
                # "returned without starting response")
                self.disconnected = True
                raise
        if self.transport.is_closing() and not self.response_complete:
            # cut while this cycle waited its turn (an unread answer's send deadline, the
            # connection cap): uvicorn marks only the newest cycle gone, so one queued behind
            # a pipelined answer wrote to the closed transport, "Exception in ASGI
            # application" and a traceback (uvloop raises). Its client is gone.
            self.disconnected = True
        if (
            message["type"] == "http.response.start"
            and not self.response_started
            and self.more_body
            and self.keep_alive
            and not self.disconnected
        ):
            self.closes_after = True
            self.keep_alive = False  # uvicorn writes `connection: close`...
            try:
                await super().send(message)
            finally:
                self.keep_alive = True  # ...but the close is the protocol's, lingering
            return
        await super().send(message)
        if self.closes_after and self.response_complete and self.linger is not None:
            linger, self.linger = self.linger, None
            linger()


class StallGuard(HttpToolsProtocol):
    """uvicorn's httptools protocol with the body, linger and send deadlines of the module
    docstring. A subclass feeds the parser and says when a head has ended (``_awaiting_head``),
    calls :meth:`_heard` and :meth:`_watch_body` around each read, and words the 408
    (:meth:`_timeout_answer`)."""

    body_timeout: ClassVar[float] = 60.0
    body_idle_timeout: ClassVar[float] = 10.0
    send_timeout: ClassVar[float] = 30.0

    _awaiting_head = True  # the next bytes belong to a request head (else: to its body)
    _heard_at = 0.0  # loop time the client last sent a byte or took some of the answer
    _body_since = 0.0  # loop time the current body's wait began
    _body_timer: asyncio.TimerHandle | None = None
    _send_timer: asyncio.TimerHandle | None = None
    _send_left = 0  # bytes waiting in the write buffer when the send deadline was armed
    _linger_timer: asyncio.TimerHandle | None = None
    _lingering = False  # the answer is sent, the connection closing: reads are dropped

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._heard_at = self.loop.time()
        transport.set_write_buffer_limits(high=0)  # pause_writing whenever bytes wait

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._body_timer, self._send_timer, self._linger_timer):
            if timer is not None:
                timer.cancel()
        self._body_timer = self._send_timer = self._linger_timer = None
        super().connection_lost(exc)

    def _heard(self) -> bool:
        """Bytes arrived: note when; False when they are to be dropped (lingering)."""
        self._heard_at = self.loop.time()
        return not self._lingering

    def _idle(self) -> bool:
        """Nothing is being answered by the ASGI app on this connection, nor queued for it."""
        return (self.cycle is None or self.cycle.response_complete) and not self.pipeline

    # -- the connection cap ---------------------------------------------------------------
    def stalled(self) -> bool:
        """Waiting on its client: for a head (idle or mid-head), the rest of a body, a read of
        the answer, or lingering — not while the app answers a whole request."""
        return (
            self._lingering
            or self.flow.write_paused
            or not self._awaiting_head
            or self._idle()
            or self.transport.is_closing()
        )

    def stalled_since(self) -> float:
        """Loop time this connection's client was last heard from (the cap's order)."""
        return self._heard_at

    def evict(self) -> None:
        """Closed to make room: at once when nothing waits to be sent, else cut."""
        if self.transport.get_write_buffer_size():
            self.transport.abort()
        else:
            self.transport.close()

    # -- the body ---------------------------------------------------------------------------
    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        cycle = self.cycle
        if type(cycle) is RequestResponseCycle and not cycle.response_complete:
            cycle.__class__ = ClosingCycle  # before its task first runs: send is looked up then
            cycle.linger = self._linger  # type: ignore[attr-defined]

    def _watch_body(self) -> None:
        """After a read: a request whose body is still to come gets its deadline."""
        if self._awaiting_head or self._body_timer is not None or self._lingering:
            return
        if not self.transport.is_closing():
            self._body_since = now = self.loop.time()
            first = now + min(self.body_idle_timeout, self.body_timeout)
            self._body_timer = self.loop.call_at(first, self._body_check)

    def _body_check(self) -> None:
        self._body_timer = None
        if self._awaiting_head or self._lingering or self.transport.is_closing():
            return
        now = self.loop.time()
        cycle = self.cycle
        ours = self.flow.read_paused or (cycle is not None and cycle.waiting_for_100_continue)
        idle_end = now + self.body_idle_timeout if ours else self._heard_at + self.body_idle_timeout
        total_end = self._body_since + self.body_timeout
        if now >= min(idle_end, total_end):
            self._body_timed_out()
        else:
            self._body_timer = self.loop.call_at(min(idle_end, total_end), self._body_check)

    def _body_timed_out(self) -> None:
        """408 if nothing is answered yet, the route told its client is gone; closed."""
        log.debug("request body timed out from %s", self.client)
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if not cycle.response_started:
                self.transport.write(self._timeout_answer())
            cycle.disconnected = True
            cycle.message_event.set()  # a receive() waiting for the body: a disconnect
        self.transport.close()

    def _timeout_answer(self) -> bytes:
        """The whole 408 answer, ``Connection: close``; the subclass words it."""
        raise NotImplementedError

    # -- a body nobody reads ---------------------------------------------------------------
    def _linger(self) -> None:
        """The answer is sent but its request's body is not all here: stop reading requests,
        half-close, drop what comes for :data:`LINGER_SECONDS` (or until the client closes)."""
        if self.transport.is_closing():
            return
        self._unset_keepalive_if_required()
        if self._awaiting_head:  # the body came meanwhile: nothing to drop; close as said
            self.transport.close()
            return
        self._lingering = True
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        self.flow.resume_reading()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._linger_timer = self.loop.call_later(LINGER_SECONDS, self.transport.close)

    # -- the answer -------------------------------------------------------------------------
    def pause_writing(self) -> None:
        super().pause_writing()
        if self._send_timer is None:
            self._send_left = self.transport.get_write_buffer_size()
            self._send_timer = self.loop.call_later(self.send_timeout, self._send_check)

    def resume_writing(self) -> None:
        super().resume_writing()
        self._heard_at = self.loop.time()
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None

    def _send_check(self) -> None:
        """No byte of the answer left the buffer for ``send_timeout``: cut the connection."""
        self._send_timer = None
        left = self.transport.get_write_buffer_size()
        if not left:
            return
        if left < self._send_left:  # the client reads, slowly: watch on
            self._heard_at = self.loop.time()
            self._send_left = left
            self._send_timer = self.loop.call_later(self.send_timeout, self._send_check)
            return
        log.debug("answer not read for %.0f s by %s", self.send_timeout, self.client)
        self.transport.abort()
