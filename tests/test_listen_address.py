"""The start-up log names the address actually listened on (issue #17 §3): `run --port 0` said
":0", and `demo` under FEEDSVC_HTTP__PORT named the variable's port while it listened on its
own (8080): a command's own settings (the demo's port, throw-away DB) now win over FEEDSVC_*
variables meant for the real service (feedsvc.config.check_config's ``overrides``)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from processes import free_port, get, wait_until

from feedsvc.config import load_config

REPO = Path(__file__).resolve().parent.parent
STARTED = re.compile(r"feedsvc started: HTTP on ([0-9.]+):(\d+),")


def _started(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[str, int, str]:
    """Run feedsvc until its start-up line; the address it names, checked to answer, and the
    log. The service is then stopped."""
    log_file = cwd / "out.log"
    with log_file.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", *argv],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(
                lambda: (
                    proc.poll() is not None or bool(STARTED.search(log_file.read_text("utf-8")))
                ),
                120,
                "the start-up line",
            )
            found = STARTED.search(log_file.read_text("utf-8"))
            assert found is not None, log_file.read_text("utf-8")
            host, port = found[1], int(found[2])
            answer = get(f"http://{host}:{port}/healthz")
            assert answer is not None and answer.status_code == 200
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    return host, port, log_file.read_text("utf-8")


def _env(**extra: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")} | extra


def test_run_on_port_0_logs_the_port_it_got(tmp_path: Path) -> None:
    host, port, log = _started(["run", "--port", "0"], tmp_path, _env())
    assert (host, port != 0) == ("127.0.0.1", True), log


@pytest.mark.slow
def test_demo_logs_its_own_port_whatever_the_environment_says(tmp_path: Path) -> None:
    decoy = free_port()
    env = _env(
        FEEDSVC_HTTP__PORT=str(decoy),
        FEEDSVC_HTTP__HOST="0.0.0.0",
        FEEDSVC_DATABASE__URL=f"sqlite:///{tmp_path / 'real-service.db'}",
        FEEDSVC_TOPICS__FILE=str(REPO / "config" / "topics.toml"),
    )
    own = free_port()
    host, port, log = _started(
        ["demo", "--port", str(own), "--dir", str(tmp_path / "demo"), "--articles", "5"],
        tmp_path,
        env,
    )
    assert (host, port) == ("127.0.0.1", own), log
    assert not (tmp_path / "real-service.db").exists()  # the demo's DB is its throw-away one
    assert (tmp_path / "demo" / "demo.db").exists()


def test_a_commands_own_settings_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEEDSVC_HTTP__PORT", "18093")
    monkeypatch.setenv("FEEDSVC_HTTP__TRUSTED_PROXIES", '["127.0.0.1"]')
    settings = load_config(None, {"http": {"port": 8080, "host": "127.0.0.1"}})
    assert (settings.http.port, settings.http.host) == (8080, "127.0.0.1")
    assert [str(n) for n in settings.http.trusted_proxies] == ["127.0.0.1"]  # env still read
