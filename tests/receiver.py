"""A local HTTP receiver for Apprise's ``json://127.0.0.1:PORT/path`` URLs (tests only).

Records every POST (path, headers, JSON body); answers scripted statuses first (e.g. 500), or
holds a request until released (a destination that hangs), or takes a request and then answers
late (``late``: seconds after recording it) or not at all (``drop``: the next N are recorded,
then their connection closed without an answer). A scripted status goes with ``retry_after``
as its ``Retry-After`` header when that is set; ``refused`` keeps when each was answered.
Threaded ``http.server``: real HTTP on loopback, nothing else.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from fakeserver import PATIENCE, await_until

T = TypeVar("T")


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


class Receiver:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        """``tls``: a server context: the receiver speaks HTTPS (Apprise's ``jsons://``)."""
        self.received: list[Received] = []
        self.statuses: deque[int] = deque()  # answered (and not recorded) before any 200
        self.hang = threading.Event()  # set: requests wait until released
        self.release = threading.Event()
        self.hung: list[float] = []  # monotonic times requests began to hang
        self.lock = threading.Lock()
        self.in_flight = 0  # requests being handled right now
        self.late = 0.0  # seconds between recording a request and answering it
        self.drop = 0  # the next N requests are recorded, then closed unanswered
        self.retry_after: str | None = None  # Retry-After of the scripted (non-200) answers
        self.refused: list[float] = []  # monotonic times of the scripted answers
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                with owner.lock:
                    owner.in_flight += 1
                try:
                    self.answer()
                finally:
                    with owner.lock:
                        owner.in_flight -= 1

            def answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if owner.hang.is_set():
                    with owner.lock:
                        owner.hung.append(time.monotonic())
                    owner.release.wait(30)
                with owner.lock:
                    status = owner.statuses.popleft() if owner.statuses else 200
                    if status != 200:
                        owner.refused.append(time.monotonic())
                    if status == 200:
                        owner.received.append(Received(
                            self.path, dict(self.headers), json.loads(raw or b"{}"),
                            time.monotonic()))  # fmt: skip
                    drop, owner.drop = owner.drop > 0, max(0, owner.drop - 1)
                if drop:
                    self.close_connection = True
                    return
                if owner.late:
                    time.sleep(owner.late)
                self.send_response(status)
                if status != 200 and owner.retry_after is not None:
                    self.send_header("Retry-After", owner.retry_after)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:  # each accepted connection's handshake; a refused one is dropped
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.scheme = "jsons" if tls is not None else "json"
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "hook", credentials: str = "") -> str:
        return f"{self.scheme}://{credentials}127.0.0.1:{self.port}/{path}"

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path.split("?")[0] == f"/{path}"]

    def all(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    async def await_for(self, predicate: Callable[[], T], timeout: float = PATIENCE) -> T:
        return await await_until(predicate, timeout)

    def wait_for(self, predicate: Callable[[], T], timeout: float = PATIENCE) -> T:
        deadline = time.monotonic() + timeout
        while not (result := predicate()):
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout} s")
            time.sleep(0.01)
        return result

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
