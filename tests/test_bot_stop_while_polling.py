"""SIGTERM while the Telegram bot polls a slow Bot API (a tester's: 4 of 7 stops exited 1).

Polling, the bot has a long poll (getUpdates) in flight; PTB's ``Updater.stop`` cancels it, then
makes one last getUpdates (``timeout=0``) confirming the offset of the updates it fetched;
``Application.stop`` waits for the updates in hand (an answer, sendMessage, in flight). Against
a Bot API that answers only after seconds, that last call and that answer each took up to the
read timeout (10 s): "bot did not stop in time; abandoning it", exit 1. Now each gets a short,
fixed share of the stop (:mod:`feedsvc.bot.stopping`): exit 0 within the 5 s budget, nothing
abandoned, no traceback.

Deterministic: the fake holds a method's calls until the test releases them (``hold``), and the
signal is sent while a call of it is held.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from backend_cases import module_on_sqlite
from fakebot import FakeBotAPI
from processes import run_then_sigterm
from test_bot import make_bot
from test_bot_lease import holder_of
from test_bot_stop_at_start import STOP_SECONDS, tg, tg_env

from feedsvc.bot.stopping import ANSWERS_SECONDS, CONFIRM_SECONDS
from feedsvc.db import Database

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

__all__ = ["tg"]  # the fixture, shared with the stop-at-start tests

CHAT = 4242  # a private chat: its user's /help is answered there


def assert_clean_stop(code: int, took: float, log: str) -> None:
    assert code == 0, log
    assert took < STOP_SECONDS, (took, log)
    assert "abandon" not in log, log
    assert "did not stop in time" not in log, log
    assert "Traceback" not in log and "ERROR" not in log, log
    assert log.rstrip().endswith("feedsvc stopped") or "feedsvc stopped\n" in log, log


def polling(log: str) -> bool:
    return "bot: polling as @" in log


def run(path: Path, env: dict[str, str], ready: Callable[[str], bool]) -> tuple[int, float, str]:
    """``feedsvc run`` in ``path`` until ``ready(log)``, then SIGTERM (see run_then_sigterm)."""
    path.mkdir(exist_ok=True)
    return run_then_sigterm(path, env, [], lambda log: ready(log()), 60, "the bot's held call")


def answered(tg: FakeBotAPI) -> int:
    return len(tg.messages(CHAT))


def long_poll_waiting(tg: FakeBotAPI) -> bool:
    """A getUpdates got past any hold and waits in the fake (it records ``allowed_updates``
    there) with every update confirmed."""
    return tg.allowed_updates is not None and tg.pending_updates == 0


@pytest.mark.slow
def test_sigterm_while_a_long_poll_is_held(tmp_path: Path, tg: FakeBotAPI) -> None:
    """Every getUpdates held: the long poll in flight and the stop's confirming call both."""
    gate = threading.Event()
    tg.hold("getUpdates", gate)
    try:
        code, took, log = run(tmp_path, tg_env(tmp_path, tg),
                              lambda log: polling(log) and tg.holding("getUpdates"))  # fmt: skip
    finally:
        gate.set()
    assert_clean_stop(code, took, log)
    # nothing was fetched, so the cut confirming call confirmed nothing: no warning (it was said
    # on every stop against a slow Bot API), and no PTB traceback either
    assert "bot: the last getUpdates" not in log, log


@pytest.mark.slow
def test_sigterm_while_an_answer_is_held(tmp_path: Path, tg: FakeBotAPI) -> None:
    """A /help being answered (its sendMessage held) when the stop comes: the answer is given
    up after its share, the stop is orderly."""
    gate = threading.Event()
    tg.hold("sendMessage", gate)
    asked: list[int] = []

    def answer_held(log: str) -> bool:
        if polling(log) and not asked:
            asked.append(tg.user_sends(CHAT, CHAT, "/help"))
        return tg.holding("sendMessage") > 0

    try:
        code, took, log = run(tmp_path, tg_env(tmp_path, tg), answer_held)
    finally:
        gate.set()
    assert_clean_stop(code, took, log)
    assert "bot: 1 update still in hand" in log, log


def ask_then_hold(tg: FakeBotAPI, gate: threading.Event, early: bool) -> Callable[[str], bool]:
    """Ready once /help was answered and getUpdates is held. ``early``: the hold comes before
    the update is sent, so the long poll that would confirm it is held before it reaches the
    fake's queue (a slow proxy); else after, when the next long poll already confirmed it."""
    asked: list[int] = []

    def ready(log: str) -> bool:
        if not asked:
            if not (polling(log) and long_poll_waiting(tg)):
                return False
            if early:
                tg.hold("getUpdates", gate)
            asked.append(tg.user_sends(CHAT, CHAT, "/help"))
            return False
        if not answered(tg):
            return False
        if early:
            return tg.holding("getUpdates") > 0
        if long_poll_waiting(tg):  # the next long poll, past the hold, confirmed it
            tg.hold("getUpdates", gate)
            return True
        return False

    return ready


