"""A bot's base URL that answers 2xx with something that is not its Bot API is one clear line
naming the setting, not a ``KeyError`` at every retry (:mod:`feedsvc.notify.not_bot_api`).

A tester's: ``FEEDSVC_TELEGRAM__BASE_URL`` at a tiny server answering 200 ``{}`` to everything
gave ``ERROR feedsvc.bot: bot: lease loop error: KeyError: 'result'`` again and again, while
``config check`` said OK. The same hole in the Zalo poller: ``getUpdates failed: DecodingError:
unreadable Zalo answer`` at each retry, and ``{"ok": true}`` without a result read as "no
update" and asked again at once, for ever. Real local servers: the fakes answering the bodies
scripted, and the tester's own ``{}``-to-everything server under ``feedsvc run``.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from fakebot import FakeBotAPI
from fakezalo import FakeZaloAPI
from patience import PATIENT_READ_TIMEOUT
from processes import wait_until
from site_placeholder import unplaced
from test_bot import make_bot

from feedsvc.channels.zalo import ZaloBotAPI
from feedsvc.channels.zalo import service as zalo_service
from feedsvc.channels.zalo.bot import ZaloBot
from feedsvc.channels.zalo.service import ZaloPoller
from feedsvc.db import Database

PAGE = b"<!doctype html><html><body><h1>It works!</h1>" + b"<p>nginx</p>" * 50 + b"</body></html>"
#: 2xx bodies that are not a Bot API answer (it is a JSON object with "ok" and a "result")
BODIES = [b"{}", b"[]", b'{"ok": true}', b'{"ok": false}', PAGE, b""]


def getmes(fake: FakeBotAPI) -> int:
    return sum(c.method == "getme" for c in fake.calls)


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("body", BODIES, ids=["{}", "[]", "ok-no-result", "ok-false", "html", ""])
async def test_a_telegram_base_url_answering_no_bot_api_is_one_line(
    lite_db: Database, fake: FakeBotAPI, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.script_raw("getme", *[(200, body)] * 1000)
    bot = make_bot(lite_db, fake.base_url, fake.token, "a")
    await bot.start()
    try:
        await fake.await_for(lambda: getmes(fake) >= 4)
        assert not bot.polling
        said = warnings_of(caplog)
        assert len(said) == 1, said  # not one per retry
        assert said[0].startswith(
            f"telegram.base_url {fake.base_url} answered something that is not the Bot API: "
            f"HTTP 200 answer of {len(body)} bytes"
        ), said
        fake.unscript_raw("getme")  # the Bot API answers there again
        await fake.await_for(lambda: bot.polling)
    finally:
        await bot.stop()
    assert not [r for r in caplog.records if r.exc_info]
    text = caplog.text
    assert "KeyError" not in text and "lease loop error" not in text and "result'" not in text
    assert fake.token not in text and fake.token.split(":")[1] not in text
    assert "nginx" not in text  # the page's size, never its body
    [end] = [r.getMessage() for r in caplog.records if "answers as the Bot API again" in
             r.getMessage()]  # fmt: skip
    assert end.startswith(f"telegram.base_url {fake.base_url} answers as the Bot API again after")


async def test_an_alert_sent_to_such_a_url_is_an_unknown_outcome(fake: FakeBotAPI) -> None:
    """A send answered 2xx by something else may have gone (a proxy passing it on): unknown,
    re-sent once at most, as before, in the answer's own words now."""
    from factories import VN, article

    from feedsvc.notify import OutcomeKind, TelegramSender, format_alert

    fake.script_raw("sendmessage", (200, b"{}"))
    async with TelegramSender(fake.token, base_url=fake.base_url) as sender:
        outcome = await sender.send(3, format_alert(article(1), ["An ninh"], VN), False)
    assert outcome.kind is OutcomeKind.AMBIGUOUS, outcome
    assert "HTTP 200 answer of 2 bytes" in outcome.description, outcome


@pytest.fixture
def zalo_fake() -> Iterator[FakeZaloAPI]:
    with FakeZaloAPI() as server:
        yield server


# (``{"ok": false}`` is Zalo's own error shape, which it may send with a 200: told as a failed
# poll, bounded alike)
@pytest.mark.parametrize("body", [*BODIES[:3], PAGE], ids=["{}", "[]", "ok-no-result", "html"])
async def test_a_zalo_base_url_answering_no_bot_api_is_one_line(
    lite_db: Database,
    zalo_fake: FakeZaloAPI,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    body: bytes,
) -> None:
    monkeypatch.setattr(zalo_service, "MAX_BACKOFF", 0.05)
    caplog.set_level(logging.DEBUG)
    zalo_fake.script_raw("getUpdates", *[(200, body)] * 1000)
    api = ZaloBotAPI(zalo_fake.token, zalo_fake.base_url, read_timeout=PATIENT_READ_TIMEOUT)
    poller = ZaloPoller(lite_db, api, ZaloBot(lite_db, api), lease_seconds=3, poll_timeout=0.5,
                        standby_seconds=0.1, holder="r1")  # fmt: skip

    def polls() -> int:
        return sum(m == "getUpdates" for m, _ in zalo_fake.calls)

    poller.start()
    try:
        await zalo_fake.await_for(lambda: polls() >= 5)
        said = warnings_of(caplog)
        assert len(said) == 1, said
        assert said[0].startswith(
            f"zalo.base_url {zalo_fake.base_url} answered something that is not the Zalo Bot "
            f"API: HTTP 200 answer of {len(body)} bytes"
        ), said
        with zalo_fake._cond:  # the API answers again: its own long poll
            zalo_fake._raw["getUpdates"].clear()
        await zalo_fake.await_for(lambda: poller.polls >= 1)
    finally:
        await poller.stop()
        await poller.bot.drain()
        await api.close()
    text = caplog.text
    assert "DecodingError" not in text and "unreadable" not in text and zalo_fake.token not in text
    assert any("answers as the Zalo Bot API again after" in r.getMessage() for r in caplog.records)


# -- the tester's repro: `feedsvc run` against a server answering 200 {} to everything -----------


class _Everything(BaseHTTPRequestHandler):
    """200 ``{}`` to any request; the methods asked, in order."""

    calls: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.calls.append(self.path.rsplit("/", 1)[-1])
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST

    def log_message(self, *_args: object) -> None:
        pass


def test_run_against_a_server_answering_empty_json_says_it_once(tmp_path: Path) -> None:
    _Everything.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Everything)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    token = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi"
    base = f"http://127.0.0.1:{server.server_port}/bot"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_TOPICS__IMPORT_ON_START": "false",
            "FEEDSVC_TELEGRAM__TOKEN": token, "FEEDSVC_TELEGRAM__BASE_URL": base,
            "FEEDSVC_HTTP__PORT": "0"}  # fmt: skip
    log_file = tmp_path / "run.log"
    try:
        with log_file.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "feedsvc", "run", "--port", "0"],
                cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:  # the bot's getMe retried, and the reader pages' getMe asked
                wait_until(lambda: _Everything.calls.count("getMe") >= 3, 60, "getMe retried")
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
    finally:
        server.shutdown()
    text = unplaced(log_file.read_text("utf-8"))
    warnings = [line for line in text.splitlines() if " WARNING " in line or " ERROR " in line]
    assert len(warnings) == 1, warnings
    assert f"telegram.base_url {base} answered something that is not the Bot API: " in warnings[0]
    assert "KeyError" not in text and "Traceback" not in text and "lease loop" not in text
    assert token not in text and "ABCDEFGHIJ" not in text
