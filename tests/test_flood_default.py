"""A 429 without a usable ``retry_after`` pauses the chat (Telegram and Zalo, against their fakes
over real HTTP; the dispatcher on SQLite and PostgreSQL).

Before: on Telegram a 429 whose ``retry_after`` was missing, 0, negative or no number (in
``parameters`` or beside it), or whose body was not the Bot API's, was a transient failure:
that one alert was backed off while the chat's next alerts were sent into the same limit, and
after ``max_attempts`` such answers the alert was a dead letter (``failed``). On Zalo a 429 said
by the HTTP status but not by ``error_code`` was the same; one said by ``error_code`` paused 5 s.
Now every such 429 pauses the chat :data:`~feedsvc.notify.outcome.DEFAULT_RETRY_AFTER` seconds,
keeps the alert, and counts no more toward a dead letter than a 429 with ``retry_after``.

In the dispatcher's tests the 429's body is given one state DB backend, rotating
(``backend_cases.on_backends``): the channel reads it into a pause before any SQL, and the
pause is stored by the same statements for every body; each test keeps a PostgreSQL case.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from backend_cases import on_backends
from factories import VN, article, builtin_ingestor
from fakebot import FakeBotAPI, Fault
from fakezalo import FakeZaloAPI
from patience import PATIENT_READ_TIMEOUT
from sqlalchemy import select
from test_dispatch import PRIVATE, PRIVATE2, make_env, subscribe_chat
from test_foreign_answers import PAGE, _telegram_send
from test_zalo import add_topic, states, zalo_subscriber

from feedsvc.channels.base import Target
from feedsvc.channels.zalo import ZaloBotAPI, ZaloChannel
from feedsvc.db import Database
from feedsvc.db.schema import chats, deliveries
from feedsvc.dispatch import Dispatcher, DispatchSettings
from feedsvc.ingest import Ingestor
from feedsvc.notify import OutcomeKind, SendOutcome
from feedsvc.notify.outcome import DEFAULT_RETRY_AFTER, MAX_RETRY_AFTER
from feedsvc.outbox import Outbox
from feedsvc.store.source_articles import upsert_source_articles

WORDS = "Too Many Requests: retry later"


def _bot_api_429(rest: str) -> bytes:
    return f'{{"ok": false, "error_code": 429, "description": "{WORDS}"{rest}}}'.encode()


# A Telegram 429 with no usable retry_after: none, in parameters or beside them, or not a number
# a pause can be read from; and a 429 whose body is not the Bot API's.
TELEGRAM_429 = {
    "no parameters": _bot_api_429(""),
    "empty parameters": _bot_api_429(', "parameters": {}'),
    "zero": _bot_api_429(', "parameters": {"retry_after": 0}'),
    "negative": _bot_api_429(', "parameters": {"retry_after": -5}'),
    "negative fraction": _bot_api_429(', "parameters": {"retry_after": -0.5}'),
    "null": _bot_api_429(', "parameters": {"retry_after": null}'),
    "false": _bot_api_429(', "parameters": {"retry_after": false}'),
    "true": _bot_api_429(', "parameters": {"retry_after": true}'),
    "text": _bot_api_429(', "parameters": {"retry_after": "7"}'),
    "list": _bot_api_429(', "parameters": {"retry_after": [5]}'),
    "NaN": _bot_api_429(', "parameters": {"retry_after": NaN}'),
    "object": _bot_api_429(', "parameters": {"retry_after": {"s": 3}}'),
    "beside parameters": _bot_api_429(', "retry_after": 5'),
    "parameters no object": _bot_api_429(', "parameters": [5]'),
    "proxy page": PAGE % 429,
    "empty body": b"",
}


@pytest.mark.parametrize("body", TELEGRAM_429.values(), ids=TELEGRAM_429.keys())
async def test_telegram_a_429_without_a_usable_retry_after_pauses_the_default(
    fake: FakeBotAPI, body: bytes
) -> None:
    outcome = await _telegram_send(fake, 429, body)
    assert outcome.kind is OutcomeKind.RETRY_AFTER, outcome  # type: ignore[attr-defined]
    assert outcome.seconds == DEFAULT_RETRY_AFTER  # type: ignore[attr-defined]
    description: str = outcome.description  # type: ignore[attr-defined]
    assert "no usable retry_after" in description and "<" not in description, description
    assert fake.messages(7) == []


@pytest.mark.parametrize(
    ("rest", "seconds"),
    [(', "parameters": {"retry_after": 3}', 3.0), (', "parameters": {"retry_after": 0.2}', 1.0),
     (', "parameters": {"retry_after": 1e999}', MAX_RETRY_AFTER)],
)  # fmt: skip
async def test_telegram_a_usable_retry_after_is_still_the_pause(
    fake: FakeBotAPI, rest: str, seconds: float
) -> None:
    outcome = await _telegram_send(fake, 429, _bot_api_429(rest))
    assert (outcome.kind, outcome.seconds) == (OutcomeKind.RETRY_AFTER, seconds)  # type: ignore[attr-defined]


@pytest.mark.parametrize("status", [400, 403, 500])
async def test_telegram_other_statuses_without_retry_after_read_as_before(
    fake: FakeBotAPI, status: int
) -> None:
    """Only a 429 is the flood limit: the same body with another status is no pause."""
    body = f'{{"ok": false, "error_code": {status}, "description": "Bad Request: chat not found"}}'
    outcome = await _telegram_send(fake, status, body.encode())
    assert outcome.kind is not OutcomeKind.RETRY_AFTER, outcome  # type: ignore[attr-defined]


# A Zalo 429 with no usable retry_after, said by the HTTP status, by error_code, or both.
ZALO_429 = {
    "no parameters": (429, {"ok": False, "error_code": 429, "description": "Too many"}),
    "zero": (429, {"ok": False, "error_code": 429, "parameters": {"retry_after": 0}}),
    "negative": (429, {"ok": False, "error_code": 429, "parameters": {"retry_after": -3}}),
    "text": (429, {"ok": False, "error_code": 429, "parameters": {"retry_after": "7"}}),
    "beside parameters": (429, {"ok": False, "error_code": 429, "retry_after": 5}),
    "status only, other code": (429, {"ok": False, "error_code": -32, "description": "Rate"}),
    "status only, code 0": (429, {"ok": False, "error_code": 0, "description": "Rate limit"}),
    "status only, no code": (429, {"ok": False, "description": "Rate limit"}),
    "code only": (200, {"ok": False, "error_code": 429, "description": "Too many"}),
}


async def _zalo_send(fake: FakeZaloAPI, status: int, body: bytes) -> SendOutcome:
    fake.script_raw("sendMessage", (status, body))
    api = ZaloBotAPI(fake.token, fake.base_url, read_timeout=PATIENT_READ_TIMEOUT)
    channel = ZaloChannel(api, VN)
    try:
        target = Target(1, "zalo", "z-1", "private", False, True)
        return await channel.deliver(target, article(1), ["Kiến Thụy"])
    finally:
        await channel.close()


@pytest.mark.parametrize(("status", "body"), ZALO_429.values(), ids=ZALO_429.keys())
async def test_zalo_a_429_without_a_usable_retry_after_pauses_the_default(
    zalo: FakeZaloAPI, status: int, body: dict[str, object]
) -> None:
    outcome = await _zalo_send(zalo, status, json.dumps(body).encode())
    assert (outcome.kind, outcome.seconds) == (OutcomeKind.RETRY_AFTER, DEFAULT_RETRY_AFTER)
    assert "no usable retry_after" in outcome.description, outcome
    assert zalo.messages("z-1") == []


async def test_zalo_a_proxy_page_with_429_pauses_the_default(zalo: FakeZaloAPI) -> None:
    outcome = await _zalo_send(zalo, 429, PAGE % 429)
    assert (outcome.kind, outcome.seconds) == (OutcomeKind.RETRY_AFTER, DEFAULT_RETRY_AFTER)
    assert "<" not in outcome.description


# -- the dispatcher ---------------------------------------------------------------------------


@dataclass
class Skewed:
    """A dispatcher clock running with the real one, moved ahead by the test: a 30 s pause is
    over by moving it, never by waiting."""

    ahead: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead

    def skip_pause(self) -> None:
        self.ahead += timedelta(seconds=DEFAULT_RETRY_AFTER + 1)


async def _dispatch_until(
    dispatcher: Dispatcher, done: Callable[[], bool], timeout: float = 60
) -> None:
    """Run ``dispatcher`` until ``done()`` (polled), then stop it and wait for its sends."""
    task = asyncio.create_task(dispatcher.run())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while not done():
            assert loop.time() < deadline, "not done in time"
            assert not task.done(), task
            await asyncio.sleep(0.05)
    finally:
        dispatcher.stop()
        await task


def _dispatcher(db: Database, sender: object, clock: Skewed, **cfg: object) -> Dispatcher:
    settings = DispatchSettings(backoff_base=0.05, poll_seconds=0.5, **cfg)  # type: ignore[arg-type]
    return Dispatcher(db, sender, VN, settings, clock=clock)  # type: ignore[arg-type]


def _rows(db: Database, chat: int) -> list[tuple[str, int, str | None]]:
    with db.read() as conn:
        query = (
            select(deliveries.c.state, deliveries.c.attempts, deliveries.c.error)
            .where(deliveries.c.chat_id == chat)
            .order_by(deliveries.c.id)
        )
        return [tuple(r) for r in conn.execute(query).tuples()]  # type: ignore[misc]


def _paused_for(db: Database, chat: int, clock: Skewed) -> float:
    """Seconds the chat is paused for from the dispatcher's now (0: not paused)."""
    with db.read() as conn:
        until = conn.execute(select(chats.c.blocked_until).where(chats.c.chat_id == chat))
        found = until.scalar()
    return 0.0 if found is None else (found - clock()).total_seconds()


