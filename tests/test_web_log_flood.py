"""A client cannot flood the log (a tester's: 50 connections sending bare-LF requests wrote
42,204 WARNING lines, 6 MB, in 5 s; a TLS ClientHello to the plain port 16,621 in 3 s, one line
per request; under journald's rate limit feedsvc's own ERRORs were then dropped).

Every line a client can repeat at will goes through :class:`feedsvc.bounded_log.BoundedLog`:
the first few of a window in full, the rest counted into one summary line when the window
ends (a timer, never only "at the next line"), at the service's stop, or at exit. Checked
here: the rule itself (a clock and a scheduler of the test's), a real server flooded over raw
sockets with each kind of malformed request (bare LF, TLS hello, HTTP/2 preface, two Host
lines; an oversize head's 431 logs nothing), an ERROR of our own during a flood still logged
whole, the wrong admin tokens' lines, and the service's own log (``feedsvc run``) under a flood
— uvicorn's loggers included.
"""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from processes import free_port, get, uvicorn_thread, wait_until
from processes import start_feedsvc as start
from test_admin_hostile import make_service, wrong_logins
from test_web_malformed import MALFORMED, exchange
from test_web_wire import SpyFastPath, make_app

from feedsvc import bounded_log
from feedsvc.app import create_app, uvicorn_config
from feedsvc.bounded_log import BoundedLog, summary_line
from feedsvc.config import load_config
from feedsvc.web import admin_auth, malformed, wire

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

