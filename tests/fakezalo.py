"""A fake Zalo Bot API server on 127.0.0.1 for tests (no test may reach the real Zalo).

It speaks the shapes of FIELD-NOTES "Zalo Bot Platform": ``POST /bot{TOKEN}/{method}`` with JSON,
answers ``{"ok": true, "result": …}`` or ``{"ok": false, "error_code", "description"}``, string
ids, ``getUpdates`` answering ONE update (and a 408 when the long poll times out empty), webhook
secrets. It *checks* what Zalo would: plain text within 2,000 characters, not empty, and per-chat
and global pacing (:class:`Limit`, violations recorded). Faults are scripted per chat and consumed
by the next sends to that chat.

The server runs in a background thread with its own event loop; all state sits behind one lock.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any, TypeVar

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

T = TypeVar("T")
DEFAULT_TOKEN = "3108294405163826071:ZaloFakeTokenForTests-do-not-leak"
TEXT_LIMIT = 2000


@dataclass(frozen=True)
class Limit:
    """At most ``count`` messages in any ``window`` seconds (5 % jitter allowed)."""

    count: int
    window: float


@dataclass(frozen=True)
class Sent:
    chat_id: str
    message_id: str
    text: str
    at: float  # time.monotonic()


@dataclass(frozen=True)
class Fault:
    """One scripted answer to the next send to a chat."""

    status: int = 0  # 0: answer normally (after ``delay``)
    description: str = ""
    parameters: dict[str, Any] | None = None
    delay: float = 0.0
    deliver_first: bool = False  # record as delivered, then stall ``delay`` before answering
    drop: bool = False  # close the connection without an answer (after delivering)

    @classmethod
    def flood(cls, retry_after: int) -> Fault:
        return cls(429, "Too many requests", {"retry_after": retry_after})

    @classmethod
    def blocked(cls) -> Fault:
        return cls(403, "User has blocked the bot")

    @classmethod
    def chat_not_found(cls) -> Fault:
        return cls(400, "Chat not found")

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        return cls(status, "Internal server error")

    @classmethod
    def late(cls, delay: float) -> Fault:
        return cls(delay=delay, deliver_first=True)


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


class FakeZaloAPI:
    """``with FakeZaloAPI() as fake:``; ``fake.base_url`` and ``fake.token`` for the client."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, private_limit: Limit = Limit(1, 1.0),
                 global_limit: Limit = Limit(10, 1.0)) -> None:
        self.token = token
        self.limits = {"private": private_limit, "global": global_limit}
        self._cond = threading.Condition(threading.RLock())
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._blocked: set[str] = set()
        self._sent: list[Sent] = []
        self._updates: deque[dict[str, Any]] = deque()
        self._times: dict[str, deque[float]] = defaultdict(deque)
        self.violations: list[tuple[str, str]] = []  # (scope, chat id)
        self.calls: list[tuple[str, int]] = []  # (method, HTTP status)
        self.webhook: dict[str, Any] | None = None
        self._raw: dict[str, deque[tuple[int, bytes]]] = defaultdict(deque)
        self.in_flight = 0  # requests being handled right now
        self.outage = 0  # set to an HTTP status: every send answers it (a Zalo outage)
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    def start(self) -> FakeZaloAPI:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        app = Starlette(routes=[Route("/bot{token}/{method}", self._endpoint, methods=["POST"])],
                        lifespan=self._lifespan)
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                                     timeout_graceful_shutdown=1))
        server = self._server
        self._thread = threading.Thread(target=lambda: asyncio.run(server.serve([sock])),
                                        name="fakezalo", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake Zalo Bot API did not start within 10 s")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> FakeZaloAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._ready.set()
        yield

    # --- test API ----------------------------------------------------------------------------
    def script(self, chat_id: str, *faults: Fault) -> None:
        with self._cond:
            self._faults[chat_id].extend(faults)

    def script_raw(self, method: str, *answers: tuple[int, bytes]) -> None:
        """The next calls of ``method`` get these (HTTP status, body bytes) as they are: a broken
        or hostile Zalo (garbage, deeply nested JSON, absurd numbers)."""
        with self._cond:
            self._raw[method].extend(answers)

    def block(self, chat_id: str) -> None:
        with self._cond:
            self._blocked.add(chat_id)

    def update(self, chat_id: str, text: str, *, name: str = "Lan",
               chat_type: str = "PRIVATE", event: str = "message.text.received") -> dict[str, Any]:
        """An update as Zalo sends it when a user writes ``text`` in ``chat_id``."""
        return {
            "event_name": event,
            "message": {
                "from": {"id": f"u-{chat_id}", "display_name": name, "is_bot": False},
                "chat": {"id": chat_id, "chat_type": chat_type},
                "text": text,
                "message_id": f"m{next(self._ids)}",
                "date": int(time.time() * 1000),
            },
        }

    def user_says(self, chat_id: str, text: str, **kw: Any) -> dict[str, Any]:
        """Queue an update for ``getUpdates`` (long polling mode); returns it."""
        update = self.update(chat_id, text, **kw)
        with self._cond:
            self._updates.append(update)
            self._cond.notify_all()
        return update

    @property
    def pending_updates(self) -> int:
        with self._cond:
            return len(self._updates)

    def messages(self, chat_id: str) -> list[Sent]:
        with self._cond:
            return [m for m in self._sent if m.chat_id == chat_id]

    def all_messages(self) -> list[Sent]:
        with self._cond:
            return list(self._sent)

    def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Block (not on an event loop) until ``predicate()`` is truthy."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not (result := predicate()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"condition not met within {timeout} s")
                self._cond.wait(min(remaining, 0.05))
            return result

    async def await_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        deadline = time.monotonic() + timeout
        while not (result := predicate()):
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout} s")
            await asyncio.sleep(0.01)
        return result

    # --- HTTP side ---------------------------------------------------------------------------
    async def _endpoint(self, request: Request) -> Response:
        with self._cond:
            raw = self._raw[request.path_params["method"]]
            if raw:
                status, content = raw.popleft()
                self.calls.append((request.path_params["method"], status))
                self._cond.notify_all()
                return Response(content, status, media_type="application/json")
            self.in_flight += 1
        try:
            return await self._answer(request)
        finally:
            with self._cond:
                self.in_flight -= 1
                self._cond.notify_all()

    async def _answer(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        try:
            if request.path_params["token"] != self.token:
                raise _ApiError(401, "Unauthorized")
            try:
                params = await request.json()
            except ValueError:
                raise _ApiError(400, "Invalid JSON body") from None
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise _ApiError(404, "Not Found")
            response = JSONResponse({"ok": True, "result": await handler(params)})
        except _ApiError as exc:
            body: dict[str, Any] = {"ok": False, "error_code": exc.status,
                                    "description": exc.description}
            if exc.parameters:
                body["parameters"] = exc.parameters
            response = JSONResponse(body, status_code=exc.status)
        with self._cond:
            self.calls.append((method, response.status_code))
            self._cond.notify_all()
        return response

    async def _stall(self, seconds: float) -> bool:
        assert self._stopping is not None
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
            return False
        return True

    async def _m_getMe(self, p: dict[str, Any]) -> Any:
        return {"id": "8888", "account_name": "bot.feedsvc", "display_name": "Tin tức"}

    async def _m_setWebhook(self, p: dict[str, Any]) -> Any:
        with self._cond:
            self.webhook = {"url": p.get("url"), "secret_token": p.get("secret_token")}
        return {"url": p.get("url")}

    async def _m_deleteWebhook(self, p: dict[str, Any]) -> Any:
        with self._cond:
            self.webhook = None
        return {}

    async def _m_getUpdates(self, p: dict[str, Any]) -> Any:
        deadline = time.monotonic() + float(p.get("timeout") or 0)
        while True:
            with self._cond:
                if self._updates:
                    return self._updates.popleft()
            if time.monotonic() >= deadline or (self._stopping and self._stopping.is_set()):
                raise _ApiError(408, "Request timeout")
            await asyncio.sleep(0.02)

    async def _m_sendMessage(self, p: dict[str, Any]) -> Any:
        chat_id, text = p.get("chat_id"), p.get("text")
        if not isinstance(chat_id, str) or not chat_id:
            raise _ApiError(400, "chat_id must be a string")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, "Text is empty")
        with self._cond:
            queue = self._faults[chat_id]
            fault = queue.popleft() if queue else None
        if fault and fault.delay and not fault.deliver_first and not await self._stall(fault.delay):
            raise _ApiError(503, "Service unavailable")
        if fault and fault.status:
            raise _ApiError(fault.status, fault.description, fault.parameters)
        if self.outage:
            raise _ApiError(self.outage, "Service unavailable")
        if chat_id in self._blocked:
            raise _ApiError(403, "User has blocked the bot")
        if len(text.encode("utf-16-le")) // 2 > TEXT_LIMIT:
            raise _ApiError(400, "Text is too long")
        with self._cond:
            self._pace(chat_id)
            message_id = str(next(self._ids))
            self._sent.append(Sent(chat_id, message_id, text, time.monotonic()))
            self._cond.notify_all()
        if fault and fault.deliver_first:
            await self._stall(fault.delay)
        if fault and fault.drop:
            raise ConnectionResetError  # uvicorn closes the connection without an answer
        return {"message_id": message_id, "date": int(time.time() * 1000)}

    def _pace(self, chat_id: str) -> None:
        now = time.monotonic()
        for scope, key in (("private", chat_id), ("global", "*")):
            limit, times = self.limits[scope], self._times[key]
            if len(times) >= limit.count and now - times[-limit.count] < limit.window * 0.95:
                self.violations.append((scope, chat_id))
            times.append(now)
            while len(times) > 100:
                times.popleft()


if __name__ == "__main__":
    with FakeZaloAPI() as fake:
        print(f"fake Zalo Bot API at {fake.base_url}  token {fake.token}  (Ctrl-C to stop)")
        with suppress(KeyboardInterrupt):
            threading.Event().wait()
