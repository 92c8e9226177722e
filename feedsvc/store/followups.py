"""Follow-ups owed on sent alerts: retract (delete / edit to a notice) or correct (edit).

Durable work beside the outbox (SPEC §10): queued in the same transaction as the change that
causes it (a correction), or found by the worker's sweep (a withdrawal, a hide, a reschedule),
claimed under a lease, finished exactly once.
States: ``pending`` → ``working`` (leased) → ``done`` with an ``outcome``. A crash leaves rows
``working``; they return to ``pending`` when the lease runs out and are done again, which is
harmless: Telegram answers a repeated delete with "not found" and a repeated edit with "not
modified", both success. A follow-up waits while its delivery is still queued or being sent (the
message may yet go out) and ends ``cancelled`` when no message was sent after all.

One follow-up of each kind per delivery: a later correction re-arms the row (the newest text is
what gets sent), a second withdrawal re-arms a retraction that was cancelled or restored by a
re-publish (:data:`~feedsvc.retraction.plan.UNDONE`; restores: :mod:`feedsvc.store.restores`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select, update

from feedsvc.db.schema import alert_followups as f
from feedsvc.db.schema import articles, chats, deliveries
from feedsvc.lifecycle.visibility import retired_clause, scheduled_clause
from feedsvc.retraction.plan import RESTORE_METHOD, UNDONE
from feedsvc.store import claims
from feedsvc.store.claims import Interval, telegram_interval
from feedsvc.store.upsert import insert_missing

RETRACT, CORRECT = "retract", "correct"
KINDS = (RETRACT, CORRECT)
# A follow-up waits while its delivery may still be sent.
_UNSETTLED = ("pending", "held", "sending")  # held: waiting for a digest (issue 15)
# unreachable: the message is in a group since upgraded to a supergroup (`Followup.migrated_away`);
# restored: a retraction's notice taken back, its article public again (`store.restores`)
OUTCOMES = (
    "deleted", "edited", "unchanged", "gone", "kept", "cancelled", "failed", "unreachable",
    "restored",
)  # fmt: skip
# A sent alert's article moved less than this far into the future is not retracted: a CMS clock
# a little ahead (an edit that re-dates the article to "now") must not take an alert away for
# good; within this its new time comes before the retraction would have been worth it.
RESCHEDULE_GRACE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Followup:
    """A claimed follow-up with what doing it needs from its delivery and chat."""

    id: int
    kind: str
    method: str | None
    attempts: int
    delivery_id: int
    delivery_state: str
    chat_id: int
    chat_type: str
    message_id: int | None
    sent_at: datetime | None  # when the alert was recorded sent (UTC)
    article_id: int
    topics: list[str]
    plain_text: bool  # the alert went out without parse mode
    link_preview: bool
    # the chat the message went to (``deliveries.sent_chat_id``); not ``chat_id`` once the
    # group became a supergroup (the row moved, its message stayed in the old group)
    sent_chat_id: int | None = None
    digest: bool = False  # the alert went out in a digest: a text message, never a photo
    # articles of the OTHER deliveries recorded with the same message (a digest: one message,
    # several alerts); deleting or editing that message touches them all
    siblings: tuple[int, ...] = ()

    @property
    def message_chat(self) -> int:
        """The chat ``message_id`` belongs to: Telegram's message ids are per chat."""
        return self.chat_id if self.sent_chat_id is None else self.sent_chat_id

    @property
    def migrated_away(self) -> bool:
        """The message is in a group since upgraded to a supergroup (the row followed the
        chat to ``chat_id``): deactivated, its messages beyond the bot's reach."""
        return self.message_chat != self.chat_id


def queue_new(conn: Connection, kind: str, delivery_ids: Sequence[int], now: datetime) -> int:
    """Insert missing follow-ups of ``kind`` for these deliveries; returns how many are new."""
    if not delivery_ids:
        return 0
    rows = [
        {"delivery_id": d, "kind": kind, "state": "pending", "due_at": now, "attempts": 0,
         "created_at": now}
        for d in delivery_ids
    ]  # fmt: skip
    stmt = insert_missing(conn, f).returning(f.c.id)
    return len(list(conn.execute(stmt, rows).scalars()))


#: The methods of a restore not finished (:data:`RESTORE_METHOD`, then its picture's edit).
_RESTORING = (RESTORE_METHOD, "photo", "photo_plain")


