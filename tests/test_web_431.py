"""The 431 answer (request head too large) is worded from the catalogue like every other HTTP
answer, in the site's language, with a Content-Length that counts its UTF-8 bytes (defects §7).

The answer is written by the protocol before any ASGI app sees the request (the head is never
parsed), so it was a fixed English byte string; it now comes from ``http.head_too_large``.
Served through :func:`feedsvc.app.uvicorn_config`, the service's own wiring, over a socket.
"""

from __future__ import annotations

import socket

import pytest
from processes import free_port, uvicorn_thread
from test_web_wire import make_app

from feedsvc.app import uvicorn_config
from feedsvc.catalogue import Translator
from feedsvc.config import load_config
from feedsvc.web.connections import BoundedHttpProtocol

LIMIT = 2048


def answer_to_oversized_head(port: int, path: str, extra: bytes) -> bytes:
    """Send a head just over the limit in one write (so the server reads all of it and closes
    cleanly), then read until the server closes."""
    head = f"GET {path} HTTP/1.1\r\nHost: x\r\n".encode() + extra
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("/feeds/kien-thuy.rss", b"X-Big: " + b"a" * (LIMIT + 500) + b"\r\n"),  # a feed poll
        ("/feeds/search.rss?q=tin", b"".join(b"X-H%d: v\r\n" % i for i in range(400))),
        ("/admin", b"Cookie: s=" + b"b" * (LIMIT + 100) + b"\r\n"),
    ],
)
def test_431_is_worded_in_the_site_language(language: str, path: str, extra: bytes) -> None:
    http = {"port": free_port(), "max_header_bytes": LIMIT}
    settings = load_config(None, {"site": {"language": language}, "http": http})
    config = uvicorn_config(settings, make_app())  # type: ignore[arg-type]
    config.lifespan = "off"
    with uvicorn_thread(config):
        answer = answer_to_oversized_head(settings.http.port, path, extra)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 "), answer[:80]
    expected = Translator(language)("http.head_too_large") + "\n"
    assert body.decode("utf-8") == expected
    assert f"content-length: {len(expected.encode())}".encode() in head.lower()
    assert b"charset=utf-8" in head


def test_an_unbound_protocol_answers_in_the_catalogue_default() -> None:
    body = BoundedHttpProtocol.too_large.tail.partition(b"\r\n\r\n")[2].decode("utf-8")
    assert body == Translator("vi")("http.head_too_large") + "\n"
