"""What the fake Bot API servers share (``fakebot``: Telegram, ``fakezalo``: Zalo).

A Starlette app on 127.0.0.1, served by uvicorn in a daemon thread with its own event loop, so
it serves async tests, sync tests and feedsvc subprocesses alike; ``with Fake() as fake:`` or
``start()``/``stop()``. The socket is bound and listening before ``start()`` returns (clients
may connect before uvicorn accepts: no start race). All state sits behind one lock
(``_cond``); every change notifies it, which wakes :meth:`FakeServer.wait_for`. Faults are
scripted per chat (:meth:`FakeServer.script`) and consumed, in order, by the next calls that
they apply to (:meth:`FakeServer._take_fault`); a stall ends early when the server stops, so no
fake acts after its test.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Self, TypeVar

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

T = TypeVar("T")
K = TypeVar("K")  # a chat id as the API names it (Telegram: int, Zalo: str)
F = TypeVar("F", bound="BaseFault")

#: How long a wait for an outcome may take by default, in seconds: an upper bound only (a passing
#: test returns as soon as the condition holds), so it is sized for a slow host at 100 % CPU with
#: eight test workers (landing CI runs of ~50 min), where 5 s ran out. A test that asserts
#: something does *not* happen passes its own short timeout.
PATIENCE = 30.0


class ApiError(Exception):
    """An error answer: HTTP ``status``, the API's ``description`` and its ``parameters``."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


@dataclass(frozen=True)
class BaseFault:
    """One scripted answer to a call; each fake adds its own API's wordings as class methods."""

    status: int = 0  # 0: answer normally (after ``delay``)
    description: str = ""
    parameters: dict[str, Any] | None = None
    delay: float = 0.0
    deliver_first: bool = False  # record as delivered, then stall ``delay`` before answering
    gate: threading.Event | None = None  # stall until the test sets it (:meth:`held`)

    @classmethod
    def slow(cls, delay: float) -> Self:
        return cls(delay=delay)

    @classmethod
    def held(cls, gate: threading.Event) -> Self:
        """Stalled until the test sets ``gate`` (or the server stops: 503), then answered
        normally: a call kept in flight for as long as the test acts, however loaded the
        machine (a 3 s ``slow`` ran out while a correction was still being ingested, CI)."""
        return cls(gate=gate)

    @classmethod
    def late(cls, delay: float) -> Self:
        return cls(delay=delay, deliver_first=True)