def rearm(
    conn: Connection, kind: str, delivery_ids: Sequence[int], now: datetime, *cond: Any
) -> int:
    """Owe ``kind`` again, from its first step, on these deliveries' follow-ups that meet
    ``cond``; how many. A restore not finished (its notice's picture not yet back) stays a
    restore: re-armed as a plain correction by an edit saved meanwhile, it edited the caption
    only and the chat kept the blank picture for good (a reviewer's)."""
    restoring = and_(f.c.method.in_(_RESTORING), f.c.state != "done")
    result = conn.execute(
        update(f)
        .where(f.c.kind == kind, f.c.delivery_id.in_(list(delivery_ids)), *cond)
        .values(
            state="pending", method=case((restoring, RESTORE_METHOD), else_=None), due_at=now,
            attempts=0, lease_until=None, lease_owner=None, outcome=None, error=None,
            created_at=now, finished_at=None,
        )
    )  # fmt: skip
    return result.rowcount


def _has_retraction(*, open_counts: bool = True) -> Any:
    """The delivery owes or had a retraction (one cancelled or restored, ``UNDONE``, does not
    count; nor, with ``open_counts`` false, one not done yet): a correlated EXISTS on the
    unique (delivery_id, kind) index, whatever the size of the history."""
    r = f.alias("r")
    standing = or_(r.c.outcome.is_(None), r.c.outcome.not_in(UNDONE))
    if not open_counts:
        standing = and_(r.c.state == "done", r.c.outcome.not_in(UNDONE))
    return select(r.c.id).where(r.c.delivery_id == deliveries.c.id, r.c.kind == RETRACT,
                                standing).exists()  # fmt: skip


def _retract(conn: Connection, delivery_ids: Sequence[int], now: datetime) -> int:
    if not delivery_ids:
        return 0
    ids = list(delivery_ids)
    conn.execute(
        update(f)
        .where(f.c.kind == CORRECT, f.c.delivery_id.in_(ids), f.c.state == "pending")
        .values(state="done", outcome="cancelled", error="withdrawn", finished_at=now)
    )
    rearmed = rearm(conn, RETRACT, ids, now, f.c.state == "done", f.c.outcome.in_(UNDONE))
    return queue_new(conn, RETRACT, ids, now) + rearmed


def queue_retractions(conn: Connection, article_ids: Sequence[int], now: datetime) -> int:
    """Owe a retraction on every alert of these articles that was sent or is being sent (the
    caller decided they are no longer public). Re-arms retractions a re-publish cancelled;
    cancels pending corrections of the same alerts. Returns how many were queued or re-armed."""
    if not article_ids:
        return 0
    ids = conn.execute(
        select(deliveries.c.id).where(
            deliveries.c.article_id.in_(list(article_ids)),
            deliveries.c.state.in_(("sent", "sending")),
        )
    ).scalars()
    return _retract(conn, list(ids), now)


def retired_since(conn: Connection, since: datetime, now: datetime) -> list[int]:
    """Deliveries (sent, or being sent) owing a retraction not queued yet (or only a cancelled
    one): of articles withdrawn or hidden at or after ``since``, and of articles scheduled at
    ``now`` (moved into the future by a correction more than :data:`RESCHEDULE_GRACE` ahead;
    SPEC §10: no alert shows it until its time). A scheduled article has no other stamp: its
    sent alert is the proof it was public, so one that was never public has none here.
    Read-only and cheap: indexed on ``articles.withdrawn_at``/``hidden_at``/``published_at``
    (the future is short) and ``deliveries.article_id``."""
    recent = and_(or_(articles.c.withdrawn_at >= since, articles.c.hidden_at >= since),
                  retired_clause())  # fmt: skip
    rescheduled = scheduled_clause(now + RESCHEDULE_GRACE)
    open_or_done = _has_retraction()
    found: set[int] = set()
    for which in (recent, rescheduled):  # two index ranges, not one OR the planner scans
        found.update(
            conn.execute(
                select(deliveries.c.id)
                .join(articles, articles.c.id == deliveries.c.article_id)
                .where(which, deliveries.c.state.in_(("sent", "sending")), ~open_or_done)
            ).scalars()
        )
    return sorted(found)


def retract_deliveries(conn: Connection, delivery_ids: Sequence[int], now: datetime) -> int:
    """Owe a retraction on these deliveries (see :func:`queue_retractions`); idempotent."""
    return _retract(conn, delivery_ids, now)


