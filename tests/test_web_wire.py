"""Feed polls answered inside uvicorn's protocol (``feedsvc.web.wire``), over raw sockets.

What must hold: the bytes are the ones uvicorn's own ASGI path sends for the same request;
only plain polls are taken, everything else reaches the ASGI app; pipelined replies stay in
order; HTTP/1.0, ``Connection: close``, the keep-alive timeout and shutdown behave as uvicorn's.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import anyio.to_thread
import pytest
import uvicorn
from processes import free_port, uvicorn_thread, wait_until
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from feedsvc.web.fast_path import FeedFastPath
from feedsvc.web.feeds import feed_routes
from feedsvc.web.http_cache import Snapshot, make_snapshot
from feedsvc.web.wire import wire_protocol

MAX_AGE = 60
BODY = b'<?xml version="1.0"?><rss version="2.0"><channel>' + b"<item/>" * 200 + b"</channel></rss>"
SNAPSHOT = make_snapshot(BODY, "application/rss+xml", datetime(2022, 5, 3, 2, 2, tzinfo=UTC))


class Backend:
    """One topic, ``kien-thuy``, in every format."""

    def snapshot(self, slug: str, fmt: str, limit: int) -> Snapshot | None:
        return SNAPSHOT if slug == "kien-thuy" else None

    limited = snapshot

    def search(self, query: str, fmt: str, limit: int) -> Snapshot:
        return SNAPSHOT

    search_job = search

    def opml(self) -> Snapshot:
        return SNAPSHOT

    def index_html(self, page: int = 1) -> Snapshot:
        return SNAPSHOT

    def index_search(self, query: str, page: int) -> Snapshot:
        return SNAPSHOT

    def index_unread(self) -> Snapshot:
        return SNAPSHOT

    def page(self, slug: str) -> Snapshot | None:
        return None

    def missing_page(self, slug: str) -> bytes:
        return b"<!doctype html><p>missing"

    def gone(self, slug: str) -> bool:
        return False

    def gone_page(self, slug: str) -> bytes:
        return b"<!doctype html><p>gone"

    def polled(self, slug: str) -> None:
        self.polls = getattr(self, "polls", 0) + 1


class SpyFastPath(FeedFastPath):
    """Records every request that reaches ASGI, i.e. was not answered in the protocol."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.seen: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen.append(f"{scope['method']} {scope['path']}")
        await super().__call__(scope, receive, send)


GATE = threading.Event()


async def slow(request: Request) -> PlainTextResponse:
    """Answers only once the test opens ``GATE``: a request still in progress."""
    await anyio.to_thread.run_sync(GATE.wait, 10)
    return PlainTextResponse("slow")


def make_app() -> SpyFastPath:
    routes = [*feed_routes(Backend(), MAX_AGE), Route("/slow", slow)]
    return SpyFastPath(Starlette(routes=routes), Backend(), MAX_AGE)


def serve(app: SpyFastPath, *, wire: bool, keep_alive: int = 5) -> tuple[uvicorn.Config, int]:
    port = free_port()
    http = wire_protocol(app) if wire else "httptools"
    config = uvicorn.Config(
        app,
        port=port,
        http=http,
        log_config=None,
        lifespan="off",
        server_header=False,
        timeout_keep_alive=keep_alive,
    )
    return config, port


@pytest.fixture
def wired() -> Iterator[tuple[SpyFastPath, int]]:
    app = make_app()
    config, port = serve(app, wire=True)
    with uvicorn_thread(config):
        yield app, port


