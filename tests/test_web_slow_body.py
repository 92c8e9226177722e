"""A client that stalls after its request head (tester 3, F1), over real sockets against the
service's own wiring (:func:`feedsvc.server.uvicorn_config`, :mod:`feedsvc.web.stalls`).

A head announcing a body that then came a byte at a time — to any URL, the pre-auth
``POST /admin/login`` included — held its connection for ever, and such connections were not
among those the connection cap closes: enough of them locked every other client out. Here: a
body that stalls, trickles or never ends is 408 and closed; a route that needs no body answers
and closes without waiting for it; an answer nobody reads is cut; and with the cap full of such
sockets a normal client still gets ``/healthz`` and a feed.

The deadlines are short here; they are set on the bound protocol class, and one test checks
that the ``[http]`` keys reach it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest
import uvicorn
from factories import article
from fakeserver import PATIENCE
from migrated import premigrated
from processes import CLIENT, free_port, uvicorn_thread, wait_until

from feedsvc import operations as ops
from feedsvc.app import Roles, Service, create_app, uvicorn_config
from feedsvc.catalogue import Translator
from feedsvc.config import load_config
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec

TOKEN = "adm-slowbody-0123456789abcdef"
FEED = "/feeds/kien-thuy.rss"
#: short deadlines: a body may go 1 s without a byte and take 2.5 s in all; an answer 1 s unread
QUICK = {"body_idle_timeout": 1.0, "body_timeout": 2.5, "send_timeout": 1.0}
#: bytes: the server's per-connection send buffer in the flood tests; 8 KiB (was 64) still
#: stalls the writes with pipelined answers queued (the old code fails 4 of 4), fewer pages
SEND_BUFFER = 8 * 1024
#: deadlines too long to matter within a test: the connection cap must do the work
NEVER = {"body_idle_timeout": 600.0, "body_timeout": 3600.0, "send_timeout": 3600.0}


def _fill(service: Service) -> None:
    with service.db.write() as conn:
        now = datetime.now(UTC)
        upsert_source_articles(conn, [article(i, published_at=now) for i in (1, 2, 3)], now)
    ops.save_topic(service.db, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "cli")
    assert service.ingest_tick().error is None
    service.publisher.sync()


class Served(NamedTuple):
    """What :func:`serving` yields: the port, uvicorn's config (its protocol class carries
    the deadlines and the open connections) and the server (its request cycles)."""

    port: int
    config: uvicorn.Config
    server: uvicorn.Server


@contextmanager
def serving(
    tmp: Path,
    deadlines: dict[str, float],
    http: dict[str, object] | None = None,
    send_buffer: int | None = None,
) -> Iterator[Served]:
    """The whole app over uvicorn on a new SQLite DB (readers in Vietnamese, the admin in
    English, one topic), its protocol class given ``deadlines``; each accepted connection's
    kernel send buffer ``send_buffer`` bytes when given (:func:`listening`)."""
    port = free_port()
    settings = load_config(None, {
        "database": {"url": premigrated(f"sqlite:///{tmp / 's.db'}")},
        "topics": {"import_on_start": False},
        "site": {"language": "vi"},
        "admin": {"language": "en", "token": TOKEN},
        "http": {"port": port, "header_timeout": 2.0, **(http or {})},
    })  # fmt: skip
    service = Service(settings, Roles(scheduler=False, bot=False))
    service.prepare()
    try:
        _fill(service)
        config = uvicorn_config(settings, create_app(service))
        for name, value in deadlines.items():
            setattr(config.http, name, value)
        sock = listening(port, send_buffer) if send_buffer else None
        with uvicorn_thread(config, sock) as server:
            yield Served(port, config, server)
    finally:
        service.close()


def listening(port: int, send_buffer: int) -> socket.socket:
    """A listening socket whose accepted connections have a fixed send buffer (Linux: they
    inherit it, and a set size turns the buffer's autotuning off). Why: on loopback the buffer
    grows to megabytes, so a server answering requests nobody reads renders thousands of pages
    before its writes stall (13-18 s a test for the reader pages); with 8 KiB a few do."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    # and a fixed receive buffer: one read takes at most that much of the flood, so a few
    # hundred pipelined requests wait their turn when the cut comes, not thousands (each run
    # through the app once cut: ~8 s for /healthz's short requests); the cut still finds some
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, send_buffer)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    return sock


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with serving(tmp_path_factory.mktemp("slowbody"), QUICK) as (port, _, _):
        yield port