#: Requests each flood sends.
FLOOD = 500
#: A flood's kinds: what a client sends → what it is answered.
FLOODS: dict[str, tuple[bytes, bytes]] = {
    "bare LF": (b"GET / HTTP/1.1\nHost: x\n\n", b"HTTP/1.1 400 "),
    "TLS hello": (MALFORMED["TLS hello"], b"HTTP/1.1 400 "),
    "HTTP/2 preface": (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", b"HTTP/1.1 400 "),
    "two hosts": (MALFORMED["two hosts"], b"HTTP/1.1 400 "),
    "oversize head": (
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40_000 + b"\r\n\r\n",
        b"HTTP/1.1 431 ",
    ),
}
SUMMARY = re.compile(r"(\d+) more malformed HTTP requests? answered 400 in \d+ s")


# -- the rule ----------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Timers:
    """The test's scheduler: what would run when (``fire`` runs those that are due)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.pending: list[tuple[float, Callable[[], None], list[bool]]] = []

    def __call__(self, delay: float, call: Callable[[], None]) -> Timers.Handle:
        cancelled = [False]
        self.pending.append((self.clock.now + delay, call, cancelled))
        return Timers.Handle(cancelled)

    class Handle:
        def __init__(self, cancelled: list[bool]) -> None:
            self.cancelled = cancelled

        def cancel(self) -> None:
            self.cancelled[0] = True

    def fire(self) -> None:
        due = [p for p in self.pending if p[0] <= self.clock.now]
        self.pending = [p for p in self.pending if p[0] > self.clock.now]
        for _, call, cancelled in due:
            if not cancelled[0]:
                call()

    @property
    def armed(self) -> int:
        return sum(1 for p in self.pending if not p[2][0])


@pytest.fixture
def rule(caplog: pytest.LogCaptureFixture) -> Iterator[tuple[BoundedLog, Clock, Timers]]:
    clock = Clock()
    timers = Timers(clock)
    logger = logging.getLogger("feedsvc.test_bounded")
    bounded = BoundedLog(
        logger, ("odd thing", "odd things"), burst=3, window=60, clock=clock, schedule=timers
    )
    with caplog.at_level(logging.INFO, logger="feedsvc.test_bounded"):
        yield bounded, clock, timers
    bounded.close()


def said(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "feedsvc.test_bounded"]


def test_the_first_lines_whole_then_one_summary_at_the_windows_end(
    rule: tuple[BoundedLog, Clock, Timers], caplog: pytest.LogCaptureFixture
) -> None:
    bounded, clock, timers = rule
    for i in range(3):
        bounded.log("odd thing %d from %s", i, f"10.0.0.{i}", source=f"10.0.0.{i}")
    assert timers.armed == 0  # nothing counted yet: no timer
    for i in range(3, 103):
        clock.now += 0.5
        bounded.log("odd thing %d from %s", i, f"10.0.0.{i % 7}", source=f"10.0.0.{i % 7}")
    assert said(caplog) == [
        "odd thing 0 from 10.0.0.0",
        "odd thing 1 from 10.0.0.1",
        "odd thing 2 from 10.0.0.2 (more in this 60 s window are counted in one line)",
    ]
    assert timers.armed == 1  # one timer for the window, whatever the count
    clock.now = 1059.9
    timers.fire()
    assert len(said(caplog)) == 3  # not yet
    clock.now = 1060.0
    timers.fire()  # no line came after the flood: the timer says it
    assert said(caplog)[3:] == [
        "100 more odd things in 60 s, from 7 addresses; the first: odd thing 3 from 10.0.0.3"
    ]
    assert all(r.levelno == logging.WARNING for r in caplog.records)
    bounded.close()
    assert len(said(caplog)) == 4  # told once


def test_a_line_after_the_window_tells_its_summary_first(
    rule: tuple[BoundedLog, Clock, Timers], caplog: pytest.LogCaptureFixture
) -> None:
    bounded, clock, timers = rule
    for _ in range(5):
        bounded.log("odd", source="a")
    clock.now += 61  # the timer is late: the next line closes the window itself
    bounded.log("odd again", source="b")
    assert said(caplog)[3:] == ["2 more odd things in 61 s, from 1 address; the first: odd",
                                "odd again"]  # fmt: skip
    timers.fire()  # the late timer finds its window closed: nothing more
    assert len(said(caplog)) == 5
    bounded.log("odd", source="b")
    bounded.log("odd", source="b")  # the new window's third line: the last in full
    assert said(caplog)[-1] == "odd (more in this 60 s window are counted in one line)"


def test_a_quiet_window_has_no_summary_and_the_exit_tells_an_open_one(
    rule: tuple[BoundedLog, Clock, Timers], caplog: pytest.LogCaptureFixture
) -> None:
    bounded, clock, _timers = rule
    bounded.log("odd")
    clock.now += 120
    bounded.close()
    assert said(caplog) == ["odd"]
    for _ in range(4):
        bounded.log("odd")
    clock.now += 2
    bounded_log.close_all()  # the service's stop, or atexit
    assert said(caplog)[-1] == "1 more odd thing in 2 s; the first: odd"


def test_addresses_are_counted_within_a_bound(
    rule: tuple[BoundedLog, Clock, Timers],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bounded_log, "MAX_SOURCES", 50)
    bounded, _clock, _timers = rule
    for i in range(1003):
        bounded.log("odd %s", i, source=f"2001:db8::{i}")
    bounded.close()
    assert (
        said(caplog)[-1]
        == "1000 more odd things in 1 s, from 50 or more addresses; the first: odd 3"
    )


def test_the_summary_line() -> None:
    words = ("x", "xs")
    assert summary_line(words, 1, 1, 0.2, "y") == "1 more x in 1 s, from 1 address; the first: y"
    assert summary_line(words, 2, 0, 59.6, None) == "2 more xs in 60 s"


def test_the_real_timer_says_it_without_another_line(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("feedsvc.test_bounded")
    bounded = BoundedLog(logger, ("odd thing", "odd things"), burst=1, window=0.3)
    with caplog.at_level(logging.INFO, logger="feedsvc.test_bounded"):
        for _ in range(4):
            bounded.log("odd")
        wait_until(lambda: len(said(caplog)) == 2, 30, "the summary of the window")
    assert said(caplog)[1].startswith("3 more odd things in ")


# -- a real server, flooded ------------------------------------------------------------------


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[SpyFastPath, int]]:
    app = make_app()
    settings = load_config(None, {"site": {"language": "vi"}, "http": {"port": free_port()}})
    config = uvicorn_config(settings, app)  # type: ignore[arg-type]
    config.lifespan = "off"
    with uvicorn_thread(config):
        yield app, settings.http.port


async def _flood(port: int, data: bytes, n: int, parallel: int = 20) -> list[bytes]:
    """``n`` connections (``parallel`` at once), each sending ``data`` and reading the answer
    until the server closes; the answers' first 32 bytes."""
    answers: list[bytes] = []
    left = n

    async def one() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                writer.write(data)
                await writer.drain()
            except ConnectionError:
                pass  # closed before the last byte was taken (a 431 mid-head): read the answer
            try:  # a server that never closes fails the test, never hangs it
                answers.append((await asyncio.wait_for(reader.read(), 30))[:32])
            except ConnectionError:
                answers.append(b"")
            writer.close()

    await asyncio.gather(*(one() for _ in range(parallel)))
    return answers


def web_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What the HTTP server logged: ours (``feedsvc.web.*``), uvicorn's and asyncio's."""
    names = ("feedsvc.web", "uvicorn", "asyncio")
    return [r for r in caplog.records if r.name.startswith(names)]


@pytest.mark.parametrize("kind", FLOODS)
def test_a_flood_of_one_kind_logs_a_few_lines_and_counts_the_rest(
    served: tuple[SpyFastPath, int], kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    data, status = FLOODS[kind]
    with caplog.at_level(logging.DEBUG):
        answers = asyncio.run(_flood(served[1], data, FLOOD))
        answered = sum(a.startswith(status) for a in answers)
        shown = [r for r in web_lines(caplog) if r.levelno >= logging.INFO]
        malformed.REFUSALS.close()  # as the window's end would (tested above)
        told = [r for r in web_lines(caplog) if r.levelno >= logging.INFO]
    if status == b"HTTP/1.1 431 ":  # an oversize head was never a log line
        assert answered > 0 and told == [], caplog.text  # (a 431 may reach the client as a
        return  # reset: it is closed with the rest of the head unread)
    assert answered == FLOOD, answers[:3]
    # the window's first lines whole, nothing else yet (uvicorn's "Invalid HTTP request
    # received." and per-connection lines would be here)
    assert [r.name for r in shown] == ["feedsvc.web.malformed"] * bounded_log.BURST, caplog.text
    assert shown[-1].getMessage().endswith("(more in this 60 s window are counted in one line)")
    summary = told[-1].getMessage()
    assert len(told) == bounded_log.BURST + 1 and told[-1].levelno == logging.WARNING
    match = SUMMARY.match(summary)
    assert match, summary
    assert int(match.group(1)) + bounded_log.BURST == FLOOD  # every refusal accounted for
    assert ", from 1 address; the first: malformed HTTP request from 127.0.0.1:" in summary


def test_an_error_of_our_own_during_a_flood_is_logged_whole(
    served: tuple[SpyFastPath, int],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug in a parser callback is an ERROR with its traceback even while the refusals' lines
    are being counted; the next window logs in full again."""

    def two_hosts_or_bug(headers: list[tuple[bytes, bytes]]) -> None:
        if any(name == b"x-bug" for name, _ in headers):
            raise RuntimeError("a bug of ours")

    with caplog.at_level(logging.INFO):
        asyncio.run(_flood(served[1], FLOODS["bare LF"][0], 100))
        monkeypatch.setattr(wire, "refuse_two_hosts", two_hosts_or_bug)
        answer = exchange(served[1], b"GET /slow HTTP/1.1\r\nHost: x\r\nX-Bug: 1\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == ["HTTP parser callback failed"]
    # its traceback: on the record, or already rendered by the service's own log handler
    # (``logs.RedactSecrets``) when an earlier test in this worker left it installed
    assert errors[0].exc_info is not None or errors[0].exc_text
    assert "Traceback" in caplog.text and "a bug of ours" in caplog.text
    malformed.REFUSALS.close()
    summary = web_lines(caplog)[-1].getMessage()
    # 90 bare-LF requests and the bug's 400 counted
    assert summary.startswith("91 more malformed HTTP requests answered 400"), summary
    caplog.clear()
    with caplog.at_level(logging.INFO):
        exchange(served[1], FLOODS["TLS hello"][0])
    [line] = [r.getMessage() for r in web_lines(caplog)]
    assert re.fullmatch(
        r"malformed HTTP request from 127\.0\.0\.1:\d+ answered 400: Invalid method encountered",
        line,
    ), line


# -- the admin token ----------------------------------------------------------------------------


def test_wrong_admin_tokens_are_told_within_a_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A wrong token at the login form is a WARNING naming the address (none was logged: a
    guesser went unseen), bounded as a spray of addresses behind a trusted proxy could send
    them; never the token sent."""
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", "the-right-admin-token-123")
    port = free_port()
    service = make_service(
        f"sqlite:///{tmp_path / 's.db'}", http={"trusted_proxies": ["127.0.0.1"], "port": port}
    )
    with (
        caplog.at_level(logging.INFO),
        uvicorn_thread(uvicorn_config(service.settings, create_app(service))),
    ):
        for i in range(25):
            assert wrong_logins(f"http://127.0.0.1:{port}", f"203.0.113.{i}", 1) == [401]
        admin_auth.REFUSED_TOKENS.close()
    told = [r.getMessage() for r in caplog.records if r.name == "feedsvc.web.admin_auth"]
    assert told[:2] == [f"admin token refused from 203.0.113.{i} (login form)" for i in (0, 1)]
    assert len(told) == bounded_log.BURST + 1, told
    assert re.fullmatch(
        r"15 more admin tokens refused in \d+ s, from 15 addresses; the first: admin token "
        r"refused from 203\.0\.113\.10 \(login form\)",
        told[-1],
    ), told[-1]
    assert "wrong" not in caplog.text
    service.close()


def test_an_unreadable_token_file_is_told_within_a_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """``admin.token_file`` is read on every admin and API request: unreadable, each was an
    ERROR line any client could repeat."""
    monkeypatch.delenv("FEEDSVC_ADMIN__TOKEN", raising=False)
    service = make_service(f"sqlite:///{tmp_path / 's.db'}")
    service.settings.admin.token_file = tmp_path  # a directory: never readable as a file
    with caplog.at_level(logging.INFO), TestClient(create_app(service)) as client:
        for _ in range(40):
            assert (
                client.get("/api/topics", headers={"Authorization": "Bearer x"}).status_code == 503
            )
        admin_auth.UNREADABLE_TOKEN.close()
    told = [r for r in caplog.records if r.name == "feedsvc.web.admin_auth"]
    assert len(told) == bounded_log.BURST + 1 and {r.levelno for r in told} == {logging.ERROR}
    assert told[-1].getMessage().startswith("30 more failed reads of admin.token_file in ")
    service.close()


# -- the service's own log -------------------------------------------------------------------


def test_the_services_log_under_a_flood(tmp_path: Path) -> None:
    """``feedsvc run`` flooded with each kind: its log (stderr, uvicorn's loggers included)
    holds the window's first lines and, at the stop, one line counting the rest — before
    "feedsvc stopped"; no other line a client caused."""
    port = free_port()
    env = {"FEEDSVC_HTTP__PORT": str(port), "FEEDSVC_ADMIN__TOKEN": "flood-test-token-1234567"}
    proc = start(["run", "--no-bot"], env, tmp_path)
    # read as it comes: a log that fills the pipe would stall the service's event loop
    drained = ThreadPoolExecutor(1).submit(lambda: proc.stdout.read() if proc.stdout else b"")
    try:
        wait_until(lambda: get(f"http://127.0.0.1:{port}/healthz") is not None, 60, "/healthz")
        refused = 0
        for data, status in FLOODS.values():
            answers = asyncio.run(_flood(port, data, 150))
            if status == b"HTTP/1.1 400 ":
                refused += sum(a.startswith(status) for a in answers)
        for _ in range(3):  # a wrong token: a line each, under their own bound
            assert get(f"http://127.0.0.1:{port}/api/topics", authorization="Bearer x") is not None
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = drained.result(timeout=30).decode()
    assert proc.returncode == 0, output
    lines = output.splitlines()
    refusals = [x for x in lines if " feedsvc.web.malformed: malformed HTTP request from " in x]
    assert len(refusals) == bounded_log.BURST, output
    summaries = [i for i, x in enumerate(lines) if SUMMARY.search(x)]
    assert len(summaries) == 1, output
    counted = SUMMARY.search(lines[summaries[0]])
    assert counted and int(counted.group(1)) + bounded_log.BURST == refused, output
    assert summaries[0] < next(i for i, x in enumerate(lines) if x.endswith("feedsvc stopped"))
    tokens = [x for x in lines if "admin token refused from 127.0.0.1 (Bearer token)" in x]
    assert len(tokens) == 3, output
    assert "Invalid HTTP request received" not in output
    # nothing else at WARNING or above once serving: no line of uvicorn's, none per connection
    serving = next(i for i, x in enumerate(lines) if "feedsvc started" in x)
    warned = [x for x in lines[serving:] if re.search(r" (WARNING|ERROR|CRITICAL) ", x)]
    assert warned == [*refusals, *tokens, lines[summaries[0]]], "\n".join(warned)