class FakeServer(Generic[K, F]):
    """The server's life and the test side's waiting; subclasses add the API (``_endpoint``)."""

    name: ClassVar[str] = "fake server"  # in the thread's name and the start-up error
    path: ClassVar[str] = ""  # after the port in ``base_url``
    methods: ClassVar[tuple[str, ...]] = ("POST",)
    graceful: ClassVar[int] = 2  # seconds uvicorn waits for open requests at stop
    # Seconds an idle connection is kept. uvicorn's default, 5, is httpx's own keep-alive
    # expiry: a pooled connection idle just under 5 s was reused as the server closed it, and
    # the request, unread, ended "Server disconnected" — an unknown outcome no test scripted
    # (a photo alert re-sent as text, CI). Servers in front of the real APIs keep idle
    # connections longer than their clients (nginx: 75 s), so the client closes first.
    keep_alive: ClassVar[int] = 75
    unavailable: ClassVar[str] = "Service Unavailable"  # a stall cut short by stop() answers 503

    def __init__(self, port: int = 0) -> None:
        self._port = port
        self._cond = threading.Condition(threading.RLock())
        self._faults: dict[K, deque[F]] = defaultdict(deque)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.base_url = ""
        #: per method (lower case): its calls are held until the event is set (:meth:`hold`)
        self._holds: dict[str, threading.Event] = {}
        self._holding: dict[str, int] = defaultdict(int)

    async def _endpoint(self, request: Request) -> Response:
        raise NotImplementedError

    # lifecycle
    def start(self) -> Self:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # accepted sockets inherit it: without it every answer waits ~40 ms for a delayed ACK
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", self._port))
        sock.listen(128)  # clients may connect (and queue) before uvicorn accepts: no start race
        self.port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}{self.path}"
        route = Route("/bot{token}/{method}", self._endpoint, methods=list(self.methods))
        app = Starlette(routes=[route], lifespan=self._lifespan)
        config = uvicorn.Config(app, log_level="warning", access_log=False,
                                timeout_keep_alive=self.keep_alive,
                                timeout_graceful_shutdown=self.graceful)  # fmt: skip
        self._server = uvicorn.Server(config)
        server = self._server
        self._thread = threading.Thread(target=lambda: asyncio.run(server.serve([sock])),
                                        name=self.name, daemon=True)  # fmt: skip
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"{self.name} did not start within 10 s")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)  # end stalls...
            self._loop.call_soon_threadsafe(self._wake)  # ...and long polls
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._on_loop()
        self._ready.set()
        yield

    def _on_loop(self) -> None:
        """Set up what needs the server's event loop (called in it, before ``start`` returns)."""

    def _wake(self) -> None:
        """Wake what waits in the server's loop besides stalls (called in it, at ``stop``)."""

    # faults
    def script(self, chat_id: K, *faults: F) -> None:
        with self._cond:
            self._faults[chat_id].extend(faults)

    def hold(self, method: str, gate: threading.Event) -> None:
        """Every call of ``method`` (any case) waits until the test sets ``gate`` (or the server
        stops: 503), then is answered as usual: a start-up step kept in flight while the test
        acts (a SIGTERM during the bot's getMe)."""
        with self._cond:
            self._holds[method.lower()] = gate

    def holding(self, method: str) -> int:
        """Calls of ``method`` held right now (:meth:`hold`)."""
        with self._cond:
            return self._holding[method.lower()]

    async def _hold_call(self, method: str) -> None:
        """Wait here while ``method`` is held; 503 when the server stops first."""
        with self._cond:
            gate = self._holds.get(method.lower())
            if gate is None or gate.is_set():
                return
            self._holding[method.lower()] += 1
            self._cond.notify_all()
        try:
            held = await self._held(gate)
        finally:
            with self._cond:
                self._holding[method.lower()] -= 1
                self._cond.notify_all()
        if not held:
            raise ApiError(503, self.unavailable)

    def unscript(self) -> None:
        """Drop every fault still scripted (those a killed client never got to consume)."""
        with self._cond:
            self._faults.clear()

    async def _take_fault(
        self, chat_id: K, applies: Callable[[F], bool] = lambda fault: True
    ) -> F | None:
        """The scripted fault this call consumes (raised here unless it is a "deliver first,
        then stall" one, which the caller plays after acting)."""
        with self._cond:
            queue = self._faults[chat_id]
            fault = queue.popleft() if queue and applies(queue[0]) else None
        if fault and fault.delay and not fault.deliver_first and not await self._stall(fault.delay):
            raise ApiError(503, self.unavailable)  # stopping: do not act after the test
        if fault and fault.gate is not None and not await self._held(fault.gate):
            raise ApiError(503, self.unavailable)
        if fault and fault.status:
            raise ApiError(fault.status, fault.description, fault.parameters)
        return fault

    async def _held(self, gate: threading.Event, timeout: float = 120.0) -> bool:
        """Wait until ``gate`` is set; False when the server stops first (or after ``timeout``
        seconds: a test that never releases it fails instead of hanging)."""
        assert self._stopping is not None
        deadline = time.monotonic() + timeout
        while not gate.is_set():
            if self._stopping.is_set() or time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    async def _stall(self, seconds: float) -> bool:
        """Wait ``seconds``; False when cut short because the server is stopping."""
        assert self._stopping is not None
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
            return False
        return True

    # waiting for outcomes
    def wait_for(self, predicate: Callable[[], T], timeout: float = PATIENCE) -> T:
        """Block until ``predicate()`` is truthy (woken by every change, re-checked every 50 ms)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError("wait_for would block the event loop: use `await fake.await_for`")
        deadline = time.monotonic() + timeout
        with self._cond:
            while not (result := predicate()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"condition not met within {timeout} s")
                self._cond.wait(min(remaining, 0.05))
            return result

    async def await_for(self, predicate: Callable[[], T], timeout: float = PATIENCE) -> T:
        """Async twin of :meth:`wait_for` (see :func:`await_until`)."""
        return await await_until(predicate, timeout)


async def await_until(predicate: Callable[[], T], timeout: float = PATIENCE) -> T:
    """Poll ``predicate`` every 10 ms on the event loop until it is truthy, and return that
    value; ``TimeoutError`` after ``timeout`` seconds (every fake receiver's ``await_for``)."""
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() >= deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)
    return result
