"""Helpers for tests that run feedsvc (or nginx) as real processes on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx


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


def get(url: str, **headers: str) -> httpx.Response | None:
    """GET, or None when nothing answers (yet)."""
    try:
        return httpx.get(url, timeout=2, headers=headers)
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
