"""What a :class:`feedsvc.app.Service` is built of, from the settings: the state DB's engines,
the topic index, the dispatchers (one per channel) and each channel's mode, the send gate and
its start, the feed publisher, the bots' places and the admin-token failure limiter; the
ingestor, its source and the leader's passes built on first use; what runs after each ingest
commit. :mod:`feedsvc.app` owns the start-up and shutdown order over them; apart from it for
its size."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from feedsvc.channel_modes import Mode, channel_modes
from feedsvc.channels.fleet import Dispatchers, build_channels
from feedsvc.config import Settings
from feedsvc.db.served_claim import release_claim
from feedsvc.dispatch import Dispatcher
from feedsvc.engines import make_ingestor, make_source, service_databases
from feedsvc.ingest import Change, Ingestor, TickResult
from feedsvc.leader_checks import LeaderChecks
from feedsvc.lifecycle.hooks import release_hooks
from feedsvc.publish import FeedPublisher
from feedsvc.ratelimit import FailureLimiter
from feedsvc.roles import ALL_ROLES, Roles
from feedsvc.scheduler import Jobs
from feedsvc.send_gate import SendGate
from feedsvc.send_start import SendStart
from feedsvc.shutdown import ExitGuard
from feedsvc.source import SqlSource
from feedsvc.topic_index import TopicIndex
from feedsvc.wakeups import WakeListener

if TYPE_CHECKING:
    from feedsvc.bot.service import BotService
    from feedsvc.channels.zalo.service import ZaloService


class ServiceParts:
    """The components of a :class:`feedsvc.app.Service` (its base)."""

    def __init__(self, settings: Settings, roles: Roles = ALL_ROLES) -> None:
        self.settings = settings
        self.roles = roles
        #: the jobs' engine and the web requests' (feedsvc.engines: why two)
        self.db, self.web_db = service_databases(settings)
        self.index = TopicIndex()
        self._source: SqlSource | None = None
        self._ingestor: Ingestor | None = None
        #: the leader's due check, draft re-check and reconciliation (built with the ingestor)
        self.leader: LeaderChecks | None = None
        self._standby = True  # until a tick says this replica leads ingest
        self.jobs = Jobs()
        self.started_at: datetime | None = None
        self.on_tick: list[Callable[[TickResult], None]] = []
        self.on_stop: list[Callable[[], None]] = []  # last, before the engines are disposed
        #: one dispatcher per channel (feedsvc.channels); ``dispatcher`` is Telegram's
        self.dispatchers = Dispatchers(self.db, settings, build_channels(settings))
        self.dispatcher: Dispatcher = self.dispatchers.telegram
        #: each channel's mode (feedsvc.channel_modes), settled against the DB by prepare()
        self.channel_modes: dict[str, Mode] = channel_modes(settings)
        self.dispatchers.on_stand_down(self._stood_down)
        #: dispatch waits for the first look at the source when alerts were owed at start
        self.send_gate = SendGate()
        self.send_start = SendStart(self.db, self.dispatchers, lambda: self.channel_modes)
        self.publisher = FeedPublisher(self.db, settings, self.web_db)
        self.bot: BotService | None = None
        self.zalo: ZaloService | None = None  # the Zalo bot, when zalo.token is set
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake_listener: WakeListener | None = None
        self._username_task: asyncio.Task[None] | None = None
        self._prepared = False
        #: the served claim on an SQLite state DB's file (``db.served_claim``), from ``prepare``
        self._claim: int | None = None
        self.exit_guard = ExitGuard()  # armed by SIGTERM/SIGINT in serve()
        self.interrupted = False  # see interrupt()
        #: whether ``start`` warns of ``[site]`` at its built-in placeholders
        #: (``config.placeholders``): ``run`` does, the demo, which runs on them, sets False
        self.warn_placeholders = True
        #: the addresses HTTP is served at (``127.0.0.1:8080``, ``[::1]:8080``), set by
        #: ``serve`` once bound: what the "feedsvc started" line names
        self.listening: list[str] = []
        #: failed admin-token checks per client address: the login form's, the API's and
        #: /readyz's Bearer token count toward one budget (web.admin_auth.check_bearer)
        self.token_failures = FailureLimiter()

    @property
    def ingestor(self) -> Ingestor:
        """Built lazily: an external source is reflected on first use, not at import time."""
        if self._ingestor is None:
            self._source = make_source(self.settings, self.db)
            self._ingestor = make_ingestor(
                self.settings, self.db, self._source, self.index, self.dispatcher.owner
            )
            self._ingestor.hooks.extend(release_hooks(self.settings))
            self._ingestor.after_commit.append(self._after_ingest)
            if self.interrupted:  # built by a tick that began as the signal came
                self._ingestor.request_stop()
            self.leader = LeaderChecks(
                self.db, self.settings, self._ingestor, self._source, self._after_ingest
            )
        return self._ingestor

    def telegram_bot(self) -> BotService:
        """The Telegram bot of this process (``telegram.token`` set, the ``bot`` role on).

        Its stack — python-telegram-bot's ``telegram`` and ``telegram.ext``, ``feedsvc.bot``'s
        service and handlers — is imported here, when it is built, never at module level: a
        process without the bot (``run --no-bot``, a web replica, no token, the demo) started
        ~0.2 s of CPU slower and held ~9 MiB more for nothing (bench/RESULTS.md, fifty-fifth
        session; ``tests/test_service_imports.py``). The poller lease follows
        ``telegram.lease_seconds``, capped at the bot's 30 s default, so a small value (tests,
        fast failover) also shortens poller takeover."""
        from feedsvc.bot.service import BotService

        lease = min(30.0, self.settings.telegram.lease_seconds)
        return BotService(
            self.db, self.settings, lease_seconds=lease, renew_seconds=lease / 3,
            budget=self.dispatcher.budget,  # replies and alerts: one budget, one gate
        )  # fmt: skip

    def zalo_bot(self) -> ZaloService:
        """The Zalo bot of this process (``zalo.token`` set, the ``bot`` role on), its replies
        charged to the Zalo dispatcher's budget. Imported when built, as :meth:`telegram_bot`:
        its answers go through python-telegram-bot's request edge (``notify.charged``)."""
        from feedsvc.channels.zalo.service import zalo_service

        zalo = self.dispatchers.by_channel("zalo")  # replies and alerts: one budget
        return zalo_service(self.db, self.settings, None if zalo is None else zalo.budget)

    def _after_ingest(self, changes: Sequence[Change]) -> None:
        """Runs in the ingest thread after commit: wake the dispatcher, re-render feeds."""
        if self._loop is not None and changes:  # new alerts, corrections, retractions
            self._loop.call_soon_threadsafe(self.wake_dispatchers)
        catching_up = self._ingestor is not None and self._ingestor.catching_up
        self.publisher.on_ingest(changes, catching_up=catching_up)

    def _stood_down(self, channel: str) -> None:
        """A stand-in (the console, an off worker) claims nothing more: the channel waits here
        (``channels.tokens.TokenWatch.stands_down``; any thread: the dict is replaced whole)."""
        self.channel_modes = self.channel_modes | {channel: "waiting"}

    def wake_dispatchers(self) -> None:
        """On the event loop: deliveries were queued or re-queued (any channel)."""
        self.dispatchers.wake()

    def close(self) -> None:
        """Give back what the engines and :meth:`~feedsvc.app.Service.prepare` hold: both state
        DB engines' connections (``web_db`` too) and the served-file claim. The last step of
        :meth:`~feedsvc.app.Service.stop`; alone, for a Service prepared and never started (a
        test's: fixtures that disposed ``db`` only left six descriptors and the claim behind
        each, and a CI worker ran out of ``select``'s 1,024). Idempotent."""
        self.web_db.dispose()
        self.db.dispose()
        release_claim(self._claim)
        self._claim = None