def _sends(fake: FakeBotAPI, chat: int) -> list[int]:
    return [c.status for c in fake.calls if c.chat_id == chat and c.method == "sendmessage"]


TELEGRAM_FAULTS = {
    "no parameters": Fault(429, WORDS),
    "zero": Fault(429, WORDS, {"retry_after": 0}),
    "negative": Fault(429, WORDS, {"retry_after": -1}),
}


@pytest.mark.parametrize(
    ("db_url", "kind"), on_backends(list(TELEGRAM_FAULTS)), indirect=["db_url"]
)
async def test_the_chat_is_paused_and_its_next_alerts_wait(
    db: Database, fake: FakeBotAPI, kind: str
) -> None:
    """Three alerts to each of two chats; the first send to one answered 429 without a usable
    ``retry_after``. That chat is paused the default and gets no other call until the pause is
    over (before: its next alerts were sent at its pace); the other chat is not held up. Then
    every alert arrives once, none dead-lettered."""
    fault = TELEGRAM_FAULTS[kind]
    async with make_env(db, fake, 10.0) as env:
        for chat in (PRIVATE, PRIVATE2):
            subscribe_chat(db, chat, "private", "an-ninh")
        fake.script(PRIVATE, fault)
        env.publish(*(env.fresh() for _ in range(3)))
        clock = Skewed()
        d = _dispatcher(db, env.sender, clock)
        started = time.monotonic()
        await _dispatch_until(d, lambda: len(fake.messages(PRIVATE2)) == 3)
        assert _sends(fake, PRIVATE) == [429]
        # the pause left: the default less the time since the 429 (the other chat's three paced
        # sends after it: 2-3 s, over 5 s on a loaded CI machine)
        waited = time.monotonic() - started
        left = _paused_for(db, PRIVATE, clock)
        assert DEFAULT_RETRY_AFTER - waited - 1 < left <= DEFAULT_RETRY_AFTER, (left, waited)
        rows = _rows(db, PRIVATE)
        assert [s for s, _, _ in rows] == ["pending"] * 3, rows
        assert "no usable retry_after" in (rows[0][2] or "")
        clock.skip_pause()
        d = _dispatcher(db, env.sender, clock)
        await _dispatch_until(d, lambda: all(s == "sent" for _, s, _ in env.states()))
        assert _sends(fake, PRIVATE) == [429, 200, 200, 200]
        assert len(fake.messages(PRIVATE)) == 3 and len(fake.messages(PRIVATE2)) == 3


