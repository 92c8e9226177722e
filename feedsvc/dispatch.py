"""The dispatcher: claims due deliveries of one channel, sends them, then records the outcome.

Send-then-commit: a delivery is marked ``sent`` only after the channel accepted it (Telegram
returned its message id), so a crash between the two costs at most one duplicate, never a lost
alert. Pacing is booked at claim time in the DB (per chat ``next_send_at``, the channel's shared
token bucket), so it holds across restarts and replicas; a 429 pauses only its chat and the
message stays queued. One dispatcher runs per channel (:mod:`feedsvc.channels`), each with its
own budget, claim loop and send slots: a slow or failing channel never slows another.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from feedsvc import metrics
from feedsvc.articles import Article
from feedsvc.budget import AHEAD, prepaid, send_budget
from feedsvc.channels.base import Channel, Target
from feedsvc.channels.telegram import TelegramChannel
from feedsvc.db import Database
from feedsvc.db.outage import report
from feedsvc.db.schema import deliveries
from feedsvc.digest.edge import DigestEdge, DigestJob
from feedsvc.digest.record import Policy
from feedsvc.digest.sending import DigestSender
from feedsvc.lease_keeper import LeaseKeeper
from feedsvc.notify import OutcomeKind, Sender, SendOutcome
from feedsvc.notify.message import DeliveryOptions
from feedsvc.notify.outcome import TOKEN_RETRY_SECONDS
from feedsvc.send_check import send_labels
from feedsvc.send_record import BatchRecorder, before_the_send, record_alert
from feedsvc.stale_alerts import StaleAlerts
from feedsvc.store import claims
from feedsvc.store import deliveries as q
from feedsvc.store import digests as held
from feedsvc.store.articles import articles_by_ids
from feedsvc.store.leases import this_process
from feedsvc.waiting import sleep_or_wake

if TYPE_CHECKING:
    from feedsvc.channels.tokens import TokenWatch

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0
# Re-sends after a send whose outcome is unknown (a read timeout after the request went out, or
# a crash mid-send): each may duplicate the message, so one only; the next unknown outcome ends
# the delivery as ``unknown_outcome``, a dead letter an admin can re-send.
MAX_UNKNOWN_RESENDS = 1
Claim = tuple[q.Claimed, Article | None, float, DeliveryOptions]  # what to send, when, how
Outcome = tuple[q.Claimed, SendOutcome]  # a send's outcome, to be recorded


@dataclass(frozen=True)
class DispatchSettings:
    """The outbox's own settings; ``global_rate``, ``disable_after`` and ``max_in_flight``
    override the channel's declared limits when set (tests, benches)."""

    global_rate: float | None = None
    lease: timedelta = timedelta(seconds=60)
    disable_after: int | None = None  # hard failures in a row before a chat is disabled
    max_attempts: int = 25  # transient failures before a delivery becomes a dead letter
    max_in_flight: int | None = None
    poll_seconds: float = 1.0
    images: bool = False  # Telegram photos, when a bare Sender is given
    backoff_base: float = 2.0  # seconds; doubles per attempt up to MAX_BACKOFF
    #: queued alerts of articles older than this end unsent (``telegram.alert_max_age_hours``,
    #: :mod:`feedsvc.stale_alerts`); None: never (a bare dispatcher: tests, benches)
    alert_max_age: timedelta | None = None


