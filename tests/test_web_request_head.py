"""A request target typed with raw UTF-8 (``curl 'http://host/?q=Kiến'``) is served as the same
request percent-encoded, as a browser sends it (``feedsvc.web.request_head``), over real sockets
through the service's own wiring, and the head limits still hold. It used to be answered
``400`` "malformed request": llhttp refuses bytes from 0x80 up in a URL."""

from __future__ import annotations

import itertools
import socket
import urllib.parse
from collections.abc import Iterator

import pytest
from processes import free_port, uvicorn_thread
from starlette.applications import Starlette
from test_web_head_limit import URL_LIMIT, exchange
from test_web_wire import MAX_AGE, Backend, SpyFastPath

from feedsvc.app import uvicorn_config
from feedsvc.catalogue import Translator
from feedsvc.config import load_config
from feedsvc.web.feeds import feed_routes
from feedsvc.web.http_cache import Snapshot
from feedsvc.web.request_head import HeadCount, percent_encoded

TYPED = ["Kiến Thụy", "an ninh", "Đà Nẵng", "công an 🚓", "ế" * 40, "\ufeffx"]


class RecordingBackend(Backend):
    """Records the queries the search feed and the index search were asked."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    def search(self, query: str, fmt: str, limit: int) -> Snapshot:
        self.queries.append(query)
        return super().search(query, fmt, limit)

    search_job = search

    def index_search(self, query: str, page: int) -> Snapshot:
        self.queries.append(query)
        return super().index_search(query, page)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[RecordingBackend, int]]:
    backend = RecordingBackend()
    app = SpyFastPath(Starlette(routes=feed_routes(backend, MAX_AGE)), backend, MAX_AGE)
    settings = load_config(None, {"site": {"language": "vi"}, "http": {"port": free_port()}})
    config = uvicorn_config(settings, app)
    config.lifespan = "off"
    with uvicorn_thread(config):
        yield backend, settings.http.port


def get(port: int, target: bytes, cuts: tuple[int, ...] = ()) -> bytes:
    return exchange(port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n", cuts)


def status(answer: bytes) -> bytes:
    return answer.split(b"\r\n", 1)[0]


@pytest.mark.parametrize("typed", TYPED)
@pytest.mark.parametrize("path", ["/feeds/search.rss?q=", "/?q=", "/feeds/search.atom?limit=5&q="])
def test_a_raw_utf8_query_is_the_query_a_browser_sends(
    served: tuple[RecordingBackend, int], path: str, typed: str
) -> None:
    backend, port = served
    raw = (path + typed.replace(" ", "+")).encode()
    encoded = (path + urllib.parse.quote_plus(typed)).encode()
    asked = []
    for target in (raw, encoded):
        backend.queries.clear()
        answer = get(port, target)
        assert status(answer) == b"HTTP/1.1 200 OK", (target, answer[:120])
        asked.append(list(backend.queries))
    assert asked[0] == asked[1] == [typed.lstrip("\ufeff")]


def test_a_raw_target_split_at_every_byte_is_read_whole(
    served: tuple[RecordingBackend, int],
) -> None:
    backend, port = served
    target = "/feeds/search.rss?q=Kiến+Thụy".encode()
    head = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    for cut in range(1, len(head)):
        backend.queries.clear()
        answer = exchange(port, head, (cut,))
        assert status(answer) == b"HTTP/1.1 200 OK", (cut, answer[:120])
        assert backend.queries == ["Kiến Thụy"], cut


@pytest.mark.parametrize(
    "raw", ["/feeds/kiến-thuy.rss", "/feeds/search.rss?q=%ZZ\xe9", "/topics/đà-nẵng/", "/\u202e"]
)
def test_a_raw_path_answers_as_its_encoded_form(
    served: tuple[RecordingBackend, int], raw: str
) -> None:
    _, port = served
    encoded = percent_encoded(raw.encode())
    assert encoded != raw.encode()
    raw_answer, encoded_answer = get(port, raw.encode()), get(port, encoded)
    assert status(raw_answer) == status(encoded_answer) != b"HTTP/1.1 400 Bad Request"
    assert raw_answer.partition(b"\r\n\r\n")[2] == encoded_answer.partition(b"\r\n\r\n")[2]


def test_bytes_that_are_no_utf8_answer_as_their_encoded_form(
    served: tuple[RecordingBackend, int],
) -> None:
    backend, port = served
    for raw in (b"/feeds/search.rss?q=caf\xe9", b"/?q=\xff\xfe", b"/feeds/x\xc3.rss"):
        seen = []
        for target in (raw, percent_encoded(raw)):
            backend.queries.clear()
            answer = get(port, target)
            seen.append((status(answer), answer.partition(b"\r\n\r\n")[2], backend.queries[:]))
        assert seen[0] == seen[1], raw


def test_pipelined_raw_requests_are_each_answered(served: tuple[RecordingBackend, int]) -> None:
    backend, port = served
    backend.queries.clear()
    one = "GET /feeds/search.rss?q=Kiến HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    two = "GET /?q=Thụy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(one + two)
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.count(b"HTTP/1.1 200 OK\r\n") == 2, answer[:200]
    assert backend.queries == ["Kiến", "Thụy"]


def test_a_raw_byte_in_the_method_or_version_stays_a_worded_400(
    served: tuple[RecordingBackend, int],
) -> None:
    _, port = served
    worded = Translator("vi")("http.bad_request").encode()
    for head in ("GÉT / HTTP/1.1\r\nHost: x\r\n\r\n", "GET / HTTP/1.ế\r\nHost: x\r\n\r\n"):
        answer = exchange(port, head.encode(), ())
        assert status(answer) == b"HTTP/1.1 400 Bad Request", head
        assert answer.rstrip().endswith(worded)


def test_the_line_limit_counts_the_encoded_target(served: tuple[RecordingBackend, int]) -> None:
    """25,000 raw bytes are under the 32 KiB head limit but 75,000 once encoded, over the
    parser's URL limit: a head too large (431, worded), never the parser's English 400."""
    _, port = served
    raw = b"/feeds/search.rss?q=" + "ế".encode() * (25_000 // 3)
    assert len(raw) < 32768 < URL_LIMIT < len(percent_encoded(raw))
    answer = get(port, raw, (len(raw) // 2,))
    assert answer == b"" or status(answer) == b"HTTP/1.1 431 Request Header Fields Too Large"
    assert b"Invalid HTTP request" not in answer


def test_head_count_encodes_the_request_line_only_wherever_the_reads_split() -> None:
    line = "GET /?q=Kiến&t=Thụy HTTP/1.1\r\n".encode()
    headers = "X-Name: Kiến\r\n\r\n".encode()  # header values are the parser's business
    body = "ế".encode()
    data = b"\r\n" + line + headers + body
    want = b"\r\n" + percent_encoded(line) + headers
    for a, b in itertools.combinations(range(1, len(data)), 2):
        head, fed, taken = HeadCount(), b"", 0
        for left, right in ((0, a), (a, b), (b, len(data))):
            chunk = data[left:right]
            if taken >= len(data) - len(body):
                break
            take, part = head.take(chunk)
            fed += part
            taken += take
        assert fed == want, (a, b)
        assert head.size == len(data) - len(body)
        assert head.line_size == len(percent_encoded(line))
        assert not head.line_open