def head(method: str, path: str, **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: x", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


FORM = {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": "100000"}
JSON = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}


class Outcome:
    """What a stalling client saw: the bytes answered, whether the server closed, when."""

    def __init__(self) -> None:
        self.answer = b""
        self.closed_after: float | None = None

    @property
    def status(self) -> int | None:
        return int(self.answer.split(b" ", 2)[1]) if self.answer.startswith(b"HTTP/1.") else None

    @property
    def headers(self) -> dict[str, str]:
        lines = self.answer.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")[1:]
        return {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines)}


def stall(
    port: int, first: bytes, more: Callable[[int], bytes | None], every: float, limit: float
) -> Outcome:
    """Send ``first``, then ``more(i)`` every ``every`` s (None: nothing), reading whatever
    comes, until the server closes or ``limit`` s pass (a deadline, not a synchronisation)."""
    out = Outcome()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(first)
        started = time.monotonic()
        sent_at, i = started, 0
        while time.monotonic() - started < limit:
            if time.monotonic() >= sent_at + every:
                data = more(i)
                i, sent_at = i + 1, time.monotonic()
                if data:
                    with contextlib.suppress(OSError):  # the server may be closing
                        sock.sendall(data)
            sock.settimeout(0.05)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                out.closed_after = time.monotonic() - started
                break
            out.answer += chunk
    return out


def trickle(_: int) -> bytes:
    return b"a"


def nothing(_: int) -> None:
    return None


def chunks(i: int) -> bytes:
    return b"1\r\na\r\n"  # a chunk of one byte, for ever


def timed_out_408(out: Outcome, within: float) -> None:
    assert out.status == 408, out.answer[:200]
    assert out.closed_after is not None and out.closed_after < within, out.closed_after
    assert out.headers["connection"] == "close"
    body = out.answer.partition(b"\r\n\r\n")[2].decode()
    assert body == Translator("vi")("http.body_timeout") + "\n"


# -- the shown input: a body trickled a byte at a time ---------------------------------------


def test_a_login_body_trickled_a_byte_at_a_time_is_408_at_the_whole_body_bound(
    quick: int,
) -> None:
    out = stall(quick, head("POST", "/admin/login", **FORM), trickle, 0.3, 8)
    timed_out_408(out, within=5)
    assert out.closed_after is not None and out.closed_after >= 2.0  # the 2.5 s bound, not 1 s


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_healthz_with_a_trickled_body_is_answered_and_closed_without_waiting_for_it(
    quick: int, method: str
) -> None:
    out = stall(quick, head(method, "/healthz", **{"Content-Length": "100000"}), trickle, 0.3, 8)
    assert out.status == (200 if method == "GET" else 405), out.answer[:200]
    assert out.headers["connection"] == "close"
    assert out.closed_after is not None and out.closed_after < 4.5, out.closed_after


def test_a_feed_with_a_trickled_body_is_answered_and_closed(quick: int) -> None:
    out = stall(quick, head("GET", FEED, **{"Content-Length": "100000"}), trickle, 0.3, 8)
    assert out.status == 200 and b"<rss" in out.answer
    assert out.closed_after is not None and out.closed_after < 4.5, out.closed_after


# -- variants ----------------------------------------------------------------------------------


def test_a_login_body_that_never_comes_is_408_at_the_idle_bound(quick: int) -> None:
    out = stall(quick, head("POST", "/admin/login", **FORM) + b"token=ab", nothing, 0.3, 8)
    timed_out_408(out, within=2.5)