class Dispatcher:
    """Sends one channel's deliveries. ``sender`` is a :class:`~feedsvc.channels.Channel`, or
    a bare Telegram :class:`~feedsvc.notify.Sender` (taken as the Telegram channel)."""

    def __init__(
        self,
        db: Database,
        sender: Channel | Sender,
        tz: tzinfo,
        settings: DispatchSettings = DispatchSettings(),
        owner: str | None = None,
        *,
        digests: DigestEdge | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self.now = clock or db.now  # injectable: digest tests move time, never wait for it
        self.channel: Channel = (
            sender
            if isinstance(sender, Channel)
            else TelegramChannel(sender, tz, images=settings.images)
        )
        limits = self.channel.limits
        self.limits = limits
        self.rate = settings.global_rate or limits.global_rate
        self.disable_after = settings.disable_after or limits.disable_after
        self.max_in_flight = settings.max_in_flight or limits.max_in_flight
        self.tz = tz
        self.cfg = settings
        self.owner = owner or this_process()
        self.digests = digests or DigestEdge(tz, limit=limits.max_text)
        self.policy = Policy(
            self.disable_after, settings.max_attempts, MAX_UNKNOWN_RESENDS, self._backoff
        )
        self._stop = asyncio.Event()
        self._recorder = BatchRecorder(
            self._record_many, self._stop, settings.poll_seconds, self._record_kept
        )
        self._digest_sender = DigestSender(  # its parts' records kept at the stop: the alerts'
            db, self.channel, self.digests, self.owner, self.now, self.policy, self._extra_slot,
            self._stop, settings.poll_seconds, self._recorder.last_tries,
        )  # fmt: skip
        self._threads: dict[int, int] = {}  # delivery id → the forum thread it is being sent to
        max_age = settings.alert_max_age
        self.stale = None if max_age is None else StaleAlerts(max_age, self.now)
        self.wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(self.max_in_flight)
        self.on_outcome: list[Callable[[int, SendOutcome], None]] = []
        #: the channel's budget in this process (its release gate), shared with its follow-up
        #: worker and the bot: every call that sends is charged to it (feedsvc.budget)
        self.budget = send_budget(self.channel).bind(db, self.rate)
        self._unreleased = 0  # claimed sends still waiting for their slot (see step)
        #: ``time.monotonic()`` until which nothing is claimed: the channel refused the bot's
        #: token (:meth:`_token_refused`), or it waits for one (inf); 0.0 while it is accepted
        self._refused_until = 0.0
        self.tokens: TokenWatch | None = None  # the token's record (channels.tokens; the fleet)
        #: the leases of what this process is sending, renewed while it is (feedsvc.lease_keeper)
        self.leases = LeaseKeeper(
            db, deliveries, self.owner, settings.lease, leased="sending", clock=self.now
        )

    # -- the loop --------------------------------------------------------------------------
    async def run(self) -> None:
        """Claim and send until :meth:`stop`; in-flight sends are awaited and recorded."""
        if self.db.dialect == "sqlite":  # one process per SQLite file: old leases are dead
            await asyncio.to_thread(self._recover, True)
        async with self.leases.running():  # until the last send is recorded
            await self._loop()

    async def _loop(self) -> None:
        while not self._stop.is_set():
            self.wake.clear()  # before the step: a wake-up during it must not be lost
            try:
                wait = await self.step()
            except Exception as exc:
                if not report(exc, "dispatcher"):  # an outage is one line (db.outage)
                    log.exception("dispatcher step failed; retrying")
                wait = self.cfg.poll_seconds
            if wait > 0:
                await self._sleep(wait)
        await self.drain()
        await self._recorder.last_tries.last_try(self.limits.name)  # what the stop left

    async def _sleep(self, seconds: float) -> None:
        await sleep_or_wake(seconds, self._stop, self.wake)

    async def step(self) -> float:
        """Claim what the budget allows and start sending; returns how long to wait next.

        No more is claimed while the sends already claimed cover ``AHEAD`` seconds of the budget
        and have not gone out: when this process releases sends slower than planned (a busy
        CPU), the excess stays queued in the DB, where the next claim chooses fairly among
        chats, instead of in a local FIFO that a fresh alert would wait behind.
        """
        if (refused := self._refused_until - time.monotonic()) > 0:
            return refused  # the token is refused: nothing claimed until the next try
        if len(self._tasks) >= self.max_in_flight:
            return 0.05
        room = min(
            self.max_in_flight - len(self._tasks),
            math.ceil(AHEAD * self.rate) + 1 - self._unreleased,
        )
        if room <= 0:  # the next release frees room within one gap
            return 1 / self.rate
        claimed, jobs, wait = await asyncio.to_thread(self._claim, room)
        self.leases.hold(c[0].id for c in claimed)
        self.leases.hold(row.id for job, _ in jobs for row in job.batch.rows)
        for delivery, article, at, options in claimed:
            await self._start(self._deliver(delivery, article, at, options))
        for job, at in jobs:
            await self._start(self._deliver_digest(job, at))
        return wait

    def _token_refused(self, said: str) -> None:
        """The channel refused the bot's token: claim nothing for
        :data:`~feedsvc.notify.outcome.TOKEN_RETRY_SECONDS` (the alerts wait unspent, as
        recorded), and say so once per run of refusals, as an ERROR: an operator's to fix,
        never fixed by waiting (it was retried as a network error until the alerts died)."""
        if self._refused_until == 0.0:
            log.error("%s refuses the bot token (%s): fix the token in the configuration; "
                      "alerts wait, tried again every %.0f s", self.limits.name, said,
                      TOKEN_RETRY_SECONDS)  # fmt: skip
        self._refused_until = time.monotonic() + TOKEN_RETRY_SECONDS

    def wait_for_token(self) -> None:
        """Claim nothing here: a token the state DB has sent with is not set in this process
        (``channel_modes`` ``waiting``); the alerts wait for a process that has it."""
        self._refused_until = math.inf

    async def _start(self, work: Coroutine[Any, Any, None]) -> None:
        await self._slots.acquire()
        self._unreleased += 1
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def stop(self) -> None:
        self._stop.set()

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- DB side (threads) ---------------------------------------------------------------
    def _recover(self, all_leases: bool = False) -> int:
        """Leases back to the queue: expired ones, or (``all_leases``, at start on SQLite) every
        lease of this channel — never another channel's, whose dispatcher may be sending."""
        with self.db.write() as conn:
            now = self.now()
            horizon = now + self.cfg.lease + timedelta(days=1) if all_leases else now
            return q.recover_expired(conn, horizon, self.limits.name)

    def _claim(self, room: int) -> tuple[list[Claim], list[tuple[DigestJob, float]], float]:
        """Lease deliveries (and due digests, one send slot each) for the send slots the shared
        budget grants; returns them with each one's send time, and how long to wait before
        claiming again. Alerts a chat holds (digest, quiet hours) are held first; those too old
        to send end first (:mod:`feedsvc.stale_alerts`); the claim itself checks each alert it
        leases against its chat's settings again (:mod:`feedsvc.store.holding`): on PostgreSQL
        an alert committed between the hold and the claim is seen by the claim only."""
        if self.stale is not None:
            self.stale.sweep(self.db, self.limits.name)
        with self.db.write() as conn:
            # also takes the writer lock on SQLite; never this process's own sends in flight
            q.recover_expired(conn, self.now(), keep=self.leases.ours)
            if self.tokens is not None and self.tokens.stands_down(conn, self.now):
                self.wait_for_token()
                return [], [], self.cfg.poll_seconds
            # read the clocks only now: a wait for the lock must not put slots in the past
            now, start = self.now(), time.monotonic()
            channel = self.limits.name
            self.digests.hold(conn, now, channel)
            slots = self.budget.reserve(conn, room, now)
            if not slots:
                return [], [], self.budget.gap
            jobs = self.digests.claim(conn, self.owner, now, len(slots), self.cfg.lease, channel)
            claimed = q.claim(
                conn, self.owner, now, len(slots) - len(jobs), self.cfg.lease,
                channel=channel, interval=self.limits.interval, hold=self.digests.release(now),
            )  # fmt: skip
            for job in jobs:
                gap = self.limits.interval(job.batch.chat_type)
                claims.book_next_send(conn, job.batch.chat_id, gap, now)
            self.budget.give_back(conn, len(slots) - len(claimed) - len(jobs))
            found = articles_by_ids(conn, [c.article_id for c in claimed])
            options = self.digests.options(
                conn, [(c.id, c.chat_id, c.article_id, c.topics) for c in claimed], found
            )
            upcoming = None
            if not (claimed or jobs):
                times = [q.next_claimable(conn, channel), held.next_due(conn, channel)]
                upcoming = min((t for t in times if t is not None), default=None)
        if not claimed and not jobs:
            if upcoming is None:  # nothing queued: ingest's wake-up (or the poll) brings work
                return [], [], self.cfg.poll_seconds
            wait = min(self.cfg.poll_seconds, max(0.01, (upcoming - now).total_seconds()))
            return [], [], wait
        # absolute (monotonic) send times: how long the thread hand-off takes must not shift them
        at = [start + d for d in slots[: len(jobs) + len(claimed)]]
        digest_jobs = list(zip(jobs, at[: len(jobs)], strict=True))
        alerts = [
            (c, found.get(c.article_id), t, options[c.id])
            for c, t in zip(claimed, at[len(jobs) :], strict=True)
        ]
        return alerts, digest_jobs, max(0.0, slots[len(at) - 1] - AHEAD / 2)

    # -- one delivery ------------------------------------------------------------------
    async def _deliver(
        self, d: q.Claimed, article: Article | None, at: float, options: DeliveryOptions
    ) -> None:
        try:
            failed: Exception | None = None
            try:
                # checked before the slot, not between the gate and the call: a DB read there
                # delayed some calls and not others (a reply's), bunching arrivals at Telegram
                labels = await asyncio.to_thread(send_labels, self.db, self.owner, d, article)
                if labels is not None:
                    await self._wait_for_slot(at)
            except Exception as exc:
                labels, failed = None, exc
            finally:
                self._unreleased -= 1
            if failed is not None:  # nothing sent: held until recorded, never left to its lease
                await self._recorder.record(d, before_the_send(d, failed))
            if labels is None:
                return  # recorded as withdrawn or unsubscribed, or queued until its time
            d = replace(d, topics=labels)  # sent with, and recorded with, the labels of now
            if article is None:
                outcome = SendOutcome.bad_content("article no longer stored", attempted=False)
            else:
                target = Target(
                    d.chat_id, d.channel, d.address, d.chat_type, d.link_preview, d.plain_text,
                    options, after_unknown=d.ambiguous > 0, delivery_id=d.id,
                )  # fmt: skip
                if options.thread_id is not None:
                    self._threads[d.id] = options.thread_id
                try:
                    with prepaid(1):  # the claim's slot; a second call takes its own
                        outcome = await self.channel.deliver(target, article, d.topics)
                except Exception as exc:  # a sender bug must not lose the delivery
                    log.exception("sender raised for delivery %s", d.id)  # no address: a secret
                    outcome = SendOutcome.transient(f"{type(exc).__name__}")
            await self._recorder.record(d, outcome)
            if outcome.kind is OutcomeKind.TOKEN_REFUSED:
                self._token_refused(outcome.description)
            elif outcome.delivered and self._refused_until:
                self._refused_until = 0.0
                log.info("%s accepts the bot token again: sending", self.limits.name)
            metrics.DELIVERIES.labels(self.limits.name, outcome.kind.value).inc()
            for callback in self.on_outcome:
                callback(d.id, outcome)
        except Exception as exc:
            if not report(exc, "dispatcher"):
                log.exception("could not record delivery %s; its lease will expire and retry", d.id)
        finally:
            self.leases.drop([d.id])
            self._threads.pop(d.id, None)
            self._slots.release()
            self.wake.set()

    async def _deliver_digest(self, job: DigestJob, at: float) -> None:
        try:
            failed: Exception | None = None
            try:
                await self._digest_sender.set_aside(job)  # before the slot, as send_labels
                await self._wait_for_slot(at)
            except Exception as exc:
                failed = exc
            finally:
                self._unreleased -= 1
            if failed is not None:  # nothing sent: held until given back, never left to lapse
                return await self._digest_sender.untried(job, failed)
            with prepaid(1):  # the first part's slot; later parts take their own
                await self._digest_sender.deliver(job)
        except Exception as exc:
            if not report(exc, "digests"):  # an outage is one line (db.outage)
                log.exception("digest for %s failed; its lease will expire", job.batch.recipient)
        finally:
            self.leases.drop(row.id for row in job.batch.rows)
            self._slots.release()
            self.wake.set()

    async def _wait_for_slot(self, at: float) -> None:
        """Wait for this send's slot in the global budget (see ``rate.reserve``), through the
        channel's release gate (:class:`~feedsvc.waiting.ReleaseGate`): when the event loop
        lags, late sends are pushed back instead of bunching up (Telegram counts arrivals)."""
        await self.budget.release(at)

    async def _extra_slot(self, earliest: float) -> None:
        """A slot for a call beyond the one claimed (a digest's later part: a message of its
        own), no sooner than ``earliest`` (``time.monotonic()``: the chat's pacing):
        :meth:`feedsvc.budget.SendBudget.extra`."""
        await self.budget.extra(earliest)

    def _backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(MAX_BACKOFF, self.cfg.backoff_base * 2.0 ** min(attempts, 10)))

    def _record_kept(self, outcomes: Sequence[Outcome]) -> None:
        """At the stop, once more: the rows still leased here only (never one since recorded)."""
        with self.db.write() as conn:
            ours = q.still_leased(conn, [d.id for d, _ in outcomes], self.owner)
            self._write_outcomes(conn, [(d, o) for d, o in outcomes if d.id in ours])

    def _record_many(self, outcomes: Sequence[Outcome]) -> None:
        with self.db.write() as conn:
            self._write_outcomes(conn, outcomes)

    def _write_outcomes(self, conn: Connection, outcomes: Sequence[Outcome]) -> None:
        now = self.now()
        if self.tokens is not None:  # what the channel said of the token, if anything
            if any(o.delivered for _, o in outcomes):
                self.tokens.accepted(conn, now)
            elif any(o.kind is OutcomeKind.TOKEN_REFUSED for _, o in outcomes):
                self.tokens.refused(conn, now)
        for d, o in outcomes:
            claims.book_next_send(conn, d.chat_id, self.limits.interval(d.chat_type), now)
            # read, not popped: a failed batch is written again row by row (BatchRecorder)
            record_alert(conn, now, self.owner, d, o, self._threads.get(d.id), self.policy)
