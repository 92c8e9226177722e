"""Start-up and tick logs read cleanly (issue #17 §3): no scheduler noise while a long first
tick runs, roles in words, the topics file summary once, the bot reported off without a token.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from processes import free_port, wait_until
from site_placeholder import unplaced

from feedsvc import scheduler
from feedsvc.scheduler import Jobs

REPO = Path(__file__).resolve().parent.parent


async def test_a_long_tick_is_not_overlapped_and_not_reported_each_interval(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scheduler, "OVERRUN_MIN_SECONDS", 0.3)
    caplog.set_level(logging.DEBUG)
    release = asyncio.Event()
    started: list[float] = []
    running = 0
    overlaps = 0

    async def tick() -> None:
        nonlocal running, overlaps
        running += 1
        overlaps += running > 1
        started.append(asyncio.get_running_loop().time())
        try:
            if len(started) == 1:
                await release.wait()  # the first sync: far longer than the interval
        finally:
            running -= 1

    jobs = Jobs()
    jobs.every("ingest", 0.05, tick)
    jobs.start()
    try:
        await asyncio.sleep(0.8)  # ~16 intervals while the first tick runs
        assert len(started) == 1
        release.set()
        deadline = asyncio.get_running_loop().time() + 30  # patience, not a claim
        while len(started) < 3:  # ticks resume once the long one is done
            assert asyncio.get_running_loop().time() < deadline, "ticks did not resume"
            await asyncio.sleep(0.02)
    finally:
        assert await jobs.stop(timeout=30) == []
    assert overlaps == 0
    text = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [t for t in text if "maximum number of running instances" in t], text
    overrun = [t for t in text if "has been running for" in t]
    assert len(overrun) == 1, text  # once per overrun, naming the job
    assert "ingest" in overrun[0]


async def test_stop_reports_a_tick_that_never_ends() -> None:
    never = asyncio.Event()

    async def stuck() -> None:
        await never.wait()

    jobs = Jobs()
    jobs.every("ingest", 10, stuck)
    jobs.start()
    for _ in range(3000):  # until the tick runs: 30 s of patience
        await asyncio.sleep(0.01)
        if jobs._running:
            break
    assert await jobs.stop(timeout=0.2) == ["ingest"]  # a wait expected to run out
    for task in list(jobs._running):
        task.cancel()


@pytest.mark.slow
def test_demo_start_up_log(tmp_path: Path) -> None:
    """The demo's whole start-up log, as an operator sees it (no Telegram token)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env["FEEDSVC_TOPICS__FILE"] = str(REPO / "config" / "topics.toml")
    port = free_port()
    log_file = tmp_path / "demo.log"
    with log_file.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "feedsvc",
                "demo",
                "--port",
                str(port),
                "--dir",
                str(tmp_path / "demo"),
                "--articles",
                "2000",
                "--every",
                "0.5",
            ],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(
                lambda: "demo: new source article" in log_file.read_text("utf-8"),
                120,
                "the demo to add an article",
            )
            wait_until(
                lambda: "ingest:" in log_file.read_text("utf-8").split("feedsvc started")[-1],
                60,
                "an ingest after start",
            )
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    text = log_file.read_text("utf-8")
    assert proc.returncode == 0, text
    assert "Traceback" not in text
    assert "maximum number of running instances" not in text
    assert text.count("topics file") == 1, text
    started = [line for line in text.splitlines() if "feedsvc started" in line]
    assert len(started) == 1, text
    assert "Roles(" not in started[0] and "True" not in started[0]
    assert f"HTTP on 127.0.0.1:{port}" in started[0]
    assert "bot off (no Telegram token)" in started[0]
    # a newcomer's demo has nothing to warn about: Zalo and Apprise were never asked for
    warnings = [line for line in text.splitlines() if " WARNING " in line]
    assert not warnings, "\n".join(warnings)


