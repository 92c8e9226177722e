"""Helpers for tests that run feedsvc (or nginx) as real processes, or uvicorn in a thread, on
loopback."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``predicate`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def readable(fd: int | Any, timeout: float) -> bool:
    """Whether ``fd`` (a descriptor, or a file with ``fileno()``) has something to read within
    ``timeout`` seconds. ``poll``, not ``select``: a worker that has run thousands of tests
    holds descriptors numbered past 1024, which ``select`` refuses ("filedescriptor out of
    range in select()": 7 tests of one CI worker)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(max(0.0, timeout) * 1000))


#: one client for every poll of this worker: ``httpx.get`` built a client per call, and each
#: loads the CA bundle into an SSL context even for http:// (~3 % of the suite's CPU, polled
#: every 0.1 s). No keep-alive: each request has a connection of its own, as before, so no
#: idle connection is held to a server a test stops or counts connections of; no proxy from
#: the environment (loopback only).
CLIENT = httpx.Client(timeout=2, trust_env=False, limits=httpx.Limits(max_keepalive_connections=0))


def get(url: str, **headers: str) -> httpx.Response | None:
    """GET, or None when nothing answers (yet)."""
    try:
        return CLIENT.get(url, headers=headers)
    except httpx.HTTPError:
        return None


def answers_ok(url: str) -> bool:
    return (r := get(url)) is not None and r.status_code == 200


def start_feedsvc(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """``python -m feedsvc ARGS`` in ``cwd`` with ``env`` on top of ours; output piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "feedsvc", *args],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def listeners(port: int) -> int:
    """Sockets in LISTEN state on ``port`` (IPv4), from Linux's /proc/net/tcp."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(
        1
        for line in lines
        if (fields := line.split())[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port
    )


def unread_by_server(client: socket.socket) -> int | None:
    """Bytes ``client`` sent that the server's end of the connection (loopback, IPv4) has not
    read yet — its receive queue in Linux's /proc/net/tcp; None when that end is gone. 0 means
    the server process holds everything sent (its HTTP parser has seen it)."""
    host, port = client.getsockname()
    peer_host, peer_port = client.getpeername()
    local = f"{_hex_addr(peer_host)}:{peer_port:04X}"
    remote = f"{_hex_addr(host)}:{port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[2] == remote:
            return int(fields[4].split(":")[1], 16)
    return None


def _hex_addr(ip: str) -> str:
    """An IPv4 address as /proc/net/tcp writes it: 127.0.0.1 → 0100007F."""
    return "".join(f"{int(part):02X}" for part in reversed(ip.split(".")))


@contextmanager
def uvicorn_thread(
    config: uvicorn.Config,
    sock: socket.socket | None = None,
    server_class: type[uvicorn.Server] = uvicorn.Server,
) -> Iterator[uvicorn.Server]:
    """Serve ``config`` from a thread (on ``sock`` if given) until the block ends; yields the
    server, whose ``server_state`` tells which request cycles still run. ``server_class``:
    ``feedsvc.web.accept.BatchAcceptServer`` accepts as ``feedsvc run`` does (given ``sock``)."""
    server = server_class(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock] if sock else None}, daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start in 20 s"
        assert thread.is_alive(), "uvicorn exited during start-up"
        time.sleep(0.02)
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        assert not thread.is_alive(), "uvicorn did not stop in 10 s"


def terminate(proc: subprocess.Popen[bytes], timeout: float = 30) -> int:
    """SIGTERM ``proc`` and wait for its exit code; killed and reaped if it outlives
    ``timeout`` seconds (the wait's ``TimeoutExpired`` then fails the test)."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def run_then_sigterm(
    tmp_path: Path,
    env: dict[str, str],
    argv: list[str],
    ready: Callable[[Callable[[], str]], bool],
    wait: float,
    what: str,
) -> tuple[int, float, str]:
    """``feedsvc run *argv`` (on a free port, its log in ``tmp_path``) until ``ready(log)``
    (``log()`` reads what it wrote so far), then SIGTERM: (exit code, seconds from the signal
    to the exit, the log). A process that ended before it was ready fails the test."""
    log_path = tmp_path / "service.log"
    args = [sys.executable, "-m", "feedsvc", "run", "--port", str(free_port()), *argv]
    with log_path.open("wb") as out:
        proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            text = lambda: log_path.read_text("utf-8", errors="replace")  # noqa: E731
            wait_until(lambda: ready(text) or proc.poll() is not None, wait, what)
            assert proc.poll() is None, text()
            proc.send_signal(signal.SIGTERM)
            t0 = time.monotonic()
            code = proc.wait(timeout=30)
            return code, time.monotonic() - t0, text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