REPEATED_FAULTS = {
    "no retry_after": Fault(429, WORDS),
    "retry_after no number": Fault(429, WORDS, {"retry_after": "soon"}),
    "retry_after 1 (the reference)": Fault.flood(1),
}


@pytest.mark.parametrize(
    ("db_url", "kind"), on_backends(list(REPEATED_FAULTS), start=1), indirect=["db_url"]
)
async def test_repeated_429s_never_make_a_dead_letter(
    db: Database, fake: FakeBotAPI, kind: str
) -> None:
    """Four 429s in a row with ``max_attempts`` 2: the alert waits each pause out and is sent,
    counting as many attempts as four 429s with ``retry_after`` do (before: ``failed`` after
    the second, a lost alert)."""
    fault = REPEATED_FAULTS[kind]
    async with make_env(db, fake, 10.0) as env:
        subscribe_chat(db, PRIVATE, "private", "an-ninh")
        fake.script(PRIVATE, *[fault] * 4)
        env.publish(env.fresh())
        clock = Skewed()
        for answered in range(1, 5):
            d = _dispatcher(db, env.sender, clock, max_attempts=2)
            await _dispatch_until(
                d,
                lambda n=answered: (
                    len(_sends(fake, PRIVATE)) == n  # type: ignore[misc]
                    and _rows(db, PRIVATE)[0][0] != "sending"
                ),
            )
            [(state, attempts, _)] = _rows(db, PRIVATE)
            assert (state, attempts) == ("pending", answered), _rows(db, PRIVATE)
            clock.skip_pause()
        d = _dispatcher(db, env.sender, clock, max_attempts=2)
        await _dispatch_until(d, lambda: _rows(db, PRIVATE)[0][0] == "sent")
        assert _rows(db, PRIVATE)[0][:2] == ("sent", 5)
        assert len(fake.messages(PRIVATE)) == 1


