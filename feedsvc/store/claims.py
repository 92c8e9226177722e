"""Work claimed under leases and paced per chat: what the outbox (:mod:`feedsvc.store.deliveries`)
and the follow-ups on sent alerts (:mod:`feedsvc.store.followups`) share.

Both queues are tables with ``id``, ``state``, ``lease_owner`` and ``lease_until``. A worker
leases the head rows of the chats that may be sent to now (:func:`chat_ready`, :func:`lease`),
books each chat's next send slot (:func:`book_slots`), and ends a row only while it still holds
the lease (:func:`release`: a slow worker that lost it records nothing). A crash leaves rows
leased; once the lease has run out :func:`recover` puts them back in the queue. Send slots and
429 pauses live on the chat, so alerts and follow-ups to one chat share one pace.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Table, and_, or_, select, update

from feedsvc.db.schema import chats, deliveries

GROUP_INTERVAL = timedelta(seconds=3.05)  # ≤ 20 messages a minute to a group or channel
PRIVATE_INTERVAL = timedelta(seconds=1.05)  # ≤ 1 message a second to a private chat

Interval = Callable[[str], timedelta]  # a chat type → the least gap between two sends to it


def telegram_interval(chat_type: str) -> timedelta:
    """Telegram's per-chat pacing (SPEC §6); other channels declare theirs in feedsvc/channels."""
    return PRIVATE_INTERVAL if chat_type == "private" else GROUP_INTERVAL


class Paced(Protocol):
    """A claimed row: the chat it goes to, whose pacing slot its claim books."""

    @property
    def chat_id(self) -> int: ...

    @property
    def chat_type(self) -> str: ...


def chat_ready(now: datetime) -> Any:
    """A clause: the chat may be sent to at ``now`` (no 429 pause, its pacing slot has come)."""
    return and_(
        or_(chats.c.blocked_until.is_(None), chats.c.blocked_until <= now),
        or_(chats.c.next_send_at.is_(None), chats.c.next_send_at <= now),
    )


def chat_unpaused() -> Any:
    """A clause: the chat is not paused (``/pause``, or an admin). A paused chat is sent
    nothing — not the alerts queued before the pause, not a digest — until it resumes; what it
    had queued then goes out in order. Follow-ups on alerts already sent (a takedown's delete or
    edit) are not sends and do not wait."""
    return chats.c.paused.is_(False)


def lease(
    conn: Connection,
    ids_stmt: Any,
    table: Table,
    owner: str,
    until: datetime,
    *,
    idle: str,
    leased: str,
) -> list[int]:
    """Lease the rows of ``table`` whose ids ``ids_stmt`` selects: state ``idle`` → ``leased``,
    held by ``owner`` until ``until``. On PostgreSQL the selected rows are locked with SKIP
    LOCKED, so two workers never wait on (or take) the same rows. Returns the selected ids; the
    caller reads back the rows it holds (``lease_owner == owner``)."""
    if conn.dialect.name == "postgresql":
        ids_stmt = ids_stmt.with_for_update(of=table, skip_locked=True)
    ids = list(conn.execute(ids_stmt).scalars())
    if ids:
        conn.execute(
            update(table)
            .where(table.c.id.in_(ids), table.c.state == idle)
            .values(state=leased, lease_owner=owner, lease_until=until)
        )
    return ids


def recover(
    conn: Connection, table: Table, now: datetime, *where: Any, leased: str,
    keep: Collection[int] = (), **values: Any,
) -> int:  # fmt: skip
    """Rows of ``table`` still ``leased`` whose lease ran out before ``now`` (a crashed or killed
    worker), narrowed by ``where``, get ``values`` (their state back in the queue) and lose the
    lease. Returns how many. ``keep``: the rows the caller's process holds
    (:attr:`~feedsvc.lease_keeper.LeaseKeeper.ours`, every channel's sender's): never taken
    back by that process, whose renewal may lag behind a loaded machine's clock — it took one
    back and sent it a second time while the first call was still out —, or stop through an
    outage longer than the lease while the outcome waits to be written (another channel's
    dispatcher took the row back, and it was sent twice)."""
    mine = [table.c.id.not_in(sorted(keep))] if keep else []
    result = conn.execute(
        update(table)
        .where(table.c.state == leased, table.c.lease_until < now, *where, *mine)
        .values(lease_until=None, lease_owner=None, **values)
    )
    return result.rowcount


def renew(
    conn: Connection, table: Table, ids: Sequence[int], owner: str, until: datetime, *, leased: str
) -> int:
    """Move the lease of ``ids`` that ``owner`` still holds to ``until`` (its worker is alive
    and working on them: :mod:`feedsvc.lease_keeper`); a row another worker took back, or
    already released, is left as it is. Returns how many.

    A row locked right now is skipped (PostgreSQL's ``FOR UPDATE SKIP LOCKED``; SQLite has one
    writer): it is being recorded. Locking the ids in the scan's order crossed a batch record
    locking them in the order sends finished — a deadlock, which PostgreSQL broke by failing
    one side."""
    mine = select(table.c.id).where(
        table.c.id.in_(list(ids)), table.c.state == leased, table.c.lease_owner == owner
    )
    result = conn.execute(
        update(table)
        .where(table.c.id.in_(mine.with_for_update(skip_locked=True).scalar_subquery()))
        .values(lease_until=until)
    )
    return result.rowcount


