"""The Zalo bot's stop fits its share of the service's 5 s stop, as the Telegram bot's does.

A held Zalo Bot API at a SIGTERM: the stop of the Zalo bot waited for every update in hand
(``ZaloBot.drain``: a reply's sendMessage, up to its 10 s read timeout, and each update queued
behind it in its chat's lane) with no bound of its own, so ``Service.stop`` abandoned it after
its share — "zalo bot did not stop in time; abandoning it", exit 1 — and gave the Telegram
bot's stop the same share first, leaving the Zalo bot a tick when the Telegram bot's took its
own. Now ``ZaloService.stop(within=)`` gives the updates in hand until
:data:`~feedsvc.bot.stopping.ANSWERS_SECONDS` into the stop, then cancels them with one line
(the rule :mod:`feedsvc.bot.stopping` owns), keeps
:data:`~feedsvc.bot.service.RELEASE_SECONDS` for the poller lease's release, and the two bots
stop side by side within one share.

Deterministic: the fake holds a method's calls until the test releases them (``hold``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from backend_cases import module_on_sqlite
from fakebot import FakeBotAPI
from fakezalo import FakeZaloAPI
from test_bot_lease import holder_of
from test_bot_stop_at_start import tg, tg_env
from test_bot_stop_share import first_poll_through, hold_all
from test_bot_stop_while_polling import assert_clean_stop, run
from test_sigterm_work import service_env

from feedsvc.bot.stopping import ANSWERS_SECONDS
from feedsvc.channels.zalo.service import LEASE_NAME, ZaloService
from feedsvc.db import Database
from feedsvc.store import leases

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

__all__ = ["tg"]

CHATS = ("z-stop-1", "z-stop-2", "z-stop-3")
#: the bots' share of a stop (5 s less what the service's other steps keep): the bound under
#: test in every ``asyncio.wait_for(..., timeout=SHARE)`` here
SHARE = 1.4
WITHIN = 1.3  # what the service's stop passes a bot for it: its share, a tick kept


@pytest.fixture
def zfake() -> Iterator[FakeZaloAPI]:
    with FakeZaloAPI() as server:
        yield server


def zalo_holder(db: Database) -> str | None:
    with db.read() as conn:
        lease = leases.get(conn, LEASE_NAME)
    return lease.holder if lease else None


def zalo_polling(log: str) -> bool:
    return "zalo: started polling" in log


def ask_with_answers_held(zfake: FakeZaloAPI, chats: int, queued: int = 0) -> Callable[[str], bool]:
    """Ready once the Zalo poller polls and ``chats`` /help answers are held at the fake
    (``queued`` more /list of the first chat wait behind its held answer, in its lane)."""
    asked: list[str] = []

    def ready(log: str) -> bool:
        if not zalo_polling(log):
            return False
        if not asked:
            for chat in CHATS[:chats]:
                asked.append(chat)
                zfake.user_says(chat, "/help")
            for _ in range(queued):
                zfake.user_says(CHATS[0], "/list")
            return False
        return zfake.holding("sendMessage") == chats and zfake.pending_updates == 0

    return ready


@pytest.mark.slow
@pytest.mark.parametrize("chats", [1, 3])
def test_sigterm_with_zalo_answers_held(tmp_path: Path, zfake: FakeZaloAPI, chats: int) -> None:
    """The Zalo bot alone, polling, ``chats`` /help answers held (and two more updates of the
    first chat waiting behind its answer) at the SIGTERM: exit 0 within the budget, the
    updates given up with one line, the poller lease released."""
    answers = threading.Event()
    zfake.hold("sendMessage", answers)
    env = service_env(f"sqlite:///{tmp_path / 'state.db'}", FEEDSVC_ZALO__TOKEN=zfake.token,
                      FEEDSVC_ZALO__BASE_URL=zfake.base_url)  # fmt: skip
    try:
        code, took, log = run(tmp_path, env, ask_with_answers_held(zfake, chats, queued=2))
    finally:
        answers.set()
    assert_clean_stop(code, took, log)
    assert f"zalo: {chats + 2} updates still in hand" in log, log
    assert zfake.token not in log
    db = Database(env["FEEDSVC_DATABASE__URL"])
    try:
        assert zalo_holder(db) is None, log
    finally:
        db.dispose()


@pytest.mark.slow
def test_sigterm_with_both_bots_held(tmp_path: Path, tg: FakeBotAPI, zfake: FakeZaloAPI) -> None:
    """Both bots polling, the Telegram bot's getUpdates and answer held and a Zalo answer
    held: the two stops share the bots' share side by side (one after the other, the Zalo
    bot's got a tick): exit 0 within the budget, both leases released."""
    tg_answers, tg_later, z_answers = threading.Event(), threading.Event(), threading.Event()
    tg_first = hold_all(tg, 1, tg_answers)
    tg_ready = first_poll_through(tg, tg_first, tg_later, 1)
    zfake.hold("sendMessage", z_answers)
    z_ready = ask_with_answers_held(zfake, 1)
    env = tg_env(tmp_path, tg, FEEDSVC_ZALO__TOKEN=zfake.token,
                 FEEDSVC_ZALO__BASE_URL=zfake.base_url)  # fmt: skip
    try:
        code, took, log = run(tmp_path, env, lambda log: z_ready(log) and tg_ready())
    finally:
        for gate in (tg_answers, tg_later, tg_first, z_answers):
            gate.set()
    assert_clean_stop(code, took, log)
    assert "bot: 1 update still in hand" in log, log
    assert "zalo: 1 update still in hand" in log, log
    db = Database(env["FEEDSVC_DATABASE__URL"])
    try:
        assert zalo_holder(db) is None, log
        assert holder_of(db) is None, log
    finally:
        db.dispose()