def sweep_retired(conn: Connection, since: datetime, now: datetime) -> int:
    """Queue retractions for alerts of articles withdrawn or hidden at or after ``since``, or
    rescheduled (:func:`retired_since`), whichever path did it (ingest, import,
    reconciliation, an editor on any replica or the CLI). State-based and idempotent, so
    nothing is lost to a crash between the withdrawal and here. A retraction already owed or
    done is left as it is."""
    return _retract(conn, retired_since(conn, since, now), now)


def queue_corrections(
    conn: Connection, article_ids: Sequence[int], now: datetime, window: timedelta
) -> int:
    """Owe an edit on every alert of these (corrected) articles sent within ``window`` (48 h),
    or being sent right now: its text was read when it was claimed, before the correction, so
    once sent it shows the old words (the edit waits for the send's outcome, and is cancelled
    if nothing went out).

    An existing correction is re-armed whatever its state: if one is being done right now, its
    lease is cleared, so its (older) outcome is not recorded and the newest text goes out next.
    A delivery whose retraction is done is left alone (deleted, or its notice: ``restores``);
    one still open is cancelled by the worker for a public article, so the edit is owed (a
    republish's new title was lost). Returns how many were queued or re-armed."""
    if not article_ids:
        return 0
    retracted = _has_retraction(open_counts=False)
    sent_lately = and_(
        deliveries.c.state == "sent",
        deliveries.c.message_id.is_not(None),
        deliveries.c.finished_at >= now - window,
    )
    ids = list(
        conn.execute(
            select(deliveries.c.id).where(
                deliveries.c.article_id.in_(list(article_ids)),
                or_(sent_lately, deliveries.c.state == "sending"),
                ~retracted,
            )
        ).scalars()
    )
    if not ids:
        return 0
    return rearm(conn, CORRECT, ids, now) + queue_new(conn, CORRECT, ids, now)


def _of_channel(channel: str) -> Any:
    """Follow-ups of alerts to recipients of ``channel``: a correlated EXISTS, so the few open
    follow-ups are looked up by key (never a scan of every delivery of the channel)."""
    return (
        select(deliveries.c.id)
        .join(chats, chats.c.chat_id == deliveries.c.chat_id)
        .where(deliveries.c.id == f.c.delivery_id, chats.c.channel == channel)
        .exists()
    )


def settle_pending(
    conn: Connection, kind: str, outcome: str, now: datetime, channel: str = "telegram"
) -> int:
    """End every pending follow-up of ``kind`` for ``channel`` at once with ``outcome`` (e.g.
    ``kept`` under ``telegram.on_withdraw = "keep"``, or a channel that cannot edit): no call,
    no send slot."""
    result = conn.execute(
        update(f)
        .where(f.c.kind == kind, f.c.state == "pending", _of_channel(channel))
        .values(state="done", outcome=outcome, finished_at=now)
    )
    return result.rowcount


def recover_expired(conn: Connection, now: datetime, channel: str | None = None) -> int:
    """Leases that ran out by ``now`` (a crashed or killed worker), of ``channel``'s follow-ups
    or all: back to the queue, done again."""
    mine = [] if channel is None else [_of_channel(channel)]
    return claims.recover(conn, f, now, *mine, leased="working", state="pending")


def _ready(now: datetime) -> Any:
    """Follow-ups whose delivery is settled (sent or ended), due now."""
    return and_(
        f.c.state == "pending",
        f.c.due_at <= now,
        deliveries.c.state.not_in(_UNSETTLED),
    )


def _heads() -> Any:
    """The oldest open follow-up of each chat: one at a time per chat, in order (a correction
    queued before a retraction is done before it, never over the notice)."""
    return (
        select(func.min(f.c.id))
        .join(deliveries, deliveries.c.id == f.c.delivery_id)
        .where(f.c.state.in_(("pending", "working")), deliveries.c.state.not_in(_UNSETTLED))
        .group_by(deliveries.c.chat_id)
        .scalar_subquery()
    )


