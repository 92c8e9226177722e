"""The log of a stop that cut a request short holds feedsvc's one WARNING for it, not also
uvicorn's ERROR "Cancel 1 running task(s), timeout graceful shutdown exceeded": an operator
read an error for a case the service handles (``web.stopping.StopAnswer``: a 503) and explains.

The real service (``feedsvc run``) on loopback, a request held open by its body (the API route
waits for the rest of it, as a backfill waits for its batch), then SIGTERM or Ctrl-C: uvicorn's
2 s grace period ends with the request open."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from processes import free_port, unread_by_server, wait_until
from site_placeholder import unplaced

TOKEN = "stopping-log-token-0123456789"


def service_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    return env | {
        "FEEDSVC_CONFIG": "/dev/null",
        "FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path / 'state.db'}",
        "FEEDSVC_TOPICS__IMPORT_ON_START": "false",
        "FEEDSVC_ADMIN__TOKEN": TOKEN,
    }


def stop_with_a_request_open(tmp_path: Path, sig: int, *flags: str) -> tuple[int, str, bytes]:
    """Run the service, open a request whose body is not all sent, send ``sig`` once the
    service has the request: (exit code, the service's log, the request's answer)."""
    port = free_port()
    log_path = tmp_path / "service.log"
    argv = [sys.executable, "-m", "feedsvc", "run", "--no-bot", "--port", str(port), *flags]
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            argv, cwd=tmp_path, env=service_env(tmp_path), stdout=out, stderr=subprocess.STDOUT
        )
        text = lambda: log_path.read_text("utf-8", errors="replace")  # noqa: E731
        try:
            wait_until(lambda: "feedsvc started" in text() or proc.poll() is not None, 60, "start")
            assert proc.poll() is None, text()
            with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
                # one answer first: the connection is the server's (not in the listen backlog,
                # which the stop would drop), and what follows on it is read at once
                client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                assert _read_answer(client).startswith(b"HTTP/1.1 200 ")
                client.sendall(
                    b"POST /api/topics HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + f"Authorization: Bearer {TOKEN}\r\n".encode()
                    + b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                    + b'{"slug": '  # and the rest never comes
                )
                # the request is the server's before the signal: bytes it had not read when
                # its stop closed the idle-looking connection were answered with a reset
                # (CI, twice, on a loaded machine), a race of uvicorn's, not this test's case
                wait_until(lambda: unread_by_server(client) == 0, 30, "the request to be read")
                proc.send_signal(sig)
                answer = _read_all(client)
            code = proc.wait(timeout=30)
            return code, text(), answer
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _read_answer(client: socket.socket) -> bytes:
    """One answer with a ``content-length``, read whole."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        assert chunk, f"the connection ended: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(
        line.split(b":", 1)[1] for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    ))  # fmt: skip
    while len(body) < length:
        body += client.recv(65536)
    return data


def _read_all(client: socket.socket) -> bytes:
    chunks = []
    while chunk := client.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    ("sig", "exit_code"), [(signal.SIGTERM, 0), (signal.SIGINT, 128 + signal.SIGINT)]
)
def test_the_stop_log_has_feedsvc_warning_and_no_uvicorn_error(
    tmp_path: Path, sig: int, exit_code: int
) -> None:
    code, log, answer = stop_with_a_request_open(tmp_path, sig)
    assert answer.startswith(b"HTTP/1.1 503 "), answer
    assert code == exit_code, log
    lines = log.splitlines()
    warned = [line for line in lines if "POST /api/topics: not answered before" in line]
    assert len(warned) == 1 and " WARNING " in warned[0], log
    assert "running task(s)" not in log, log
    assert not [line for line in lines if " ERROR " in line], log
    assert "feedsvc stopped" in log and "Traceback" not in log, log


def test_the_json_log_too(tmp_path: Path) -> None:
    code, log, answer = stop_with_a_request_open(tmp_path, signal.SIGTERM, "--log-json")
    assert answer.startswith(b"HTTP/1.1 503 ") and code == 0, log
    records = [json.loads(line) for line in unplaced(log).splitlines() if line.startswith("{")]
    assert [r["level"] for r in records if r["level"] not in ("info", "debug")] == ["warning"]
    [warning] = [r for r in records if r["level"] == "warning"]
    assert warning["logger"] == "feedsvc.web.stopping" and "answered 503" in warning["msg"]


def test_other_uvicorn_errors_are_still_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Only that one record is muted: uvicorn's other errors (an exception in the app, a port
    it cannot bind) are logged as before; calling it again installs no second filter."""
    from feedsvc.web.stopping import GRACE_ENDED, mute_grace_period_error

    mute_grace_period_error()
    mute_grace_period_error()
    uvicorn_log = logging.getLogger("uvicorn.error")
    assert len(uvicorn_log.filters) == 1
    with caplog.at_level(logging.INFO, "uvicorn.error"):
        uvicorn_log.error(GRACE_ENDED, 3)
        uvicorn_log.error("Exception in ASGI application\n")
        uvicorn_log.error("[Errno %d] %s", 98, "address already in use")
        uvicorn_log.info("Shutting down")
    assert [r.getMessage() for r in caplog.records] == [
        "Exception in ASGI application\n",
        "[Errno 98] address already in use",
        "Shutting down",
    ]