class Conn:
    """A client connection that reads whole responses, keeping what arrives beyond one."""

    def __init__(self, port: int, rcvbuf: int = 0) -> None:
        self.sock = socket.socket()
        self.sock.settimeout(10)
        if rcvbuf:  # a small window: the server's writes back up sooner
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", port))
        self.buffer = b""

    def __enter__(self) -> Conn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def sendall(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buffer += chunk
        return bool(chunk)

    def read_response(self, head_only: bool = False) -> bytes:
        """One whole response: head, then a Content-Length body unless ``head_only``."""
        while b"\r\n\r\n" not in self.buffer:
            assert self._fill(), f"closed mid-response: {self.buffer!r}"
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length" and not head_only:
                length = int(value)
        while len(rest) < length:
            assert self._fill(), "closed mid-body"
            _, _, rest = self.buffer.partition(b"\r\n\r\n")
        self.buffer = rest[length:]
        return head + b"\r\n\r\n" + rest[:length]

    def closed_by_server(self) -> bool:
        """True if the server closes (recv gives b"") within the socket timeout, nothing more
        having been sent."""
        try:
            return self.buffer == b"" and self.sock.recv(1) == b""
        except TimeoutError:
            return False


def without_date(response: bytes) -> bytes:
    lines = response.split(b"\r\n")
    return b"\r\n".join(line for line in lines if not line.lower().startswith(b"date: "))


def request(path: str, *headers: str, method: str = "GET", version: str = "1.1") -> bytes:
    lines = [f"{method} {path} HTTP/{version}", "Host: tin.example", *headers, "", ""]
    return "\r\n".join(lines).encode("latin-1")


ETAG = SNAPSHOT.etag
GZ_ETAG = ETAG[:-1] + '-gz"'
CASES = [
    ("GET", ()),
    ("HEAD", ()),
    ("GET", ("Accept-Encoding: gzip",)),
    ("HEAD", ("Accept-Encoding: gzip, br",)),
    ("GET", (f"If-None-Match: {ETAG}",)),
    ("GET", ("Accept-Encoding: gzip", f"If-None-Match: W/{GZ_ETAG}")),
    ("GET", ('If-None-Match: "other"',)),
    ("GET", ("If-Modified-Since: Tue, 03 May 2022 02:02:00 GMT",)),
    ("HEAD", ("If-Modified-Since: Mon, 02 May 2022 00:00:00 GMT",)),
    ("GET", ("Connection: close",)),
]


@pytest.mark.parametrize(("method", "headers"), CASES)
@pytest.mark.parametrize("version", ["1.1", "1.0"])
def test_bytes_are_what_uvicorn_itself_sends(
    method: str, headers: tuple[str, ...], version: str
) -> None:
    """Same request to uvicorn's ASGI path and to the protocol path: same bytes but the date."""
    answers = []
    for wire in (False, True):
        app = make_app()
        config, port = serve(app, wire=wire)
        with uvicorn_thread(config), Conn(port) as sock:
            sock.sendall(request("/feeds/kien-thuy.rss", *headers, method=method, version=version))
            answers.append(sock.read_response(head_only=method == "HEAD"))
            assert (app.seen == []) == wire  # the protocol answered, ASGI never saw it
    plain, wired = answers
    assert plain.startswith(b"HTTP/1.1 ") and b"\r\ndate: " in wired
    assert without_date(wired) == without_date(plain)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (('If-None-Match: "stale"', f"If-None-Match: {ETAG}"), b"304"),
        ((f"If-None-Match: {ETAG}", 'If-None-Match: "stale"'), b"304"),
        (('If-None-Match: "stale"', 'If-None-Match: W/"older"'), b"200"),
        (("Accept-Encoding: br", "Accept-Encoding: gzip"), b"200"),
    ],
)
def test_a_list_field_on_several_lines_is_read_whole(
    headers: tuple[str, ...], status: bytes
) -> None:
    """RFC 9110 §5.3: a list field (``If-None-Match``, ``Accept-Encoding``) sent on several
    lines is one list. The first line alone was read: a client with the current tag on its
    second ``If-None-Match`` line got the whole feed (a tester's report). Both paths."""
    for wire in (False, True):
        config, port = serve(make_app(), wire=wire)
        with uvicorn_thread(config), Conn(port) as sock:
            sock.sendall(request("/feeds/kien-thuy.rss", *headers))
            answer = sock.read_response()
        assert answer.startswith(b"HTTP/1.1 " + status + b" "), (wire, answer[:60])
        if "Accept-Encoding: gzip" in headers:  # the second line's coding is taken
            assert b"\r\ncontent-encoding: gzip\r\n" in answer.lower(), (wire, answer[:300])


