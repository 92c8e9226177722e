"""What one alert's send outcome does to its delivery and its chat, and the batching of those
records into one short write transaction (the dispatcher's, :mod:`feedsvc.dispatch`).

Send-then-commit: ``sent`` only once the channel accepted the message. A 429 pauses only its
chat and re-queues the alert; a chat-level refusal ends it and counts toward disabling the
chat; a migration is followed (never one naming the chat itself, which would drop it: that is
retried like a failure); a parse error is retried once as plain text; a refused bot token
waits for the operator, no attempt spent; a second unknown outcome ends as
``unknown_outcome`` (never re-sent blindly); other failures back off until
``max_attempts``. What a record did is logged once it has committed (:mod:`feedsvc.db.committed`:
a batch written again row by row said it twice, a failed commit once too often), and an alert
sent again after an unknown outcome says so, naming the delivery and the chat.
The same rules, applied to a set of rows, record a digest part (:mod:`feedsvc.digest.record`,
whose :class:`~feedsvc.digest.record.Policy` both take).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from logging import INFO, WARNING

from sqlalchemy import Connection

from feedsvc.catalogue.reasons import stored_reason
from feedsvc.db.committed import say
from feedsvc.db.errors import describe
from feedsvc.db.kept import Kind, LastTries, until_committed
from feedsvc.db.outage import report
from feedsvc.digest.record import Policy
from feedsvc.notify import OutcomeKind, SendOutcome
from feedsvc.notify.outcome import (
    TOKEN_RETRY_SECONDS,
    TOPIC_CLOSED_RETRY_SECONDS,
    topic_closed_line,
)
from feedsvc.recipient_names import chat_name, telegram_chat
from feedsvc.store import chat_migration, claims, dead_letters
from feedsvc.store import deliveries as q
from feedsvc.store import digests as held

log = logging.getLogger("feedsvc.dispatch")  # the dispatcher's records, under its name
#: an alert the channel took whose record a stop left to its last try
#: (:class:`~feedsvc.db.kept.LastTries`)
SENT_ALERT = Kind("sent alert", "sent alerts")
#: what the next start does with the sends a stop could not record, alerts and digest parts
SENT_AGAIN = "sent again after the restart, and those chats may get them twice"


def record_alert(
    conn: Connection, now: datetime, owner: str, d: q.Claimed, o: SendOutcome,
    thread: int | None, policy: Policy,
) -> None:  # fmt: skip
    """Record ``o`` for the leased delivery ``d`` (sent to forum ``thread``, if any); sent,
    it keeps ``d.topics``, the labels it went out with (the dispatcher's, decided at send time:
    :mod:`feedsvc.wanted`).

    The one place a live sender counts an unknown outcome (``ambiguous``): an
    :attr:`~feedsvc.notify.OutcomeKind.AMBIGUOUS` answer, a request that may have reached the
    platform. A row never handed to the channel (:meth:`~feedsvc.notify.SendOutcome.untried`)
    goes back as it was; its lease is never left to lapse, which the lease's recovery
    (:func:`feedsvc.store.deliveries.recover_expired`: a crashed or stopped sender's rows,
    whose sends may have started) would count as one."""
    kind, text = o.kind, o.description
    if kind is OutcomeKind.TRANSIENT and not o.attempted:  # SendOutcome.untried
        q.give_back(conn, d.id, owner)  # as before its claim: nothing reached the channel
    elif kind is OutcomeKind.THREAD_GONE and thread is not None:
        # the forum thread was deleted: this alert, once more, to the chat itself, saying so
        held.forget_thread(conn, d.chat_id, thread)
        q.retry_later(conn, d.id, owner, now, text, kind="thread_gone")
        held.set_notice(conn, d.id, "thread_gone")
        say(conn, log, INFO, "%s: forum thread %s is gone; alerts go to the chat", _named(d),
            thread)  # fmt: skip
    elif kind is OutcomeKind.SENT:
        q.mark_sent(conn, d.id, owner, o.message_id or 0, now, o.note, d.topics, chat_id=d.chat_id,
                    kind=o.message_kind)  # fmt: skip
        dead_letters.chat_succeeded(conn, d.chat_id)
        if d.ambiguous:  # the one way an alert reaches a chat twice: said where it happens
            say(conn, log, INFO, "delivery %s to %s: sent again after %d earlier send(s) "
                "whose outcome is unknown (no answer, or a lease that ran out mid-send): the chat "
                "may have it twice", d.id, _named(d), d.ambiguous)  # fmt: skip
    elif kind is OutcomeKind.RETRY_AFTER:
        until = now + timedelta(seconds=o.seconds or 1)
        claims.block_chat_until(conn, d.chat_id, until)
        q.retry_later(conn, d.id, owner, until, text, kind="rate_limited")
        say(conn, log, WARNING, "%s: 429, paused %.0f s", _named(d), o.seconds or 1)
    elif kind is OutcomeKind.TOKEN_REFUSED:  # the operator's to fix: no attempt spent
        due = now + timedelta(seconds=TOKEN_RETRY_SECONDS)
        q.retry_later(conn, d.id, owner, due, text, kind="token_refused", attempted=False)
    elif kind is OutcomeKind.TOPIC_CLOSED:  # the chat's admins may reopen it: no attempt spent
        due = now + timedelta(seconds=TOPIC_CLOSED_RETRY_SECONDS)
        q.retry_later(conn, d.id, owner, due, text, kind="topic_closed", attempted=False)
        say(conn, log, WARNING, "%s", topic_closed_line(_named(d), thread))
    elif kind is OutcomeKind.MIGRATED and o.new_chat_id not in (None, d.chat_id):
        q.retry_later(conn, d.id, owner, now, text, kind="migrated")
        chat_migration.follow_migration(conn, d.chat_id, o.new_chat_id, now)
        say(conn, log, INFO, "%s migrated to %s", _named(d), telegram_chat(o.new_chat_id))
    elif kind.chat_level:
        q.mark_terminal(conn, d.id, owner, kind.value, text, now)
        reason = stored_reason(kind.value, text)  # worded when shown, in any language
        if dead_letters.chat_failed(conn, d.chat_id, reason, policy.disable_after, now):
            say(conn, log, WARNING, "%s disabled: %s", _named(d), text)
    elif kind is OutcomeKind.PARSE_ERROR and not d.plain_text:
        q.retry_later(conn, d.id, owner, now, text, kind="plain_text", plain_text=True)
    elif kind in (OutcomeKind.PARSE_ERROR, OutcomeKind.BAD_CONTENT, OutcomeKind.THREAD_GONE):
        q.mark_terminal(conn, d.id, owner, "bad_content", text, now, attempted=o.attempted)
    elif kind is OutcomeKind.AMBIGUOUS and d.ambiguous >= policy.max_unknown_resends:
        # Telegram may hold this message already, maybe twice: a human decides (re-send)
        q.mark_terminal(conn, d.id, owner, "unknown_outcome", text, now, ambiguous=True)
        say(conn, log, WARNING, "delivery %s: outcome unknown again, not re-sent: %s", d.id, text)
    elif d.attempts + 1 >= policy.max_attempts:
        q.mark_terminal(conn, d.id, owner, "failed", text, now)
    else:  # transient, or a first unknown outcome: try again later (may duplicate, counted)
        due = now + policy.backoff(d.attempts)
        unknown = kind is OutcomeKind.AMBIGUOUS
        why = "unknown" if unknown else "transient"
        q.retry_later(conn, d.id, owner, due, text, kind=why, ambiguous=unknown)


def before_the_send(d: q.Claimed, exc: Exception) -> SendOutcome:
    """The outcome of a send whose step before the channel call (the check at send time, the
    wait for its slot) raised ``exc``: nothing reached the channel, so never an unknown
    outcome — left to its lease's end, the row was counted one by the claim that took it back
    (a tester's "sent again … may have it twice" with one message at the Bot API). A state-DB
    outage: given back as it was once the DB answers (:meth:`SendOutcome.untried`). Anything
    else (a bug): a failed attempt, retried with backoff up to ``max_attempts``."""
    if report(exc, "dispatcher"):  # an outage: one line for all (db.outage)
        return SendOutcome.untried(describe(exc))
    log.error("delivery %s: the step before its send failed", d.id, exc_info=exc)
    return SendOutcome.transient(f"before the send: {type(exc).__name__}", unacted=True)


class BatchRecorder:
    """Records outcomes that finish together in one write transaction.

    A burst of sends (many chats at once) then has one short commit between "Telegram accepted"
    and "we know it", instead of a queue of commits: that gap is the only place where a crash
    turns into a duplicate message. When the batch's transaction fails, each outcome is written
    again alone: one row that cannot be recorded must not leave the others unrecorded (their
    leases would run out and the alerts Telegram already took be sent again); only that row's
    ``record`` raises.

    An outcome the state DB cannot take now (an outage, :func:`~feedsvc.db.outage.is_outage`:
    its file moved away, a lock, a server down) is kept and written again every ``every``
    seconds until it commits (:func:`~feedsvc.db.kept.until_committed`, the digest's parts and
    the follow-up worker's records too); only ``stop`` (the sender's) ends the wait, and the
    outcome is kept for :attr:`last_tries` (the dispatcher's, its digest parts' too): one more
    write after the drain, else one warning per channel.
    Dropped, it was the crash's duplicate without a crash: the row stayed leased until the
    lease ran out (``telegram.lease_seconds``), was then sent again as of an unknown outcome,
    and every later alert of its chat, which goes in order behind it, waited for that (CI:
    an alert due at once came ~60 s after the state DB file was put back, its chat's previous
    alert sent twice). The sender keeps holding the row meanwhile (its lease renewed, never
    taken back by its process's claims, any channel's: :attr:`~feedsvc.lease_keeper.
    LeaseKeeper.ours`).
    """

    def __init__(
        self,
        write: Callable[[Sequence[tuple[q.Claimed, SendOutcome]]], None],
        stop: asyncio.Event | None = None,
        every: float = 1.0,
        write_kept: Callable[[Sequence[tuple[q.Claimed, SendOutcome]]], None] | None = None,
    ) -> None:
        self._write = write
        self._stop = stop if stop is not None else asyncio.Event()
        self._every = every
        self._queue: list[tuple[q.Claimed, SendOutcome, asyncio.Future[None]]] = []
        self._flushing = False
        self._flusher: asyncio.Task[None] | None = None
        #: outcomes still unrecorded when the stop ended their wait (an outage), written once
        #: more by ``write_kept`` after the drain (the rows still leased here only), else told
        #: (the digest's parts the dispatcher's :class:`~feedsvc.db.kept.LastTries` shares)
        self.last_tries = LastTries("dispatcher", SENT_AGAIN, log)
        self._write_kept = write_kept or write

    async def record(self, d: q.Claimed, o: SendOutcome) -> None:
        """Record ``o`` for ``d``; through a state-DB outage, again until it commits (see the
        class docstring). Raises what a write that is no outage raised, or the outage's error
        once the sender stops (``o`` then kept for :attr:`last_tries`)."""

        def keep() -> None:
            self.last_tries.keep(SENT_ALERT, o.delivered, lambda: self._write_kept([(d, o)]))

        await until_committed(lambda: self._once(d, o), self._stop, self._every, "dispatcher", keep)

    async def _once(self, d: q.Claimed, o: SendOutcome) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((d, o, done))
        if not self._flushing:
            self._flushing = True
            self._flusher = asyncio.create_task(self._flush())
        await done

    async def _flush(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    await asyncio.to_thread(self._write, [(d, o) for d, o, _ in batch])
                except Exception as exc:
                    if len(batch) == 1:
                        batch[0][2].set_exception(exc)
                    else:
                        await self._one_by_one(batch)
                else:
                    for _, _, done in batch:
                        done.set_result(None)
        finally:
            self._flushing = False

    async def _one_by_one(
        self, batch: Sequence[tuple[q.Claimed, SendOutcome, asyncio.Future[None]]]
    ) -> None:
        for d, o, done in batch:
            try:
                await asyncio.to_thread(self._write, [(d, o)])
            except Exception as exc:
                done.set_exception(exc)
            else:
                done.set_result(None)


def _named(d: q.Claimed) -> str:
    """The recipient as operators know it (:func:`feedsvc.recipient_names.chat_name`:
    ``zalo chat zb``, an Apprise URL masked), never feedsvc's internal chat number alone."""
    return chat_name(d.channel, d.address, d.chat_id)
