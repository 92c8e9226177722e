"""When feedsvc's HTTP clients start each API call on the wire: the times the rate tests measure.

Why not the fakes' own times (``fakebot.SentMessage.at``, ``ApiCall.at``, ``fakezalo.Sent.at``)?
The fakes run in a thread of the test process (tests/fakeserver.py) and stamp a call when that
thread gets the GIL and its event loop reaches the handler. On a loaded 2-core CI machine that
thread stalls for hundreds of ms (0.39 s seen) while the client goes on sending, properly
spaced: the calls wait in the socket and are stamped together (three within 1 ms), so a window
or gap bound on those times fails with nothing bunched by feedsvc, and loosening the bound
(df7f082) lets the real fault (calls 6-13 ms apart) come closer to passing.

What feedsvc controls is when each call leaves: the release gate (feedsvc/waiting.py) spaces
releases, and the path from the release to the socket must add no uneven delay (a DB read there
once bunched calls: dispatch.py). So the stamp is taken in the client's own event-loop thread,
as late as the client side goes: when httpcore starts the request on the connection it got
(``AsyncHTTP11Connection.handle_async_request``, whose next step writes the request line), after
httpx's client and transport and after any wait for a free connection of the pool (queueing
that would bunch calls on the wire too). A stall of that thread delays the send itself, not
only its record: these times are bunched only where the wire is. Both clients go this way:
python-telegram-bot 22's ``HTTPXRequest`` (an ``httpx.AsyncClient``, HTTP/1.1) and feedsvc's
``ZaloBotAPI`` (an ``httpx.AsyncClient``). The method and chat are read where the httpx request
still exists (``AsyncHTTPTransport.handle_async_request``) and carried to the connection in the
request's extensions.

A call recorded but never stamped fails the test (:meth:`Handoffs.calls`): if httpx or httpcore
stop calling these hooks, a test must not go on measuring nothing; tests also compare the count
with the fake's. Rejected: kernel receive timestamps in the fake (``SO_TIMESTAMPNS`` through
``recvmsg``): uvicorn owns the accepted sockets and reads them through asyncio transports, so
it would take a server of our own in each fake, for the same instant this stamp gives.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs

import httpcore
import httpx

_KEY = "tests.handoffs"  # the request extension carrying a call's record to its connection


@dataclass
class Handoff:
    """One call to a fake: its method (lower case), the ``chat_id`` it names (as text; None
    when it names none or its body is a stream: an upload) and when it started on its
    connection (``time.monotonic()``; None until it did)."""

    method: str
    chat: str | None
    at: float | None = None


class Fake(Protocol):
    port: int


class Handoffs:
    """The calls this process's httpx clients make to the given fakes, in the order made."""

    def __init__(self, ports: frozenset[int]) -> None:
        self.ports = ports
        self._lock = threading.Lock()
        self._calls: list[Handoff] = []

    def _note(self, request: httpx.Request) -> Handoff | None:
        if request.url.host != "127.0.0.1" or request.url.port not in self.ports:
            return None
        found = Handoff(request.url.path.rsplit("/", 1)[-1].lower(), _chat(request))
        with self._lock:
            self._calls.append(found)
        return found

    def calls(self, *methods: str, chat: int | str | None = None) -> list[Handoff]:
        """The calls of ``methods`` (any case; every call when none), to ``chat`` when given,
        each started on its connection (else AssertionError: a hook was not called)."""
        wanted = {m.lower() for m in methods}
        with self._lock:
            found = [
                c for c in self._calls
                if (not wanted or c.method in wanted) and (chat is None or c.chat == str(chat))
            ]  # fmt: skip
        unstamped = [c for c in found if c.at is None]
        assert not unstamped, f"calls never started on a connection: {unstamped}"
        return found

    def times(self, *methods: str, chat: int | str | None = None) -> list[float]:
        """When each of :meth:`calls` started on its connection, earliest first."""
        return sorted(c.at for c in self.calls(*methods, chat=chat) if c.at is not None)


def _chat(request: httpx.Request) -> str | None:
    """The ``chat_id`` a call names: a form field (python-telegram-bot), a JSON member
    (Zalo) or a query parameter."""
    try:
        body = request.content
    except httpx.RequestNotRead:  # a streamed body (a multipart upload): not read here
        return None
    kind = request.headers.get("content-type", "")
    value: Any = None
    if kind.startswith("application/json"):
        decoded = json.loads(body or b"null")
        value = decoded.get("chat_id") if isinstance(decoded, dict) else None
    elif kind.startswith("application/x-www-form-urlencoded"):
        value = (parse_qs(body.decode()).get("chat_id") or [None])[0]
    if value is None:
        value = request.url.params.get("chat_id")
    return None if value is None else str(value)


_ACTIVE: list[Handoffs] = []
_INSTALL = threading.Lock()
_real_transport = httpx.AsyncHTTPTransport.handle_async_request
_real_connection = httpcore.AsyncHTTP11Connection.handle_async_request


async def _transport(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
    for recorder in list(_ACTIVE):
        found = recorder._note(request)
        if found is not None:
            request.extensions = {**request.extensions, _KEY: found}
            break
    return await _real_transport(self, request)


async def _connection(
    self: httpcore.AsyncHTTP11Connection, request: httpcore.Request
) -> httpcore.Response:
    found = request.extensions.get(_KEY)
    if isinstance(found, Handoff):
        # the latest start: the pool may move a request to another connection before it is
        # written (httpcore's ConnectionNotAvailable), never after
        found.at = time.monotonic()
    return await _real_connection(self, request)


@contextmanager
def handoffs(*fakes: Fake) -> Iterator[Handoffs]:
    """Record every call this process's httpx clients make to ``fakes`` while the block
    runs (the hooks are httpx's and httpcore's classes', removed with the last recorder)."""
    recorder = Handoffs(frozenset(f.port for f in fakes))
    with _INSTALL:
        if not _ACTIVE:
            httpx.AsyncHTTPTransport.handle_async_request = _transport  # type: ignore[method-assign]
            httpcore.AsyncHTTP11Connection.handle_async_request = _connection  # type: ignore[method-assign]
        _ACTIVE.append(recorder)
    try:
        yield recorder
    finally:
        with _INSTALL:
            _ACTIVE.remove(recorder)
            if not _ACTIVE:
                httpx.AsyncHTTPTransport.handle_async_request = _real_transport  # type: ignore[method-assign]
                httpcore.AsyncHTTP11Connection.handle_async_request = _real_connection  # type: ignore[method-assign]
