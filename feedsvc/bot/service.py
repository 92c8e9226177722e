"""The bot's lifecycle: a PTB Application that polls only while this replica holds the lease.

Telegram allows one ``getUpdates`` per token (409 Conflict otherwise), and replicas share the state
DB, so polling is guarded by the ``bot-poller`` lease (:mod:`feedsvc.store.leases`): the holder
renews it every ``renew_seconds``; a standby checks every ``standby_seconds`` and takes over once
the lease has expired (``lease_seconds`` after the last renewal) or was released by a clean stop.

A renewal that *fails* (a lock timeout, "database is locked", a dropped connection) is not a lost
lease: nobody else could have taken it before it expires. The holder keeps polling, retries soon,
and stops only when the lease it last renewed has expired by its own clock (counted from
*before* that renewal was sent, so never later than the database's view) or when the database
names another holder.

Nothing here may take the service down: a dead network, a wrong token or a database hiccup is
logged (token-free) and retried, while the web server and the dispatcher keep running. Logged
as an outage is: once when it starts or changes, again every
:data:`~feedsvc.failure_log.REMIND_SECONDS`, never at each retry (a tester's: a
``telegram.base_url`` answering 200 ``{}`` logged "bot: lease loop error: KeyError: 'result'"
at every loop); a base URL that answers something that is not the Bot API is named as such
(:mod:`feedsvc.notify.not_bot_api`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationBuilder

from feedsvc.bot import gate, texts
from feedsvc.bot.clients import bot_request, file_url
from feedsvc.bot.handlers import BotApp, Handlers
from feedsvc.bot.once import FirstDelivery
from feedsvc.bot.poller_lease import PollerLease, done_by
from feedsvc.bot.polling_stop import PollRequest, install_confirm_line, stop_polling
from feedsvc.bot.stopping import POLLING_STOP_SECONDS
from feedsvc.bot.updates import PerChatUpdates
from feedsvc.budget import SendBudget, bot_budget
from feedsvc.channels.tokens import TokenWatch
from feedsvc.config import Settings
from feedsvc.db import Database, outage
from feedsvc.db.errors import describe
from feedsvc.failure_log import FailureLog, level_of, spoken
from feedsvc.logs import brief_error
from feedsvc.notify.answers import NotBotApiAnswer
from feedsvc.notify.not_bot_api import BaseUrlWatch, watch_of
from feedsvc.notify.telegram import install_log_scrubber, never_reached, scrub_token
from feedsvc.start_steps import unless_stopping
from feedsvc.store import leases

log = logging.getLogger("feedsvc.bot")
#: seconds a bounded stop keeps for PTB's shutdown and the lease's release (a DB write)
RELEASE_SECONDS = 0.3
MAX_BACKOFF = 5  # doublings of standby_seconds after repeated start failures
#: the updates the bot asks for; an edited command is answered (not run: ``Handlers.edited``)
ALLOWED_UPDATES = [
    Update.MESSAGE, Update.EDITED_MESSAGE, Update.MY_CHAT_MEMBER, Update.CALLBACK_QUERY,
]  # fmt: skip


class BotService:
    """Commands and subscription management over Telegram; see the module docstring.

    ``start()`` returns at once (polling begins in a background task when the lease is won);
    ``interrupt()`` (the service begins to stop) cuts a start under way short and lets no
    polling begin; ``stop()`` stops polling, shuts PTB down and releases the lease so a standby
    takes over now.
    Without a token both are no-ops: the service runs and alerts go to the console notifier.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        poll_interval: float = 0.0,
        poll_timeout: float = 10.0,
        lease_seconds: float = 30.0,
        renew_seconds: float = 10.0,
        standby_seconds: float = 3.0,
        holder: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        budget: SendBudget | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < renew_seconds < lease_seconds:
            raise ValueError("renew_seconds must be positive and shorter than lease_seconds")
        self.db = db
        self.settings = settings
        self.poll_interval = poll_interval
        self.poll_timeout = poll_timeout
        self.lease = timedelta(seconds=lease_seconds)
        self.renew_seconds = renew_seconds
        self.standby_seconds = standby_seconds
        self.holder = holder or leases.this_process()
        self.poller_lease = PollerLease(db, self.holder, self.lease)
        self._timeouts = (connect_timeout, read_timeout)
        #: the command budgets' clock (monotonic seconds; :class:`~feedsvc.bot.gate.CommandGate`)
        self.clock = clock
        #: what each reply (a message sent, a keyboard edited) costs: a slot of the send budget
        #: the alerts share, and the chat's pace; the Telegram channel's in a full process
        #: (one release gate), else one of the bot's own on the same shared bucket
        self.budget = budget or bot_budget(db, settings.telegram.global_rate)
        self._token: str | None = None
        self._app: BotApp | None = None
        self._polls: PollRequest | None = None  # getUpdates' client, and the updates in hand:
        self._updates = PerChatUpdates()  # the app's (_build), each cut short at a stop
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._valid_until = 0.0  # time.monotonic() at which the lease we hold expires
        self._renew_failed = False  # the last renewal attempt could not reach a verdict
        self._polling_stops = 0  # stops of polling under way (the lease loop's, the stop's)
        self.polling = False
        #: how a start that fails and the loop's own errors are told (once, now and then)
        self.start_failures = FailureLog(clock)
        self.loop_errors = FailureLog(clock)
        self.lease_checks = 0  # lets tests wait for "the standby looked N times" without sleeps
        self.polling_lapses = 0  # times polling stopped because the lease expired unrenewed

    @property
    def updates_in_hand(self) -> int:
        """Updates being handled now (different chats' at once: :mod:`.updates`)."""
        app = self._app
        return 0 if app is None else app.update_processor.current_concurrent_updates

    # --- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        if self._task is not None:
            return
        self._token = self.settings.telegram_token()
        if not self._token:
            log.info("bot: no telegram token configured; commands are disabled")
            return
        install_log_scrubber()  # before the Application: PTB logs its base URL (with the token)
        install_confirm_line()
        texts.set_language(self.settings.site.language, self.settings.site.timezone)
        self._app = self._build(self._token)
        self._stopping = asyncio.Event()
        self.poller_lease.open()
        self._task = asyncio.create_task(self._run(), name="bot-poller")

    def interrupt(self) -> None:
        """The service stops (SIGTERM): no polling starts from now on, and a start under way
        (getMe, setMyCommands, deleteWebhook: seconds each against a slow Bot API) ends now,
        cut short (:func:`feedsvc.start_steps.unless_stopping`), not at :meth:`stop` — a bot
        that finished starting in between logged "polling as" after the stop began. On the
        event loop."""
        self._stopping.set()

    async def stop(self, within: float | None = None) -> None:
        """Stop within ``within`` seconds (the bot's share of the service's stop), keeping
        :data:`RELEASE_SECONDS` for the lease's release: a stop that overran was abandoned
        before it, and the next start's bot waited the lease out."""
        task, self._task = self._task, None
        if task is None:
            return
        self.interrupt()
        loop = asyncio.get_running_loop()
        end = None if within is None else loop.time() + within

        def left(keep: float) -> float | None:  # seconds for the next step, ``keep`` in hand
            return None if end is None else max(0.05, end - loop.time() - keep)

        loop_stop = left(RELEASE_SECONDS + self._polling_stop_to_come())
        try:
            await asyncio.wait_for(task, timeout=10 if loop_stop is None else loop_stop)
        except TimeoutError:
            log.warning("bot: lease loop did not stop in time; cancelled")
        except Exception as exc:
            log.error("bot: lease loop failed: %s", self._scrub(exc))
        await self._stop_polling(left(RELEASE_SECONDS))
        if self._app is not None:
            try:
                await self._app.shutdown()
                await self._app.bot.shutdown()  # a start cut short in getMe: its HTTP clients
            except Exception as exc:
                log.warning("bot: shutdown failed: %s", self._scrub(exc))
        close = left(0.05)  # a tick in hand: the warning below, inside ``within``
        try:  # after a look at the lease still under way (PollerLease.close): bounded
            await asyncio.wait_for(asyncio.to_thread(self.poller_lease.close), close)
        except TimeoutError:
            log.warning(
                "bot: could not release the poller lease within %.2f s of the stop (the state "
                "DB busy): released when it answers, else it expires",
                close,
            )
        except Exception as exc:
            log.warning("bot: could not release the lease (it will expire): %s", exc)

    def _polling_stop_to_come(self) -> float:
        """Seconds the stop keeps, after the lease loop ends, for its own stop of polling: none
        when the loop stops polling itself (bounded as the stop's is) or nothing was started
        (kept always, a look at the lease waiting on a busy state DB got 0.25 s of 1.3 s)."""
        app = self._app
        started = app is not None and (self.polling or app.running)
        return POLLING_STOP_SECONDS if started and not self._polling_stops else 0.0

    def _build(self, token: str) -> BotApp:
        base = self.settings.telegram.base_url
        budget = self.budget
        replies = bot_request(self._timeouts, 16, budget.charge, budget.refused, never_reached)
        polls = bot_request(self._timeouts, 2, kind=PollRequest)
        assert isinstance(polls, PollRequest)
        self._polls = polls
        # cancelled at a stop (feedsvc.bot.stopping); each update handled once (bot.once), a
        # copy dropped being no update the stop's confirming call must confirm
        once = FirstDelivery(self.db, token, repeated=polls.handled_before)
        self._updates = updates = PerChatUpdates(admit=once)
        app = (
            ApplicationBuilder()
            .token(token)
            .base_url(base)
            .base_file_url(file_url(base))
            .request(replies)
            # two connections: the stop's last getUpdates never waits for the cancelled long
            # poll's (with one, an ERROR traceback in CI); cut short: feedsvc.bot.stopping
            .get_updates_request(polls)
            .job_queue(None)
            .concurrent_updates(updates)  # replies wait for the budget: not in turn
            .build()
        )
        telegram = self.settings.telegram
        limits = gate.Limits.of(telegram)
        Handlers(self.db, telegram.admins, token, limits, self.settings.tz, self.clock).install(app)
        return app

    # --- the lease loop -----------------------------------------------------------------------
    @property
    def base_url(self) -> BaseUrlWatch:
        """What ``telegram.base_url`` answered, told once for the process (the reader pages'
        getMe reports to it too)."""
        return watch_of("telegram.base_url", self.settings.telegram.base_url)

    async def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                failures = await self._step(failures)
            except Exception as exc:  # a bug here must not end polling for good: reset, retry
                error = self._scrub(exc)
                told = level_of(self.loop_errors.failed("loop", error), logging.ERROR)
                log.log(told, "bot: lease loop error: %s", error)
                await self._stop_polling()
                failures += 1
            else:
                self.loop_errors.ended()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._delay(failures))

    def _delay(self, failures: int) -> float:
        """Seconds to the next look: the renewal interval while polling, sooner after a failed
        renewal (a quarter of the time the lease has left), backing off on a standby."""
        if not self.polling:
            return float(self.standby_seconds * 2 ** min(failures, MAX_BACKOFF))
        if self._renew_failed:
            left = self._valid_until - time.monotonic()
            return max(0.05, min(self.renew_seconds, left / 4))
        return self.renew_seconds

    async def _step(self, failures: int) -> int:
        """One look at the lease: start or stop polling accordingly; returns the failure count."""
        held = await self._check_lease()
        if held and not self.polling:
            if await self._start_polling():
                return 0
            if self._stopping.is_set():  # cut short by the stop, which releases the lease
                return failures
            await asyncio.to_thread(self._release)  # let a healthier replica try
            return failures + 1
        if not held and self.polling:
            log.warning("bot: the poller lease is held by another replica; polling stopped")
            await self._stop_polling()
        return failures

    async def _check_lease(self) -> bool:
        """Acquire or renew. True: ours (renewed, or unconfirmed but not yet expired); False:
        another holder is recorded, or it expired before a renewal got through.

        While polling, a renewal stuck on the database (a lock wait) is waited for only until
        the lease expires: polling stops then, and starts again if the renewal succeeds later.
        """
        started = time.monotonic()
        attempt = asyncio.ensure_future(asyncio.to_thread(self._acquire))
        try:
            if self.polling and not await done_by(attempt, self._valid_until - started):
                self._expired("renewing it still waits on the state DB")
                await self._stop_polling()
            held = await attempt
        except Exception as exc:
            self._renew_failed = True
            # a state DB outage is the outage's to tell (once, then a summary a minute): a
            # line per check was ~1,000 an hour, faster as the lease neared its end (a tester's)
            told = outage.report(exc, "bot: poller lease")
            held = self.polling and time.monotonic() < self._valid_until
            if held and not told:
                left = self._valid_until - time.monotonic()
                log.warning(
                    "bot: could not renew the poller lease (%s); still ours for %.1f s, retrying",
                    describe(exc),
                    left,
                )
            elif not held and self.polling:
                self._expired(f"renewing it failed: {describe(exc)}")
                await self._stop_polling()
            elif not held and not told:
                log.warning("bot: lease check failed: %s", describe(exc))
        else:
            self._renew_failed = False
            if held:
                self._valid_until = started + self.lease.total_seconds()
        self.lease_checks += 1
        return held

    def _expired(self, why: str) -> None:
        log.warning("bot: the poller lease expired (%s); polling stops until it is renewed", why)
        self.polling_lapses += 1

    def _acquire(self) -> bool:
        return self.poller_lease.acquire(self.polling)

    def _release(self) -> None:
        self.poller_lease.release()

    # --- polling ------------------------------------------------------------------------------
    async def _start_polling(self) -> bool:
        app = self._app
        assert app is not None
        try:
            started = await unless_stopping(self._start_app(app), self._stopping)
        except TelegramError as exc:
            if isinstance(exc, NotBotApiAnswer):  # the setting's: named, once for the process
                self.base_url.failed(exc)
            else:
                error = self._scrub(exc)
                told = level_of(self.start_failures.failed("start", error), logging.WARNING)
                log.log(told, "bot: cannot start polling yet (%s); will retry", error)
            await self._stop_polling()
            return False
        if not started:  # the stop began: what had started stops, no polling begins
            log.info("bot: start cut short: the service is stopping")
            await self._stop_polling()
            return False
        self.base_url.answered()
        self.polling = True
        ended = self.start_failures.ended()
        after = f" after {spoken(ended[0])} of failed starts" if ended else ""
        log.info("bot: polling as @%s (lease holder %s)%s", app.bot.username, self.holder, after)
        # getMe answered: the token works (a later start without it waits, channels.tokens)
        await asyncio.to_thread(TokenWatch("telegram", stand_in=False).record, self.db)
        return True

    async def _start_app(self, app: BotApp) -> None:
        """PTB's start, each step awaiting the Bot API (:meth:`_start_polling` cuts it short
        when the service stops)."""
        assert app.updater is not None
        await app.initialize()  # getMe: fails on a dead network or a wrong token
        if not app.running:
            await app.start()
        await self._set_commands()
        if self._polls is not None:
            self._polls.resume()  # cut at the last stop of polling
        await app.updater.start_polling(  # also deletes any webhook (bootstrap)
            poll_interval=self.poll_interval,
            timeout=int(self.poll_timeout),
            allowed_updates=ALLOWED_UPDATES,
            error_callback=self._polling_error,
        )

    async def _stop_polling(self, within: float | None = None) -> None:
        app, self.polling = self._app, False
        if app is None:
            return
        self._polling_stops += 1
        try:  # the last getUpdates and the answers in hand: bounded (feedsvc.bot.stopping)
            await stop_polling(app, self._polls, self._updates, within)
        except Exception as exc:
            log.warning("bot: stopping polling failed: %s", self._scrub(exc))
        finally:
            self._polling_stops -= 1

    async def _set_commands(self) -> None:
        """Best effort: the command menu is a nicety, not a reason to stay offline."""
        assert self._app is not None
        try:
            await self._app.bot.set_my_commands([BotCommand(c, d) for c, d in texts.commands()])
        except TelegramError as exc:
            log.warning("bot: set_my_commands failed: %s", self._scrub(exc))

    def _polling_error(self, exc: TelegramError) -> None:
        if isinstance(exc, NotBotApiAnswer):
            self.base_url.failed(exc)
            return
        log.warning("bot: getUpdates failed (PTB retries): %s", self._scrub(exc))

    def _scrub(self, exc: BaseException) -> str:
        """``exc`` for a log line without the token (PTB's error for a non-JSON answer carries
        the whole page it got: :func:`feedsvc.logs.brief_error` bounds it)."""
        return brief_error(exc, lambda text: scrub_token(text, self._token))
