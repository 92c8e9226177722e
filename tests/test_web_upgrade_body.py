"""A request offering an ``Upgrade`` feedsvc does not take (``h2c``: ``curl --http2`` over plain
http, Java's HttpClient, Ktor; ``websocket``: feedsvc serves none, ``ws="none"``) is served as
ordinary HTTP/1.1 (RFC 9110 §7.8: a server may ignore the offer), its body intact, over real
sockets against the service's own wiring (:func:`feedsvc.server.uvicorn_config`).

llhttp stops at the end of such a request's head (the rest is "in a different protocol") and
had already ended the request: the app read an empty body (the API's 400 "Field required"),
then the body was parsed as a new request, a second 400 the client never asked for, closing the
connection, and a WARNING (uvicorn issue #2722, httptools #124).
:meth:`feedsvc.web.connections.BoundedHttpProtocol._without_upgrade` hands the rest to a fresh
parser.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import time
from collections.abc import Iterator

import pytest
import test_web_path_text as paths
from processes import free_port, uvicorn_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from test_web_wire import MAX_AGE, Backend, SpyFastPath

from feedsvc.catalogue import Translator
from feedsvc.config import load_config
from feedsvc.server import uvicorn_config
from feedsvc.web.feeds import feed_routes

TOKEN = paths.TOKEN

#: the offer → its headers (the ``Connection`` value without any ``close``)
OFFERS: dict[str, dict[str, str]] = {
    "h2c": {  # as curl --http2 sends it
        "Connection": "Upgrade, HTTP2-Settings",
        "Upgrade": "h2c",
        "HTTP2-Settings": "AAMAAABkAAQCAAAAAAIAAAAA",
    },
    "websocket": {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    },
    "keep-alive, upgrade": {"Connection": "keep-alive, upgrade", "Upgrade": "h2c"},
}
Answer = tuple[int, dict[str, str], bytes]


def request(
    method: str,
    path: str,
    body: bytes | None = None,
    *,
    offer: str | None = None,
    chunked: bool = False,
    close: bool = False,
    headers: dict[str, str] | None = None,
) -> bytes:
    """One request's bytes: ``offer``'s headers, the body framed by Content-Length or in
    chunks (two, when it has two bytes or more)."""
    fields = {"Host": "127.0.0.1", **(headers or {}), **(OFFERS[offer] if offer else {})}
    if close:
        fields["Connection"] = ", ".join(filter(None, [fields.get("Connection"), "close"]))
    framed = b""
    if body is not None and chunked:
        fields["Transfer-Encoding"] = "chunked"
        half = len(body) // 2
        parts = [p for p in (body[:half], body[half:]) if p]
        framed = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
    elif body is not None:
        fields["Content-Length"] = str(len(body))
        framed = body
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    return head.encode() + b"\r\n" + framed


def exchange(port: int, data: bytes, after_continue: bytes = b"") -> bytes:
    """Send ``data`` and read until the server closes; with ``after_continue``, send it once
    the server has answered ``100 Continue`` (the app is reading the body)."""
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(data)
        if after_continue:
            while b"\r\n\r\n" not in answer and (chunk := sock.recv(65536)):
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), answer[:300]
            with contextlib.suppress(OSError):
                sock.sendall(after_continue)
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
    return answer


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    fields = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    return int(lines[0].split()[1]), fields


def answers(raw: bytes) -> list[Answer]:
    """Every final answer in ``raw``, in order (``100 Continue`` left out), by Content-Length."""
    found: list[Answer] = []
    while raw:
        head, sep, raw = raw.partition(b"\r\n\r\n")
        assert sep, head
        status, fields = parse_head(head)
        if status != 100:
            length = int(fields.get("content-length", "0"))
            found.append((status, fields, raw[:length]))
            raw = raw[length:]
    return found


def converse(port: int, *requests: bytes) -> list[Answer]:
    """On one connection, send each request once the answer to the one before is read."""
    got: list[Answer] = []
    buffer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for data in requests:
            sock.sendall(data)
            while len(got) < len(requests) and len(answers_in(buffer)) <= len(got):
                chunk = sock.recv(65536)
                assert chunk, (got, buffer[:300])
                buffer += chunk
            got = answers_in(buffer)
    return got


def answers_in(buffer: bytes) -> list[Answer]:
    """The whole answers at the start of ``buffer`` (one may still be arriving)."""
    found: list[Answer] = []
    while (end := buffer.find(b"\r\n\r\n")) >= 0:
        status, fields = parse_head(buffer[:end])
        length = 0 if status == 100 else int(fields.get("content-length", "0"))
        if len(buffer) < end + 4 + length:
            break
        if status != 100:
            found.append((status, fields, buffer[end + 4 : end + 4 + length]))
        buffer = buffer[end + 4 + length :]
    return found


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.WARNING]


# -- the API, the whole service ----------------------------------------------------------------


#: The whole app over uvicorn, as the path tests serve it (one service for this module)
served = paths.served


API = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


def topic(slug: str) -> bytes:
    return json.dumps({"slug": slug, "title": f"Tiêu đề {slug}", "query": "an ninh"}).encode()


@pytest.fixture
def caplog_warnings(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING)
    return caplog


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("offer", OFFERS)
def test_a_post_offering_an_upgrade_is_served_with_its_body(
    served: int, offer: str, chunked: bool, caplog_warnings: pytest.LogCaptureFixture
) -> None:
    """The POST's one answer, 201, then the next request on the connection: no second 400."""
    slug = f"up-{offer.replace(', ', '-')}-{'chunked' if chunked else 'cl'}"
    data = request("POST", "/api/topics", topic(slug), offer=offer, chunked=chunked,
                   headers=API)  # fmt: skip
    data += request("GET", f"/api/topics/{slug}", headers=API, close=True)
    got = answers(exchange(served, data))
    assert [status for status, _, _ in got] == [201, 200], got
    assert json.loads(got[0][2])["title"] == json.loads(got[1][2])["title"] == f"Tiêu đề {slug}"
    assert warnings(caplog_warnings) == []