def test_a_chunked_body_that_never_ends_is_408(quick: int) -> None:
    first = head("POST", "/admin/login", **{
        "Content-Type": "application/x-www-form-urlencoded", "Transfer-Encoding": "chunked"
    })  # fmt: skip
    out = stall(quick, first, chunks, 0.3, 8)
    timed_out_408(out, within=5)


def test_an_api_body_that_stalls_midway_with_a_valid_token_is_408(quick: int) -> None:
    body = json.dumps({"slug": "cham", "title": "Chậm", "query": "tin"}).encode()
    first = head("POST", "/api/topics", **JSON, **{"Content-Length": str(len(body))})
    out = stall(quick, first + body[:10], nothing, 0.3, 8)
    timed_out_408(out, within=2.5)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    answer = httpx.get(f"http://127.0.0.1:{quick}/api/topics/cham", headers=auth, timeout=PATIENCE)
    assert answer.status_code == 404


def test_an_upgrade_offer_with_a_stalled_body_is_408(quick: int) -> None:
    first = head("POST", "/admin/login", **FORM, Connection="Upgrade", Upgrade="websocket")
    out = stall(quick, first + b"tok", nothing, 0.3, 8)
    timed_out_408(out, within=2.5)


def test_a_body_sent_slowly_but_steadily_is_served(quick: int) -> None:
    """Under both bounds (a byte every 0.2 s, 10 bytes): the login answers as usual."""
    body = b"token=abcd"
    first = head("POST", "/admin/login", **FORM | {"Content-Length": str(len(body))})
    out = stall(quick, first, lambda i: body[i : i + 1] or None, 0.2, 8)
    assert out.status in (200, 303, 401, 403, 429), out.answer[:200]


def test_a_body_the_route_reads_keeps_the_connection_alive(quick: int) -> None:
    """Only a body left unread closes the connection: an API body is read, keep-alive stays."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(
        base_url=f"http://127.0.0.1:{quick}", headers=auth, timeout=PATIENCE
    ) as client:
        for i in range(3):
            topic = {"slug": f"keep{i}", "title": "Giữ", "query": "tin"}
            answer = client.post("/api/topics", json=topic)
            assert answer.status_code == 201, answer.text
            assert answer.headers.get("connection") != "close"


def flood_unread(port: int, config: uvicorn.Config, path: str) -> None:
    """Pipeline thousands of GETs of ``path`` on one connection with a small receive buffer,
    never reading an answer, until the server stops reading; return once it let go of the
    connection (its send deadline, ``http.send_timeout``)."""
    poll = head("GET", path)
    with socket.socket() as sock:
        registry = config.http.open_connections
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        wait_until(lambda: len(registry) == 1, 30, "the connection to be open")
        sock.settimeout(0.5)
        with contextlib.suppress(OSError):  # until the server stops reading
            for _ in range(10_000):
                sock.sendall(poll * 64)
        # a generous bound: before its writes stall, the server renders answers into the
        # kernel's send buffer (megabytes on loopback), a reader page at a time on a busy CPU
        wait_until(lambda: not registry, 60, "the unread connection to be let go")


def test_an_answer_nobody_reads_is_cut(tmp_path: Path) -> None:
    """Thousands of pipelined feed polls, the answers never read: once the buffers are full
    and nothing moves for ``send_timeout``, the server lets go of the connection (it waited
    for the client for ever: the connection stayed open, ``close()`` waits for the bytes)."""
    with serving(tmp_path, QUICK, send_buffer=SEND_BUFFER) as (port, config, _):
        flood_unread(port, config, FEED)


@pytest.mark.parametrize("path", [FEED, "/topics/kien-thuy", "/healthz", "/"])
def test_an_unread_pipelined_answer_is_cut_without_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    """Pipelined requests whose answers are never read: the send deadline cuts the connection
    while the next request's answer waits its turn. uvicorn marks only the newest request's
    client gone, so the one waiting wrote to the closed transport: "Exception in ASGI
    application" and uvloop's RuntimeError traceback in the log, for what a client did."""
    with serving(tmp_path, QUICK, send_buffer=SEND_BUFFER) as (port, config, server):
        flood_unread(port, config, path)
        tasks = server.server_state.tasks
        wait_until(lambda: not tasks, 30, "the request cycles that waited their turn to end")
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=PATIENCE).status_code == 200
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


