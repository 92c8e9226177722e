"""A flood of busy keep-alive connections from one address must not lock other clients out
(t-reader: 1,000 of wrk's connections and every other client timed out): new connections are
accepted a batch per event-loop iteration (:mod:`feedsvc.web.accept`; uvloop's libuv takes one),
and one client's open connections are capped (:mod:`feedsvc.web.client_cap`,
``http.max_connections_per_client``) — over real sockets, accepted as ``feedsvc run`` does."""

from __future__ import annotations

import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from processes import readable, uvicorn_thread, wait_until
from test_web_slow_body import serving
from test_web_wire import make_app

from feedsvc.catalogue import Translator
from feedsvc.server import _Server
from feedsvc.web.accept import ACCEPT_BATCH, BatchAcceptServer, batch_size
from feedsvc.web.client_cap import ClientCap
from feedsvc.web.wire import wire_protocol

POLL = "/feeds/kien-thuy.rss"  # answered in the protocol
ASGI = "/feeds/search.rss?q=tin"  # answered by the Starlette route
FLOOD = Path(__file__).with_name("keepalive_flood.py")
OTHER = "127.0.0.2"  # another client: Linux routes all of 127.0.0.0/8 to loopback


@contextmanager
def served(**limits: object) -> Iterator[int]:
    """The test app on a listening socket of this test's, accepted by
    :class:`BatchAcceptServer` as ``feedsvc run``'s server does; yields the port."""
    app = make_app()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)  # feedsvc.listen's backlog
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        http=wire_protocol(app, **limits),  # type: ignore[arg-type]
        log_config=None,
        lifespan="off",
        timeout_keep_alive=30,
    )
    try:
        with uvicorn_thread(config, sock, BatchAcceptServer):
            yield port
    finally:
        sock.close()


