"""Sending one chat's digest: part by part, paced like any alerts to that chat, each part
recorded as soon as it is answered (so a crash between parts repeats at most the part in
flight). Called by the dispatcher once the digest's send slot in the global budget has come;
each later part is a call of its own and waits for a slot of its own (``extra_slot``: in the
budget, through the channel's release gate), or many chats' digests due at one time sent
parts-per-digest times the channel's rate.

A channel that cannot send a composed message (:class:`feedsvc.channels.base.MessageChannel`)
gets the held alerts one by one instead, each recorded like a digest part of one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from feedsvc import metrics
from feedsvc.budget import AHEAD
from feedsvc.channels.base import Channel, MessageChannel, Target
from feedsvc.db import Database
from feedsvc.db.kept import Kind, LastTries, until_committed
from feedsvc.db.outage import report
from feedsvc.digest.edge import DigestEdge, DigestJob, Sorted
from feedsvc.digest.message import DigestEntry, DigestPart
from feedsvc.digest.record import GOES_ON, Policy, record_part, set_aside
from feedsvc.notify import AlertMessage, OutcomeKind, SendOutcome
from feedsvc.notify.edits import editor_of
from feedsvc.recipient_names import chat_name, telegram_chat
from feedsvc.send_record import SENT_AGAIN
from feedsvc.store import chat_migration, claims
from feedsvc.store import digests as store
from feedsvc.store.deliveries import still_leased
from feedsvc.store.followup_queue import queue_relayout
from feedsvc.waiting import sleep_or_wake

log = logging.getLogger("feedsvc.digest")
Unit = AlertMessage | DigestEntry  # a digest part, or one held alert (channels without parts)
#: The longest 429 pause (``retry_after``, seconds) a later part waits out in line while the
#: parts that went promise it: a chat sent to a little fast is asked to wait seconds (a
#: group's 20 a minute: up to one). A longer pause sends the rest back to the outbox.
MAX_PART_WAIT = 60.0
#: 429s waited out and migrations followed in one digest; beyond, the rest waits in the outbox
MAX_HOLD_ONS = 3
SUPERGROUP = "supergroup"  # a group's type once Telegram upgraded it (``migrate_to_chat_id``)
#: a part the channel took whose record a stop left to its last try (:class:`LastTries`)
DIGEST_PART = Kind("digest part", "digest parts")


class DigestSender:
    def __init__(
        self, db: Database, channel: Channel, edge: DigestEdge, owner: str,
        now: Callable[[], datetime], policy: Policy,
        extra_slot: Callable[[float], Awaitable[None]], stopping: asyncio.Event | None = None,
        every: float = 1.0, last_tries: LastTries | None = None,
    ) -> None:  # fmt: skip
        self.db, self.channel, self.edge = db, channel, edge
        self.owner, self.now, self.policy = owner, now, policy
        self.extra_slot = extra_slot  # a later part's slot, no sooner than a monotonic time
        #: the dispatcher stopping: a 429's pause is no longer waited out (:meth:`_hold_on`)
        self.stopping = stopping or asyncio.Event()
        #: seconds between two tries of a part's record the state DB refused (an outage)
        self.every = every
        #: where a part's record the stop leaves unrecorded goes (the dispatcher's, shared
        #: with its alerts: one more write after the drain, else one warning)
        self.last_tries = last_tries or LastTries("digests", SENT_AGAIN, log)
        #: the channel can edit a sent message (``notify.edits``): a part can be laid out again
        self._edits = editor_of(channel) is not None

    async def set_aside(self, job: DigestJob) -> None:
        """Record the digest's alerts that do not go (withdrawn, moved later, unsubscribed).
        Called before the digest's slot, not between the slot and the first part: a DB write
        there sent that part late and the next call, released on time, right after it."""
        if job.withdrawn or job.later or job.unsubscribed:
            await asyncio.to_thread(self._set_aside, job)

    async def untried(self, job: DigestJob, exc: Exception) -> None:
        """The step before the digest's first part (:meth:`set_aside`, the wait for its slot)
        raised ``exc``: nothing reached the channel. A state-DB outage: the rows still leased
        go back to ``held`` as they were once the DB answers (no attempt, never an unknown
        outcome; left to their lease's end, the claim that took them back counted one, as an
        alert's: :func:`feedsvc.send_record.before_the_send`). Anything else raises again."""
        if not report(exc, "digests"):
            raise exc
        ids = [row.id for row in job.batch.rows]
        await until_committed(
            lambda: asyncio.to_thread(self._give_back, ids), self.stopping, self.every, "digests"
        )

    def _give_back(self, ids: Sequence[int]) -> None:
        with self.db.write() as conn:
            store.finish_rows(conn, ids, self.owner, state="held")

    async def deliver(self, job: DigestJob) -> None:
        """Send ``job``'s parts (its slot has come; :meth:`set_aside` already ran). Before each
        later part its alerts are sorted again (:meth:`DigestEdge.sort_rows`, at most
        ``AHEAD`` before its slot, as an alert's check): one withdrawn, hidden, scheduled again
        or no longer wanted since the claim is left out, recorded with the part, and the parts
        still to go are laid out again (:meth:`DigestEdge.rest`, numbered on: ``(1/3)`` then
        ``(tiếp) (2/2)``); none left, none sent. The parts that went before are then no longer
        true: part 1's heading counts the articles planned, and each says the total it was
        numbered with. On a channel that edits, once the digest ends (with its last part, or
        with the re-check that left nothing), those parts are owed an edit in the same
        transaction (``store.followup_queue.queue_relayout``: the follow-up worker's queue,
        pace and budget): part 1 to the count and the number of parts that went,
        ``Tin tổng hợp · 7 tin (1/2)``, its own lines as they were; a part numbered with
        another total, to it; part 1 alone, to a digest of its own (no ``(1/N)``). Each row of
        a digest of several parts records part 1's message id (``deliveries.digest_head``),
        which is how the worker knows a message's place (``DigestEdge.message_now``). A part 1
        refused as bad content leaves nothing of the digest in the chat: the rest is laid out
        again as the digest (``rest(…, 0)``: the heading with its count, numbered among
        themselves), its first part delivered the head; it went "(tiếp) (2/3)" under no
        heading, and no part 1 recorded for an edit to place it by. A later part answered
        429 or "upgraded to a supergroup" goes again at once, as the parts that went promise
        (:meth:`_hold_on`: the pause waited out, the migration followed); a part refused, or
        the rest sent back to the outbox by any other failure, leaves the parts that went owed
        their edit too (:meth:`_ending`), the promised "(1/3)" taken back."""
        batch = job.batch
        target = Target(batch.chat_id, batch.channel, batch.address, batch.chat_type,
                        batch.link_preview, False, job.options)  # fmt: skip
        units = self._units(job.parts, job.entries)
        parts = isinstance(self.channel, MessageChannel)  # composed parts, not alerts
        sent, total, shrunk = 0, len(units), False
        base, anew = 0, False  # parts tried before the layout going now; lay the rest out anew
        head: int | None = None  # part 1's message id, part 1 of several delivered
        went: list[tuple[tuple[int, ...], int]] = []  # parts delivered, the total each said
        held_on, waited = 0, False  # 429s waited out and migrations followed; one just now
        while units:
            out: Sorted | None = None
            if sent:  # pacing: that chat's rate, and the channel's (none after a 429's pause)
                gap = self.channel.limits.interval(target.chat_type).total_seconds()
                earliest = time.monotonic() + (0.0 if waited else gap)
                await asyncio.sleep(max(0.0, earliest - AHEAD - time.monotonic()))
                checked, units = await asyncio.to_thread(
                    self._recheck, job, units, sent - base, anew
                )
                out = checked
                if checked.left_out or anew:  # laid out again: numbered so
                    total = sent - base + len(units)
                    shrunk = shrunk or not anew  # part 1 went: its count, its (1/N)
                anew = False
                if not units:  # the parts that went are the whole digest
                    stale = self._stale(went, shrunk)
                    await asyncio.to_thread(self._set_aside_sorted, checked, stale)
                    break
                await self.extra_slot(earliest)
            (unit, ids), units = units[0], units[1:]
            outcome, target = await self._send(target, unit)
            waited = False
            if head is not None and held_on < MAX_HOLD_ONS:  # the parts that went promise it
                kept = await self._hold_on(job, target, outcome, out)
                if kept is not None:  # waited out, or followed: this part once more
                    job, target = kept
                    units, held_on, waited = [(unit, ids), *units], held_on + 1, True
                    continue
            delivered = outcome.kind is OutcomeKind.SENT
            if sent == base and delivered and units and parts and outcome.message_id:
                head = outcome.message_id
            if delivered and head is not None:
                went.append((ids, total))
            later = [d for _, p in units for d in p]
            stale = self._ending(went, shrunk, outcome, bool(units))
            go_on = await self._kept(job, ids, later, outcome, out, head, stale)
            metrics.DELIVERIES.labels(self.channel.limits.name, outcome.kind.value).inc()
            sent += 1
            if go_on and parts and units and sent - 1 == base and not delivered:
                # its part 1 refused (bad content): nothing of the digest is in the chat, and
                # "(tiếp) (2/3)" under no heading recorded no part 1 an edit could place it
                # by (laid out as a digest of its own); the rest goes as the digest instead
                base, anew = sent, True
            if not go_on:
                break

    async def _hold_on(
        self, job: DigestJob, target: Target, o: SendOutcome, out: Sorted | None
    ) -> tuple[DigestJob, Target] | None:
        """A later part answered so that it can still go at once, as the parts that went
        promise (``(1/3)`` stayed with no part 2: a 429 or a migration ended the digest and
        its rest went later as a digest of its own). A 429 (the channel's classifier's
        ``RETRY_AFTER``) of at most :data:`MAX_PART_WAIT` seconds: the chat paused as for any
        429, the pause waited out here (the dispatcher stopping ends the wait); a group become a
        supergroup (``MIGRATED``): the chat, its rows and subscriptions follow it
        (``chat_migration.follow_migration``, as an alert's send does) and the rest goes there,
        numbered on (Telegram shows the group's history above the supergroup's). Either
        records the re-check's set-asides (``out``). Returns the job and target to send the
        part again with; None: recorded as any part's outcome (the rest waits in the outbox,
        the parts that went owed an edit: :meth:`_ending`; a stop during the wait writes the
        set-asides again, a no-op: ``finish_rows`` updates only rows still leased)."""
        moved = o.new_chat_id
        if o.kind is OutcomeKind.MIGRATED and moved is not None and moved != target.chat_id:
            await asyncio.to_thread(self._follow, job, moved, out)
            address = str(moved) if target.address == str(target.chat_id) else target.address
            batch = replace(job.batch, chat_id=moved, chat_type=SUPERGROUP)
            return replace(job, batch=batch), replace(
                target, chat_id=moved, address=address, chat_type=SUPERGROUP
            )
        if o.kind is OutcomeKind.RETRY_AFTER and (o.seconds or 0.0) <= MAX_PART_WAIT:
            seconds = o.seconds or 1.0
            await asyncio.to_thread(self._pause, job, seconds, out)
            await sleep_or_wake(seconds, self.stopping)
            if not self.stopping.is_set():
                return job, target
        return None

    def _ending(
        self, went: Sequence[tuple[tuple[int, ...], int]], shrunk: bool, o: SendOutcome,
        rest: bool,
    ) -> list[tuple[int, ...]]:  # fmt: skip
        """The parts that went owed an edit as this part's outcome (``o``; ``rest``: parts
        after it) is recorded: :meth:`_stale` once the digest ends with it — its last part,
        or an outcome that sends it and the rest back to the outbox (``record.GOES_ON``: a
        pause too long to wait, a server error), to go later as a digest of their own: the
        parts that went promised parts that never come ("(1/3)" alone), laid out again among
        themselves. None while it goes on, or when the chat can no longer be reached
        (blocked, not found): no edit could be made either."""
        if o.kind in GOES_ON and rest:
            return []
        if o.kind.chat_level:
            return []
        return self._stale(went, shrunk)

    def _stale(
        self, went: Sequence[tuple[tuple[int, ...], int]], shrunk: bool
    ) -> list[tuple[int, ...]]:
        """The delivered parts (``went``: each part's rows and the total it was numbered
        with, part 1 first) whose first line is no longer true once the digest ends: part 1
        after a re-check left articles out (``shrunk``: its count), and any part numbered
        with another total than the parts that went (the rest laid out again, a part refused,
        the rest not sent now). None on a channel that cannot edit, a digest that went as
        planned, or part 1 not delivered (no ``digest_head``)."""
        if not (self._edits and went):
            return []
        # every part so opened, a part of one alert too (``Followup.digest_message``): part 1
        # renumbered alone read "(1/2)" above "(tiếp) (3/3)" once a part between was refused
        return [
            ids for k, (ids, said) in enumerate(went) if (k == 0 and shrunk) or said != len(went)
        ]

    def _units(
        self, parts: Sequence[DigestPart], entries: Sequence[DigestEntry]
    ) -> list[tuple[Unit, tuple[int, ...]]]:
        """What goes, call by call, with the rows each call carries: the parts, or each held
        alert on its own for a channel without composed messages."""
        if isinstance(self.channel, MessageChannel):
            return [(p.message, p.delivery_ids) for p in parts]
        return [(e, (e.delivery_id,)) for e in entries]

    def _recheck(
        self, job: DigestJob, units: Sequence[tuple[Unit, tuple[int, ...]]], sent: int,
        anew: bool = False,
    ) -> tuple[Sorted, list[tuple[Unit, tuple[int, ...]]]]:  # fmt: skip
        """The rows of the parts still to go sorted now; those parts as they are when none is
        left out, else laid out again without them (in the planned order), numbered on after
        ``sent`` parts; ``anew`` (its part 1 refused, ``sent`` 0): laid out as the digest."""
        ids = [d for _, p in units for d in p]
        chosen = set(ids)
        with self.db.read() as conn:
            rows = [r for r in job.batch.rows if r.id in chosen]
            out = self.edge.sort_rows(conn, job.batch.chat_id, rows, self.now(), job.batch.settings)
        gone = out.left_out
        if not gone and not anew:
            return out, list(units)
        if gone:
            log.info("digest of %s: %d alert(s) left out of its later parts (no longer "
                     "public or wanted)", job.batch.recipient, len(gone))  # fmt: skip
        by_id = {e.delivery_id: e for e in job.entries}
        rest = [by_id[i] for i in ids if i not in gone]
        return out, self._units(self.edge.rest(rest, sent), rest)

    async def _send(self, target: Target, unit: Unit) -> tuple[SendOutcome, Target]:
        """One part; a deleted forum thread falls back to the chat (saying so, once), a part
        the channel cannot parse goes once more as plain text. Returns the outcome and the
        target later parts go to."""
        name = chat_name(target.channel, target.address, target.chat_id)
        try:
            outcome = await self._send_once(target, unit)
            thread = target.options.thread_id
            if outcome.kind is OutcomeKind.THREAD_GONE and thread is not None:
                await asyncio.to_thread(self._forget_thread, target.chat_id, thread, name)
                gone = self.edge.thread_gone(target.options)
                outcome = await self._send_once(replace(target, options=gone), unit)
                target = replace(target, options=replace(gone, notice=None))
            if outcome.kind is OutcomeKind.PARSE_ERROR:
                outcome = await self._send_once(replace(target, plain_text=True), unit)
        except Exception as exc:  # a channel bug must not lose the digest
            if not report(exc, "digests"):  # forgetting the thread met an outage: one line
                log.exception("channel raised for the digest of %s", name)
            outcome = SendOutcome.transient(type(exc).__name__)
        return outcome, target

    async def _send_once(self, target: Target, unit: Unit) -> SendOutcome:
        if isinstance(unit, AlertMessage):
            assert isinstance(self.channel, MessageChannel)
            return await self.channel.send_message(target, unit)
        # a channel without composed messages: this held alert on its own
        return await self.channel.deliver(target, unit.article, [unit.group.title])

    async def _kept(
        self, job: DigestJob, part: Sequence[int], later: Sequence[int], o: SendOutcome,
        left_out: Sorted | None, head: int | None, relayout: Sequence[Sequence[int]],
    ) -> bool:  # fmt: skip
        """:meth:`_record`, through a state-DB outage written again every ``every`` seconds
        until it commits (:func:`~feedsvc.db.kept.until_committed`; the dispatcher stopping
        ends the wait, the record then kept for :attr:`last_tries`: written once more after
        the drain, else counted in the stop's warning). Dropped, the part's rows stayed leased
        until the lease ran out and the part, already in the chat, went again (and the rest of
        the digest with it), without a word at the stop."""

        def again() -> bool:
            return self._record(job, part, later, o, left_out, head, relayout, kept=True)

        def keep() -> None:
            self.last_tries.keep(DIGEST_PART, o.delivered, again)

        return await until_committed(
            lambda: asyncio.to_thread(self._record, job, part, later, o, left_out, head, relayout),
            self.stopping, self.every, "digests", keep,
        )  # fmt: skip

    def _record(
        self, job: DigestJob, part: Sequence[int], later: Sequence[int], o: SendOutcome,
        left_out: Sorted | None = None, head: int | None = None,
        relayout: Sequence[Sequence[int]] = (), kept: bool = False,
    ) -> bool:  # fmt: skip
        """The part's outcome, with the re-check's set-asides, and the edits owed to the parts
        that went before once this one ends the digest (``relayout``), in one transaction.
        ``kept``: the stop's last try, which leaves a part none of whose rows is still leased
        here alone (recorded since, or taken back)."""
        batch = job.batch
        with self.db.write() as conn:
            if kept and not still_leased(conn, part, self.owner):
                return False
            now = self.now()
            if left_out is not None:  # a re-check's, written with the part that went without
                set_aside(conn, now, self.owner, left_out.withdrawn, left_out.later,
                          left_out.unsubscribed)  # fmt: skip
            claims.book_next_send(
                conn, batch.chat_id, self.channel.limits.interval(batch.chat_type), now
            )
            go_on = record_part(conn, now, self.owner, batch, part, later, o, self.policy, head)
            queue_relayout(conn, relayout, now)
            return go_on

    def _pause(self, job: DigestJob, seconds: float, out: Sorted | None) -> None:
        """A later part's 429, waited out in line: the chat paused as any 429 pauses it
        (``claims.block_chat_until``: the follow-up worker and the bot wait too), the
        re-check's set-asides recorded; the part's rows stay leased, to go after it."""
        batch = job.batch
        with self.db.write() as conn:
            now = self.now()
            if out is not None:
                set_aside(conn, now, self.owner, out.withdrawn, out.later, out.unsubscribed)
            claims.block_chat_until(conn, batch.chat_id, now + timedelta(seconds=seconds))
            claims.book_next_send(
                conn, batch.chat_id, self.channel.limits.interval(batch.chat_type), now
            )
        log.warning("digest of %s: 429 on a later part, paused %.0f s, then the rest",
                    batch.recipient, seconds)  # fmt: skip

    def _follow(self, job: DigestJob, new: int, out: Sorted | None) -> None:
        """A later part's chat became a supergroup: the chat, its queue (this digest's rows,
        still leased, with it) and its subscriptions follow the new id, as after an alert's
        send; the re-check's set-asides recorded."""
        old, named = job.batch.chat_id, job.batch.recipient
        with self.db.write() as conn:
            now = self.now()
            if out is not None:
                set_aside(conn, now, self.owner, out.withdrawn, out.later, out.unsubscribed)
            chat_migration.follow_migration(conn, old, new, now)
        log.info("%s migrated to %s; the rest of its digest goes there", named, telegram_chat(new))

    def _set_aside(self, job: DigestJob) -> None:
        with self.db.write() as conn:
            set_aside(conn, self.now(), self.owner, job.withdrawn, job.later, job.unsubscribed)

    def _set_aside_sorted(self, out: Sorted, relayout: Sequence[Sequence[int]] = ()) -> None:
        with self.db.write() as conn:
            now = self.now()
            set_aside(conn, now, self.owner, out.withdrawn, out.later, out.unsubscribed)
            queue_relayout(conn, relayout, now)

    def _forget_thread(self, chat_id: int, thread_id: int, name: str) -> None:
        with self.db.write() as conn:
            store.forget_thread(conn, chat_id, thread_id)
        log.info("%s: forum thread %s is gone; alerts go to the chat", name, thread_id)
