"""The service's dispatchers, one per channel: built from the settings, started and stopped
together, woken together (a new delivery may be for any channel). Beside each, the channel's
follow-up worker (retractions and corrections of sent alerts, :mod:`feedsvc.retraction`).

Each dispatcher has its own claim loop, budget and send slots, so a channel whose sends are slow
(an Apprise destination timing out) or failing (a Zalo outage) holds only its own queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import timedelta
from functools import partial

from feedsvc.channel_modes import MISSING_SETTING, channel_modes, off_channels
from feedsvc.channels.apprise import AppriseChannel
from feedsvc.channels.base import Channel
from feedsvc.channels.failures import SendFailures
from feedsvc.channels.off import OffChannel
from feedsvc.channels.telegram import TelegramChannel
from feedsvc.channels.tokens import TokenWatch
from feedsvc.config import Settings
from feedsvc.db import Database
from feedsvc.digest.edge import DigestEdge
from feedsvc.dispatch import Dispatcher, DispatchSettings
from feedsvc.notify import BotApiSender, ConsoleSender, Sender
from feedsvc.notify.outcome import SendOutcome
from feedsvc.retraction.worker import followup_worker
from feedsvc.store.leases import this_process

log = logging.getLogger(__name__)


def build_channels(settings: Settings) -> list[Channel]:
    """Every channel the service delivers to, Telegram first. Telegram is always there (the
    console stands in without a token). The Bot API sender is imported here, only with a
    token: python-telegram-bot is not loaded by a process that has none (a web replica, the
    demo; ``tests/test_service_imports.py``); Zalo's client and channel only with a Zalo token,
    as they bring ``httpx``."""
    tg = settings.telegram
    token = settings.telegram_token()
    # without a token, the console (the demo's alerts); a DB that ran with one makes the
    # channel wait instead (Dispatchers.start): this sender is then never started
    sender: Sender = ConsoleSender()
    if token:
        from feedsvc.notify.telegram import TelegramSender

        sender = TelegramSender(token, base_url=tg.base_url)
    telegram = TelegramChannel(sender, settings.tz, images=tg.images, global_rate=tg.global_rate)
    channels: list[Channel] = [telegram]
    zalo_token = settings.zalo_token()
    if zalo_token:  # without one Zalo is off: its alerts end as failed (Dispatchers.off)
        from feedsvc.channels.zalo.api import ZaloBotAPI
        from feedsvc.channels.zalo.channel import ZaloChannel

        api = ZaloBotAPI(zalo_token, settings.zalo.base_url)
        channels.append(ZaloChannel(api, settings.tz, global_rate=settings.zalo.global_rate))
    channels.append(AppriseChannel(settings.tz))  # admin-configured: nothing to set up
    return channels


def digest_edge(settings: Settings, channel: Channel) -> DigestEdge:
    """The digest side of a channel's dispatcher: the site's zone and language, topic pages on
    ``http.public_url``, the channel's length limit; buttons on Telegram only (mute is a
    Telegram callback)."""
    return DigestEdge(
        settings.tz, settings.site.language, settings.http.public_url,
        limit=channel.limits.max_text, buttons=channel.limits.name == "telegram",
    )  # fmt: skip


class Dispatchers:
    """A dispatcher per channel; ``telegram`` is the first (``Service.dispatcher``)."""

    def __init__(self, db: Database, settings: Settings, channels: Sequence[Channel]) -> None:
        owner = this_process()
        cfg = DispatchSettings(
            images=settings.telegram.images,
            lease=timedelta(seconds=settings.telegram.lease_seconds),
            alert_max_age=timedelta(hours=settings.telegram.alert_max_age_hours),
        )
        self.all = [
            Dispatcher(db, ch, settings.tz, cfg, owner=owner, digests=digest_edge(settings, ch))
            for ch in channels
        ]
        tokens = {"telegram": settings.telegram_token(), "zalo": settings.zalo_token()}
        for d in self.all:  # one bot each (Apprise: a destination's failures are its own)
            if (name := d.limits.name) in MISSING_SETTING:
                # no token: the console stands in for Telegram (Zalo has no dispatcher then)
                token = tokens.get(name)
                d.tokens = TokenWatch(name, stand_in=not token, token=token)
                d.on_outcome.append(SendFailures(name))
        #: per channel, the worker that retracts and corrects its sent alerts (SPEC §10)
        self.followups = [
            followup_worker(db, ch, settings, owner, digest_edge(settings, ch)) for ch in channels
        ]
        #: channels not configured here: their queued alerts end as failed, with the reason
        self.off = [OffChannel(db, name) for name in off_channels(channel_modes(settings))]
        self._tasks: list[asyncio.Task[None]] = []
        self._probes: list[asyncio.Task[None]] = []  # getMe at start (TokenWatch.confirm)
        self._keepers: list[asyncio.Task[None]] = []  # getMe while idle (TokenWatch.keep_fresh)

    def on_stand_down(self, callback: Callable[[str], None]) -> None:
        """``callback(channel)`` once a stand-in (the console, an off worker) stands down for
        good (``TokenWatch.stands_down``): the service's mode for it is ``waiting`` then."""
        for watch in [d.tokens for d in self.all] + [o.tokens for o in self.off]:
            if watch is not None and watch.stand_in:
                watch.on_down = partial(callback, watch.channel)

    @property
    def telegram(self) -> Dispatcher:
        return self.all[0]

    def by_channel(self, name: str) -> Dispatcher | None:
        return next((d for d in self.all if d.limits.name == name), None)

    async def start(self, waiting: Collection[str] = ()) -> None:
        """Open each channel's client and start its loop; a channel that cannot open is
        logged and its loop still runs (its sends fail as transient and are retried).
        ``waiting``: channels whose token this DB ran with is not set here
        (:mod:`feedsvc.channels.tokens`): no loop of theirs runs — no console, no off worker —,
        their alerts wait as queued."""
        for d in self.all:
            if d.limits.name in waiting:
                d.wait_for_token()
                continue
            try:
                await d.channel.start()
            except Exception as exc:
                log.error("channel %s did not start: %s", d.limits.name, type(exc).__name__)
            task = asyncio.create_task(d.run(), name=f"dispatcher-{d.limits.name}")
            self._tasks.append(task)
            self._watch(d)
        for f in self.followups:
            if f.channel not in waiting:
                self._tasks.append(asyncio.create_task(f.run(), name=f"followups-{f.channel}"))
        self.off = [o for o in self.off if o.channel not in waiting]
        for o in self.off:
            # info, not a warning: most deployments never set up every channel; alerts that
            # were queued for it anyway are warned about as they are ended (OffChannel)
            log.info("channel %s off (not configured): alerts for it end as failed", o.channel)
            self._tasks.append(asyncio.create_task(o.run(), name=f"off-{o.channel}"))

    async def watch_tokens(self) -> None:
        """For a process that answers the bots' chats but dispatches nothing (``run
        --no-scheduler``): each channel with a token here asks getMe at once and every
        ``NOTE_SECONDS``, recorded as a dispatcher's (``TokenWatch``), so every surface reads a
        token the channel refuses here too (it recorded nothing: every process elsewhere read
        ``on``); nothing is claimed or sent. :meth:`stop` ends it."""
        for d in self.all:
            if d.tokens is None or d.tokens.stand_in:
                continue
            try:
                await d.channel.start()
            except Exception as exc:
                log.error("channel %s did not start: %s", d.limits.name, type(exc).__name__)
            self._watch(d)

    def _watch(self, d: Dispatcher) -> None:
        """``d``'s getMe now (:meth:`tokens_confirmed` waits for it) and, for a token held
        here, every ``NOTE_SECONDS`` until :meth:`stop` (``TokenWatch.keep_fresh``)."""
        if d.tokens is None or (ask := _who_am_i(d.channel)) is None:
            return
        self._probes.append(asyncio.create_task(d.tokens.confirm(d.db, ask)))
        if not d.tokens.stand_in:
            keeper = d.tokens.keep_fresh(d.db, ask)
            self._keepers.append(asyncio.create_task(keeper, name=f"token-{d.limits.name}"))

    async def tokens_confirmed(self) -> None:
        """Until each channel's getMe at start has answered (or failed) and been recorded."""
        await asyncio.gather(*self._probes, return_exceptions=True)

    def wake(self) -> None:
        """On the event loop: new work may be queued for any channel."""
        for d in self.all:
            d.wake.set()
        for f in self.followups:
            f.wake.set()
        for o in self.off:
            o.wake.set()

    async def stop(self, timeout: float) -> bool:
        """Let in-flight sends finish and be recorded (within ``timeout`` seconds), then close
        the channels' clients; what is still in flight after that is retried by lease. False
        when something was cut short (the service's stop was then not an orderly one: exit 1)."""
        for probe in (*self._probes, *self._keepers):  # a getMe still out records nothing
            probe.cancel()
        for d in self.all:
            d.stop()
        for f in self.followups:
            f.stop()
        for o in self.off:
            o.stop()
        late: set[asyncio.Task[None]] = set()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=timeout)
            if late:
                log.warning("dispatcher did not drain in time; leases will expire and retry")
                for task in late:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
        await self._withdraw()
        for d in self.all:
            with contextlib.suppress(Exception):
                await d.channel.close()
        return not late

    async def _withdraw(self) -> None:
        """Once nothing here records a word any more: a refusal this process recorded goes
        (its refused token is no longer held; after a crash it ages out instead)."""
        await asyncio.gather(*self._probes, *self._keepers, return_exceptions=True)
        for d in self.all:
            if d.tokens is not None:
                await asyncio.to_thread(d.tokens.withdraw, d.db)


def _who_am_i(channel: Channel) -> Callable[[], Awaitable[SendOutcome]] | None:
    """The channel's getMe as an outcome (its own classifier: accepted, refused or no
    answer), for a bot with a token (Telegram's sender, Zalo's); None for the console and
    Apprise."""
    if isinstance(channel, TelegramChannel) and isinstance(channel.sender, BotApiSender):
        return channel.sender.who_am_i
    # a ZaloChannel exists only once its module is loaded (build_channels, with a Zalo token):
    # without one, this does not import it (and httpx with it)
    if _ZALO_CHANNEL in sys.modules:
        from feedsvc.channels.zalo.channel import ZaloChannel

        if isinstance(channel, ZaloChannel):
            return channel.who_am_i
    return None


_ZALO_CHANNEL = "feedsvc.channels.zalo.channel"
