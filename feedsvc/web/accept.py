"""New connections accepted in batches, not one per event-loop iteration (a keep-alive flood from
one address locked every other client out).

libuv accepts one connection each time the listening socket is reported readable (libuv pull
request #3696, in 1.45: "don't accept() connections in a loop"), and uvloop, which uvicorn uses
whenever it is installed, inherits that: one ``accept4`` per event-loop iteration (strace: one
per ``epoll_pwait``). An iteration reads and answers every connection that has bytes waiting, so
with N busy keep-alive connections it lasts N requests: 1,500 of wrk's connections (~7,000
requests/s, ~700 ready per iteration) left ~10 accepts a second, and a client queued behind 600
of them waited a minute; ``/healthz`` took 28 s and a load balancer restarted the process.
Connections that close after each request never showed it (every request frees an iteration's
slot), nor did a few hundred busy ones (fewer queued, shorter iterations).

:class:`BatchAcceptor` takes a listening socket in uvicorn's place (``loop.create_server``): a
reader on it accepts up to :data:`ACCEPT_BATCH` connections at each wake-up (fewer when the
queue empties first, or while earlier ones still wait for their protocol), each handed to
``loop.connect_accepted_socket`` with the server's protocol, so the accept rate is a batch per
iteration on any loop (asyncio's selector loop accepts up to its backlog per wake-up itself).
:class:`BatchAcceptServer` is uvicorn's server using it for the sockets it is given; who may
hold how many of those connections is :mod:`feedsvc.web.client_cap`'s and
:mod:`feedsvc.web.connections`' business.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import socket
from collections.abc import Callable
from typing import Any

import uvicorn

log = logging.getLogger(__name__)

#: Connections accepted and not yet given their protocol, at most: the most accepted per
#: wake-up of the listening socket. The listen queue (2,048) drains in a few iterations and one
#: iteration's accepting stays a few milliseconds. Lowered by :func:`batch_size` to half the
#: file descriptors the connection cap leaves free: those accepted before the cap can close any
#: (in the protocol's ``connection_made``) must not use them up (128 at a limit of 256 did).
ACCEPT_BATCH = 256

#: Seconds accepting pauses when the process is out of file descriptors or memory (asyncio's
#: own ``ACCEPT_RETRY_DELAY``): the connection cap normally keeps it from getting there.
RETRY_DELAY = 1.0

#: ``accept`` failures that end the batch and pause accepting: the process or system is out of
#: a resource, retrying at once would spin.
_EXHAUSTED = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


def batch_size(max_connections: int | None) -> int:
    """:data:`ACCEPT_BATCH`, or half the file descriptors ``max_connections`` (the protocol's
    cap, itself below the open-files limit) leaves free, if fewer."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if max_connections is None or soft == resource.RLIM_INFINITY:
        return ACCEPT_BATCH
    return max(1, min(ACCEPT_BATCH, (soft - max_connections) // 2))


class BatchAcceptor:
    """Accepts the connections of one listening socket for ``protocol_factory``'s protocols,
    a batch at a time; ``close``/``wait_closed`` as uvicorn calls them on its servers."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        protocol_factory: Callable[[], asyncio.Protocol],
        batch: int = ACCEPT_BATCH,
    ) -> None:
        self._loop = loop
        self._sock = sock
        self._factory = protocol_factory
        self._batch = batch
        self._pending: set[asyncio.Task[Any]] = set()  # connections being set up
        self._retry: asyncio.TimerHandle | None = None
        self._closed = False
        sock.setblocking(False)
        loop.add_reader(sock.fileno(), self._accept)

    def _accept(self) -> None:
        for _ in range(self._batch - len(self._pending)):
            try:
                conn, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return  # the queue is empty
            except ConnectionAbortedError:
                continue  # gone before it was accepted
            except OSError as exc:
                if exc.errno not in _EXHAUSTED:
                    log.warning("accepting a connection failed: %s", exc)
                    continue
                log.error("cannot accept connections (%s): pausing %.0f s", exc, RETRY_DELAY)
                self._loop.remove_reader(self._sock.fileno())
                self._retry = self._loop.call_later(RETRY_DELAY, self._resume)
                return
            self._start(conn)

    def _start(self, conn: socket.socket) -> None:
        conn.setblocking(False)
        if conn.family in (socket.AF_INET, socket.AF_INET6):
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as create_server's
        task = self._loop.create_task(self._connect(conn))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _connect(self, conn: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(self._factory, conn)
        except OSError as exc:  # reset before its transport was made
            log.debug("accepted connection lost at once: %s", exc)
            conn.close()

    def _resume(self) -> None:
        self._retry = None
        if not self._closed:
            self._loop.add_reader(self._sock.fileno(), self._accept)

    def close(self) -> None:
        """Stop accepting (the socket itself is its owner's to close)."""
        if self._closed:
            return
        self._closed = True
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        elif self._sock.fileno() != -1:
            self._loop.remove_reader(self._sock.fileno())

    async def wait_closed(self) -> None:
        """The connections accepted before :meth:`close` have their protocols."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)


class BatchAcceptServer(uvicorn.Server):
    """uvicorn's server, the sockets it is given (feedsvc's own listeners) accepted by
    :class:`BatchAcceptor`; a server that binds its own address (tests' ``port=``) or serves
    TLS keeps uvicorn's ``create_server``."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        if sockets is None or self.config.ssl is not None:
            await super().startup(sockets=sockets)
            return
        await super().startup(sockets=[])  # uvicorn's start, no server of its own
        loop = asyncio.get_running_loop()
        config = self.config

        def protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config,
                server_state=self.server_state,
                app_state=self.lifespan.state,
                _loop=loop,
            )

        batch = batch_size(getattr(config.http_protocol_class, "max_connections", None))
        acceptors = [BatchAcceptor(loop, sock, protocol, batch) for sock in sockets]
        self.servers.extend(acceptors)  # type: ignore[arg-type]  # close/wait_closed
