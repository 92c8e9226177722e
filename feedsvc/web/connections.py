"""Connection limits uvicorn's httptools protocol does not have (issue #12 §7).

uvicorn arms no timer before a connection's first request and bounds no request head: a socket
that sends nothing is kept for ever (about 1,000 of them used up a process's file descriptors and
new clients were refused), and a 64 MB header is accumulated by repeated bytes concatenation in
the parser callbacks, stalling the event loop. :class:`BoundedHttpProtocol` adds, per process:

* **head timeout** (``http.header_timeout``, default 10 s): from the moment a connection opens
  or a request's first byte arrives, its whole head (request line and headers) must arrive in
  this time, or the connection is closed. Between requests uvicorn's keep-alive timeout (5 s)
  still applies. A slow body is not affected.
* **head size** (``http.max_header_bytes``, default 32 KiB): a head larger than this is answered
  ``431 Request Header Fields Too Large`` and the connection closed. Counted per read, so the
  bound is checked within one socket read (at most 256 KiB) of being crossed.
* **open connections** (``http.max_connections``, default 2,000, and never more than the
  process's file-descriptor limit minus :data:`FD_RESERVE`): a new connection over the limit
  first closes the oldest connections that are waiting for a request head (idle or slow), and is
  itself closed when every connection is busy with a request.

:func:`raise_fd_limit` lifts the soft ``RLIMIT_NOFILE`` to the hard one at start, as Go and
nginx's ``worker_rlimit_nofile`` do: the soft default (often 1,024) is a legacy of ``select()``,
which nothing here uses. ``feedsvc.web.wire`` subclasses this protocol, so feed polls answered
in its parser callbacks and requests passed to ASGI get the same limits.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import ClassVar

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from feedsvc.catalogue.web import MESSAGES

log = logging.getLogger(__name__)

#: File descriptors kept free for DB connections, log files and the listening sockets.
FD_RESERVE = 128


def too_large_answer(text: str) -> bytes:
    """The whole 431 answer, written straight to the socket (the head is not parsed, so no
    ASGI app answers it): ``text`` is the catalogue's ``http.head_too_large`` in the site's
    language (:func:`bind_limits`); its length is counted in UTF-8 bytes."""
    body = (text + "\n").encode("utf-8")
    return (
        STATUS_LINE[431] + b"content-type: text/plain; charset=utf-8\r\n"
        + b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body) + body
    )  # fmt: skip


def raise_fd_limit() -> int:
    """Lift the soft open-files limit to the hard one; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open-files limit from %d: %s", soft, exc)
    return soft


def connection_cap(configured: int) -> int:
    """``http.max_connections``, lowered to fit the process's open-files limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return configured
    return max(1, min(configured, soft - FD_RESERVE))


class BoundedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a head timeout, a head size limit and a connection cap
    (see the module docstring). Limits are class attributes, set by :func:`bind_limits`."""

    header_timeout: ClassVar[float] = 10.0
    max_header_bytes: ClassVar[int] = 32768
    #: the 431 answer; unbound, in the catalogue's default language (Vietnamese)
    too_large: ClassVar[bytes] = too_large_answer(MESSAGES["http.head_too_large"][0])
    max_connections: ClassVar[int] = 2000
    #: This server's open connections, oldest first (a dict keeps insertion order).
    open_connections: ClassVar[dict[BoundedHttpProtocol, None]] = {}

    _awaiting_head = True  # the next bytes belong to a request head
    _head_bytes = 0
    _head_seen = False  # a head completed during the current read
    _head_timer: asyncio.TimerHandle | None = None

    # -- connection lifecycle ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()
        registry = type(self).open_connections
        registry[self] = None
        if len(registry) > self.max_connections:
            self._shed(registry)

    def connection_lost(self, exc: Exception | None) -> None:
        type(self).open_connections.pop(self, None)
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _shed(self, registry: dict[BoundedHttpProtocol, None]) -> None:
        """Over the cap: close connections waiting for a head, oldest first; else this one."""
        excess = len(registry) - self.max_connections
        for conn in list(registry):
            if excess <= 0:
                return
            if conn is not self and conn.waiting_for_head():
                conn.transport.close()
                registry.pop(conn, None)
                excess -= 1
        if excess > 0:
            registry.pop(self, None)
            self.transport.close()

    def waiting_for_head(self) -> bool:
        """Idle or mid-head, with no request of this connection being answered."""
        return self._awaiting_head and self._idle() and not self.transport.is_closing()

    def _idle(self) -> bool:
        """Nothing is being answered by the ASGI app on this connection, nor queued for it."""
        return (self.cycle is None or self.cycle.response_complete) and not self.pipeline

    # -- the request head -------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        counted = self._awaiting_head
        self._head_seen = False
        super().data_received(data)
        # A head that completed in this read restarts the count (pipelined requests); what
        # follows it in the same read is not counted, so the bound holds within one read.
        closing = self.transport.is_closing()
        if counted and not self._head_seen and self._awaiting_head and not closing:
            self._head_bytes += len(data)
            if self._head_bytes > self.max_header_bytes:
                self.transport.write(self.too_large)
                self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._awaiting_head = True
        if self._head_timer is None:
            self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._head_done()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._message_done()

    def _head_done(self) -> None:
        self._head_seen = True
        self._awaiting_head = False
        self._head_bytes = 0
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


def bind_limits(
    protocol: type[BoundedHttpProtocol],
    *,
    header_timeout: float,
    max_header_bytes: int,
    max_connections: int,
    head_too_large: str | None = None,
) -> dict[str, object]:
    """Class attributes for a subclass of ``protocol`` with these limits and its own registry;
    ``head_too_large``: the 431 text (the catalogue's ``http.head_too_large`` in the site's
    language; default the protocol's own)."""
    worded = {} if head_too_large is None else {"too_large": too_large_answer(head_too_large)}
    return {
        "header_timeout": header_timeout,
        "max_header_bytes": max_header_bytes,
        "max_connections": connection_cap(max_connections),
        "open_connections": {},
        **worded,
    }
