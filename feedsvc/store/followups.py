"""Follow-ups owed on sent alerts — retract (delete / edit to a notice) or correct (edit) —
as the worker does them: claimed under a lease, finished exactly once.

Durable work beside the outbox (SPEC §10), owed by :mod:`feedsvc.store.followup_queue` (queued
in the same transaction as the change that causes it, a correction, or found by the worker's
sweep: a withdrawal, a hide, a reschedule).
States: ``pending`` → ``working`` (leased) → ``done`` with an ``outcome``. A crash leaves rows
``working``; they return to ``pending`` when the lease runs out and are done again, which is
harmless: Telegram answers a repeated delete with "not found" and a repeated edit with "not
modified", both success. A follow-up waits while its delivery is still queued or being sent (the
message may yet go out) and ends ``cancelled`` when no message was sent after all.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from feedsvc.db.schema import alert_followups as f
from feedsvc.db.schema import chats, deliveries
from feedsvc.recipient_names import chat_name, telegram_chat
from feedsvc.store import claims
from feedsvc.store.claims import Interval, telegram_interval

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
    # part 1's message id when it went in a part of a digest sent in several
    # (``deliveries.digest_head``, migration 0040), part 1 itself included
    digest_head: int | None = None
    # what the message is, ``photo`` or ``text`` (``deliveries.message_kind``, migration
    # 0042: the send's answer, kept by the follow-ups that change it); None: not known
    message_kind: str | None = None
    # the chat's channel and own address (``chats``): how its log lines name it, never by the
    # internal number (an Apprise URL here is a secret: :attr:`message_recipient` masks it)
    channel: str = "telegram"
    address: str | None = None
    # articles of the OTHER deliveries recorded with the same message (a digest: one message,
    # several alerts); deleting or editing that message touches them all
    siblings: tuple[int, ...] = ()

    @property
    def message_chat(self) -> int:
        """The chat ``message_id`` belongs to: Telegram's message ids are per chat."""
        return self.chat_id if self.sent_chat_id is None else self.sent_chat_id

    @property
    def message_recipient(self) -> str:
        """:attr:`message_chat` as operators know it (``telegram chat -5``, ``zalo chat zb``):
        the old group's Telegram id for a message left there by a migration."""
        if self.migrated_away:
            return telegram_chat(self.message_chat)
        return chat_name(self.channel, self.address, self.chat_id)

    @property
    def digest_message(self) -> bool:
        """**The one rule that the message is laid out as a digest** when it changes
        (``retraction.calls.digest_now``): it carries other alerts, or it is a part of a
        digest sent in several, whatever it holds — a part of one alert is still
        ``(tiếp) (3/3)`` under its group; a correction gave it the single alert's text."""
        return bool(self.siblings) or self.digest_head is not None

    @property
    def migrated_away(self) -> bool:
        """The message is in a group since upgraded to a supergroup (the row followed the
        chat to ``chat_id``): deactivated, its messages beyond the bot's reach."""
        return self.message_chat != self.chat_id


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


def settle_message(conn: Connection, chat_id: int, message_id: int, now: datetime) -> int:
    """End the pending follow-ups owed on a message a follow-up found no longer in the chat
    (deleted, gone: a digest part whose articles were all retracted) as ``gone``, at once:
    each was one more call answered "not found", and one more of the chat's pacing slots (a
    part of eight articles withdrawn together held the chat's edits eight slots). Those under
    way keep their lease and end as their call says."""
    ids = select(deliveries.c.id).where(
        deliveries.c.sent_chat_id == chat_id, deliveries.c.message_id == message_id
    )
    result = conn.execute(
        update(f)
        .where(f.c.delivery_id.in_(ids.scalar_subquery()), f.c.state == "pending")
        .values(
            state="done", outcome="gone", error="message no longer in the chat", finished_at=now
        )
    )
    return result.rowcount


def recover_expired(
    conn: Connection, now: datetime, channel: str | None = None, keep: Collection[int] = ()
) -> int:
    """Leases that ran out by ``now`` (a crashed or killed worker), of ``channel``'s follow-ups
    or all, but ``keep`` (the caller's own in flight): back to the queue, done again."""
    mine = [] if channel is None else [_of_channel(channel)]
    return claims.recover(conn, f, now, *mine, leased="working", keep=keep, state="pending")


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
            deliveries.c.digest, deliveries.c.digest_head, deliveries.c.message_kind,
            chats.c.channel, chats.c.address,
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


def message_became(conn: Connection, delivery_id: int, kind: str) -> None:
    """Record what a follow-up's edit left the message as (``photo``, ``text``:
    ``deliveries.message_kind``): a notice's blank picture makes a text alert of unknown kind
    a photo, so the restore of that notice edits a photo, and an edit Telegram refused for
    the kind (``there is no text in the message to edit``) is not tried again."""
    conn.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(message_kind=kind))


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