# --- in-process: the Zalo bot's own stop ----------------------------------------------------------
async def polling_service(db: Database, zfake: FakeZaloAPI) -> ZaloService:
    service = ZaloService(db, zfake.token, zfake.base_url, webhook_secret=None,
                          lease_seconds=3, poll_timeout=0.5)  # fmt: skip
    await service.start()
    assert service.poller is not None
    poller = service.poller
    await zfake.await_for(lambda: poller.polling and poller.polls >= 1)
    return service


async def answers_held(db: Database, zfake: FakeZaloAPI, chats: int, queued: int) -> ZaloService:
    """A polling Zalo bot with ``chats`` /help answers held at the fake and ``queued`` more
    updates of the first chat waiting behind its answer."""
    service = await polling_service(db, zfake)
    for chat in CHATS[:chats]:
        zfake.user_says(chat, "/help")
    for _ in range(queued):
        zfake.user_says(CHATS[0], "/list")
    lanes = service.bot.lanes
    await zfake.await_for(
        lambda: zfake.holding("sendMessage") == chats and lanes.waiting(CHATS[0]) == queued
    )
    return service


@pytest.mark.parametrize(("chats", "queued", "within"),
                         [(1, 0, None), (3, 2, None), (1, 1, WITHIN), (3, 0, 0.6)])  # fmt: skip
async def test_zalo_stop_with_answers_held_fits_its_share(
    db: Database, zfake: FakeZaloAPI, chats: int, queued: int, within: float | None,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """Answers held (and updates waiting behind one): the stop takes the answers' share, or
    the shorter share it is given, releases the poller lease, gives the updates up with one
    line; nothing left running."""
    answers = threading.Event()
    zfake.hold("sendMessage", answers)
    caplog.set_level(logging.INFO)
    service = None
    try:
        service = await answers_held(db, zfake, chats, queued)
        t0 = time.monotonic()
        await asyncio.wait_for(service.stop(within=within), timeout=SHARE)
        took = time.monotonic() - t0
        lanes = service.bot.lanes.chats
        sent = zfake.messages(CHATS[0])  # before the gate opens: the fake then answers it
    finally:
        answers.set()
        if service is not None:
            await service.stop()
    assert took < (ANSWERS_SECONDS if within is None else within) + 0.2, took
    assert zalo_holder(db) is None, caplog.text
    given_up = chats + queued
    plural = "update" if given_up == 1 else "updates"
    assert f"zalo: {given_up} {plural} still in hand" in caplog.text, caplog.text
    assert lanes == 0
    assert not sent, caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_an_answer_released_within_the_share_is_not_given_up(
    db: Database, zfake: FakeZaloAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """The stop comes while an answer is held; released within the answers' share, it is
    delivered and the update behind it answered too, nothing given up."""
    answers = threading.Event()
    zfake.hold("sendMessage", answers)
    caplog.set_level(logging.INFO)
    service = await answers_held(db, zfake, 1, 0)
    try:
        stop = asyncio.ensure_future(service.stop(within=WITHIN))
        await zfake.await_for(lambda: service.poller is not None and not service.poller.polling)
        answers.set()
        await asyncio.wait_for(stop, timeout=SHARE)
    finally:
        answers.set()
        await service.stop()
    assert len(zfake.messages(CHATS[0])) == 1, caplog.text
    assert "still in hand" not in caplog.text, caplog.text
    assert zalo_holder(db) is None


async def test_a_held_long_poll_is_no_wait_at_the_stop(
    db: Database, zfake: FakeZaloAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """getUpdates held (a hung Zalo): the stop is at once, the lease released, no line."""
    gate = threading.Event()
    caplog.set_level(logging.INFO)
    service = await polling_service(db, zfake)
    zfake.hold("getUpdates", gate)
    try:
        await zfake.await_for(lambda: zfake.holding("getUpdates") == 1)
        t0 = time.monotonic()
        await asyncio.wait_for(service.stop(within=WITHIN), timeout=SHARE)
        took = time.monotonic() - t0
    finally:
        gate.set()
        await service.stop()
    assert took < 0.5, took
    assert zalo_holder(db) is None
    assert "still in hand" not in caplog.text, caplog.text


async def test_a_lease_look_after_the_release_takes_nothing(
    db: Database, zfake: FakeZaloAPI
) -> None:
    """A look the stop's cancel did not reach in time (its thread not yet begun: the executor
    busy) runs after the release: it must not take the lease back, which would be left
    behind until it expires."""
    service = await polling_service(db, zfake)
    poller = service.poller
    assert poller is not None
    await service.stop(within=WITHIN)
    assert zalo_holder(db) is None
    assert not await asyncio.to_thread(poller._acquire)  # the late look
    assert zalo_holder(db) is None
