"""The bot's stop fits its share of the service's 5 s stop, and warns only of what matters.

A tester's, against a slow Bot API: with getUpdates *and* a command's answer slow at a SIGTERM,
the stop's confirming call (0.75 s) and then the answers' wait (0.75 s) took 1.5 s, more than
the bot's share of the stop (``left(3.0)`` in ``Service.stop``, about 1.4 s): "bot did not
stop in time; abandoning it", exit 1, and the lease left behind, so the next start's bot sat
silent ~21 s (4 of 4). The answers' time now runs from the stop's start, alongside the
confirming call, and both fit the share ``BotService.stop`` is given
(:mod:`feedsvc.bot.stopping`).

Also theirs: a start whose only fetched update was a copy of one handled before (re-sent
because the last stop's confirmation was cut), stopped against a slow getUpdates, warned that
the confirming call failed; such a copy is dropped again if it comes again: nothing to warn of.
And a standby waiting for a dead process's lease now says so (one INFO line).

Deterministic: the fake holds a method's calls until the test releases them (``hold``).
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from backend_cases import module_on_sqlite
from fakebot import FakeBotAPI
from sqlalchemy import Connection
from test_bot import make_bot
from test_bot_lease import holder_of
from test_bot_stop_at_start import tg, tg_env
from test_bot_stop_while_polling import (
    CONFIRM_WARNING,
    assert_clean_stop,
    polling,
    run,
)

from feedsvc.bot import poller_lease
from feedsvc.bot.once import bot_key
from feedsvc.bot.poller_lease import LEASE_NAME
from feedsvc.bot.service import BotService
from feedsvc.bot.stopping import ANSWERS_SECONDS, CONFIRM_SECONDS
from feedsvc.db import Database
from feedsvc.store import leases, zalo_updates

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

__all__ = ["tg"]

CHATS = (5151, 5252, 5353)  # private chats: each user's /help is answered there
#: the bot's share of a stop in the tester's run (5 s less what the service's other steps keep)
SHARE = 1.4
WITHIN = 1.3  # what the service's stop passes the bot for it: its share, a tick kept


def hold_all(tg: FakeBotAPI, chats: int, answers: threading.Event) -> threading.Event:
    """``chats`` /help queued and every getUpdates and answer held from now on; the gate
    returned lets the first long poll through (it brings them all at once: sent one by one
    to a polling bot, a later one could wait behind the held long poll)."""
    for chat in CHATS[:chats]:
        tg.user_sends(chat, chat, "/help")
    first = threading.Event()
    tg.hold("getUpdates", first)
    tg.hold("sendMessage", answers)
    return first


def first_poll_through(
    tg: FakeBotAPI, first: threading.Event, later: threading.Event, chats: int
) -> Callable[[], bool]:
    """Ready once the first long poll, let through, brought the updates, their ``chats``
    answers are held and so is the next long poll (``later``): the fake has them unconfirmed."""

    def ready() -> bool:
        if not first.is_set():
            if tg.holding("getUpdates") != 1:
                return False
            tg.hold("getUpdates", later)  # calls from now on; the held one keeps `first`
            first.set()
        return tg.holding("sendMessage") == chats and tg.holding("getUpdates") == 1

    return ready


@pytest.mark.slow
@pytest.mark.parametrize("chats", [1, 3])
def test_sigterm_with_answers_and_get_updates_slow(
    tmp_path: Path, tg: FakeBotAPI, chats: int
) -> None:
    """The tester's D1: getUpdates held and ``chats`` answers held at the SIGTERM: exit 0 in
    the budget, the answers given up with their line, the lease released (the next start's
    bot polls at once)."""
    answers, later = threading.Event(), threading.Event()
    first = hold_all(tg, chats, answers)
    ready = first_poll_through(tg, first, later, chats)
    env = tg_env(tmp_path, tg)
    try:
        code, took, log = run(tmp_path, env, lambda log: polling(log) and ready())
    finally:
        for gate in (first, later, answers):
            gate.set()
    assert_clean_stop(code, took, log)
    plural = "update" if chats == 1 else "updates"
    assert f"bot: {chats} {plural} still in hand" in log, log
    db = Database(env["FEEDSVC_DATABASE__URL"])
    try:
        assert holder_of(db) is None, log  # released: no ~21 s wait at the next start
    finally:
        db.dispose()


# --- in-process: the bot's own stop ---------------------------------------------------------------
async def polling_with_held(
    bot_db: Database, fake: FakeBotAPI, chats: int, gates: list[threading.Event]
) -> BotService:
    """A bot polling, ``chats`` /help answers held and the next long poll held (``gates``:
    the test sets them all at its end)."""
    answers, later = threading.Event(), threading.Event()
    first = hold_all(fake, chats, answers)
    gates.extend((first, later, answers))
    bot = make_bot(bot_db, fake.base_url, fake.token, read_timeout=30)  # long polls of 1 s
    await bot.start()
    await fake.await_for(first_poll_through(fake, first, later, chats))
    return bot


@pytest.mark.parametrize(("chats", "within"), [(1, None), (3, None), (1, WITHIN), (3, 0.6)])
async def test_bot_stop_with_answers_and_get_updates_slow_fits_its_share(
    db: Database, fake: FakeBotAPI, chats: int, within: float | None,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """Both slow: the stop takes one share (not the confirm's then the answers'), within the
    share it is given (``within``; a short one shrinks both), releases the lease, gives the
    answers up with one line."""
    gates: list[threading.Event] = []
    caplog.set_level(logging.INFO)
    bot = None
    try:
        bot = await polling_with_held(db, fake, chats, gates)
        t0 = time.monotonic()
        await asyncio.wait_for(bot.stop(within=within), timeout=SHARE)  # the bound under test
        took = time.monotonic() - t0
    finally:
        for gate in gates:
            gate.set()
        if bot is not None:
            await bot.stop()
    assert took < CONFIRM_SECONDS + ANSWERS_SECONDS, took  # side by side, not one after the other
    if within is not None:  # a loaded machine's release (a DB write in a thread) may run over
        assert took < within + 0.2, took
    assert holder_of(db) is None, caplog.text
    plural = "update" if chats == 1 else "updates"
    assert f"bot: {chats} {plural} still in hand" in caplog.text, caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_an_answer_that_ends_during_the_confirm_is_not_given_up(
    db: Database, fake: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """The stop comes while the answer is held; it is released while the stop's confirming
    call is held: the answer is delivered, nothing given up, the stop within its share."""
    gates: list[threading.Event] = []
    caplog.set_level(logging.INFO)
    bot = None
    try:
        bot = await polling_with_held(db, fake, 1, gates)
        held = fake.holding("getUpdates")
        t0 = time.monotonic()
        stop = asyncio.ensure_future(bot.stop())
        await fake.await_for(lambda: fake.holding("getUpdates") > held)  # the confirm
        gates[2].set()  # the answer
        await fake.await_for(lambda: len(fake.messages(CHATS[0])) == 1)
        await asyncio.wait_for(stop, timeout=SHARE)  # the bound under test
        took = time.monotonic() - t0
    finally:
        for gate in gates:
            gate.set()
        if bot is not None:
            await bot.stop()
    assert took < SHARE, took
    assert "still in hand" not in caplog.text, caplog.text
    assert holder_of(db) is None, caplog.text


@pytest.mark.parametrize("new", [False, True])
async def test_a_copy_of_a_handled_update_is_no_cause_for_the_confirm_warning(
    db: Database, fake: FakeBotAPI, new: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """The tester's D6: the start's only fetched update is a copy of one handled before
    (recorded: the last stop's confirmation was cut), dropped; the stop's confirming call is
    then cut: no warning. ``new``: a new update comes with it, the warning is said."""
    copy = fake.user_sends(CHATS[0], CHATS[0], "/help")  # re-sent: the last run answered it
    with db.write() as conn:  # what the last run recorded for the update it answered
        zalo_updates.first_delivery(conn, bot_key(fake.token), str(copy), db.now())
    if new:
        fake.user_sends(CHATS[1], CHATS[1], "/help")
    first, later = threading.Event(), threading.Event()
    caplog.set_level(logging.DEBUG, logger="feedsvc.bot")
    fake.hold("getUpdates", first)
    bot = make_bot(db, fake.base_url, fake.token, read_timeout=30)
    await bot.start()
    try:
        await fake.await_for(lambda: fake.holding("getUpdates") == 1)
        fake.hold("getUpdates", later)  # calls arriving from now on; the held one keeps `first`
        first.set()
        await fake.await_for(lambda: f"update {copy} was handled before" in caplog.text)
        await fake.await_for(lambda: len(fake.messages(CHATS[1])) == int(new))
        await fake.await_for(lambda: fake.holding("getUpdates") == 1)
        await asyncio.wait_for(bot.stop(), timeout=5)  # the bound under test: the 5 s stop
    finally:
        later.set()
        await bot.stop()
    assert not fake.messages(CHATS[0]), caplog.text  # the copy was not answered again
    warnings = [r for r in caplog.records if CONFIRM_WARNING in r.getMessage()]
    assert len(warnings) == int(new), caplog.text


async def test_a_standby_says_it_waits_for_another_holders_lease(
    db: Database, fake: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """A dead process's lease (a kill -9, an abandoned stop): the next start's bot says it
    waits, for whom and until when, once — not at every look."""
    with db.write() as conn:
        leases.acquire(conn, LEASE_NAME, "gone:1:dead", timedelta(seconds=20), db.now())
    caplog.set_level(logging.INFO, logger="feedsvc.bot")
    bot = make_bot(db, fake.base_url, fake.token)
    await bot.start()
    try:
        await fake.await_for(lambda: bot.lease_checks >= 3)
    finally:
        await bot.stop()
    lines = [
        r.getMessage() for r in caplog.records if "waiting for the poller lease" in r.getMessage()
    ]
    assert len(lines) == 1, caplog.text
    assert re.search(r"held by gone:1:dead until \S+ UTC \(in (19|20) s\)", lines[0]), lines
    assert not bot.polling


async def test_a_stop_during_the_confirm_of_a_lost_lease(
    db: Database, fake: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """Another replica took the lease, so the bot's own lease loop is stopping polling (its
    confirming call held, an answer held) when the service's stop comes: the stop still fits
    its share, the answer is given up with its line, nothing is left running."""
    gates: list[threading.Event] = []
    caplog.set_level(logging.INFO)
    bot = None
    try:
        bot = await polling_with_held(db, fake, 1, gates)
        held = fake.holding("getUpdates")
        with db.write() as conn:  # the lease taken over: the bot's next look stops polling
            leases.release(conn, LEASE_NAME, bot.holder)
            leases.acquire(conn, LEASE_NAME, "b", timedelta(seconds=30), db.now())
        await fake.await_for(lambda: fake.holding("getUpdates") > held)  # the confirm
        t0 = time.monotonic()
        await asyncio.wait_for(bot.stop(within=WITHIN), timeout=SHARE)  # the bound under test
        took = time.monotonic() - t0
        in_hand = bot.updates_in_hand
    finally:
        for gate in gates:
            gate.set()
        if bot is not None:
            await bot.stop()
    assert took < WITHIN, took
    assert "bot: 1 update still in hand" in caplog.text, caplog.text
    assert in_hand == 0, caplog.text
    assert "lease loop did not stop in time" not in caplog.text, caplog.text  # it was stopping
    assert holder_of(db) == "b"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


@pytest.mark.parametrize("answers_after", [0.6, 2.0])
async def test_a_stop_while_the_first_lease_look_waits_on_the_state_db(
    db: Database,
    fake: FakeBotAPI,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    answers_after: float,
) -> None:
    """SIGTERM while the bot's first look at the lease waits on a busy state DB (CI, a loaded
    host: "lease loop did not stop in time"). Nothing was started, so the stop keeps no time
    for a stop of polling: a look the DB answers 0.6 s into the stop is waited for, the start
    it leads to is cut short and the lease released. One answered after the stop's share (2 s)
    is not waited for, and takes nothing: the release comes after it (it had come before it,
    and the lease was left held until it expired)."""
    entered, answer = threading.Event(), threading.Event()
    take, give = leases.acquire, leases.release
    writes: list[str] = []

    def ours(conn: Connection, name: str) -> bool:  # not a thread an earlier test left
        return conn.engine is db.engine and name == LEASE_NAME

    def slow_db(conn: Connection, name: str, *args: Any) -> bool:  # the look: the DB's answer
        if ours(conn, name):
            entered.set()
            answer.wait(10)
            writes.append("acquire")
        return take(conn, name, *args)

    def release(conn: Connection, name: str, *args: Any) -> bool:
        if ours(conn, name):
            writes.append("release")
        return give(conn, name, *args)

    monkeypatch.setattr(poller_lease.leases, "acquire", slow_db)
    monkeypatch.setattr(poller_lease.leases, "release", release)
    bot = make_bot(db, fake.base_url, fake.token)
    caplog.set_level(logging.INFO, logger="feedsvc.bot")
    await bot.start()
    try:
        assert await asyncio.to_thread(entered.wait, 10)
        threading.Timer(answers_after, answer.set).start()  # the scripted fault
        t0 = time.monotonic()
        await asyncio.wait_for(bot.stop(within=WITHIN), timeout=SHARE)  # the bound under test
        took = time.monotonic() - t0
        await fake.await_for(lambda: len(writes) >= 2)
    finally:
        answer.set()
        await bot.stop()
    assert took < WITHIN, took
    assert writes == ["acquire", "release"], writes
    assert holder_of(db) is None  # released, not left held until it expires
    assert not any(c.method in ("getme", "getupdates") for c in fake.calls), fake.calls
    if answers_after < WITHIN:
        assert "lease loop did not stop in time" not in caplog.text, caplog.text
        assert "start cut short" in caplog.text, caplog.text
    else:
        assert "could not release the poller lease within" in caplog.text, caplog.text
