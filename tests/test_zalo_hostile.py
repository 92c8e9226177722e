"""A broken or hostile Zalo Bot API never stops the Zalo bot or the Zalo dispatcher (issue 14,
issue 12's "bad input never crashes"): answers that are garbage, nested past Python's recursion
limit, or carry absurd ``retry_after`` values (infinite, NaN, 400 digits, negative). Against the
fake Zalo Bot API over real HTTP; SQLite (``module_on_sqlite``)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import pytest
from backend_cases import module_on_sqlite
from factories import VN, article
from fakezalo import FakeZaloAPI
from patience import PATIENT_READ_TIMEOUT

from feedsvc.channels.base import Target
from feedsvc.channels.zalo import ZaloBotAPI, ZaloChannel
from feedsvc.channels.zalo import service as zalo_service
from feedsvc.channels.zalo.bot import ZaloBot
from feedsvc.channels.zalo.service import ZaloPoller
from feedsvc.db import Database
from feedsvc.notify.outcome import DEFAULT_RETRY_AFTER, MAX_RETRY_AFTER, OutcomeKind, SendOutcome

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

DEEP = b"[" * 100_000  # json.loads: RecursionError, not ValueError
BROKEN = [
    (200, DEEP),
    (200, b'{"ok": true, "result": ' + DEEP + b"}"),
    (500, DEEP),
    (429, b'{"ok": false, "error_code": 429, "parameters": {"retry_after": 1' + b"0" * 400 + b"}}"),
    (429, b'{"ok": false, "error_code": 429, "parameters": {"retry_after": Infinity}}'),
    (200, b"\xff\xfe not json"),
]


@pytest.fixture
def fake() -> Iterator[FakeZaloAPI]:
    with FakeZaloAPI() as server:
        yield server


async def test_the_poller_outlives_broken_answers(
    db: Database, fake: FakeZaloAPI, monkeypatch: pytest.MonkeyPatch
) -> None:  # fmt: skip
    """Each broken getUpdates answer is one failed poll (backoff), then polling goes on and the
    next command is answered. Before: the first deep answer ended the poller's task for good."""
    monkeypatch.setattr(zalo_service, "MAX_BACKOFF", 0.05)
    fake.script_raw("getUpdates", *BROKEN)
    api = ZaloBotAPI(fake.token, fake.base_url, read_timeout=PATIENT_READ_TIMEOUT)
    poller = ZaloPoller(db, api, ZaloBot(db, api), lease_seconds=3, poll_timeout=0.5,
                        standby_seconds=0.1, holder="r1")  # fmt: skip
    poller.start()
    try:
        await fake.await_for(lambda: sum(m == "getUpdates" for m, _ in fake.calls) > len(BROKEN))
        fake.user_says("z-1", "/help")
        reply = (await fake.await_for(lambda: fake.messages("z-1")))[0].text
        assert "/sub" in reply
        assert poller._task is not None and not poller._task.done()
    finally:
        await poller.stop()
        await poller.bot.drain()
        await api.close()


@pytest.mark.parametrize(
    ("given", "expected"),
    [(float("inf"), MAX_RETRY_AFTER), (10**400, MAX_RETRY_AFTER), (10**9, MAX_RETRY_AFTER),
     (float("nan"), DEFAULT_RETRY_AFTER), (-5, DEFAULT_RETRY_AFTER), (0, DEFAULT_RETRY_AFTER),
     ("7", DEFAULT_RETRY_AFTER), (True, DEFAULT_RETRY_AFTER), (7, 7.0), (0.25, 1.0)],
)  # fmt: skip
async def test_a_send_reads_any_retry_after_as_a_bounded_pause(
    fake: FakeZaloAPI, given: object, expected: float
) -> None:  # fmt: skip
    """A 429 pauses the chat for a finite time the dispatcher can add to a datetime (before:
    OverflowError or ValueError out of the channel, inf/NaN into ``timedelta``)."""
    body = {"ok": False, "error_code": 429, "description": "Too many",
            "parameters": {"retry_after": given}}  # fmt: skip
    fake.script_raw("sendMessage", (429, json.dumps(body).encode()))  # Infinity, NaN
    api = ZaloBotAPI(fake.token, fake.base_url, read_timeout=PATIENT_READ_TIMEOUT)
    channel = ZaloChannel(api, VN)
    try:
        target = Target(1, "zalo", "z-2", "private", False, True)
        outcome = await channel.deliver(target, article(1), ["Kiến Thụy"])
    finally:
        await channel.close()
    assert outcome.kind is OutcomeKind.RETRY_AFTER
    assert outcome.seconds is not None and math.isfinite(outcome.seconds)
    assert outcome.seconds == expected


@pytest.mark.parametrize(("status", "body"), BROKEN, ids=range(len(BROKEN)))
async def test_a_send_with_a_broken_answer_has_an_outcome(
    fake: FakeZaloAPI, status: int, body: bytes
) -> None:  # fmt: skip
    """Whatever Zalo answers, a send ends in an outcome the outbox records (before: a deep answer
    raised RecursionError out of ``deliver``)."""
    fake.script_raw("sendMessage", (status, body))
    api = ZaloBotAPI(fake.token, fake.base_url, read_timeout=PATIENT_READ_TIMEOUT)
    channel = ZaloChannel(api, VN)
    try:
        target = Target(1, "zalo", "z-3", "private", False, True)
        outcome = await channel.deliver(target, article(1), ["Kiến Thụy"])
    finally:
        await channel.close()
    assert outcome.kind is not OutcomeKind.SENT
    if status == 200:  # Zalo may have sent it: unknown, re-sent at most once
        assert outcome.kind is OutcomeKind.AMBIGUOUS


@pytest.mark.parametrize("seconds", [math.inf, -math.inf, math.nan, 1e300, 10.0**12, -3.0, 0.0])
def test_every_channels_pause_is_bounded(seconds: float) -> None:
    """The one constructor every channel's 429 goes through bounds the pause (Telegram too)."""
    paused = SendOutcome.retry_after(seconds).seconds
    assert paused is not None and 1.0 <= paused <= MAX_RETRY_AFTER