@pytest.mark.parametrize("offer", ["h2c", "websocket"])
def test_a_put_whose_body_comes_after_100_continue(
    served: int, offer: str, caplog_warnings: pytest.LogCaptureFixture
) -> None:
    """The body in a later read than the head, once the app reads it (curl sends
    ``Expect: 100-continue`` with a body over 1 KiB): the app waits for it."""
    slug = f"put-{offer}"
    body = json.dumps({"title": "Đặt", "query": "an"}).encode() + b" " * 2000  # JSON's blanks
    whole = request("PUT", f"/api/topics/{slug}", body, offer=offer, close=True,
                    headers=API | {"Expect": "100-continue"})  # fmt: skip
    head, _, _ = whole.partition(b"\r\n\r\n")
    got = answers(exchange(served, head + b"\r\n\r\n", after_continue=body))
    assert [status for status, _, _ in got] == [201], got
    assert json.loads(got[0][2])["title"] == "Đặt"
    assert warnings(caplog_warnings) == []


def test_pipelined_requests_offering_upgrades_are_each_answered_once(
    served: int, caplog_warnings: pytest.LogCaptureFixture
) -> None:
    """Three requests offering upgrades (chunked, with Content-Length, a GET) and a last one,
    in one write: four answers, in order."""
    data = (
        request("POST", "/api/topics", topic("pipe-a"), offer="h2c", chunked=True, headers=API)
        + request("POST", "/api/topics", topic("pipe-b"), offer="websocket", headers=API)
        + request("GET", "/api/topics/pipe-a", offer="h2c", headers=API)
        + request("GET", "/api/topics/pipe-b", headers=API, close=True)
    )
    got = answers(exchange(served, data))
    assert [status for status, _, _ in got] == [201, 201, 200, 200], got
    assert [json.loads(body)["slug"] for _, _, body in got] == ["pipe-a", "pipe-b"] * 2
    assert warnings(caplog_warnings) == []