def test_only_plain_polls_are_answered_in_the_protocol(wired: tuple[SpyFastPath, int]) -> None:
    app, port = wired
    with Conn(port) as sock:  # one keep-alive connection throughout
        for path, method in [
            ("/feeds/kien-thuy.rss", "GET"),
            ("/feeds/kien-thuy.json", "HEAD"),
            ("/feeds/kien%2Dthuy.atom", "GET"),  # %-escapes decoded, as uvicorn does
            ("http://tin.example/feeds/kien-thuy.rss", "GET"),  # absolute form
        ]:
            sock.sendall(request(path, method=method))
            assert sock.read_response(head_only=method == "HEAD").startswith(b"HTTP/1.1 200 ")
        assert app.seen == []
        for raw, status in [
            (request("/feeds/kien-thuy.rss?limit=2"), 200),
            (request("/feeds/khong-co.rss"), 404),
            (request("/feeds/search.rss?q=x"), 200),
            (request("/feeds.opml"), 200),
            (request("/feeds/kien-thuy.rss", "Content-Length: 3", method="POST") + b"abc", 405),
            (request("/feeds/kien-thuy.rss", "Content-Length: 3") + b"abc", 200),
            (request("/feeds/kien-thuy.rss", "Transfer-Encoding: chunked") + b"0\r\n\r\n", 200),
            (request("/feeds/kien-thuy.rss", "Content-Length: 0", "Expect: 100-continue"), 200),
        ]:
            sock.sendall(raw)
            answer = sock.read_response()
            assert answer.startswith(f"HTTP/1.1 {status} ".encode()), raw
            if status == 405:  # RFC 9110: a 405 says what the resource takes
                allow = re.search(rb"\r\nallow: ([^\r]*)\r\n", answer.lower())
                assert allow and set(allow[1].split(b", ")) == {b"get", b"head"}
        sock.sendall(request("/feeds/kien-thuy.rss"))  # the connection still serves polls
        assert sock.read_response().startswith(b"HTTP/1.1 200 ")
    assert app.seen == [
        "GET /feeds/kien-thuy.rss",
        "GET /feeds/khong-co.rss",
        "GET /feeds/search.rss",
        "GET /feeds.opml",
        "POST /feeds/kien-thuy.rss",
        "GET /feeds/kien-thuy.rss",
        "GET /feeds/kien-thuy.rss",
        "GET /feeds/kien-thuy.rss",
    ]


def test_pipelined_poll_waits_for_the_request_before_it(wired: tuple[SpyFastPath, int]) -> None:
    app, port = wired
    GATE.clear()
    with Conn(port) as sock:
        sock.sendall(
            request("/slow") + request("/feeds/kien-thuy.rss") + request("/feeds/kien-thuy.json")
        )
        sock.sock.settimeout(0.5)
        with pytest.raises(TimeoutError):  # nothing may overtake the unanswered /slow
            sock.sock.recv(1)
        sock.sock.settimeout(10)
        GATE.set()
        first, second, third = (sock.read_response() for _ in range(3))
    assert first.startswith(b"HTTP/1.1 200 ") and first.endswith(b"\r\n\r\nslow")
    assert second.endswith(BODY) and third.endswith(BODY)
    assert app.seen == ["GET /slow", "GET /feeds/kien-thuy.rss", "GET /feeds/kien-thuy.json"]


def test_pipelined_polls_are_all_answered_in_order(wired: tuple[SpyFastPath, int]) -> None:
    app, port = wired
    with Conn(port) as sock:
        sock.sendall(
            request("/feeds/kien-thuy.rss", f"If-None-Match: {ETAG}")
            + request("/feeds/kien-thuy.rss")
            + request("/feeds/kien-thuy.rss", method="HEAD")
        )
        assert sock.read_response().startswith(b"HTTP/1.1 304 ")
        assert sock.read_response().endswith(BODY)
        assert sock.read_response(head_only=True).startswith(b"HTTP/1.1 200 ")
    assert app.seen == []