def answer(port: int, path: str, source: str = "127.0.0.1", within: float = 10) -> bytes:
    """The whole answer to ``path`` on a new connection from ``source`` (``Connection:
    close``: read to its end), or what came of it within ``within`` seconds."""
    end = time.monotonic() + within
    with socket.create_connection(
        ("127.0.0.1", port), timeout=within, source_address=(source, 0)
    ) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while (left := end - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            data += chunk
    return data


def status(data: bytes) -> int | None:
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None


def held_open(port: int, source: str, n: int) -> list[socket.socket]:
    """``n`` keep-alive connections from ``source``, each answered 200 once and kept open."""
    conns = []
    for _ in range(n):
        sock = socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0))
        sock.sendall(f"GET {POLL} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert status(sock.recv(65536)) == 200
        conns.append(sock)
    return conns


# -- a busy keep-alive flood ------------------------------------------------------------------
@pytest.mark.parametrize("path", [POLL, ASGI])
def test_another_client_is_answered_during_a_busy_keep_alive_flood(path: str) -> None:
    """200 connections from 127.0.0.1 each keep 16 pipelined requests asked, and 400 more wait
    in the listen queue: a new connection from 127.0.0.2 is answered within 15 s. Accepting one
    connection per iteration, it waited behind the 400 for one long iteration each."""
    with served() as port:  # no per-client cap (wire_protocol's default)
        flood = subprocess.Popen(
            [sys.executable, str(FLOOD), str(port), POLL, "200", "16", "400"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert flood.stdout is not None
            assert readable(flood.stdout, 60), "the flood did not start in 60 s"
            assert flood.stdout.readline().strip() == "ready"
            got = answer(port, path, OTHER, within=15)  # the bound under test (docstring)
            assert status(got) == 200, got[:200]
            assert flood.poll() is None, "the flood stopped: it was not busy throughout"
        finally:
            assert flood.stdin is not None
            flood.stdin.close()
            flood.kill()
            flood.wait(timeout=30)


def test_feedsvc_run_accepts_a_batch_at_a_time() -> None:
    assert issubclass(_Server, BatchAcceptServer)


def test_a_batch_leaves_the_file_descriptors_the_connection_cap_keeps_free() -> None:
    """Connections accepted before the cap can close any must not use up the process's file
    descriptors (a batch of 128 at a limit of 256: EMFILE, and accepting paused)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert batch_size(soft - 128) == min(64, ACCEPT_BATCH)  # the cap at its lowest
    assert batch_size(None) == ACCEPT_BATCH


# -- the per-client cap -----------------------------------------------------------------------
@pytest.mark.parametrize("path", [POLL, ASGI, "/no-such-page"])
def test_the_connection_over_a_clients_cap_is_refused_and_another_clients_is_not(
    path: str,
) -> None:
    with served(max_connections_per_client=3) as port:
        held = held_open(port, "127.0.0.1", 3)
        try:
            refused = answer(port, path)
            head, _, body = refused.partition(b"\r\n\r\n")
            assert status(refused) == 429, refused[:200]
            assert b"\r\nretry-after: 1\r\n" in head
            assert head.endswith(b"\r\nconnection: close")
            assert body.decode() == Translator("vi")("http.too_many_connections") + "\n"
            assert status(answer(port, path, OTHER)) != 429  # another address: served
            assert status(answer(port, POLL, OTHER)) == 200
            held.pop().close()  # one of the three closes: 127.0.0.1 may open one again
            wait_until(lambda: status(answer(port, POLL)) == 200, 30, "a slot freed")
        finally:
            for sock in held:
                sock.close()


def test_a_trusted_proxys_connections_are_not_capped() -> None:
    with served(max_connections_per_client=2, trusted_proxies=["127.0.0.1/32"]) as port:
        held = held_open(port, "127.0.0.1", 4)  # the proxy: past the cap, every one served
        held += held_open(port, OTHER, 2)
        try:
            assert status(answer(port, POLL)) == 200
            assert status(answer(port, POLL, OTHER)) == 429  # not a proxy: capped
        finally:
            for sock in held:
                sock.close()


def test_the_service_binds_the_cap_from_its_settings(tmp_path: Path) -> None:
    """``http.max_connections_per_client`` and ``http.trusted_proxies`` reach the protocol
    ``feedsvc run`` serves with (:func:`feedsvc.server.uvicorn_config`), its 429 worded in the
    site's language."""
    http = {"max_connections_per_client": 2, "trusted_proxies": ["10.0.0.0/8"]}
    with serving(tmp_path, {}, http) as (port, config, _):
        held = held_open(port, "127.0.0.1", 2)
        try:
            refused = answer(port, "/healthz")
            assert status(refused) == 429
            assert refused.endswith(Translator("vi")("http.too_many_connections").encode() + b"\n")
            cap = config.http.client_cap  # type: ignore[union-attr]
            assert cap.take("10.1.2.3") == (None, True)  # a proxy's: not counted
        finally:
            for sock in held:
                sock.close()


def test_the_default_cap_is_256() -> None:
    from feedsvc.config import load_config

    assert load_config(None, {}).http.max_connections_per_client == 256
    assert load_config(None, {"http": {"max_connections_per_client": 0}}).http


# -- ClientCap itself -------------------------------------------------------------------------
def test_a_clients_connections_are_counted_per_ipv4_address_and_ipv6_64() -> None:
    cap = ClientCap(2)
    assert cap.take("192.0.2.1")[1] and cap.take("192.0.2.1")[1]
    assert cap.take("192.0.2.1") == (None, False)
    assert cap.take("192.0.2.2")[1]
    assert cap.take("2001:db8:1:1::1")[1] and cap.take("2001:db8:1:1:ffff::2")[1]
    assert cap.take("2001:db8:1:1::3") == (None, False)  # one /64: one client
    assert cap.take("2001:db8:1:2::1")[1]  # the next /64: another
    assert cap.take("::ffff:192.0.2.1") == (None, False)  # IPv4-mapped: the IPv4 client
    key, _ = cap.take("192.0.2.9")
    cap.release(key)
    assert cap.open_from("192.0.2.9") == 0


def test_a_slot_is_given_back_when_its_connection_closes() -> None:
    cap = ClientCap(1)
    key, within = cap.take("192.0.2.1")
    assert within and cap.take("192.0.2.1") == (None, False)
    cap.release(key)
    assert cap.take("192.0.2.1")[1]
    cap.release(None)  # a connection that was not counted: nothing to give back
    assert cap.open_from("192.0.2.1") == 1


def test_no_cap_and_exempt_proxies_count_nothing() -> None:
    assert ClientCap(0).take("192.0.2.1") == (None, True)
    cap = ClientCap(1, ["10.0.0.0/8", "2001:db8::/32"])
    for host in ("10.0.0.1", "10.0.0.1", "::ffff:10.9.9.9", "2001:db8::5", "2001:db8::5"):
        assert cap.take(host) == (None, True)
    assert cap.take(None) == (None, True)  # no peer address (a Unix socket)
