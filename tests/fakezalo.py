"""A fake Zalo Bot API server on 127.0.0.1 for tests (no test may reach the real Zalo).

It speaks the shapes of FIELD-NOTES "Zalo Bot Platform": ``POST /bot{TOKEN}/{method}`` with JSON,
answers ``{"ok": true, "result": …}`` or ``{"ok": false, "error_code", "description"}``, string
ids, ``getUpdates`` answering ONE update (and a 408 when the long poll times out empty), webhook
secrets. It *checks* what Zalo would: plain text within 2,000 characters, not empty, and per-chat
and global pacing (:class:`Limit`, violations recorded). Faults are scripted per chat and consumed
by the next sends to that chat.

The server's plumbing (its thread and event loop, start/stop, the one lock, scripted faults,
waiting) is :mod:`fakeserver`'s, shared with the fake Telegram Bot API.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import defaultdict, deque
from contextlib import suppress
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from fakeserver import ApiError, BaseFault, FakeServer
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

DEFAULT_TOKEN = "3108294405163826071:ZaloFakeTokenForTests-do-not-leak"
#: the request a method handler answers (``getUpdates`` asks whether its client is still there)
_REQUEST: ContextVar[Request] = ContextVar("fakezalo_request")
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
class Fault(BaseFault):
    """One scripted answer to the next send to a chat."""

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


class FakeZaloAPI(FakeServer[str, Fault]):
    """``with FakeZaloAPI() as fake:``; ``fake.base_url`` and ``fake.token`` for the client."""

    name = "fakezalo"
    graceful = 1
    unavailable = "Service unavailable"

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        private_limit: Limit = Limit(1, 1.0),
        global_limit: Limit = Limit(10, 1.0),
    ) -> None:
        super().__init__()
        self.token = token
        self.limits = {"private": private_limit, "global": global_limit}
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

    # --- test API ----------------------------------------------------------------------------
    def script_raw(self, method: str, *answers: tuple[int, bytes]) -> None:
        """The next calls of ``method`` get these (HTTP status, body bytes) as they are: a broken
        or hostile Zalo (garbage, deeply nested JSON, absurd numbers)."""
        with self._cond:
            self._raw[method].extend(answers)

    def block(self, chat_id: str) -> None:
        with self._cond:
            self._blocked.add(chat_id)

    def update(
        self,
        chat_id: str,
        text: str,
        *,
        name: str = "Lan",
        chat_type: str = "PRIVATE",
        event: str = "message.text.received",
    ) -> dict[str, Any]:
        """An update as Zalo sends it when a user writes ``text`` in ``chat_id``; with another
        ``event`` than a text's (``message.image.received``), ``text`` is the caption of what
        was sent (``photo``: a URL), the field the public clients read (FIELD-NOTES names the
        events, not this field)."""
        said: dict[str, Any] = {"text": text}
        if event == "message.image.received":
            said = {"photo": "https://zalo.example/p/1.jpg", "caption": text}
        elif event != "message.text.received":
            said = {"caption": text}
        return {
            "event_name": event,
            "message": {
                "from": {"id": f"u-{chat_id}", "display_name": name, "is_bot": False},
                "chat": {"id": chat_id, "chat_type": chat_type},
                **said,
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

    def redeliver(self, update: dict[str, Any]) -> None:
        """Queue an update already delivered (by webhook or polling) for ``getUpdates`` again, as
        Zalo does when it retries or a mode switch replays it."""
        with self._cond:
            self._updates.append(update)
            self._cond.notify_all()

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
                raise ApiError(401, "Unauthorized")
            try:
                params = await request.json()
            except ValueError:
                raise ApiError(400, "Invalid JSON body") from None
            except ClientDisconnect:  # the client left mid-body (a bot stopping): nothing to answer
                return JSONResponse(None, status_code=499)
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            _REQUEST.set(request)
            await self._hold_call(method)
            response = JSONResponse({"ok": True, "result": await handler(params)})
        except ApiError as exc:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": exc.status,
                "description": exc.description,
            }
            if exc.parameters:
                body["parameters"] = exc.parameters
            response = JSONResponse(body, status_code=exc.status)
        with self._cond:
            self.calls.append((method, response.status_code))
            self._cond.notify_all()
        return response

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
        """One update, or 408 when ``timeout`` passes empty. A long poll its client abandoned
        (a poller stopping: ``ZaloPoller.stop`` cancels it) takes no update: as the poller
        assumes of Zalo, the update stays queued for the next ``getUpdates`` (handed to a
        closed connection it was lost, and a stop with a poll in flight lost the next
        command: CI, under load)."""
        deadline = time.monotonic() + float(p.get("timeout") or 0)
        request = _REQUEST.get()
        while True:
            if await request.is_disconnected():
                raise ApiError(499, "Client Closed Request")
            with self._cond:
                update = self._updates.popleft() if self._updates else None
            if update is not None:
                return await self._hand_over(request, update)
            if time.monotonic() >= deadline or (self._stopping and self._stopping.is_set()):
                raise ApiError(408, "Request timeout")
            await asyncio.sleep(0.02)

    async def _hand_over(self, request: Request, update: dict[str, Any]) -> dict[str, Any]:
        """``update`` for this poll, or back to the queue's head when its client is gone. A
        client that sent its request and closed at once (a stop under load) is not yet seen
        gone when the request is read: the close is read on the loop's next passes, so give
        it those before handing over (without this, 50 of 50 such polls took an update)."""
        await asyncio.sleep(0.02)
        if await request.is_disconnected():
            with self._cond:
                self._updates.appendleft(update)
                self._cond.notify_all()
            raise ApiError(499, "Client Closed Request")
        return update

    async def _m_sendMessage(self, p: dict[str, Any]) -> Any:
        chat_id, text = p.get("chat_id"), p.get("text")
        if not isinstance(chat_id, str) or not chat_id:
            raise ApiError(400, "chat_id must be a string")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Text is empty")
        fault = await self._take_fault(chat_id)
        if self.outage:
            raise ApiError(self.outage, "Service unavailable")
        if chat_id in self._blocked:
            raise ApiError(403, "User has blocked the bot")
        if len(text.encode("utf-16-le")) // 2 > TEXT_LIMIT:
            raise ApiError(400, "Text is too long")
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