def test_a_get_offering_an_upgrade_stays_plain_http(
    served: int, caplog_warnings: pytest.LogCaptureFixture
) -> None:
    data = request("GET", "/api/topics", offer="h2c", headers=API)
    data += request("GET", "/healthz", offer="websocket", close=True)
    got = answers(exchange(served, data))
    assert [status for status, _, _ in got] == [200, 200], got
    assert warnings(caplog_warnings) == []


@pytest.mark.parametrize("offer", [None, "websocket", "h2c"])
def test_a_bad_chunked_body_after_an_upgrade_offer_is_the_one_worded_400(
    served: int, offer: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    """The malformed-request handling holds for the body read by the parser that took over, as
    without the offer: one 400 worded from the catalogue, the app's answer not after it, one
    WARNING line naming the parser's reason."""
    data = request("POST", "/api/topics", offer=offer, headers=API | {
        "Transfer-Encoding": "chunked"}) + b"ZZ\r\nab\r\n"  # fmt: skip
    with caplog.at_level(logging.WARNING):
        got = answers(exchange(served, data))
    text = (Translator("vi")("http.bad_request") + "\n").encode()
    assert [(status, body) for status, _, body in got] == [(400, text)], got
    assert got[0][1]["connection"] == "close"
    lines = [line for line in warnings(caplog) if line.startswith("feedsvc.web.malformed: ")]
    assert len(lines) == 1 and lines[0].endswith(": Invalid character in chunk size"), lines
    assert not [r for r in caplog.records if r.exc_info], warnings(caplog)  # no traceback


@pytest.mark.parametrize("route", ["/api/topics", "/admin/login", "/zalo/webhook"])
def test_a_client_hanging_up_mid_body_leaves_no_traceback(
    served: int, route: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A client that sends part of its body and hangs up: the app's read of the body ends
    (ClientDisconnect), nothing is answered, and the log has no ERROR with a traceback."""
    head = request("POST", route, headers=API | {"Content-Length": "100"})
    with caplog.at_level(logging.WARNING):
        with socket.create_connection(("127.0.0.1", served), timeout=5) as sock:
            sock.sendall(head + b'{"slug": "x"')
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and not any(
            "disconnect" in r.getMessage().lower() or r.exc_info for r in caplog.records
        ):
            time.sleep(0.05)  # a poll with a deadline: the server logs from its own thread
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], [
        r.getMessage() for r in caplog.records
    ]


# -- the body byte for byte, and the feed poll answered in the protocol after it ---------------


async def echo(request: Request) -> Response:
    return Response(await request.body(), media_type="application/octet-stream")


@pytest.fixture(scope="module")
def echoed() -> Iterator[tuple[SpyFastPath, int]]:
    routes = [*feed_routes(Backend(), MAX_AGE), Route("/echo", echo, methods=["POST", "PUT"])]
    app = SpyFastPath(Starlette(routes=routes), Backend(), MAX_AGE)
    settings = load_config(None, {"http": {"port": free_port()}})
    config = uvicorn_config(settings, app)
    config.lifespan = "off"
    with uvicorn_thread(config):
        yield app, settings.http.port


@pytest.mark.parametrize("size", [0, 1, 2, 70_000, 300_000])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("offer", ["h2c", "websocket"])
def test_the_body_reaches_the_app_byte_for_byte(
    echoed: tuple[SpyFastPath, int], offer: str, chunked: bool, size: int,
    caplog_warnings: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """Bodies larger than a socket read and than uvicorn's high-water mark (64 KiB), then a
    feed poll on the same connection: still answered in the protocol (not by the app)."""
    app, port = echoed
    body = bytes(range(256)) * (size // 256) + b"\x00\r\n\r\nGET / HTTP/1.1"[: size % 256]
    app.seen.clear()
    got = converse(
        port,
        request("POST", "/echo", body, offer=offer, chunked=chunked),
        request("GET", "/feeds/kien-thuy.rss", close=True),
    )
    assert [status for status, _, _ in got] == [200, 200], [g[:2] for g in got]
    assert got[0][2] == body
    assert got[1][2].startswith(b"<?xml")
    assert app.seen == ["POST /echo"]  # the poll was answered in the parser callbacks
    assert warnings(caplog_warnings) == []
