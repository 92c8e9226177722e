"""``http.max_header_bytes`` holds exactly (newcomer W2), over real sockets, through the service's
own wiring (:func:`feedsvc.app.uvicorn_config`): a head (request line, headers and the blank
line) of exactly the limit is served, one byte more gets the 431 worded in ``site.language`` —
whether the head arrives in one write or split across several, on both protocol paths (a feed
poll answered in the protocol, a request passed to ASGI), with the excess in one header, in many
headers or in the request line alone.

It used to be counted only while a head was incomplete at the end of a socket read: a head that
arrived whole in one read (50 KB on loopback) was parsed and served (200), and a 70 KB request
line got httptools' English ``400 Invalid HTTP request received.`` (its URL limit is 65,535).
"""

from __future__ import annotations

import contextlib
import itertools
import socket
from collections.abc import Iterator

import pytest
from processes import free_port, uvicorn_thread
from test_web_wire import make_app

from feedsvc.app import uvicorn_config
from feedsvc.catalogue import Translator
from feedsvc.config import load_config

LIMIT = 32768  # the documented default
POLL = "/feeds/kien-thuy.rss"  # answered in the protocol
ASGI = "/feeds/search.rss?q=tin"  # answered by the Starlette route
TOO_LARGE = Translator("vi")("http.head_too_large")
URL_LIMIT = 65535  # httptools.parse_url refuses a longer URL


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    settings = load_config(None, {"site": {"language": "vi"}, "http": {"port": free_port()}})
    assert settings.http.max_header_bytes == LIMIT
    config = uvicorn_config(settings, make_app())  # type: ignore[arg-type]
    config.lifespan = "off"
    with uvicorn_thread(config):
        yield settings.http.port


def head_of(size: int, path: str, kind: str) -> bytes:
    """A complete request head of exactly ``size`` bytes, padded as ``kind`` says."""
    start = f"GET {path}".encode()
    rest = b" HTTP/1.1\r\nHost: x\r\n"
    end = b"\r\n"
    if kind == "line":  # the request line alone carries the excess
        sep = b"&" if b"?" in start else b"?"
        fill = size - len(start + sep + b"pad=" + rest + end)
        return start + sep + b"pad=" + b"a" * fill + rest + end
    if kind == "header":
        fill = size - len(start + rest + b"X-Big: \r\n" + end)
        return start + rest + b"X-Big: " + b"b" * fill + b"\r\n" + end
    lines = b""  # many headers of 100 bytes, the last one shorter
    budget = size - len(start + rest + end)
    index = 0
    while budget > 0:
        line = b"X-H%d: " % index
        width = min(100, budget)
        if width < len(line) + 3:  # too short for another header: widen the previous one
            lines = lines[:-2] + b"v" * width + b"\r\n"
            break
        lines += line + b"v" * (width - len(line) - 2) + b"\r\n"
        budget -= width
        index += 1
    return start + rest + lines + end


def exchange(port: int, head: bytes, cuts: tuple[int, ...]) -> bytes:
    """Send ``head`` in several writes (cut at ``cuts``, no Nagle delay), read until the server
    closes or the answer is complete; a reset after the answer began is the end of it."""
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        bounds = [0, *sorted(c for c in cuts if 0 < c < len(head)), len(head)]
        with contextlib.suppress(OSError):
            for left, right in itertools.pairwise(bounds):
                sock.sendall(head[left:right])
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
                if answer.startswith(b"HTTP/1.1 200 ") and complete(answer):
                    break
    return answer


def complete(answer: bytes) -> bool:
    head, sep, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            return bool(sep) and len(body) >= int(value)
    return False


def splits(size: int) -> list[tuple[int, ...]]:
    """One write; three writes; the blank line cut in two; the byte past the limit alone."""
    return [(), (size // 3, 2 * size // 3), (size - 3,), (size - 1,), (LIMIT - 1, LIMIT)]


@pytest.mark.parametrize("path", [POLL, ASGI])
@pytest.mark.parametrize("kind", ["header", "headers", "line"])
def test_a_head_of_exactly_the_limit_is_served(port: int, path: str, kind: str) -> None:
    for size in (LIMIT - 1, LIMIT):
        head = head_of(size, path, kind)
        assert len(head) == size
        for cuts in splits(size):
            answer = exchange(port, head, cuts)
            assert answer.startswith(b"HTTP/1.1 200 "), (size, cuts, answer[:80])


@pytest.mark.parametrize("path", [POLL, ASGI])
@pytest.mark.parametrize("kind", ["header", "headers", "line"])
def test_one_byte_over_the_limit_gets_the_worded_431(port: int, path: str, kind: str) -> None:
    head = head_of(LIMIT + 1, path, kind)
    for cuts in splits(LIMIT + 1):
        # the byte that crosses the limit is the last one sent: the server has read everything
        # when it answers, so the answer always arrives (no reset)
        answer = exchange(port, head, cuts)
        status, _, body = answer.partition(b"\r\n\r\n")
        assert status.startswith(b"HTTP/1.1 431 "), (cuts, answer[:80])
        assert b"connection: close" in status.lower()
        assert body.decode("utf-8") == TOO_LARGE + "\n"


@pytest.mark.parametrize("size", [33_000, 50_000, 66_000, 70_000, 200_000])
@pytest.mark.parametrize("path", [POLL, ASGI])
@pytest.mark.parametrize("kind", ["header", "line"])
def test_the_reported_sizes_are_refused(port: int, size: int, path: str, kind: str) -> None:
    """The newcomer's sizes (33–66 KB got 200, a 70 KB query an English 400). The server may
    refuse before it has read everything, so the client can see a reset instead of the 431."""
    head = head_of(size, path, kind)
    for cuts in ((), (LIMIT // 2, LIMIT, size - 10)):
        answer = exchange(port, head, cuts)
        assert answer == b"" or answer.startswith(b"HTTP/1.1 431 "), (cuts, answer[:80])


def test_a_request_line_over_the_url_limit_is_431_whatever_the_setting() -> None:
    """With ``max_header_bytes`` above httptools' URL limit, a longer request line is a head too
    large (431, worded), not uvicorn's English 400; a head that large in headers is served."""
    from feedsvc.web.connections import MAX_REQUEST_LINE

    assert MAX_REQUEST_LINE == URL_LIMIT
    http = {"port": free_port(), "max_header_bytes": 4 * URL_LIMIT}
    settings = load_config(None, {"site": {"language": "en"}, "http": http})
    config = uvicorn_config(settings, make_app())  # type: ignore[arg-type]
    config.lifespan = "off"
    with uvicorn_thread(config):
        size = URL_LIMIT + 100
        line = head_of(size, ASGI, "line")
        answer = exchange(settings.http.port, line, (size - 1,))
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:80]
        assert answer.endswith(Translator("en")("http.head_too_large").encode() + b"\n")
        served = exchange(settings.http.port, head_of(size, ASGI, "header"), (size - 1,))
        assert served.startswith(b"HTTP/1.1 200 "), served[:80]