def release(
    conn: Connection, table: Table, id_: int, owner: str, *, leased: str, **values: Any
) -> bool:
    """Update a leased row with ``values`` and drop its lease, only if ``owner`` still holds it
    (a slow worker may have lost it to :func:`recover`). True when it did. The lease's time is
    not checked: an outcome kept through an outage longer than the lease is written once the
    DB is back, the row still this owner's (:mod:`feedsvc.db.kept`)."""
    result = conn.execute(
        update(table)
        .where(table.c.id == id_, table.c.state == leased, table.c.lease_owner == owner)
        .values(lease_until=None, lease_owner=None, **values)
    )
    return result.rowcount == 1


def book_next_send(conn: Connection, chat_id: int, gap: timedelta, now: datetime) -> None:
    """The chat's next send may start ``gap`` (its channel's pacing interval) from ``now``.

    Booked at claim time and again when the outcome is recorded: anchoring on the answer, not
    the request, keeps the gap even when one request is slow and the next one fast.
    """
    conn.execute(update(chats).where(chats.c.chat_id == chat_id).values(next_send_at=now + gap))


def book_slots(
    conn: Connection, claimed: Iterable[Paced], interval: Interval, now: datetime
) -> None:
    """Book each claimed row's chat ``interval(chat type)`` ahead, exactly as a send would."""
    for c in claimed:
        book_next_send(conn, c.chat_id, interval(c.chat_type), now)


def book_reply(
    conn: Connection,
    channel: str,
    chat_id: int,
    interval: Interval,
    now: datetime,
    ours: datetime | None = None,
    pause_within: float = 0.0,
) -> tuple[float, datetime] | None:
    """Book the chat's next send for a reply outside the outbox (a bot's answer to a command
    or a button press): (seconds to wait before sending it, the slot booked after it).

    The wait is the chat's pacing slot as the outbox booked it (an alert just sent or claimed
    for it), capped at one interval of the chat's type; or the chat's 429
    pause (``blocked_until``) when it ends within ``pause_within`` seconds — sent during it, the
    reply would be refused too; a longer pause is not waited for (the answer goes, and its own
    429 says what then: :meth:`feedsvc.budget.SendBudget.refused`). A slot equal to ``ours``
    (what the previous reply booked) is not waited for: replies are bounded by the command
    budgets, and a conversation must not slow to one answer per interval. The slot after the
    reply is booked one interval on, so the next alert to that chat keeps its gap. None: no
    such chat (a first ``/start`` before it registers), nothing to pace against.
    """
    where = and_(chats.c.chat_id == chat_id, chats.c.channel == channel)
    columns = (chats.c.type, chats.c.next_send_at, chats.c.blocked_until)
    row = conn.execute(select(*columns).where(where)).first()
    if row is None:
        return None
    gap = interval(row.type)
    due = row.next_send_at
    if due is None or (ours is not None and abs(due - ours) < timedelta(milliseconds=1)):
        wait = 0.0
    else:
        wait = min(max(0.0, (due - now).total_seconds()), gap.total_seconds())
    if row.blocked_until is not None:
        paused = (row.blocked_until - now).total_seconds()
        if 0 < paused <= pause_within:
            wait = max(wait, paused)
    if wait == 0 and _alert_in_flight(conn, chat_id, now):
        # the claim booked the slot when it leased the alert, not when it left: on a loaded
        # machine it leaves late, and its answer (which books the slot anew) is not recorded
        # yet. Look again a quarter interval on rather than send right behind it (CI saw a
        # reply reach the chat 0.6 s after an alert).
        wait = gap.total_seconds() / 4
    booked = now + timedelta(seconds=wait) + gap
    conn.execute(update(chats).where(where).values(next_send_at=booked))
    return wait, booked


def _alert_in_flight(conn: Connection, chat_id: int, now: datetime) -> bool:
    """An alert or digest part to the chat is leased for sending (its lease alive)."""
    sending = and_(
        deliveries.c.chat_id == chat_id,
        deliveries.c.state == "sending",
        deliveries.c.lease_until > now,
    )
    return conn.execute(select(deliveries.c.id).where(sending).limit(1)).first() is not None


def block_chat_until(conn: Connection, chat_id: int, until: datetime) -> None:
    """Pause every send to the chat until ``until`` (Telegram's 429 ``retry_after``)."""
    conn.execute(update(chats).where(chats.c.chat_id == chat_id).values(blocked_until=until))


def extend_pause(conn: Connection, chat_id: int, until: datetime) -> None:
    """Pause every send to the chat until ``until`` at least: a pause already longer stays (a
    bot's answer refused with a short ``retry_after`` while the outbox holds a longer one)."""
    later = or_(chats.c.blocked_until.is_(None), chats.c.blocked_until < until)
    conn.execute(update(chats).where(chats.c.chat_id == chat_id, later)
                 .values(blocked_until=until))  # fmt: skip