def claim(
    conn: Connection,
    owner: str,
    now: datetime,
    limit: int,
    lease: timedelta,
    *,
    channel: str = "telegram",
    interval: Interval = telegram_interval,
) -> list[Followup]:
    """Lease up to ``limit`` follow-ups of ``channel``'s recipients (one per chat, chats whose
    pacing slot has come and that are not paused by a 429) and book each chat's next slot
    ``interval(chat type)`` ahead, exactly as a send would."""
    if limit <= 0:
        return []
    ids_stmt = (
        select(f.c.id)
        .join(deliveries, deliveries.c.id == f.c.delivery_id)
        .join(chats, chats.c.chat_id == deliveries.c.chat_id)
        .where(
            _ready(now),
            chats.c.channel == channel,
            f.c.id.in_(_heads()),
            claims.chat_ready(now),
        )
        .order_by(chats.c.next_send_at.asc().nulls_first(), f.c.id)
        .limit(limit)
    )
    ids = claims.lease(conn, ids_stmt, f, owner, now + lease, idle="pending", leased="working")
    if not ids:
        return []
    rows = conn.execute(
        select(
            f.c.id, f.c.kind, f.c.method, f.c.attempts, deliveries.c.id, deliveries.c.state,
            deliveries.c.chat_id, chats.c.type, deliveries.c.message_id,
            deliveries.c.finished_at, deliveries.c.article_id, deliveries.c.topics,
            deliveries.c.plain_text, chats.c.link_preview, deliveries.c.sent_chat_id,
            deliveries.c.digest,
        )
        .join(deliveries, deliveries.c.id == f.c.delivery_id)
        .join(chats, chats.c.chat_id == deliveries.c.chat_id)
        .where(f.c.id.in_(ids), f.c.lease_owner == owner, f.c.state == "working")
        .order_by(f.c.id)
    ).tuples()  # fmt: skip
    claimed = []
    for row in rows:
        values = list(row)
        values[11] = list(values[11] or [])
        claimed.append(Followup(*values))
    claimed = [replace(c, siblings=_siblings(conn, c)) for c in claimed]
    claims.book_slots(conn, claimed, interval, now)
    return claimed


def _siblings(conn: Connection, c: Followup) -> tuple[int, ...]:
    """Articles of the other deliveries recorded with the same message: the same id in the
    same chat it was SENT to (``sent_chat_id``), never the row's current chat, where a group's
    alerts moved by a migration carry ids of the old group's messages."""
    if c.message_id is None or c.delivery_state != "sent":
        return ()
    stmt = select(deliveries.c.article_id).where(
        deliveries.c.sent_chat_id == c.message_chat,
        deliveries.c.message_id == c.message_id,
        deliveries.c.state == "sent",
        deliveries.c.id != c.delivery_id,
    )
    return tuple(sorted(conn.execute(stmt).scalars()))


def next_work(conn: Connection, channel: str = "telegram") -> datetime | None:
    """When ``channel`` next has follow-up work: the earliest pending one's due time, or a
    lease that runs out (pacing not counted). A read, so an idle worker never writes."""
    mine = _of_channel(channel)
    due = select(func.min(f.c.due_at)).where(f.c.state == "pending", mine).scalar_subquery()
    lease = select(func.min(f.c.lease_until)).where(f.c.state == "working", mine).scalar_subquery()
    first, expires = conn.execute(select(due, lease)).one()
    times = [t for t in (first, expires) if t is not None]
    return min(times, default=None)


def finish(
    conn: Connection, id_: int, owner: str, outcome: str, error: str | None, now: datetime
) -> bool:
    """Record the final ``outcome`` if we still hold the lease (a re-armed correction does
    not: its newer text is still owed)."""
    assert outcome in OUTCOMES
    return claims.release(
        conn, f, id_, owner, leased="working",
        state="done", outcome=outcome, error=error[:1000] if error else None, finished_at=now,
        attempts=f.c.attempts + 1,
    )  # fmt: skip


def again(
    conn: Connection, id_: int, owner: str, due: datetime, method: str | None, error: str | None
) -> bool:
    """Back to the queue, due at ``due``, with the next call to make."""
    return claims.release(
        conn, f, id_, owner, leased="working",
        state="pending", due_at=due, method=method, error=error[:1000] if error else None,
        attempts=f.c.attempts + 1,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class FollowupRow:
    """What the admin delivery log shows of a follow-up."""

    delivery_id: int
    kind: str
    state: str
    outcome: str | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None


def counts(conn: Connection) -> dict[tuple[str, str], int]:
    """``(kind, outcome or state) → count``, for status and tests."""
    label = func.coalesce(f.c.outcome, f.c.state)
    stmt = select(f.c.kind, label, func.count()).group_by(f.c.kind, label)
    return {(k, s): int(n) for k, s, n in conn.execute(stmt).tuples()}
