"""SIGTERM while a bot is starting (a tester's, against a slow Bot API: 10 of 30 stops exited 1).

The Telegram bot's start awaits the Bot API several times (getMe, setMyCommands, deleteWebhook),
the Zalo bot's webhook mode awaits setWebhook; against a slow API that is seconds, and a stop in
that window waited for them: "bot did not stop in time; abandoning it", exit 1, and the bot
logged "polling as @…" after "SIGTERM received: stopping". Now a stop cuts any start step short:
exit 0 within the 5 s budget, nothing abandoned, no polling begun once the stop began.

Deterministic: the fake holds one method's answers until the test releases them (``hold``), and
the signal is sent while a call of it is held.
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
from processes import run_then_sigterm
from test_bot import make_bot
from test_bot_lease import holder_of
from test_sigterm_work import service_env

from feedsvc.db import Database
from feedsvc.start_steps import unless_stopping

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

#: From SIGTERM to the process's end, at most (README: Deployment).
STOP_SECONDS = 5.0


@pytest.fixture
def tg() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as fake:
        yield fake


def run_and_stop(
    tmp_path: Path, env: dict[str, str], held: Callable[[], bool], *argv: str
) -> tuple[int, float, str]:
    """``feedsvc run`` until ``held()`` (a start step's call is in flight at the fake), then
    SIGTERM: (exit code, seconds from the signal to the exit, the log)."""
    return run_then_sigterm(tmp_path, env, list(argv), lambda _log: held(), 60, "a held start step")


def assert_clean_stop(code: int, took: float, log: str) -> None:
    assert code == 0, log
    assert took < STOP_SECONDS, (took, log)
    assert "abandon" not in log, log
    assert "did not stop in time" not in log, log
    stopping = log.index("SIGTERM received: stopping")
    assert "polling as @" not in log[stopping:], log
    assert "feedsvc stopped\n" in log[stopping:] or log.rstrip().endswith("feedsvc stopped"), log


def tg_env(tmp_path: Path, tg: FakeBotAPI, **extra: str) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    return service_env(url, FEEDSVC_TELEGRAM__TOKEN=tg.token,
                       FEEDSVC_TELEGRAM__BASE_URL=tg.base_url, **extra)  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("step", ["getMe", "setMyCommands", "deleteWebhook"])
def test_sigterm_while_the_telegram_bot_starts(tmp_path: Path, tg: FakeBotAPI, step: str) -> None:
    """Held at each awaited step of the bot's start; getMe also holds the dispatcher's token
    check and the reader pages' username look-up (every getMe of the process)."""
    gate = threading.Event()
    tg.hold(step, gate)
    try:
        code, took, log = run_and_stop(tmp_path, tg_env(tmp_path, tg), lambda: tg.holding(step) > 0)
    finally:
        gate.set()
    assert_clean_stop(code, took, log)
    assert not any(c.method == "getupdates" for c in tg.calls), tg.calls  # never polled


@pytest.mark.slow
def test_sigterm_while_the_bot_only_replica_starts(tmp_path: Path, tg: FakeBotAPI) -> None:
    """``--no-scheduler --no-http``: the bot and the token watch's getMe, nothing else."""
    gate = threading.Event()
    tg.hold("getMe", gate)
    env = tg_env(tmp_path, tg)
    try:
        code, took, log = run_and_stop(tmp_path, env, lambda: tg.holding("getMe") > 0,
                                       "--no-scheduler", "--no-http")  # fmt: skip
    finally:
        gate.set()
    assert_clean_stop(code, took, log)


@pytest.mark.slow
def test_sigterm_while_the_zalo_webhook_is_set(tmp_path: Path, tg: FakeBotAPI) -> None:
    """The Zalo bot's webhook mode registers its webhook at start (setWebhook), the Telegram
    bot's getMe held as well: both are cut short."""
    gate = threading.Event()
    with FakeZaloAPI() as zalo:
        zalo.hold("setWebhook", gate)
        tg.hold("getMe", gate)
        env = tg_env(
            tmp_path, tg, FEEDSVC_ZALO__TOKEN=zalo.token, FEEDSVC_ZALO__BASE_URL=zalo.base_url,
            FEEDSVC_ZALO__WEBHOOK_SECRET="stop-at-start-secret-0123456789",
            FEEDSVC_HTTP__PUBLIC_URL="https://news.example.vn",
        )  # fmt: skip
        try:
            code, took, log = run_and_stop(tmp_path, env, lambda: zalo.holding("setWebhook") > 0)
        finally:
            gate.set()
    assert_clean_stop(code, took, log)
    assert "zalo: webhook set" not in log, log


@pytest.mark.slow
def test_sigterm_while_the_zalo_poller_starts(tmp_path: Path, tg: FakeBotAPI) -> None:
    """Polling mode: its first getUpdates held at the fake when the stop comes."""
    gate = threading.Event()
    with FakeZaloAPI() as zalo:
        zalo.hold("getUpdates", gate)
        tg.hold("getMe", gate)
        env = tg_env(tmp_path, tg, FEEDSVC_ZALO__TOKEN=zalo.token,
                     FEEDSVC_ZALO__BASE_URL=zalo.base_url)  # fmt: skip
        try:
            code, took, log = run_and_stop(tmp_path, env, lambda: zalo.holding("getUpdates") > 0)
        finally:
            gate.set()
    assert_clean_stop(code, took, log)


@pytest.mark.slow
def test_sigterm_while_the_zalo_webhook_is_set_alone(tmp_path: Path) -> None:
    """The Zalo bot alone (no Telegram token): its setWebhook held at the fake."""
    gate = threading.Event()
    with FakeZaloAPI() as zalo:
        zalo.hold("setWebhook", gate)
        env = service_env(
            f"sqlite:///{tmp_path / 'state.db'}", FEEDSVC_ZALO__TOKEN=zalo.token,
            FEEDSVC_ZALO__BASE_URL=zalo.base_url, FEEDSVC_HTTP__PUBLIC_URL="https://news.vn",
            FEEDSVC_ZALO__WEBHOOK_SECRET="stop-at-start-secret-0123456789",
        )  # fmt: skip
        try:
            code, took, log = run_and_stop(tmp_path, env, lambda: zalo.holding("setWebhook") > 0)
        finally:
            gate.set()
    assert_clean_stop(code, took, log)
    assert "zalo: webhook set" not in log, log


# --- in-process: the bot's own lifecycle ---------------------------------------------------------
@pytest.mark.parametrize("step", ["getMe", "setMyCommands", "deleteWebhook"])
async def test_interrupt_cuts_the_bot_start_short(
    db: Database, fake: FakeBotAPI, step: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The service's interrupt (SIGTERM) during a start step: the lease loop ends at once, no
    polling begins even when the held answer then comes, and the stop is quick and releases
    the lease."""
    gate = threading.Event()
    fake.hold(step, gate)
    bot = make_bot(db, fake.base_url, fake.token, read_timeout=30)
    caplog.set_level(logging.INFO, logger="feedsvc.bot")
    await bot.start()
    try:
        await fake.await_for(lambda: fake.holding(step) > 0)
        assert holder_of(db) == "a"
        bot.interrupt()
        task = bot._task
        assert task is not None
        # the bound under test: the loop ends at once, while the step's answer is still held
        # (the bot's read timeout, 30 s, would end it too)
        await asyncio.wait_for(asyncio.shield(task), timeout=1.0)  # ended, not waiting on getMe
        gate.set()
        await fake.await_for(lambda: fake.holding(step) == 0)
        t0 = time.monotonic()
        await bot.stop()
        assert time.monotonic() - t0 < 1.0
    finally:
        gate.set()
        await bot.stop()
    assert not bot.polling
    assert holder_of(db) is None  # released: a standby takes over now
    assert "polling as" not in caplog.text
    assert "start cut short" in caplog.text
    assert not any(c.method == "getupdates" for c in fake.calls)


async def test_stop_during_the_bot_start_is_bounded(db: Database, fake: FakeBotAPI) -> None:
    """``stop()`` alone (no interrupt first) while getMe is held: done within a second, the
    way Service.stop gives it (``left(3.0)``, ~1.5 s on a slow machine)."""
    gate = threading.Event()
    fake.hold("getMe", gate)
    bot = make_bot(db, fake.base_url, fake.token, read_timeout=30)
    await bot.start()
    try:
        await fake.await_for(lambda: fake.holding("getMe") > 0)
        await asyncio.wait_for(bot.stop(), timeout=1.0)  # the bound under test: within a second
    finally:
        gate.set()
    assert not bot.polling and holder_of(db) is None


async def test_interrupt_then_a_start_that_completes_is_not_followed_up() -> None:
    """unless_stopping: a step that ended as the stop began is not followed up (False), one
    that raised before the stop raises, one cut short is cancelled."""
    stopping = asyncio.Event()
    ran: list[str] = []

    async def step(name: str, wait: float = 0.0, fail: bool = False) -> None:
        await asyncio.sleep(wait)
        if fail:
            raise ValueError(name)
        ran.append(name)

    assert await unless_stopping(step("quick"), stopping)
    with pytest.raises(ValueError):
        await unless_stopping(step("bad", fail=True), stopping)
    cut = asyncio.ensure_future(unless_stopping(step("slow", wait=30), stopping))
    await asyncio.sleep(0.05)
    stopping.set()
    # the bound under test: the 30 s step is cut short at once
    assert await asyncio.wait_for(cut, timeout=1) is False
    assert await unless_stopping(step("after"), stopping) is False
    assert ran == ["quick"]
