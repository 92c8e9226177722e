"""The follow-up worker: claims retractions and corrections, calls the Bot API, records.

It runs beside the dispatcher and draws from the same budgets: the shared token bucket
(``telegram.global_rate``, across replicas) and each chat's pacing slot and 429 pause, booked in
the DB at claim time exactly as sends book them. Work is durable (:mod:`feedsvc.store.followups`):
a crash mid-call leaves the row leased; when the lease runs out it is done again, which Telegram
answers harmlessly ("not found" / "not modified"). Decisions come from :mod:`.plan`, each call
and what the changed message says from :mod:`.calls`; this module claims, paces and records.

Every call names the chat the message was SENT to (``deliveries.sent_chat_id``), not the row's
chat now: a group upgraded to a supergroup has its rows moved to the new id, while their
messages stay in the old group (message ids are per chat; calling ``(supergroup, old id)``
edited or deleted whatever the supergroup holds under that id). The old group is deactivated
(FIELD-NOTES: calls on its id answer ``migrate_to_chat_id``), so such a follow-up ends
``unreachable`` without a call.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from feedsvc import metrics
from feedsvc.articles import Article
from feedsvc.budget import AHEAD, prepaid, send_budget
from feedsvc.channels.base import Channel
from feedsvc.config import Settings
from feedsvc.db import Database
from feedsvc.db.kept import Kind, LastTries, until_committed
from feedsvc.db.outage import report
from feedsvc.db.schema import alert_followups
from feedsvc.digest.edge import DigestEdge
from feedsvc.lease_keeper import LeaseKeeper
from feedsvc.lifecycle.visibility import Visibility
from feedsvc.notify.edits import EditKind, EditOutcome, MessageEditor, editor_of
from feedsvc.retraction.calls import Job, Notices, call, digest_now
from feedsvc.retraction.labels import relabelled
from feedsvc.retraction.plan import (
    CORRECT,
    NOT_IN_CHAT,
    RENUMBER,
    RESTORE_METHOD,
    RETRACT,
    UNREACHABLE,
    Next,
    OnWithdraw,
    decide,
    first_method,
    is_photo,
    left_as,
    part_change,
    restore_method,
)
from feedsvc.retraction.undo import muted_topics
from feedsvc.store import followup_queue, owed_corrections, restores
from feedsvc.store import followups as q
from feedsvc.store.articles import articles_by_ids
from feedsvc.store.claims import block_chat_until, book_next_send
from feedsvc.store.leases import this_process
from feedsvc.store.lifecycle import public_ids, visibilities
from feedsvc.waiting import sleep_or_wake

log = logging.getLogger(__name__)
#: a call the channel took whose record a stop left unrecorded, and what the next start does
FOLLOWUP_CALL = Kind("edit or delete of a sent alert", "edits and deletes of sent alerts")
MADE_AGAIN = "made again after the restart (an edit twice; a delete again is answered 'not found')"


@dataclass(frozen=True)
class FollowupSettings:
    on_withdraw: OnWithdraw = OnWithdraw.DELETE
    lease: timedelta = timedelta(seconds=60)
    images: bool = False  # a restore's guess for an alert of unknown kind (sent before 0042)
    language: str = "vi"  # the notice's language (site.language)
    max_in_flight: int = 16
    max_attempts: int = 25
    poll_seconds: float = 1.0
    backoff_base: float = 2.0
    sweep_seconds: float = 2.0  # how often to look for newly withdrawn or hidden articles
    # the first sweep after start looks this far back (withdrawals while the service was down)
    sweep_horizon: timedelta = timedelta(days=7)


# A later sweep starts this long before the previous one's clock: replicas' clocks differ a
# little, and a withdrawal committed just after a sweep may carry an earlier time.
SWEEP_OVERLAP = timedelta(seconds=120)


class FollowupWorker:
    """One channel's follow-ups; use like its dispatcher: ``await worker.run()`` until
    :meth:`stop`. The channel's capability is its ``editor`` (:func:`editor_of`): a channel
    without one cannot change sent alerts, and its follow-ups end ``kept`` at once. Calls use
    the channel's budget (``limits.bucket`` at ``limits.global_rate``) and pacing intervals."""

    def __init__(
        self,
        db: Database,
        channel: Channel,
        tz: tzinfo,
        settings: FollowupSettings = FollowupSettings(),
        owner: str | None = None,
        *,
        digests: DigestEdge | None = None,
    ) -> None:
        self.db, self.tz, self.cfg = db, tz, settings
        #: the alert's buttons, built as the dispatcher built them (None: corrections have none)
        self.digests = digests
        #: a digest message laid out again (the dispatcher's edge, or one in the site's words)
        self.layout = digests or DigestEdge(tz, settings.language)
        self.limits = channel.limits
        self.channel = channel.limits.name
        self.editor: MessageEditor | None = editor_of(channel)
        #: shared with the channel's dispatcher (and the bot): its slots and release gate
        self.budget = send_budget(channel)
        if self.budget.db is None:  # a worker without a dispatcher here (tests)
            self.budget.bind(db)
        self.owner = owner or this_process()
        self.wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_tries = LastTries("follow-ups", MADE_AGAIN, log)  # what the stop leaves
        self.notices = Notices.of(settings.language)
        #: the DB clock of the last committed sweep (None: none yet since start)
        self.last_sweep: datetime | None = None
        self.on_done: list[Callable[[q.Followup, Next], None]] = []
        #: the leases of the calls under way, renewed while they are (feedsvc.lease_keeper)
        self.leases = LeaseKeeper(
            db, alert_followups, self.owner, settings.lease, leased="working", clock=db.now
        )

    async def run(self) -> None:
        if self.db.dialect == "sqlite":  # one process per SQLite file: old leases are dead
            await asyncio.to_thread(self._recover_all)
        async with self.leases.running():  # until the last call is recorded
            await self._loop()

    async def _loop(self) -> None:
        while not self._stop.is_set():
            self.wake.clear()
            try:
                wait = await self.step()
            except Exception as exc:
                if not report(exc, "follow-ups"):  # an outage is one line (db.outage)
                    log.exception("follow-up step failed; retrying")
                wait = self.cfg.poll_seconds
            if wait > 0:
                await sleep_or_wake(wait, self._stop, self.wake)
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self._last_tries.last_try(self.channel)

    def stop(self) -> None:
        self._stop.set()

    async def step(self) -> float:
        """Claim what the budget allows, start the calls; returns how long to wait next."""
        room = min(
            self.cfg.max_in_flight - len(self._tasks),
            math.ceil(AHEAD * self.limits.global_rate) + 1,
        )
        if room <= 0:
            return 0.05
        jobs, wait = await asyncio.to_thread(self._claim, room)
        self.leases.hold(job.followup.id for job in jobs)
        for job in jobs:
            task = asyncio.create_task(self._do(job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return wait

    # -- DB side (threads) -------------------------------------------------------------------
    def _recover_all(self) -> None:
        with self.db.write() as conn:
            horizon = self.db.now() + self.cfg.lease + timedelta(days=1)
            q.recover_expired(conn, horizon, self.channel)

    def sweep(self) -> int:
        """Queue retractions for articles withdrawn or hidden since the last sweep (any path:
        ingest, reconciliation, an editor on another replica), or scheduled now after their
        alert went out (``followup_queue.retired_since``); and, for articles public again
        (their time come, unhidden, republished), the restores of notices
        (``restores.restorable``) and the corrections stored while they were not public
        (``owed_corrections.owed``), in that order: a restore's edit and a correction's are
        one edit, to the article's current text. Returns how many retractions."""
        now, last = self.db.now(), self.last_sweep
        since = now - self.cfg.sweep_horizon if last is None else last - SWEEP_OVERLAP
        with self.db.read() as conn:  # an idle sweep is three indexed reads, no write lock
            ids = followup_queue.retired_since(conn, since, now)
            back = restores.restorable(conn, now)
            owed = owed_corrections.owed(conn, now)
        queued = restored = corrected = 0
        if ids or back or owed:
            with self.db.write() as conn:
                queued = followup_queue.retract_deliveries(conn, ids, self.db.now())
                restored = restores.restore(conn, back, self.db.now())
                corrected = owed_corrections.take_owed(conn, owed, self.db.now())
        self.last_sweep = now  # only once committed: a failed sweep covers its window again
        if queued or restored or corrected:
            log.info("%d sent alert(s) to retract, %d to restore, %d to correct",
                     queued, restored, corrected)  # fmt: skip
        return queued

    def _claim(self, room: int) -> tuple[list[Job], float]:
        due = self.last_sweep is None or (self.db.now() - self.last_sweep).total_seconds() >= (
            self.cfg.sweep_seconds
        )
        if due and self.editor is not None:  # one sweep queues for every channel's recipients
            self.sweep()
        idle = min(self.cfg.poll_seconds, self.cfg.sweep_seconds)
        with self.db.read() as conn:
            upcoming, now = q.next_work(conn, self.channel), self.db.now()
        if upcoming is None:  # nothing owed: no write transaction at all
            return [], idle
        if upcoming > now:
            return [], min(idle, max(0.01, (upcoming - now).total_seconds()))
        with self.db.write() as conn:
            now = self.db.now()
            q.recover_expired(conn, now, self.channel, keep=self.leases.ours)
            if self.editor is None or self.cfg.on_withdraw is OnWithdraw.KEEP:
                q.settle_pending(conn, RETRACT, "kept", now, self.channel)
            if self.editor is None:
                q.settle_pending(conn, CORRECT, "kept", now, self.channel)
                return [], self.cfg.poll_seconds
            now, start = self.db.now(), time.monotonic()
            slots = self.budget.reserve(conn, room, now)
            if not slots:
                return [], self.budget.gap
            claimed = q.claim(
                conn, self.owner, now, len(slots), self.cfg.lease,
                channel=self.channel, interval=self.limits.interval,
            )  # fmt: skip
            self.budget.give_back(conn, len(slots) - len(claimed))
            ids = [c.article_id for c in claimed]
            public = public_ids(conn, ids, now)
            seen = visibilities(conn, [c.article_id for c in claimed if c.kind == RETRACT], now)
            found = articles_by_ids(conn, ids)  # corrections' text; the caption guess
            # the labels each alert went out with: which topics it named (a mute's undo)
            sent = [(c.delivery_id, c.chat_id, c.article_id, c.topics, c.sent_at)
                    for c in claimed if c.kind == CORRECT]  # fmt: skip
            claimed = relabelled(conn, claimed, found)
            fixes = [(c.delivery_id, c.chat_id, c.article_id, c.topics)
                     for c in claimed if c.kind == CORRECT]  # fmt: skip
            options = {}
            if self.digests and fixes:
                undo = muted_topics(conn, sent)
                options = self.digests.options(conn, fixes, found, undo)
            shown = {
                c.id: digest_now(conn, self.layout, c, now) for c in claimed if c.digest_message
            }
        if not claimed:  # all owed work waits for pacing, a 429 or a send in flight
            return [], idle
        jobs = [
            Job(
                c,
                found.get(c.article_id),
                c.article_id in public,
                start + delay,
                shown.get(c.id, ()),
                options[c.delivery_id].buttons if c.delivery_id in options else (),
                seen.get(c.article_id) is Visibility.SCHEDULED,
            )
            for c, delay in zip(claimed, slots, strict=False)
        ]
        return jobs, max(0.0, slots[len(claimed) - 1] - AHEAD / 2)

    def _record(self, job: Job, nxt: Next, called: str | None) -> None:
        """``called``: the method called (None: no call was made)."""
        f = job.followup
        with self.db.write() as conn:
            now = self.db.now()
            if called:  # anchor the chat's next slot on the answer, as sends do
                book_next_send(conn, f.chat_id, self.limits.interval(f.chat_type), now)
            became = left_as(called, nxt.outcome)
            if became is not None and became != f.message_kind and not f.digest_message:
                q.message_became(conn, f.delivery_id, became)
            if nxt.pause_chat:
                block_chat_until(conn, f.chat_id, now + timedelta(seconds=nxt.pause_chat))
            if nxt.outcome is not None:
                finished = q.finish(conn, f.id, self.owner, nxt.outcome, nxt.error, now)
                owed = part_change(f.kind, nxt.outcome, bool(job.digest_now))
                if finished and f.digest_head and owed is not None:
                    # a part of a digest sent in several lists other articles, or none: the
                    # first part's count, or every other part's number, goes with it
                    followup_queue.part_changed(conn, f.id, f.delivery_id, now,
                                                renumber=owed == RENUMBER)  # fmt: skip
                if finished and f.digest_message and nxt.outcome in NOT_IN_CHAT:
                    assert f.message_id is not None  # a follow-up without one is cancelled
                    q.settle_message(conn, f.message_chat, f.message_id, now)
            else:
                due = now + timedelta(seconds=nxt.delay)
                q.again(conn, f.id, self.owner, due, nxt.method, nxt.error)

    # -- one follow-up ---------------------------------------------------------------------
    async def _do(self, job: Job) -> None:
        f = job.followup
        try:
            await self.budget.release(job.at)  # the slot, never bunched by event-loop lag
            with prepaid(1):  # that slot pays for the one call
                nxt, called = await self._attempt(job)
            # through a state-DB outage, kept and written again until it commits (db.kept):
            # dropped, its lease ran out and the call was made again (an edit twice); the stop
            # ends the wait, kept for one more try after the last call (else one warning)
            await until_committed(
                lambda: asyncio.to_thread(self._record, job, nxt, called),
                self._stop, self.cfg.poll_seconds, "follow-ups",
                lambda: self._last_tries.keep(
                    FOLLOWUP_CALL, called is not None, lambda: self._record(job, nxt, called)
                ),
            )  # fmt: skip
            if nxt.outcome is not None:
                metrics.FOLLOWUPS.labels(f.kind, nxt.outcome).inc()
                log.info(
                    "alert #%s in %s: %s %s%s",
                    f.message_id, f.message_recipient, f.kind, nxt.outcome,
                    f" ({nxt.error})" if nxt.error else "",
                )  # fmt: skip
            for callback in self.on_done:
                callback(f, nxt)
        except Exception as exc:
            if not report(exc, "follow-ups"):
                log.exception("follow-up %s not recorded; its lease will expire and retry", f.id)
        finally:
            self.leases.drop([f.id])
            # a follow-up of the same chat or message may be owed now (it waited for this
            # call: pacing, a send in flight): claim again at once, not at the next poll, as
            # the dispatcher does after each send
            self.wake.set()

    async def _attempt(self, job: Job) -> tuple[Next, str | None]:
        """One Bot API call, or a decision that none is needed; (what next, the method
        called or None)."""
        f = job.followup
        if f.delivery_state != "sent" or f.message_id is None:
            return Next("cancelled", error=f"no message was sent ({f.delivery_state})"), None
        if f.kind == RETRACT and job.public:
            return Next("cancelled", error="public again"), None
        if f.kind == CORRECT and (not job.public or job.article is None):
            return Next("cancelled", error="not public"), None
        if f.migrated_away:  # the old group is deactivated: nothing there can be changed
            error = (f"message in group {f.message_chat}, since upgraded to supergroup "
                     f"{f.chat_id}: Telegram no longer lets the bot change it")  # fmt: skip
            return Next(UNREACHABLE, error=error), None
        if len(job.digest_now) > 1:  # its public articles no longer fit one message
            error = f"digest message of {len(f.siblings) + 1}: too long to lay out again"
            return Next("kept", error=error), None
        assert self.editor is not None  # settled as "kept" at claim time otherwise
        guess = self._caption_guess(job.article)
        caption = is_photo(f.message_kind, f.digest or f.digest_message,
                           guess if f.method == RESTORE_METHOD else False)  # fmt: skip
        if job.digest_now:  # a digest still carrying public articles: edited to list them
            method = f.method if f.method in ("text", "text_plain") else "text"
        else:
            method = f.method or first_method(
                f.kind, self.cfg.on_withdraw, f.sent_at, self.db.now(), caption
            )
            method = restore_method(caption) if method == RESTORE_METHOD else method
        try:
            result = await call(self.editor, job, method, self.notices, self.tz)
        except Exception as exc:  # an editor bug must not lose the follow-up
            log.exception("editor raised for follow-up %s", f.id)
            result = EditOutcome(EditKind.TRANSIENT, description=type(exc).__name__)
        return (
            decide(
                f.kind, method, result, f.attempts, caption=caption,
                max_attempts=self.cfg.max_attempts, backoff_base=self.cfg.backoff_base,
            ),
            method,
        )  # fmt: skip

    def _caption_guess(self, article: Article | None) -> bool:
        """A photo alert, as guessed from the settings and the article (``telegram.images``,
        an http(s) image): only for a message whose kind was never recorded (sent before
        migration 0042) being restored, as the notice it takes back was made by this guess
        (:func:`~feedsvc.retraction.plan.is_photo`)."""
        url = article.image_url if article is not None else None
        return self.cfg.images and bool(url and url.startswith(("http://", "https://")))


def followup_worker(
    db: Database, channel: Channel, settings: Settings, owner: str,
    digests: DigestEdge | None = None,
) -> FollowupWorker:  # fmt: skip
    """``channel``'s worker for ``settings`` (``telegram.on_withdraw``, ``telegram.images``,
    ``telegram.lease_seconds``, ``site.language``)."""
    tg = settings.telegram
    return FollowupWorker(
        db,
        channel,
        settings.tz,
        FollowupSettings(
            on_withdraw=OnWithdraw(tg.on_withdraw),
            lease=timedelta(seconds=tg.lease_seconds),
            images=tg.images,
            language=settings.site.language,
        ),
        owner=owner,
        digests=digests,
    )