class _HtmlErrorPage(BaseHTTPRequestHandler):
    """A reverse proxy in front of the Bot API that has lost it: a 502 page of ~2 KB."""

    calls: ClassVar[list[str]] = []  # the methods asked, in order

    def do_POST(self) -> None:
        self.calls.append(self.path.rsplit("/", 1)[-1])
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body = b"<html><body><h1>502 Bad Gateway</h1>" + b"<p>nginx</p>" * 160 + b"</body></html>"
        self.send_response(502)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def test_a_bot_api_answering_html_is_one_bounded_warning(tmp_path: Path) -> None:
    """PTB logged an ERROR with a traceback and the whole page at every retry, and the bot's
    warning carried the page too: now one warning line naming ``telegram.base_url`` (not one
    per retry: ``test_not_bot_api.py``), the page's size only, no token."""
    _HtmlErrorPage.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HtmlErrorPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    token = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_TOPICS__IMPORT_ON_START": "false",
            "FEEDSVC_TELEGRAM__TOKEN": token,
            "FEEDSVC_TELEGRAM__BASE_URL": f"http://127.0.0.1:{server.server_port}/bot"}  # fmt: skip
    log_file = tmp_path / "run.log"
    try:
        with log_file.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "feedsvc", "run", "--no-http"],
                cwd=tmp_path,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            try:
                # the warning written and a retry after it: a stop between a start's getMe and
                # its failure being told cuts the start short, with no line (a CI run's)
                wait_until(lambda: " WARNING " in unplaced(log_file.read_text("utf-8"))
                           and _HtmlErrorPage.calls.count("getMe") >= 2, 60,
                           "the bot's warning and a retry")  # fmt: skip
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
    finally:
        server.shutdown()
    text = log_file.read_text("utf-8")
    assert "Traceback" not in text and "Can not load invalid JSON" not in text, text
    assert " ERROR " not in text and token not in text and "ABCDEFGHIJ" not in text
    warnings = [line for line in unplaced(text).splitlines() if " WARNING " in line]
    assert len(warnings) == 1, warnings
    assert "telegram.base_url http://127.0.0.1:" in warnings[0], warnings
    assert len(warnings[0]) < 450 and "HTTP 502 answer of" in warnings[0], warnings


async def test_a_long_tick_making_progress_is_not_reported_one_that_stops_is(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first sync committing batch after batch runs for minutes: not worth a warning. Once
    its progress stops (stuck in a driver), the overrun is reported once."""
    monkeypatch.setattr(scheduler, "OVERRUN_MIN_SECONDS", 0.3)
    caplog.set_level(logging.WARNING)
    batches = 0
    stalled, release = asyncio.Event(), asyncio.Event()

    async def tick() -> None:
        nonlocal batches
        loop = asyncio.get_running_loop()
        until = loop.time() + 1.0  # ~3x the overrun bound, a batch every 0.05 s
        while loop.time() < until:
            batches += 1
            await asyncio.sleep(0.05)
        stalled.set()
        await release.wait()  # then stuck

    jobs = Jobs()
    jobs.every("ingest", 0.05, tick, progress=lambda: batches)
    jobs.start()
    try:
        await asyncio.wait_for(stalled.wait(), 30)
        assert not [r for r in caplog.records if "ingest" in r.getMessage()]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30  # patience, not a claim
        while not [r for r in caplog.records if "made no progress" in r.getMessage()]:
            assert loop.time() < deadline, "the stalled tick was never reported"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # ~10 more intervals: still once
    finally:
        release.set()
        assert await jobs.stop(timeout=30) == []
    told = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(told) == 1 and told[0].startswith("job ingest has made no progress for"), told


@pytest.mark.parametrize("base_url", ["https://tg-proxy.example.vn", "https://api.telegram.org"])
def test_a_bot_tokens_secret_half_is_never_logged(tmp_path: Path, base_url: str) -> None:
    """A ``telegram.base_url`` without ``/bot`` (the token is appended to it as it is) made the
    token's ``<bot id>:`` the end of the host and its secret half the port: httpx refused the
    URL with ``InvalidURL("Invalid port: '<the secret half>'")``, which the bot logged at every
    retry, and the log filter blanked only the whole token. No network is reached: the URL is
    refused before any connection."""
    secret = "AAFsecretHALFxyz_-0912345678"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_TOPICS__IMPORT_ON_START": "false",
            "FEEDSVC_TELEGRAM__TOKEN": f"123456:{secret}",
            "FEEDSVC_TELEGRAM__BASE_URL": base_url}  # fmt: skip
    log_file = tmp_path / "run.log"
    with log_file.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "run", "--no-http"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_until(
                lambda: proc.poll() is not None
                or log_file.read_text("utf-8").count("cannot start polling") >= 2,
                60, "the bot to retry once, or a refusal",
            )  # fmt: skip
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    text = log_file.read_text("utf-8")
    assert secret not in text and "secretHALF" not in text, text
    assert "Traceback" not in text, text