async def test_zalo_a_429_said_by_the_status_only_pauses_the_recipient(
    db: Database, zalo: FakeZaloAPI
) -> None:
    """A Zalo recipient's alert answered HTTP 429 with another ``error_code`` and no
    ``retry_after``: paused the default, sent once the pause is over (before: retried at the
    outbox's backoff, the recipient never paused)."""
    add_topic(db)
    ing: Ingestor = builtin_ingestor(db)
    ing.hooks.append(Outbox(timedelta(hours=48)))
    chat = zalo_subscriber(db, "z-9")
    limited = {"ok": False, "error_code": -32, "description": "Rate limit exceeded"}
    zalo.script_raw("sendMessage", (429, json.dumps(limited).encode()))
    with db.write() as conn:
        upsert_source_articles(conn, [article(1, published_at=datetime.now(VN))],
                               datetime.now(UTC))  # fmt: skip
    assert ing.tick().error is None
    api = ZaloBotAPI(zalo.token, zalo.base_url, read_timeout=PATIENT_READ_TIMEOUT)
    channel = ZaloChannel(api, VN, global_rate=50)
    clock = Skewed()
    await channel.start()
    try:
        d = _dispatcher(db, channel, clock)
        await _dispatch_until(d, lambda: _paused_for(db, chat, clock) > 0)
        assert DEFAULT_RETRY_AFTER - 5 < _paused_for(db, chat, clock) <= DEFAULT_RETRY_AFTER
        assert states(db) == ["pending"] and zalo.messages("z-9") == []
        clock.skip_pause()
        d = _dispatcher(db, channel, clock)
        await _dispatch_until(d, lambda: states(db) == ["sent"])
    finally:
        await channel.close()
    assert len(zalo.messages("z-9")) == 1