def test_a_flood_of_pipelined_polls_stays_in_order(wired: tuple[SpyFastPath, int]) -> None:
    """More replies than the socket buffers take: once writing pauses, the rest go through
    uvicorn's pipeline queue, and every reply still comes back whole and in request order."""
    app, port = wired
    # ~10 MB of replies: more than the kernel's socket buffers take (tcp_wmem max is 4 MB)
    paths = [f"/feeds/kien-thuy.{fmt}" for _ in range(3000) for fmt in ("rss", "json")]
    with Conn(port, rcvbuf=4096) as sock:
        # sent from a thread: the server stops reading while its queue is full, as it should
        sender = threading.Thread(
            target=sock.sendall, args=(b"".join(request(path) for path in paths),)
        )
        sender.start()
        # read nothing until the server has paused writing and queued a request for ASGI:
        # a client reading as fast as the server writes (a loaded machine) never fills them
        wait_until(lambda: bool(app.seen), 30, "a pipelined poll queued for ASGI")
        replies = [sock.read_response() for _ in paths]
        sender.join(timeout=10)
    for path, reply in zip(paths, replies, strict=True):
        assert reply.startswith(b"HTTP/1.1 200 ") and reply.endswith(BODY), path
    assert 0 < len(app.seen) < len(paths)  # some answered in the protocol, some through ASGI


@pytest.mark.parametrize(
    "raw",
    [
        request("/feeds/kien-thuy.rss", version="1.0"),
        request("/feeds/kien-thuy.rss", "Connection: close"),
    ],
)
def test_close_requested_closes_after_the_reply(wired: tuple[SpyFastPath, int], raw: bytes) -> None:
    app, port = wired
    with Conn(port) as sock:
        sock.sendall(raw)
        assert b"\r\nconnection: close\r\n" in sock.read_response()
        assert sock.closed_by_server()
    assert app.seen == []


def test_http10_keep_alive_is_not_honoured_as_in_uvicorn(wired: tuple[SpyFastPath, int]) -> None:
    _, port = wired
    with Conn(port) as sock:
        sock.sendall(request("/feeds/kien-thuy.rss", "Connection: keep-alive", version="1.0"))
        assert sock.read_response().startswith(b"HTTP/1.1 200 ")
        assert sock.closed_by_server()


def test_idle_connection_is_closed_after_the_keep_alive_timeout() -> None:
    app = make_app()
    config, port = serve(app, wire=True, keep_alive=1)
    with uvicorn_thread(config), Conn(port) as sock:
        sock.sendall(request("/feeds/kien-thuy.rss"))
        sock.read_response()
        sock.sock.settimeout(5)
        assert sock.closed_by_server(), "the idle timer was not re-armed after a direct reply"
    assert app.seen == []


def test_open_polled_connections_do_not_hold_up_shutdown() -> None:
    app = make_app()
    config, port = serve(app, wire=True, keep_alive=60)
    socks: list[Conn] = []
    try:
        with uvicorn_thread(config):  # asserts the server thread ends within 10 s
            socks += [Conn(port) for _ in range(3)]
            for sock in socks:
                sock.sendall(request("/feeds/kien-thuy.rss"))
                sock.read_response()
        for sock in socks:
            assert sock.closed_by_server()
    finally:
        for sock in socks:
            sock.sock.close()


def test_malformed_request_still_gets_uvicorns_400(wired: tuple[SpyFastPath, int]) -> None:
    _, port = wired
    with Conn(port) as sock:
        sock.sendall(b"GET /feeds/kien-thuy.rss HTTP/1.1\r\nHost tin.example\r\n\r\n")
        assert sock.read_response().startswith(b"HTTP/1.1 400 ")


class BrokenBackend(Backend):
    def snapshot(self, slug: str, fmt: str, limit: int) -> Snapshot | None:
        raise RuntimeError("snapshot store broken")


def test_a_failing_lookup_is_a_500_from_asgi_not_a_400(caplog: pytest.LogCaptureFixture) -> None:
    app = SpyFastPath(Starlette(routes=feed_routes(Backend(), MAX_AGE)), BrokenBackend(), MAX_AGE)
    config, port = serve(app, wire=True)
    with uvicorn_thread(config), Conn(port) as sock:
        sock.sendall(request("/feeds/kien-thuy.rss"))
        assert sock.read_response().startswith(b"HTTP/1.1 500 ")
    assert app.seen == ["GET /feeds/kien-thuy.rss"]
    assert "feed poll fast path failed" in caplog.text
