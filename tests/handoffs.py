"""When feedsvc's HTTP clients hand each API call to httpx's transport: the times the rate tests
measure.

Why not the fakes' own times (``fakebot.SentMessage.at``, ``ApiCall.at``, ``fakezalo.Sent.at``)?
The fakes run in a thread of the test process (tests/fakeserver.py) and stamp a call when that
thread gets the GIL and its event loop reaches the handler. On a loaded 2-core CI machine that
thread stalls for hundreds of ms (0.39 s seen) while the client goes on sending, properly
spaced: the calls wait in the socket and are stamped together (three within 1 ms), so a window
or gap bound on those times fails with nothing bunched by feedsvc, and loosening the bound
(df7f082) lets the real fault (calls 6-13 ms apart) come closer to passing.

What feedsvc controls is when each call leaves: the release gate (feedsvc/waiting.py) spaces
releases, and the path from the release to the HTTP transport must add no uneven delay (a DB
read there once bunched calls: dispatch.py). So the stamp is taken in the client's own
event-loop thread when the request is handed to httpx's transport
(``AsyncHTTPTransport.handle_async_request``), the end of what feedsvc and httpx's client run
from the release without yielding to the loop: a stall of that thread delays the send itself,
not only its record, and the gate pushes the next call back. Both clients go this way:
python-telegram-bot 22's ``HTTPXRequest`` (an ``httpx.AsyncClient`` with the default transport)
and feedsvc's ``ZaloBotAPI`` (the same).

Not later, at httpcore's connection (tried first): httpcore yields to the loop before writing
(its connection lock's checkpoint; a connect for a new connection; the backend's lazy set-up on
a worker's first call), and a stall landing there, the stalled-loop test's own ``time.sleep``
or a starved CPU under load, delays a call after its release where no gate in feedsvc can see
it: under load such stamps showed gaps of 107 ms (a stall) and 13 ms (a worker's first call)
at 4/s, failures of httpcore's scheduling, not of feedsvc's spacing. Calls queued for a free
connection of the pool are not measured either; the pools (64 for Telegram, 32 for Zalo) are
far above the calls these tests have in flight.

Each test compares the count with the fake's: if httpx stops calling the hook, a test must not
go on measuring nothing. Rejected: kernel receive timestamps in the fake (``SO_TIMESTAMPNS`` through
``recvmsg``): uvicorn owns the accepted sockets and reads them through asyncio transports, so
it would take a server of our own in each fake.
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

import httpx

#: How far a call's hand-over may trail the mark it left on the release gate (its request
#: built, the loop switching) more than the next call's does, on a loaded machine: the gate's
#: half-gap bound holds between marks, so a bound asserted on hand-overs allows this much (0.6
#: ms short once in CI, at load ~7). Milliseconds, far under the gaps asserted (125 ms at 4/s;
#: without the bound, calls went 17 ms apart).
HANDOFF_SLACK = 0.01


@dataclass
class Handoff:
    """One call to a fake: its method (lower case), the ``chat_id`` it names (as text; None
    when it names none or its body is a stream: an upload) and when it was handed to the
    transport (``time.monotonic()``)."""

    method: str
    chat: str | None
    at: float


class Fake(Protocol):
    port: int


class Handoffs:
    """The calls this process's httpx clients make to the given fakes, in the order made."""

    def __init__(self, ports: frozenset[int]) -> None:
        self.ports = ports
        self._lock = threading.Lock()
        self._calls: list[Handoff] = []

    def _note(self, request: httpx.Request, at: float) -> Handoff | None:
        if request.url.host != "127.0.0.1" or request.url.port not in self.ports:
            return None
        found = Handoff(request.url.path.rsplit("/", 1)[-1].lower(), _chat(request), at)
        with self._lock:
            self._calls.append(found)
        return found

    def calls(self, *methods: str, chat: int | str | None = None) -> list[Handoff]:
        """The calls of ``methods`` (any case; every call when none), to ``chat`` when given."""
        wanted = {m.lower() for m in methods}
        with self._lock:
            return [
                c for c in self._calls
                if (not wanted or c.method in wanted) and (chat is None or c.chat == str(chat))
            ]  # fmt: skip

    def times(self, *methods: str, chat: int | str | None = None) -> list[float]:
        """When each of :meth:`calls` was handed to the transport, earliest first."""
        return sorted(c.at for c in self.calls(*methods, chat=chat))


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


async def _transport(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
    at = time.monotonic()  # first: the request as handed over, before any reading of it
    for recorder in list(_ACTIVE):
        if recorder._note(request, at) is not None:
            break
    return await _real_transport(self, request)


@contextmanager
def handoffs(*fakes: Fake) -> Iterator[Handoffs]:
    """Record every call this process's httpx clients make to ``fakes`` while the block
    runs (the hook is on httpx's transport class, removed with the last recorder)."""
    recorder = Handoffs(frozenset(f.port for f in fakes))
    with _INSTALL:
        if not _ACTIVE:
            httpx.AsyncHTTPTransport.handle_async_request = _transport  # type: ignore[method-assign]
        _ACTIVE.append(recorder)
    try:
        yield recorder
    finally:
        with _INSTALL:
            _ACTIVE.remove(recorder)
            if not _ACTIVE:
                httpx.AsyncHTTPTransport.handle_async_request = _real_transport  # type: ignore[method-assign]
