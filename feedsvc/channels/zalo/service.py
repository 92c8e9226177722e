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

Stopping (:meth:`ZaloService.stop`) fits the share of the service's stop the bot is given, as
the Telegram bot's does (:mod:`feedsvc.bot.stopping`): the long poll in flight is abandoned,
the poller lease released at once (a lease check under way ends first, and none begins after:
the release is not undone by a renewal that lands after it), and the updates in hand get the
answers' share of the stop, counted from its start, then are cancelled with one line. Against a
held Zalo Bot API the stop waited for every reply (up to its 10 s read timeout each): "zalo bot
did not stop in time; abandoning it", exit 1.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from contextlib import suppress
from datetime import timedelta, tzinfo
from zoneinfo import ZoneInfo

import httpx

from feedsvc.bot.gate import Limits
from feedsvc.bot.stopping import shares, stop_handling
from feedsvc.budget import SendBudget, bot_budget
from feedsvc.channels.zalo.api import ForeignAnswer, ZaloBotAPI, ZaloError
from feedsvc.channels.zalo.bot import ZaloBot
from feedsvc.channels.zalo.channel import LIMITS
from feedsvc.config import Settings
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
#: seconds a bounded stop keeps, after the lease's release, for the client's close
CLOSE_SECONDS = 0.1


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
        #: the lease's writes one at a time, in their threads: a look under way when the stop
        #: cancels the poller ends before the release, and none begins after it (``_closed``)
        self._lease_lock = threading.Lock()
        self._closed = False
        self._held = False  # the last look took or renewed the lease (under ``_lease_lock``)

    def start(self) -> None:
        self._stop = asyncio.Event()
        self._closed = False
        self._task = asyncio.create_task(self._run(), name="zalo-poller")

    def interrupt(self) -> None:
        """The service stops: no poll begins from now on (:meth:`stop` ends the one in
        flight). On the event loop."""
        self._stop.set()

    async def stop(self, within: float | None = None) -> None:
        """End polling and release the lease, waiting at most ``within`` seconds (None: as long
        as the release takes) for the release, a state DB's write in a thread."""
        task, self._task = self._task, None
        if task is None:
            return
        self.interrupt()
        task.cancel()  # a long poll in flight is abandoned (the update stays at Zalo's side)
        with suppress(asyncio.CancelledError, Exception):
            await task
        try:
            await asyncio.wait_for(asyncio.to_thread(self._release), within)
        except TimeoutError:
            log.warning("zalo: could not release the poller lease within %.2f s of the stop "
                        "(it will expire)", within)  # fmt: skip
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
        with self._lease_lock:
            if self._closed:  # the stop released it: a look that began late takes nothing
                return False
            with self.db.write() as conn:
                held = leases.acquire(conn, LEASE_NAME, self.holder, self.lease, self.db.now())
            self._held = held
            return held

    def _release(self) -> None:
        """Give the lease up when the last look held it (after a look under way: the lock),
        and let no look take it again."""
        with self._lease_lock:
            self._closed = True
            if not self._held:
                return
            with self.db.write() as conn:
                leases.release(conn, LEASE_NAME, self.holder)
            self._held = False


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

    async def stop(self, within: float | None = None) -> None:
        """Stop within ``within`` seconds (the bot's share of the service's stop; None: the
        answers' own share, the release as long as it takes): no poll begins, the poller's
        lease released first (keeping :data:`CLOSE_SECONDS`), the updates in hand given until
        their share of the stop has passed, counted from its start, then cancelled
        (:func:`feedsvc.bot.stopping.stop_handling`: one rule for both bots), the client
        closed. A stop that overran its share was abandoned, exit 1."""
        self.interrupt()
        began = asyncio.get_running_loop().time()
        if self.poller is not None:
            release = None if within is None else max(0.05, within - CLOSE_SECONDS)
            await self.poller.stop(release)
        answers = shares(within)[1]
        await stop_handling(asyncio.ensure_future(self.bot.drain()), self.bot.lanes, began,
                            answers, log)  # fmt: skip
        await self.api.close()


def zalo_service(db: Database, settings: Settings, budget: SendBudget | None = None) -> ZaloService:
    """The Zalo bot for this replica (``zalo.token`` must be set); its replies are charged to
    ``budget`` (the Zalo dispatcher's in this process), else to one of its own on the shared
    bucket at ``zalo.global_rate``."""
    token = settings.zalo_token()
    assert token is not None
    secret = settings.zalo_webhook_secret()
    url = settings.http.public_url.rstrip("/") + WEBHOOK_PATH if settings.zalo.set_webhook else None
    lease = min(30.0, settings.telegram.lease_seconds)
    return ZaloService(
        db, token, settings.zalo.base_url, webhook_secret=secret, webhook_url=url,
        lease_seconds=lease, poll_timeout=lease / 3, limits=Limits.of(settings.telegram),
        tz=settings.tz, budget=budget, global_rate=settings.zalo.global_rate,
    )  # fmt: skip
