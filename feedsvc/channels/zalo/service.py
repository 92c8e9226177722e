"""The Zalo bot's lifecycle: webhook mode or one long-polling replica (the ``zalo-poller`` lease).

Webhook mode (``zalo.webhook_secret`` set): updates arrive at ``POST /zalo/webhook``
(:mod:`feedsvc.web.zalo`); at start the webhook is registered at ``http.public_url`` when
``zalo.set_webhook``. Polling mode: the holder of the lease long-polls ``getUpdates`` and renews
the lease before each poll (a poll is shorter than the lease); a standby looks every few seconds
and takes over when the lease expires or is released by a clean stop. A database error while
renewing is not a lost lease: polling goes on while the last renewal is still valid.

Nothing here takes the service down: API and network errors are logged token-free and retried
with backoff, told as an outage is — when they start or change, again every
:data:`~feedsvc.failure_log.REMIND_SECONDS`, and when polling works again — never at each retry
(every 60 s at most, for as long as it lasts); a ``zalo.base_url`` that answers something that is
not the Zalo Bot API is named as such (:mod:`feedsvc.notify.not_bot_api`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress
from datetime import timedelta, tzinfo
from zoneinfo import ZoneInfo

import httpx

from feedsvc.bot.gate import Limits
from feedsvc.budget import SendBudget, bot_budget
from feedsvc.channels.zalo.api import ForeignAnswer, ZaloBotAPI, ZaloError
from feedsvc.channels.zalo.bot import ZaloBot
from feedsvc.channels.zalo.channel import LIMITS
from feedsvc.config.checks import ZALO_WEBHOOK_PATH
from feedsvc.db import Database, outage
from feedsvc.db.errors import describe
from feedsvc.failure_log import FailureLog, spoken
from feedsvc.logs import brief_error
from feedsvc.notify.not_bot_api import watch_of
from feedsvc.start_steps import unless_stopping
from feedsvc.store import leases

log = logging.getLogger("feedsvc.zalo")
LEASE_NAME = "zalo-poller"
WEBHOOK_PATH = ZALO_WEBHOOK_PATH  # the one definition: config checks the address it makes
MAX_BACKOFF = 60.0  # seconds between failed polls, at most


class ZaloPoller:
    """Long polling guarded by the ``zalo-poller`` lease (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        api: ZaloBotAPI,
        bot: ZaloBot,
        *,
        lease_seconds: float = 30.0,
        poll_timeout: float = 10.0,
        standby_seconds: float = 3.0,
        holder: str | None = None,
    ) -> None:
        if not 0 < poll_timeout < lease_seconds:
            raise ValueError("poll_timeout must be positive and shorter than lease_seconds")
        self.db, self.api, self.bot = db, api, bot
        self.lease = timedelta(seconds=lease_seconds)
        self.poll_timeout = poll_timeout
        self.standby_seconds = standby_seconds
        self.holder = holder or leases.this_process()
        self.polling = False
        self.polls = 0  # lets tests wait for "N polls done" without sleeping
        self.told = FailureLog()  # getUpdates failures: once, now and then, their end
        #: what zalo.base_url answered, told once for the process
        self.base_url = watch_of("zalo.base_url", api.base_url, "the Zalo Bot API", log.name)
        self._renewed_at = 0.0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="zalo-poller")

    def interrupt(self) -> None:
        """The service stops: no poll begins from now on (:meth:`stop` ends the one in
        flight). On the event loop."""
        self._stop.set()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self.interrupt()
        task.cancel()  # a long poll in flight is abandoned (the update stays at Zalo's side)
        with suppress(asyncio.CancelledError, Exception):
            await task
        if self.polling:
            try:
                await asyncio.to_thread(self._release)
            except Exception as exc:
                log.warning("zalo: could not release the poller lease (it will expire): %s", exc)
        self.polling = False

    async def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            if not await self._check_lease():
                await self._wait(self.standby_seconds)
                continue
            if self._stop.is_set():  # the stop began while the lease was looked at
                break
            try:
                updates = await self.api.get_updates(self.poll_timeout)
            except ZaloError as exc:
                if exc.code == 408:  # the long poll ended empty
                    failures, updates = 0, []
                else:
                    failures += 1
                    self._failed(exc, exc.description, exc.foreign)
                    await self._wait(min(MAX_BACKOFF, 2.0**failures))
                    continue
            except Exception as exc:  # transport errors, and anything a broken answer raises:
                failures += 1  # the poller task must not end (the bot would fall silent)
                words = brief_error(exc, self.api.scrub)
                self._failed(exc, words, isinstance(exc, ForeignAnswer))
                await self._wait(min(MAX_BACKOFF, 2.0**failures))
                continue
            failures = 0
            self._polled()
            self.polls += 1
            for update in updates:
                self.bot.accept(update)

    def _failed(self, exc: Exception, words: str, foreign: bool) -> None:
        """A failed poll: an answer that is not the API's is the base URL's to tell; any other
        failure is told when it starts or changes and again every 15 minutes."""
        if foreign:
            self.base_url.failed(str(exc) if isinstance(exc, ForeignAnswer) else words)
            return
        kind = self.told.failed("getUpdates", words)
        still = f" (for {spoken(self.told.lasting())} now)" if kind == "reminder" else ""
        log.log(logging.DEBUG if kind is None else logging.WARNING,
                "zalo: getUpdates failed%s: %s; retrying", still, words)  # fmt: skip

    def _polled(self) -> None:
        """A poll the API answered: the end of a run of failures, in one line."""
        self.base_url.answered()
        ended = self.told.ended()
        if ended is not None:
            log.info("zalo: getUpdates works again after %s (%d failed poll(s))",
                     spoken(ended[0]), ended[1])  # fmt: skip

    async def _wait(self, seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def _check_lease(self) -> bool:
        try:
            held = await asyncio.to_thread(self._acquire)
        except Exception as exc:
            if not outage.report(exc, "zalo: poller lease"):  # an outage: the outage's to tell
                log.warning("zalo: lease check failed: %s", describe(exc))
            age = time.monotonic() - self._renewed_at
            held = self.polling and age < self.lease.total_seconds() - self.poll_timeout
        else:
            if held:
                self._renewed_at = time.monotonic()
        if held != self.polling:
            log.info("zalo: %s polling (lease holder %s)", "started" if held else "stopped",
                     self.holder)  # fmt: skip
        self.polling = held
        return held

    def _acquire(self) -> bool:
        with self.db.write() as conn:
            return leases.acquire(conn, LEASE_NAME, self.holder, self.lease, self.db.now())

    def _release(self) -> None:
        with self.db.write() as conn:
            leases.release(conn, LEASE_NAME, self.holder)


class ZaloService:
    """The Zalo bot of one replica: a client for replies, and the poller or the webhook.

    Each reply costs a slot of ``budget``: the Zalo channel's in a full process (one release
    gate with the alerts), else one of the bot's own on the same shared bucket at
    ``global_rate`` (messages a second across replicas)."""

    def __init__(
        self,
        db: Database,
        token: str,
        base_url: str,
        *,
        webhook_secret: str | None,
        webhook_url: str | None = None,
        lease_seconds: float = 30.0,
        poll_timeout: float = 10.0,
        limits: Limits | None = None,
        tz: tzinfo | None = None,
        budget: SendBudget | None = None,
        global_rate: float = LIMITS.global_rate,
    ) -> None:
        self.budget = budget or bot_budget(db, global_rate, LIMITS)
        self.api = ZaloBotAPI(token, base_url, read_timeout=10.0, charge=self.budget.charge)
        self.bot = ZaloBot(db, self.api, limits, tz or ZoneInfo("Asia/Ho_Chi_Minh"),
                           refused=self.budget.refused)  # fmt: skip
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.poller = (
            None
            if webhook_secret
            else ZaloPoller(
                db, self.api, self.bot, lease_seconds=lease_seconds, poll_timeout=poll_timeout
            )
        )
        self._stopping = asyncio.Event()  # set by interrupt(): a start under way ends

    def interrupt(self) -> None:
        """The service stops (SIGTERM): the webhook's registration under way at start (up to
        its read timeout against a slow API) is cut short, and no poll begins. On the event
        loop."""
        self._stopping.set()
        if self.poller is not None:
            self.poller.interrupt()

    async def start(self) -> None:
        await self.api.start()
        if self._stopping.is_set():
            return
        if self.poller is not None:
            self.poller.start()
            return
        if self.webhook_url and self.webhook_secret:
            try:
                set_up = self.api.set_webhook(self.webhook_url, self.webhook_secret)
                if await unless_stopping(set_up, self._stopping):
                    log.info("zalo: webhook set to %s", self.webhook_url)
                else:
                    log.info("zalo: setWebhook cut short: the service is stopping")
            except (ZaloError, httpx.HTTPError) as exc:
                log.warning("zalo: setWebhook failed (%s); set it by hand (README)",
                            self.api.scrub(f"{type(exc).__name__} {exc}"))  # fmt: skip

    async def stop(self) -> None:
        if self.poller is not None:
            await self.poller.stop()
        await self.bot.drain()
        await self.api.close()
