"""Connection limits of the HTTP server (issue #12 §7), over real sockets: a connection that
sends nothing or dribbles its head is closed, an oversized head gets 431 without stalling the
loop, and idle sockets cannot use up the file descriptors — on both paths (feed polls answered
in the protocol, and requests passed to ASGI)."""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fakeserver import PATIENCE
from processes import CLIENT, answers_ok, free_port, uvicorn_thread, wait_until
from test_web_wire import Conn, make_app, request

from feedsvc.web.wire import wire_protocol

POLL = "/feeds/kien-thuy.rss"  # answered in the protocol
ASGI = "/feeds/search.rss?q=tin"  # answered by the Starlette route


def served(**limits: float) -> tuple[uvicorn.Config, int]:
    app = make_app()
    port = free_port()
    config = uvicorn.Config(
        app,
        port=port,
        http=wire_protocol(app, **limits),  # type: ignore[arg-type]
        log_config=None,
        lifespan="off",
        timeout_keep_alive=5,
    )
    return config, port


@pytest.fixture
def port() -> Iterator[int]:
    config, port = served(header_timeout=1.0, max_header_bytes=8192)
    with uvicorn_thread(config):
        yield port


def get(port: int, path: str, timeout: float = 5) -> httpx.Response:
    return CLIENT.get(f"http://127.0.0.1:{port}{path}", timeout=timeout)


def test_a_connection_that_sends_nothing_is_closed(port: int) -> None:
    with Conn(port) as conn:
        conn.sock.settimeout(5)
        started = time.monotonic()
        assert conn.closed_by_server()
        assert time.monotonic() - started < 4


@pytest.mark.parametrize("path", [POLL, ASGI])
def test_a_head_dribbled_slower_than_the_timeout_is_closed(port: int, path: str) -> None:
    with Conn(port) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n".encode())
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < 5:
            try:
                conn.sendall(b"X-Slow: 1\r\n")  # a header line every 0.2 s, never the end
            except OSError:
                closed = True
                break
            conn.sock.settimeout(0.2)
            try:
                if conn.sock.recv(1) == b"":
                    closed = True
                    break
            except ConnectionResetError:  # closed with our header lines unread: the kernel's RST
                closed = True
                break
            except TimeoutError:
                pass
        assert closed and time.monotonic() - started < 3


def test_the_head_timer_does_not_cut_a_slow_answer_or_the_next_request(port: int) -> None:
    with Conn(port) as conn:
        for _ in range(3):  # keep-alive: each request gets a fresh head deadline
            time.sleep(0.6)  # idle between requests, under the keep-alive timeout
            conn.sendall(request(POLL))
            assert conn.read_response().startswith(b"HTTP/1.1 200 ")


def oversized_heads() -> dict[str, bytes]:
    return {
        "one huge header": b"X-Big: " + b"a" * (4 * 2**20) + b"\r\n",
        "many small headers": b"".join(b"X-H%d: v\r\n" % i for i in range(200_000)),
        "huge cookie": b"Cookie: s=" + b"b" * (2 * 2**20) + b"\r\n",
    }


@pytest.mark.parametrize("path", [POLL, ASGI, "/" + "u" * 2**20])
@pytest.mark.parametrize("kind", list(oversized_heads()))
def test_an_oversized_head_gets_431_and_the_loop_keeps_serving(
    port: int, path: str, kind: str
) -> None:
    head = f"GET {path} HTTP/1.1\r\nHost: x\r\n".encode() + oversized_heads()[kind]
    answer = b""
    with Conn(port) as conn:
        started = time.monotonic()
        with contextlib.suppress(OSError):
            conn.sendall(head)  # the server stops reading long before the end
        conn.sock.settimeout(5)
        try:
            while chunk := conn.sock.recv(65536):
                answer += chunk
        except (TimeoutError, OSError):
            pass
        elapsed = time.monotonic() - started
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 "), answer[:80]
    assert elapsed < 4, f"the oversized head took {elapsed:.1f} s to be refused"
    polled = get(port, POLL, timeout=2)
    assert polled.status_code == 200


def test_a_head_under_the_limit_is_served(port: int) -> None:
    headers = {f"x-h{i}": "v" * 50 for i in range(100)}  # ~6 KB of headers
    for path in (POLL, ASGI):
        answer = httpx.get(f"http://127.0.0.1:{port}{path}", headers=headers, timeout=PATIENCE)
        assert answer.status_code == 200


def test_the_loop_serves_polls_while_a_huge_header_streams_in(port: int) -> None:
    stop = threading.Event()

    def flood() -> None:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nX-Big: ")
            try:
                while not stop.is_set():
                    sock.sendall(b"z" * 65536)
            except OSError:
                return

    threads = [threading.Thread(target=flood) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        worst = max(_timed_poll(port) for _ in range(50))
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    assert worst < 1.0, f"a poll took {worst:.2f} s while huge headers streamed in"


def _timed_poll(port: int) -> float:
    started = time.monotonic()
    assert get(port, POLL, timeout=5).status_code == 200
    return time.monotonic() - started


# --- file descriptors ------------------------------


def _low_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


@pytest.mark.slow
def test_a_thousand_idle_sockets_do_not_lock_new_clients_out(tmp_path: Path) -> None:
    """``feedsvc run`` limited to 256 file descriptors (as a unit with ``LimitNOFILE=256``):
    1,000 silent connections, then a real client must still be served at once."""
    http_port = free_port()
    env = {
        **os.environ,
        "FEEDSVC_CONFIG": "/dev/null",
        "FEEDSVC_HTTP__PORT": str(http_port),
        "FEEDSVC_TOPICS__IMPORT_ON_START": "false",
        "FEEDSVC_HTTP__HEADER_TIMEOUT": "60",  # the cap, not the timer, must do the work here
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "run", "--no-bot", "--no-scheduler"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=_low_fd_limit,
    )
    try:
        wait_until(lambda: _answers(http_port), 60, "feedsvc to answer /healthz")
        idle: list[socket.socket] = []
        try:
            for _ in range(1000):
                sock = socket.socket()
                sock.setblocking(False)
                sock.connect_ex(("127.0.0.1", http_port))
                idle.append(sock)
            time.sleep(1)  # a client's pause: let the server accept what it will
            started = time.monotonic()
            response = httpx.get(f"http://127.0.0.1:{http_port}/healthz", timeout=10)
            assert response.status_code == 200
            assert time.monotonic() - started < 5
        finally:
            for sock in idle:
                sock.close()
        assert proc.poll() is None
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert b"Too many open files" not in out, out.decode(errors="replace")[-2000:]


def _answers(port: int) -> bool:
    return answers_ok(f"http://127.0.0.1:{port}/healthz")


def test_raise_fd_limit_lifts_the_soft_limit() -> None:
    from feedsvc.web.fd_limit import connection_cap, raise_fd_limit

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(512, hard), hard))
        assert raise_fd_limit() == hard if hard != resource.RLIM_INFINITY else True
        resource.setrlimit(resource.RLIMIT_NOFILE, (300, hard))
        assert connection_cap(2000) == 300 - 128
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert os.getpid()  # the test process keeps its own limits
