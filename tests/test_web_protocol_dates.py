"""Every answer feedsvc writes below ASGI carries a ``Date`` (RFC 9110 §6.6.1: an origin server
with a clock must send one) and the headers the same error gets through ASGI, over real sockets
against the service's own wiring (:func:`feedsvc.app.uvicorn_config`).

The 400 to a request the parser refuses and the 431 to a head too large were prepared bytes
without ``Date``, although every answer through ASGI (and a feed poll answered in the parser
callbacks) has one; a WebSocket upgrade request got uvicorn's wsproto refusal, a bodiless 403
without ``Date`` whatever the path.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
import uvicorn
from processes import free_port, uvicorn_thread
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from test_web_wire import make_app

from feedsvc.app import uvicorn_config
from feedsvc.catalogue import Translator
from feedsvc.config import load_config
from feedsvc.web.connections import BoundedHttpProtocol, bind_limits

LIMIT = 2048
BAD = b"G@T /feeds/kien-thuy.rss HTTP/1.1\r\nHost: x\r\n\r\n"
BIG = b"GET /feeds/kien-thuy.rss HTTP/1.1\r\nX-Big: " + b"a" * (LIMIT + 100) + b"\r\n\r\n"

#: name → (what a client sends, the status it gets): every answer written by the protocol
ANSWERS: dict[str, tuple[bytes, int]] = {
    "bad method": (BAD, 400),
    "bare LF": (b"GET / HTTP/1.1\nHost: x\n\n", 400),
    "TLS hello": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 32, 400),
    "bad chunked body": (
        b"POST /nowhere HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nab\r\n",
        400,
    ),
    "head too large": (BIG, 431),
    "request line too long": (b"GET /" + b"a" * (LIMIT + 10) + b" HTTP/1.1\r\n\r\n", 431),
    "after a feed poll": (b"GET /feeds/kien-thuy.rss HTTP/1.1\r\nHost: x\r\n\r\n" + BAD, 400),
}


def exchange(port: int, data: bytes) -> bytes:
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(data)
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
    return answer


def last_answer(answer: bytes) -> tuple[int, dict[bytes, list[bytes]], bytes]:
    """The status, headers (lower-case name → values) and body of the last answer in
    ``answer`` (earlier ones on the connection skipped by their Content-Length)."""
    while True:
        head, _, rest = answer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        headers: dict[bytes, list[bytes]] = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        length = int(headers[b"content-length"][0])
        if len(rest) == length:
            return int(lines[0].split()[1]), headers, rest
        answer = rest[length:]


def assert_dated(headers: dict[bytes, list[bytes]]) -> None:
    assert len(headers.get(b"date", [])) == 1, headers
    sent = parsedate_to_datetime(headers[b"date"][0].decode("ascii"))
    assert headers[b"date"][0].endswith(b" GMT")
    assert abs(sent - datetime.now(UTC)) < timedelta(seconds=5), sent


@pytest.fixture(scope="module", params=["vi", "en"])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[int, str]]:
    http = {"port": free_port(), "max_header_bytes": LIMIT}
    settings = load_config(None, {"site": {"language": request.param}, "http": http})
    config = uvicorn_config(settings, make_app())  # type: ignore[arg-type]
    config.lifespan = "off"
    with uvicorn_thread(config):
        yield settings.http.port, request.param


@pytest.mark.parametrize("name", ANSWERS)
def test_an_answer_written_by_the_protocol_is_dated(served: tuple[int, str], name: str) -> None:
    port, language = served
    data, status = ANSWERS[name]
    got, headers, body = last_answer(exchange(port, data))
    assert got == status
    assert_dated(headers)
    key = "http.bad_request" if status == 400 else "http.head_too_large"
    assert body == (Translator(language)(key) + "\n").encode()
    assert headers[b"content-length"] == [str(len(body)).encode()]
    assert headers[b"connection"] == [b"close"]


def test_its_headers_are_those_of_the_same_error_through_asgi(served: tuple[int, str]) -> None:
    """The protocol's 400 has the header names of a plain-text error the app answers (a 404 of
    an unknown feed): Date, Content-Type, Content-Length, Cache-Control, nosniff; plus
    ``Connection: close``. No ``server`` header in either (``server_header`` is off)."""
    port, _ = served
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /feeds/nothing.rss HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        through_asgi = b""
        while chunk := sock.recv(65536):
            through_asgi += chunk
    status, asgi_headers, _ = last_answer(through_asgi)
    assert status == 404
    _, headers, _ = last_answer(exchange(port, BAD))
    assert set(headers) == set(asgi_headers) | {b"connection"}
    assert headers[b"content-type"] == asgi_headers[b"content-type"]
    assert headers[b"x-content-type-options"] == asgi_headers[b"x-content-type-options"]
    assert headers[b"cache-control"] == [b"no-store"]
    assert b"server" not in headers


def test_a_websocket_upgrade_is_answered_as_plain_http(served: tuple[int, str]) -> None:
    """feedsvc serves no WebSocket: the request is the app's (here a 200 feed), dated."""
    port, _ = served
    data = (
        b"GET /feeds/kien-thuy.rss HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, close\r\n"
        b"Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
    )
    answer = exchange(port, data)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
    _, headers, body = last_answer(answer)
    assert_dated(headers)
    assert body.startswith(b"<?xml")


@pytest.mark.parametrize("data", [BAD, BIG], ids=["400", "431"])
def test_configured_default_headers_come_too(data: bytes) -> None:
    """With uvicorn's ``server`` header and a configured header on (not feedsvc's settings,
    but the protocol alone), the protocol's answers carry them as an app's answer does."""

    async def home(request: object) -> PlainTextResponse:
        return PlainTextResponse("ok")

    limits = bind_limits(BoundedHttpProtocol, header_timeout=10, max_header_bytes=LIMIT,
                         max_connections=100)  # fmt: skip
    protocol = type("Bound", (BoundedHttpProtocol,), limits)
    port = free_port()
    config = uvicorn.Config(Starlette(routes=[Route("/", home)]), port=port, http=protocol,
                            log_config=None, lifespan="off", server_header=True,
                            headers=[("X-Served-By", "feedsvc-test")])  # fmt: skip
    with uvicorn_thread(config):
        _, ok, _ = last_answer(exchange(port, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n"))
        _, headers, _ = last_answer(exchange(port, data))
    assert_dated(headers)
    assert headers[b"server"] == ok[b"server"] == [b"uvicorn"]
    assert headers[b"x-served-by"] == ok[b"x-served-by"] == [b"feedsvc-test"]


def test_before_the_servers_first_tick_a_date_is_made() -> None:
    """uvicorn fills ``default_headers`` at its loop's first tick: an answer written before it
    still carries a Date (made then, not kept); after it, the server's own lines are used."""
    from feedsvc.web.connections import default_lines

    lines = default_lines([])
    assert lines.startswith(b"date: ") and lines.endswith(b" GMT\r\n")
    assert_dated({b"date": [lines[len(b"date: ") : -2]]})
    ticked = [(b"date", b"Tue, 01 Dec 2026 16:00:00 GMT"), (b"server", b"uvicorn")]
    assert default_lines(ticked) == b"date: Tue, 01 Dec 2026 16:00:00 GMT\r\nserver: uvicorn\r\n"
    assert default_lines(ticked) is default_lines(ticked)  # kept while the list is current
