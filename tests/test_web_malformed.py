"""A request httptools cannot parse gets feedsvc's own 400, over real sockets, through the
service's own wiring (:func:`feedsvc.app.uvicorn_config`): worded from the catalogue in
``site.language`` (``http.bad_request``), ``Connection: close``, a Content-Length counting the
UTF-8 bytes, and one WARNING line naming the peer and the parser's reason — never the request's
bytes, never a traceback.

uvicorn's own answer was ``400 Invalid HTTP request received.`` in English whatever the site's
language (its length counted in characters); with a response still being written on the
connection (pipelining), that 400 cut it off; a bad chunked body after a request had reached
the app could be followed by the app's own answer.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import socket
from collections.abc import Iterator

import pytest
import uvicorn
from processes import free_port, uvicorn_thread, wait_until
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from test_web_wire import GATE, SpyFastPath, make_app

from feedsvc.app import uvicorn_config
from feedsvc.catalogue import Translator
from feedsvc.config import load_config
from feedsvc.web.connections import BoundedHttpProtocol, bind_limits

POLL = b"GET /feeds/kien-thuy.rss HTTP/1.1\r\nHost: x\r\n\r\n"  # answered in the protocol
VI = (Translator("vi")("http.bad_request") + "\n").encode()

#: name → a request head (or what a client sent instead) the parser refuses
MALFORMED: dict[str, bytes] = {
    "method token": b"G@T /feeds/kien-thuy.rss HTTP/1.1\r\nHost: x\r\n\r\n",
    "lowercase method": b"get / HTTP/1.1\r\nHost: x\r\n\r\n",
    "no method": b" / HTTP/1.1\r\nHost: x\r\n\r\n",
    "http version": b"GET /feeds/kien-thuy.rss HTTP/9.9\r\nHost: x\r\n\r\n",
    "version word": b"GET / HTTPS/1.1\r\nHost: x\r\n\r\n",
    "space in header name": b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
    "control in header name": b"GET / HTTP/1.1\r\nX\x01Y: x\r\n\r\n",
    "colon-less header": b"GET / HTTP/1.1\r\nHost x\r\n\r\n",
    "bare LF": b"GET /feeds/kien-thuy.rss HTTP/1.1\nHost: x\n\n",
    "LF after CRLF mix": b"GET / HTTP/1.1\r\nHost: x\n\r\n",
    "NUL in header value": b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n",
    "escape in a token": b"GET / HTTP/1.1\r\nAuthorization: Bearer \x1b[31msecret\r\n\r\n",
    "escape in URL": b"GET /\x1b[2J HTTP/1.1\r\nHost: x\r\n\r\n",
    # a raw UTF-8 target is served as its percent-encoded form: tests/test_web_request_head.py
    "raw non-ASCII method": "GÉT / HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
    "folded header": b"GET / HTTP/1.1\r\n Folded: x\r\n\r\n",
    "two content-lengths": b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    "TLS hello": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 32,
    # RFC 9112 §3.2: more than one Host line is a 400 (tester3 F8: the first was believed)
    "two hosts": b"GET /feeds/kien-thuy.rss HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n",
    "two hosts, other case": b"GET /x/ HTTP/1.1\r\nhost: a.example\r\nHOST: a.example\r\n\r\n",
    "two hosts, HTTP/1.0": b"GET /feeds/x.rss/ HTTP/1.0\r\nHost: a\r\nX: y\r\nHost: b\r\n\r\n",
}
HOSTILE = (b"\x1b", b"secret", b"\x00", b"G@T", "kiến".encode())


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[SpyFastPath, int]]:
    app = make_app()
    settings = load_config(None, {"site": {"language": "vi"}, "http": {"port": free_port()}})
    config = uvicorn_config(settings, app)  # type: ignore[arg-type]
    config.lifespan = "off"
    with uvicorn_thread(config):
        yield app, settings.http.port


def exchange(port: int, data: bytes, cuts: tuple[int, ...] = ()) -> bytes:
    """Send ``data`` (in pieces cut at ``cuts``), read until the server closes."""
    answer = b""  # the socket's timeout: patience for each read, not a claim
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        bounds = [0, *cuts, len(data)]
        with contextlib.suppress(OSError):  # the server may close before the last piece
            for left, right in itertools.pairwise(bounds):
                sock.sendall(data[left:right])
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
    return answer


def assert_worded_400(answer: bytes, body: bytes = VI) -> None:
    head, _, rest = answer.partition(b"\r\n\r\n")
    lines = head.lower().split(b"\r\n")
    assert lines[0] == b"http/1.1 400 bad request", answer[:200]
    assert b"content-type: text/plain; charset=utf-8" in lines
    assert b"connection: close" in lines
    assert f"content-length: {len(body)}".encode() in lines
    assert rest == body, answer  # the whole answer, and nothing after it
    assert b"Invalid HTTP request" not in answer


@pytest.mark.parametrize("name", MALFORMED)
def test_a_malformed_request_gets_the_worded_400(
    served: tuple[SpyFastPath, int], name: str, caplog: pytest.LogCaptureFixture
) -> None:
    app, port = served
    seen = len(app.seen)
    with caplog.at_level(logging.INFO):
        answer = exchange(port, MALFORMED[name])
    assert_worded_400(answer)
    assert len(app.seen) == seen  # no ASGI app saw it
    refused = [r for r in caplog.records if r.name == "feedsvc.web.malformed"]
    assert [r.levelno for r in refused] == [logging.WARNING], caplog.text
    assert "127.0.0.1:" in refused[0].getMessage()
    for record in caplog.records:
        assert record.levelno < logging.ERROR and record.exc_info is None, caplog.text
        text = record.getMessage()
        assert "Invalid HTTP request received" not in text
        for hostile in HOSTILE:
            assert hostile.decode("utf-8", "replace") not in text, text


@pytest.mark.parametrize("name", ["method token", "bare LF", "space in header name"])
def test_byte_by_byte_it_is_the_same_answer(served: tuple[SpyFastPath, int], name: str) -> None:
    data = MALFORMED[name]
    assert_worded_400(exchange(served[1], data, tuple(range(1, len(data)))))


def test_after_a_feed_poll_on_the_same_connection(served: tuple[SpyFastPath, int]) -> None:
    """A poll answered in the protocol, then garbage in the same write: the whole 200, then
    the 400."""
    answer = exchange(served[1], POLL + MALFORMED["method token"])
    first, _, rest = answer.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 200 ")
    length = int(next(x for x in first.split(b"\r\n") if x.lower().startswith(b"content-length"))
                 .split(b":")[1])  # fmt: skip
    assert_worded_400(rest[length:])


def test_the_400_waits_for_the_response_being_written(served: tuple[SpyFastPath, int]) -> None:
    """A request still being answered by the app when garbage follows it: its response comes
    whole, then the 400 (uvicorn's 400 closed the connection under it)."""
    app, port = served
    GATE.clear()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n" + MALFORMED["bare LF"])
            wait_until(lambda: "GET /slow" in app.seen, 30, "the slow request to reach the app")
            GATE.set()
            answer = b""
            with contextlib.suppress(ConnectionResetError):
                while chunk := sock.recv(65536):
                    answer += chunk
    finally:
        GATE.set()
    first, _, rest = answer.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 200 "), answer
    assert rest.startswith(b"slow")
    assert_worded_400(rest.removeprefix(b"slow"))


def test_a_bad_chunked_body_is_answered_once(served: tuple[SpyFastPath, int]) -> None:
    """The head reached the app; its body cannot be read: the 400, and not the app's answer
    after it."""
    data = b"POST /nowhere HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nab\r\n"
    assert_worded_400(exchange(served[1], data))


def test_on_a_keep_alive_connection_after_an_answer(served: tuple[SpyFastPath, int]) -> None:
    with socket.create_connection(("127.0.0.1", served[1]), timeout=30) as sock:
        sock.sendall(b"GET /feeds/search.rss?q=tin HTTP/1.1\r\nHost: x\r\n\r\n")  # via ASGI
        answer = b""
        while b"</rss>" not in answer:
            answer += sock.recv(65536)
        sock.sendall(MALFORMED["http version"])
        rest = answer.partition(b"</rss>")[2]
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                rest += chunk
    assert_worded_400(rest)


def test_worded_in_the_site_language() -> None:
    settings = load_config(None, {"site": {"language": "en"}, "http": {"port": free_port()}})
    config = uvicorn_config(settings, make_app())  # type: ignore[arg-type]
    config.lifespan = "off"
    with uvicorn_thread(config):
        answer = exchange(settings.http.port, MALFORMED["method token"])
    assert_worded_400(answer, (Translator("en")("http.bad_request") + "\n").encode())


def test_the_bounded_protocol_alone_answers_the_same() -> None:
    """Without the feed fast path (the limits' protocol bound on its own): the same answer."""

    async def home(request: object) -> PlainTextResponse:
        return PlainTextResponse("ok")

    words = Translator("vi")("http.bad_request")
    limits = bind_limits(BoundedHttpProtocol, header_timeout=10, max_header_bytes=32768,
                         max_connections=100, bad_request=words)  # fmt: skip
    protocol = type("Bound", (BoundedHttpProtocol,), limits)
    port = free_port()
    app = Starlette(routes=[Route("/", home)])
    config = uvicorn.Config(app, port=port, http=protocol, log_config=None, lifespan="off")
    with uvicorn_thread(config):
        for data in MALFORMED.values():
            assert_worded_400(exchange(port, data))
        assert exchange(port, b"GET / HTTP/1.0\r\n\r\n").endswith(b"\r\n\r\nok")


# -- the log line ------------------------------------------------------------------------------


def test_printable_escapes_everything_else() -> None:
    from feedsvc.web.malformed import printable

    assert printable("a\x1b[31mb\x00c\u202e") == "a\\x1b[31mb\\x00c\\u202e"
    assert len(printable("x" * 1000)) == 120


def test_a_callback_exception_of_our_own_is_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import httptools

    from feedsvc.web.malformed import parse_failure

    def failing() -> httptools.HttpParserError:
        try:
            try:
                raise KeyError("ours")
            except KeyError:
                raise httptools.HttpParserCallbackError("User callback error") from None
        except httptools.HttpParserCallbackError as exc:
            exc.__context__ = KeyError("ours")
            return exc

    with caplog.at_level(logging.INFO):
        assert parse_failure(failing()) == "KeyError in a parser callback"
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    client = httptools.HttpParserCallbackError("User callback error")
    client.__context__ = UnicodeDecodeError("ascii", b"\xff", 0, 1, "bad")
    assert parse_failure(client) == "UnicodeDecodeError in the request head"
