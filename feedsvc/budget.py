"""A channel's send budget: the one place where a call that sends (or edits, or deletes) a
message costs a slot of the budget every replica shares (``rate_buckets``, through
:mod:`feedsvc.store.rate`) and leaves this process through the channel's release gate.

Three kinds of callers draw on it:

* the outbox and the follow-up worker pay ahead: one claim transaction reserves the slots of
  the sends it claims (:meth:`SendBudget.reserve`, at most ``AHEAD`` seconds of the budget),
  and each claimed send runs inside :func:`prepaid`, which carries its one paid slot;
* a second call inside such a send (the text after a refused photo, a digest part sent again
  to the chat after its forum thread was deleted, or again as plain text) finds the slot spent
  and takes one of its own (:meth:`SendBudget.extra`), as a digest's later parts do;
* a call outside the outbox (the bot's answer to a command, the edit of a keyboard after a
  button press) is a reply (:meth:`SendBudget.reply`): it takes the next free slot of the
  shared budget whatever is queued (the outbox reserves only ``AHEAD`` ahead, so a reply waits
  at most that long plus the replies before it, never behind the backlog), is never dropped,
  and waits for the chat's pacing slot when the outbox booked it (an alert just sent to it),
  booking the next one so the next alert keeps its gap after the reply. Replies do not wait
  for one another: the command budgets (``feedsvc.bot.gate.CommandGate``) bound them.

Each channel's HTTP edge asks :meth:`SendBudget.charge` before every message call
(Telegram: :class:`feedsvc.notify.charged.ChargedRequest`; Zalo:
:meth:`feedsvc.channels.zalo.api.ZaloBotAPI.call`), which decides which of the three it is:
the rule lives here, not at each call site, so a new call that sends is charged without anyone
remembering to. A call names its chat by the numeric id (Telegram's) or by the channel's
address (a Zalo chat id is a string): :data:`Chat`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from feedsvc.channels.base import RATE_MARGIN, ChannelLimits
from feedsvc.db.errors import describe
from feedsvc.notify.outcome import REPLY_PAUSE_WAIT
from feedsvc.store import claims, rate
from feedsvc.store.subscriptions import find_recipient
from feedsvc.waiting import ReleaseGate, release_gate

if TYPE_CHECKING:
    from feedsvc.db import Database

log = logging.getLogger(__name__)

# Bucket capacity in messages: no burst. Slots are reserved ahead (AHEAD) and spaced exactly
# 1 / global_rate, so the claim transaction's overhead no longer eats into the rate, and any
# 0.95 s window holds at most 24 sends at 25/s, leaving room for network jitter (a burst of
# 1.5 produced 429s at the fake in bench/alerts.py).
BURST = 1.0
AHEAD = 0.25  # seconds of future send slots one claim may reserve (amortises the transaction)
PACE_LOOKS = 3  # a reply looks at its chat's pacing slot at most this often after waiting
REMEMBERED = 4096  # chats whose last reply's pacing slot is remembered (bounded memory)

#: the chat a message call names: its ``chats.chat_id`` (Telegram's own id), its address in the
#: budget's channel (a Zalo chat id, a string), or None (a ``@channel`` username: no pacing)
Chat = int | str | None


@dataclass
class Ticket:
    """Slots already paid for the calls of the send running in this context."""

    paid: int


_TICKET: ContextVar[Ticket | None] = ContextVar("feedsvc_send_ticket", default=None)


@contextlib.contextmanager
def prepaid(slots: int = 1) -> Iterator[Ticket]:
    """Run a claimed send (or follow-up) whose ``slots`` the claim already reserved and the
    release gate already passed: its first ``slots`` message calls are not charged again."""
    ticket = Ticket(slots)
    token = _TICKET.set(ticket)
    try:
        yield ticket
    finally:
        _TICKET.reset(token)


class SendBudget:
    """One channel's budget as this process draws on it. Unbound (no database: a sender used
    on its own) it only spaces calls through the gate; :meth:`bind` attaches the state DB and
    the rate (the dispatcher's, which may override the channel's for tests and benches)."""

    def __init__(self, limits: ChannelLimits, gate: ReleaseGate | None = None) -> None:
        self.limits = limits
        self.gate = gate or ReleaseGate()
        self.rate = limits.global_rate  # sends per second across replicas
        self.db: Database | None = None
        self.replies = 0  # reply calls charged
        self.paced = 0  # of which waited for their chat's pacing slot
        #: the pacing slot each chat's last reply booked: the next reply does not wait for it
        self._booked: OrderedDict[int, datetime] = OrderedDict()

    def bind(self, db: Database, rate_per_second: float | None = None) -> SendBudget:
        self.db = db
        if rate_per_second:
            self.rate = rate_per_second
        return self

    @property
    def planned(self) -> float:
        """The rate slots are planned at (sends per second, with :data:`RATE_MARGIN`)."""
        return self.rate * RATE_MARGIN

    @property
    def gap(self) -> float:
        """Seconds between two calls released by this process."""
        return 1 / self.planned

    # -- slots reserved in a claim transaction ---------------------------------------------
    def reserve(self, conn: Connection, want: int, now: datetime) -> list[float]:
        """Up to ``want`` slots within ``AHEAD`` seconds: each one's delay from ``now``."""
        return rate.reserve(conn, self.limits.bucket, self.planned, BURST, want, now, AHEAD)

    def give_back(self, conn: Connection, count: int) -> None:
        """Slots reserved but not used (fewer rows were claimable than slots granted)."""
        rate.give_back(conn, self.limits.bucket, count)

    async def release(self, at: float) -> None:
        """Wait for a reserved slot (``at``: ``time.monotonic()``) through the release gate."""
        await self.gate.wait(at, self.gap)

    # -- calls beyond a claim --------------------------------------------------------------
    async def extra(self, earliest: float = 0.0) -> None:
        """A slot for a call beyond the ones a claim paid (a digest's later part, the text
        after a refused photo), no sooner than ``earliest`` (``time.monotonic()``: the chat's
        pacing). Reserved as that time comes (no further ahead than a claim reserves), so it
        waits its turn with the queue, and credited to the running send's ticket."""
        if self.db is None:
            await self.release(earliest)
        else:
            while True:
                wait = earliest - AHEAD - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                at = await asyncio.to_thread(self._reserve_one, AHEAD)
                if at is not None:
                    await self.release(max(at, earliest))
                    break
                # spent that far ahead: a slot frees every 1 / rate; never a loop of writes
                await asyncio.sleep(1 / self.rate)
                earliest = time.monotonic()
        ticket = _TICKET.get()
        if ticket is not None:
            ticket.paid += 1

    async def reply(self, chat: Chat) -> None:
        """A call outside the outbox: the chat's pacing slot (booked for the next send too),
        then the next free slot of the shared budget, however far the queue has reserved.
        Never refused: a state DB that cannot be reached leaves the gate's spacing only."""
        self.replies += 1
        if self.db is None:
            return await self.release(0.0)
        try:
            wait, at = await asyncio.to_thread(self._book_reply, chat)
            if at is not None:
                return await self.release(at)
            self.paced += 1
            # the chat's slot first, outside the gate (others go meanwhile); looked at again
            # after the wait: an alert in flight when it was read books its slot anew once
            # answered, later than the claim's booking the reply waited for
            for _ in range(PACE_LOOKS):
                await asyncio.sleep(wait)
                wait, at = await asyncio.to_thread(self._book_reply, chat)
                if at is not None:
                    break
            else:
                await asyncio.sleep(wait)
                at = await asyncio.to_thread(self._reserve_one, math.inf)
        except Exception as exc:
            log.warning("send budget not reached for a reply (%s); paced here only", describe(exc))
            at = None
        await self.release(at or 0.0)

    async def refused(self, chat: Chat, seconds: float) -> bool:
        """A reply was answered 429 with ``seconds`` to wait: the chat's pause is recorded
        (``blocked_until``, kept if longer: its alerts wait too, and the next reply waits for it
        in :meth:`reply`), and True when the reply should wait it out and go again (``seconds``
        ≤ :data:`REPLY_PAUSE_WAIT`). Before, the answer was dropped, an apology sent into the
        same pause, and the chat's alerts went on as if nothing had been said (a tester's
        report). A state DB that cannot be reached records nothing; the answer still waits."""
        if self.db is not None and math.isfinite(seconds):
            try:
                await asyncio.to_thread(self._pause, chat, seconds)
            except Exception as exc:
                log.warning("send budget: a reply's 429 pause not recorded (%s)", describe(exc))
        return seconds <= REPLY_PAUSE_WAIT

    def _pause(self, chat: Chat, seconds: float) -> None:
        assert self.db is not None
        with self.db.write() as conn:
            chat_id = self._chat_id(conn, chat)
            if chat_id is not None:
                claims.extend_pause(conn, chat_id, self.db.now() + timedelta(seconds=seconds))

    async def charge(self, chat: Chat) -> None:
        """Just before one message call: free when the running send has a paid slot left, an
        :meth:`extra` slot inside a send whose slots are spent, else a :meth:`reply`. The
        gate then keeps the next call at least half a gap after now
        (:meth:`ReleaseGate.leaving`)."""
        ticket = _TICKET.get()
        if ticket is None:
            await self.reply(chat)
        else:
            if ticket.paid <= 0:
                await self.extra(time.monotonic())
            ticket.paid -= 1
        self.gate.leaving()

    # -- DB side (threads) -----------------------------------------------------------------
    def _reserve_one(self, ahead: float) -> float | None:
        """One slot within ``ahead`` seconds: its ``time.monotonic()``, or None."""
        assert self.db is not None
        with self.db.write() as conn:
            now, start = self.db.now(), time.monotonic()
            if math.isinf(ahead):
                return start + self.reserve_beyond(conn, now)
            slots = rate.reserve(conn, self.limits.bucket, self.planned, BURST, 1, now, ahead)
        return start + slots[0] if slots else None

    def _book_reply(self, chat: Chat) -> tuple[float, float | None]:
        """The chat's pacing for a reply and, when it need not wait, its slot of the budget
        (far ahead as the budget is spent), in one transaction: (wait, slot's monotonic time
        or None: wait, then reserve)."""
        assert self.db is not None
        found = None
        with self.db.write() as conn:
            now, start = self.db.now(), time.monotonic()
            chat_id = self._chat_id(conn, chat)
            ours = None if chat_id is None else self._booked.pop(chat_id, None)
            if chat_id is not None:
                found = claims.book_reply(conn, self.limits.name, chat_id, self.limits.interval,
                                          now, ours, REPLY_PAUSE_WAIT)  # fmt: skip
            if found is not None and found[0] > 0:
                self._remember(chat_id, found[1])
                return found[0], None
            delay = self.reserve_beyond(conn, now)
            if found is not None and chat_id is not None:  # the chat's next slot: after this
                booked = found[1] + timedelta(seconds=delay)
                claims.book_next_send(conn, chat_id, booked - now, now)
                self._remember(chat_id, booked)
        return 0.0, start + delay

    def _chat_id(self, conn: Connection, chat: Chat) -> int | None:
        """``chat`` as its ``chats.chat_id``: an address is looked up in this channel's
        recipients (None when it is none yet: a first command, nothing to pace against)."""
        if not isinstance(chat, str):
            return chat
        found = find_recipient(conn, self.limits.name, chat)
        return None if found is None else found.chat_id

    def _remember(self, chat_id: int | None, booked: datetime) -> None:
        if chat_id is not None:
            self._booked[chat_id] = booked
            while len(self._booked) > REMEMBERED:
                self._booked.popitem(last=False)

    def reserve_beyond(self, conn: Connection, now: datetime) -> float:
        """One slot however far ahead the budget is spent: its delay from ``now``."""
        bucket, planned = self.limits.bucket, self.planned
        return rate.reserve(conn, bucket, planned, BURST, 1, now, math.inf)[0]


_BUDGETS: weakref.WeakKeyDictionary[object, SendBudget] = weakref.WeakKeyDictionary()


def send_budget(channel: object, limits: ChannelLimits | None = None) -> SendBudget:
    """The budget of ``channel`` (the object that makes the calls) in this process, with its
    release gate: its dispatcher, its follow-up worker and the bot answering on it share one.
    ``limits`` defaults to ``channel.limits``."""
    found = _BUDGETS.get(channel)
    if found is None:
        own = limits or channel.limits  # type: ignore[attr-defined]
        found = _BUDGETS[channel] = SendBudget(own, release_gate(channel))
    return found


def bot_budget(db: Database, global_rate: float, limits: ChannelLimits | None = None) -> SendBudget:
    """A budget for a bot running without this process's channel (its own gate), on the
    channel's shared bucket at ``global_rate``; ``limits`` default to Telegram's."""
    if limits is None:
        from feedsvc.channels.telegram import LIMITS

        limits = LIMITS

    return SendBudget(replace(limits, global_rate=global_rate)).bind(db)