def answered_once_after_a_restart(tmp_path: Path, tg: FakeBotAPI, early: bool) -> None:
    """/help answered, the stop with getUpdates held, a restart, a second /help answered:
    the first is not answered again. ``early``: the calls held in the first run stay held
    through the second (they never reached the Bot API), else they are released first."""
    gate, released = threading.Event(), threading.Event()
    released.set()
    env = tg_env(tmp_path, tg)
    try:
        code, took, log = run(tmp_path / "one", env, ask_then_hold(tg, gate, early))
        assert_clean_stop(code, took, log)
        assert answered(tg) == 1
        if not early:
            gate.set()
        tg.hold("getUpdates", released)  # the second run's calls are answered
        asked: list[int] = []

        def second_answered(log: str) -> bool:  # one chat: answered in turn after any re-sent
            if polling(log) and not asked:
                asked.append(tg.user_sends(CHAT, CHAT, "/help"))
            return answered(tg) >= 2

        code, took, log = run(tmp_path / "two", env, second_answered)
    finally:
        gate.set()
    assert answered(tg) == 2, tg.messages(CHAT)  # the first /help not answered again
    assert_clean_stop(code, took, log)


@pytest.mark.slow
def test_an_update_confirmed_by_the_long_poll_is_not_answered_again(
    tmp_path: Path, tg: FakeBotAPI
) -> None:
    """/help answered and confirmed by the next long poll; the stop's confirming call held:
    after a restart it is not answered again."""
    answered_once_after_a_restart(tmp_path, tg, early=False)


@pytest.mark.slow
def test_an_unconfirmed_update_is_not_answered_again(tmp_path: Path, tg: FakeBotAPI) -> None:
    """/help answered while every getUpdates after it was held before the fake saw its offset,
    the stop's confirming one too: Telegram sends it again at the next start, and the state DB
    knows it was handled (feedsvc.bot.once)."""
    answered_once_after_a_restart(tmp_path, tg, early=True)


# --- in-process: the bot's own stop ---------------------------------------------------------------
@pytest.mark.parametrize("held", ["getUpdates", "sendMessage"])
async def test_bot_stop_while_polling_is_bounded(
    db: Database, fake: FakeBotAPI, held: str, caplog: pytest.LogCaptureFixture
) -> None:
    """``BotService.stop`` while polling, with every getUpdates after polling began held (the
    long poll, then the confirming call), or an answer held: done within its shares
    (CONFIRM_SECONDS + ANSWERS_SECONDS, with room), the lease released, no ERROR logged."""
    bot = make_bot(db, fake.base_url, fake.token, read_timeout=30)  # long polls of 1 s
    gate = threading.Event()
    caplog.set_level(logging.INFO)
    await bot.start()
    try:
        await fake.await_for(lambda: bot.polling)
        fake.hold(held, gate)
        if held == "sendMessage":
            fake.user_sends(CHAT, CHAT, "/help")
        await fake.await_for(lambda: fake.holding(held) > 0)
        t0 = time.monotonic()
        await asyncio.wait_for(bot.stop(), timeout=5)  # the bound under test: the 5 s stop
        assert time.monotonic() - t0 < CONFIRM_SECONDS + ANSWERS_SECONDS + 1.0
    finally:
        gate.set()
        await bot.stop()
    assert not bot.polling and holder_of(db) is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    if held == "sendMessage":
        assert "bot: 1 update still in hand" in caplog.text, caplog.text


CONFIRM_WARNING = "bot: the last getUpdates, confirming the updates fetched, failed at the stop"


@pytest.mark.parametrize("fetched", [False, True])
async def test_the_cut_confirming_call_warns_only_when_it_had_updates_to_confirm(
    db: Database, fake: FakeBotAPI, fetched: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """The first long poll is held, then let through with every later getUpdates held (the
    next long poll, the stop's confirming call): ``fetched``, it brings a /help that is
    answered, and the cut confirming call would have confirmed it — the warning, that it comes
    again at the next start; else it brings nothing (answered empty), the cut call confirmed
    nothing — no warning (it was said at every stop against a slow Bot API)."""
    bot = make_bot(db, fake.base_url, fake.token, read_timeout=30)  # long polls of 1 s
    first, later = threading.Event(), threading.Event()
    caplog.set_level(logging.DEBUG, logger="feedsvc.bot")
    if fetched:
        fake.user_sends(CHAT, CHAT, "/help")  # queued: the first long poll brings it
    fake.hold("getUpdates", first)
    await bot.start()
    try:
        await fake.await_for(lambda: fake.holding("getUpdates") == 1)
        fake.hold("getUpdates", later)  # calls arriving from now on; the held one keeps `first`
        first.set()
        polls = lambda: sum(c.method == "getupdates" for c in fake.calls)  # noqa: E731
        # the first answered (recorded when answered), then the next long poll held
        await fake.await_for(lambda: polls() == 1 and fake.holding("getUpdates") == 1)
        await fake.await_for(lambda: len(fake.messages(CHAT)) == int(fetched))
        await asyncio.wait_for(bot.stop(), timeout=5)  # the bound under test: the 5 s stop
    finally:
        later.set()
        await bot.stop()
    warnings = [r for r in caplog.records
                if r.levelno >= logging.WARNING and CONFIRM_WARNING in r.getMessage()]  # fmt: skip
    assert len(warnings) == int(fetched), caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