# -- the connection cap: stalled sockets go, new clients get in --------------------------------


def _attack(port: int, n: int, path: str) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        sock = socket.create_connection(("127.0.0.1", port))
        method = "POST" if path == "/admin/login" else "GET"
        sock.sendall(head(method, path, **FORM))
        socks.append(sock)
    return socks


def _served_within(port: int, path: str, seconds: float) -> bool:
    try:
        return CLIENT.get(f"http://127.0.0.1:{port}{path}", timeout=seconds).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize(("deadlines", "rounds"), [(NEVER, 6), (QUICK, 12)], ids=["cap", "timers"])
def test_many_slow_body_sockets_do_not_lock_a_normal_client_out(
    tmp_path: Path, deadlines: dict[str, float], rounds: int
) -> None:
    """``max_connections`` 10, 25 sockets trickling bodies to the login form and ``/healthz``:
    every round a normal client gets ``/healthz`` and a feed within 3 s."""
    with serving(tmp_path, deadlines, {"max_connections": 10}) as (port, _, _):
        socks = _attack(port, 13, "/admin/login") + _attack(port, 12, "/healthz")
        try:
            for _ in range(rounds):
                for sock in socks:
                    with contextlib.suppress(OSError):
                        sock.sendall(b"a")
                started = time.monotonic()
                assert _served_within(port, "/healthz", 3)  # the bound under test (docstring)
                assert _served_within(port, FEED, 3)
                assert time.monotonic() - started < 6
                time.sleep(0.25)  # the attacker's pace, not a synchronisation
        finally:
            for sock in socks:
                sock.close()


def test_the_longest_stalled_connection_goes_first(tmp_path: Path) -> None:
    """At the cap, the socket heard from longest ago is the one closed, not a fresher one."""
    with serving(tmp_path, NEVER, {"max_connections": 10}) as (port, config, _):
        registry = config.http.open_connections
        old = _attack(port, 1, "/admin/login")
        wait_until(lambda: len(registry) == 1, 30, "the first socket to be open")
        first = next(iter(registry))
        fresh = _attack(port, 9, "/admin/login")
        wait_until(lambda: len(registry) == 10, 30, "ten sockets to be open")
        for sock in fresh:
            sock.sendall(b"a")  # heard from: fresher than ``old``
        wait_until(
            lambda: all(
                c.stalled_since() > first.stalled_since() for c in registry if c is not first
            ),
            30,
            "the server to hear the fresh sockets",
        )
        try:
            assert _served_within(port, "/healthz", 3)  # the 3 s bound of the test above
            old[0].settimeout(30)  # patience: closed when /healthz was let in
            with contextlib.suppress(ConnectionResetError):
                assert old[0].recv(100) == b""  # closed
            for sock in fresh:
                sock.settimeout(0.05)
                with pytest.raises(TimeoutError):
                    sock.recv(100)  # still open, nothing said
        finally:
            for sock in old + fresh:
                sock.close()


def test_the_http_keys_reach_the_protocol(tmp_path: Path) -> None:
    settings = load_config(None, {
        "database": {"url": premigrated(f"sqlite:///{tmp_path / 's.db'}")},
        "http": {"body_timeout": 7.5, "body_idle_timeout": 3, "send_timeout": 9},
    })  # fmt: skip
    service = Service(settings, Roles(scheduler=False, bot=False))
    config = uvicorn_config(settings, create_app(service))
    protocol = config.http
    assert (protocol.body_timeout, protocol.body_idle_timeout, protocol.send_timeout) == (
        7.5, 3, 9
    )  # fmt: skip
    defaults = load_config(None, {"database": {"url": f"sqlite:///{tmp_path / 's.db'}"}}).http
    assert (defaults.body_timeout, defaults.body_idle_timeout, defaults.send_timeout) == (
        60,
        10,
        30,
    )
