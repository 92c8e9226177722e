"""The outbox: deliveries claimed under leases, paced per chat, finished exactly once.

States: ``pending`` [→ ``held`` until a digest, issue 15] → ``sending`` (leased) → ``sent`` |
``blocked`` | ``chat_not_found`` | ``bad_content`` | ``disabled`` | ``failed`` |
``unknown_outcome``; and ``withdrawn``: the article stopped being public (withdrawn by the
source or hidden by an editor, SPEC §10) before the message went out (not a dead letter:
``resend`` refuses it); it is queued again only if the source shows the article again while
it may still alert (:func:`enqueue`). A crash leaves rows ``sending``; they return to ``pending``
when their lease expires. That, and one re-send after a send whose outcome is unknown
(``ambiguous`` counts both), are the only ways a message can be sent twice (a live sender
never lets a lease lapse on a row it never sent: it gives it back, :func:`give_back`); a
second unknown outcome ends the row as ``unknown_outcome`` (an admin may re-send it). A row
leased for a digest (``digest`` set) goes back to ``held``, still due: the digest is re-sent
whole, not dissolved into instant alerts (see :mod:`feedsvc.store.digests`). The admin's listings of
these rows are in :mod:`feedsvc.store.delivery_log`; queued rows ended in bulk without a send
(a chat switched off, a channel not configured, alerts kept unsent too long) in
:mod:`feedsvc.store.dead_letters`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, select, update

from feedsvc.db.schema import alert_followups, chats, deliveries
from feedsvc.delivery_states import (
    DEAD_STATES,
    NEVER_SENT,
    RETRY_KINDS,
    TERMINAL,
    UNFINISHED,
)
from feedsvc.store import claims, holding
from feedsvc.store.claims import Interval, telegram_interval
from feedsvc.store.upsert import insert_rows


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    chat_id: int
    chat_type: str
    article_id: int
    topics: list[str]
    attempts: int
    ambiguous: int  # earlier sends whose outcome is unknown (timeouts, crashes mid-send)
    plain_text: bool
    link_preview: bool
    channel: str = "telegram"
    address: str = ""  # Apprise: a URL with credentials, never logged


def enqueue(conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Queue deliveries (rows as ``deliveries`` columns, ``due_at`` the moment they are due),
    skipping (chat, article) pairs that already exist, except one that ended without a message
    (:data:`~feedsvc.delivery_states.NEVER_SENT`): ``withdrawn`` — the article stopped being
    public while it waited, so the article shown again (SPEC §10: "``false`` publishes again")
    owes it — or ``unsubscribed`` — it stopped matching what the chat follows (a correction's
    typo, the chat's query) before it went, so an edit that makes it match again owes it (SPEC
    §10: a fresh article matching a topic for the first time alerts its subscribers once; this
    chat never had it). The row is queued again with the new labels. Still at most one alert
    per (chat, article). Returns how many were queued, exactly (rows inserted are counted from
    ``RETURNING``, rows revived from a read in the same transaction; never ``rowcount``)."""
    if not rows:
        return 0
    revived = _revive_unsent(conn, rows)
    fresh = [r for r in rows if (r["chat_id"], r["article_id"]) not in revived]
    return len(revived) + len(insert_rows(conn, deliveries, fresh, deliveries.c.id))


def _revive_unsent(conn: Connection, rows: Sequence[dict[str, Any]]) -> set[tuple[int, int]]:
    """The (chat, article) pairs of ``rows`` whose delivery had ended without a message
    (``NEVER_SENT``), now queued again: ``held`` with its digest's time kept while that time is
    still ahead, else ``pending`` and due at the row's ``due_at`` — a digest chat's then held
    for its next digest by the dispatcher (``store.holding.hold_pending``), never sent alone
    outside its schedule because its old digest's time has passed; attempts and unknown
    outcomes kept (they happened)."""
    wanted = {(r["chat_id"], r["article_id"]): r for r in rows}
    found: set[tuple[int, int]] = set()
    article_ids = sorted({a for _, a in wanted})
    for start in range(0, len(article_ids), 500):
        stmt = select(deliveries.c.chat_id, deliveries.c.article_id).where(
            deliveries.c.article_id.in_(article_ids[start : start + 500]),
            deliveries.c.state.in_(NEVER_SENT),
        )
        found.update(p for p in conn.execute(stmt).tuples() if p in wanted)
    for chat_id, article_id in sorted(found):
        row = wanted[(chat_id, article_id)]
        its_digest = and_(deliveries.c.digest.is_(True), deliveries.c.due_at > row["due_at"])
        conn.execute(
            update(deliveries)
            .where(
                deliveries.c.chat_id == chat_id,
                deliveries.c.article_id == article_id,
                deliveries.c.state.in_(NEVER_SENT),
            )
            .values(
                state=case((its_digest, "held"), else_="pending"),
                due_at=case((its_digest, deliveries.c.due_at), else_=row["due_at"]),
                topics=row["topics"], error=None, finished_at=None,
                lease_until=None, lease_owner=None,
            )
        )  # fmt: skip
    return found


def recover_expired(
    conn: Connection, now: datetime, channel: str | None = None, keep: Collection[int] = ()
) -> int:
    """Leases that ran out before ``now`` (a crashed or killed sender) go back to the queue;
    ``channel``: only that channel's (a dispatcher recovering its own at start must never take
    back what another channel's dispatcher holds right now); ``keep``: the caller's own rows
    in flight (:func:`feedsvc.store.claims.recover`)."""
    mine = [] if channel is None else [of_channel(channel)]
    return claims.recover(
        conn, deliveries, now, *mine,
        leased="sending", keep=keep,
        state=case((deliveries.c.digest.is_(True), "held"), else_="pending"),
        ambiguous=deliveries.c.ambiguous + 1,
    )  # fmt: skip


def of_channel(channel: str) -> Any:
    """Deliveries to recipients of ``channel``: a subquery, so a count needs no join."""
    return deliveries.c.chat_id.in_(select(chats.c.chat_id).where(chats.c.channel == channel))


def _claimable(now: datetime, limit: int, channel: str, *where: Any) -> Any:
    """The oldest unfinished delivery of each chat that may be sent to now (in order per chat),
    chats served longest ago first.

    Round-robin across recipients: a chat's ``next_send_at`` moves forward each time it is
    served, so the heads are taken by how long ago their chat was last served (never served
    first), not by delivery id. A chat with nothing queued therefore waits at most one round of
    the chats that are ready now, never behind another chat's backlog (by id, a fresh alert
    waited for a whole 20,000-delivery backlog: 771 s).
    """
    return (
        select(deliveries.c.id)
        .join(chats, chats.c.chat_id == deliveries.c.chat_id)
        .where(
            deliveries.c.state == "pending",
            deliveries.c.due_at <= now,
            deliveries.c.id.in_(_heads()),
            chats.c.channel == channel,
            claims.chat_unpaused(),
            claims.chat_ready(now),
            *where,
        )
        .order_by(chats.c.next_send_at.asc().nulls_first(), deliveries.c.id)
        .limit(limit)
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
    hold: holding.Release | None = None,
) -> list[Claimed]:
    """Lease up to ``limit`` deliveries of ``channel`` (one per chat) and book each chat's next
    send slot ``interval(chat type)`` ahead. Each channel's dispatcher claims only its own
    recipients, so one channel's backlog or failures never hold another's sends.

    Never an alert its chat holds (a digest schedule, quiet hours): ``hold`` is the chat's rule
    at ``now`` (:meth:`feedsvc.digest.edge.DigestEdge.release`), applied to every row leased
    here, in this transaction (:func:`feedsvc.store.holding.hold_leased`: held, not returned),
    whatever committed since the rows were held; without it (no zone to read a schedule in)
    no row of a chat with a digest or quiet window is claimed at all."""
    if limit <= 0:
        return []
    ids_stmt = _claimable(now, limit, channel, *([] if hold is not None else [~holding.may_hold()]))
    ids = claims.lease(
        conn, ids_stmt, deliveries, owner, now + lease, idle="pending", leased="sending"
    )
    if not ids:
        return []
    stmt = (
        select(
            deliveries.c.id, deliveries.c.chat_id, chats.c.type, deliveries.c.article_id,
            deliveries.c.topics, deliveries.c.attempts, deliveries.c.ambiguous,
            deliveries.c.plain_text, chats.c.link_preview, chats.c.channel, chats.c.address,
            chats.c.digest, chats.c.quiet, chats.c.silent,  # the chat's rule: not in Claimed
        )
        .join(chats, chats.c.chat_id == deliveries.c.chat_id)
        .where(deliveries.c.id.in_(ids), deliveries.c.lease_owner == owner)
        .order_by(deliveries.c.id)
    )  # fmt: skip
    rows = conn.execute(stmt).tuples().all()
    leased: list[holding.Leased] = [(r[0], r[-3], r[-2], bool(r[-1])) for r in rows]
    held = holding.hold_leased(conn, owner, leased, hold) if hold is not None else set()
    claimed = [Claimed(*row[:-3]) for row in rows if row[0] not in held]
    claims.book_slots(conn, claimed, interval, now)
    return claimed


def _finish(conn: Connection, id_: int, owner: str, **values: Any) -> bool:
    """Update a leased row only if we still hold the lease (a slow sender may have lost it)."""
    return claims.release(conn, deliveries, id_, owner, leased="sending", **values)


def mark_sent(
    conn: Connection, id_: int, owner: str, message_id: int, now: datetime,
    note: str | None = None, topics: Sequence[str] | None = None, *, chat_id: int | None = None,
    kind: str | None = None,
) -> bool:  # fmt: skip
    """Finish a leased delivery as sent; ``note``: what went wrong in a send that still counts
    as sent (an Apprise notification that reached some of its targets), kept as its error;
    ``topics``: the labels it went out with (:mod:`feedsvc.wanted`), when given. ``chat_id``:
    the chat the message was sent to (the claimed row's; default the row's own), kept as
    ``sent_chat_id``: a migration may move the row later, never its message. ``kind``: what
    the message is, ``photo`` or ``text`` (``delivery_states.MESSAGE_KINDS``; None: not
    known), as the channel answered."""
    labels: dict[str, Any] = {} if topics is None else {"topics": list(topics)}
    if kind is not None:  # a row is sent once: one not known stays NULL
        labels["message_kind"] = kind
    return _finish(
        conn, id_, owner, state="sent", message_id=message_id,
        sent_chat_id=deliveries.c.chat_id if chat_id is None else chat_id, finished_at=now,
        attempts=deliveries.c.attempts + 1, error=note, **labels,
    )  # fmt: skip


def mark_terminal(
    conn: Connection,
    id_: int,
    owner: str,
    state: str,
    error: str,
    now: datetime,
    *,
    ambiguous: bool = False,
    attempted: bool = True,
) -> bool:
    """End a leased delivery in ``state`` (a dead letter); ``ambiguous``: this last send's
    outcome is unknown (counted like :func:`retry_later` does). ``attempted`` false: nothing
    was handed to the channel (the dispatcher's check at send time found the article
    withdrawn or the chat unsubscribed, or the article gone), so no attempt is counted:
    ``attempts`` is the sends made, which the API and the admin's delivery log show (an
    ``unsubscribed`` alert showed "attempts: 1")."""
    assert state in TERMINAL and state != "sent"
    values: dict[str, Any] = {"ambiguous": deliveries.c.ambiguous + 1} if ambiguous else {}
    if attempted:
        values["attempts"] = deliveries.c.attempts + 1
    return _finish(conn, id_, owner, state=state, error=error[:1000], finished_at=now, **values)


def retry_later(
    conn: Connection,
    id_: int,
    owner: str,
    due: datetime,
    error: str,
    *,
    kind: str,
    plain_text: bool | None = None,
    ambiguous: bool = False,
    attempted: bool = True,
) -> bool:
    """Back to the queue, due at ``due``, waiting for the reason ``kind`` (one of
    :data:`RETRY_KINDS`); ``attempted`` false: no send was made (an article moved into the
    future, waiting for its time), so none is counted — nor brings the row nearer
    ``max_attempts``."""
    assert kind in RETRY_KINDS, kind
    values: dict[str, Any] = {
        "state": "pending", "due_at": due, "error": error[:1000], "retry_kind": kind,
    }  # fmt: skip
    if attempted:
        values["attempts"] = deliveries.c.attempts + 1
    if plain_text is not None:
        values["plain_text"] = plain_text
    if ambiguous:
        values["ambiguous"] = deliveries.c.ambiguous + 1
    return _finish(conn, id_, owner, **values)


def give_back(conn: Connection, id_: int, owner: str) -> bool:
    """Put a leased delivery back in the queue as it was before its claim: nothing was handed
    to the channel (the dispatcher's own step before the send met a state-DB outage), so no
    attempt is counted and, above all, no unknown outcome (``ambiguous`` counts only sends
    that may have reached the platform: :func:`feedsvc.send_record.record_alert`). Only while
    ``owner`` holds the lease; True when it did."""
    return _finish(conn, id_, owner, state="pending")


def still_leased(conn: Connection, ids: Collection[int], owner: str) -> set[int]:
    """Which of ``ids`` are still leased for sending by ``owner``: the outcomes of the others
    were recorded already, or their rows taken back (a kept record tried again at a stop)."""
    stmt = select(deliveries.c.id).where(
        deliveries.c.id.in_(sorted(ids)),
        deliveries.c.state == "sending",
        deliveries.c.lease_owner == owner,
    )
    return set(conn.execute(stmt).scalars())


def _heads() -> Any:
    """The oldest unfinished delivery id of each chat: deliveries to one chat go in order."""
    return (
        select(func.min(deliveries.c.id))
        .where(deliveries.c.state.in_(("pending", "sending")))
        .group_by(deliveries.c.chat_id)
        .scalar_subquery()
    )


def next_claimable(conn: Connection, channel: str = "telegram") -> datetime | None:
    """When the next delivery of ``channel`` becomes claimable (its due time, its chat's pacing
    slot or 429 pause, whichever is last), so an idle dispatcher sleeps exactly that long. A
    paused chat's queue is left out: it is claimable only after ``/resume`` (whose wake-up or
    the poll brings it), and its past due times would otherwise wake the dispatcher every 10 ms."""
    stmt = (
        select(deliveries.c.due_at, chats.c.next_send_at, chats.c.blocked_until)
        .join(chats, chats.c.chat_id == deliveries.c.chat_id)
        .where(
            deliveries.c.state == "pending",
            deliveries.c.id.in_(_heads()),
            chats.c.channel == channel,
            claims.chat_unpaused(),
        )
    )
    times = [max(t for t in row if t is not None) for row in conn.execute(stmt).tuples()]
    return min(times, default=None)


def queue_depth(conn: Connection) -> int:
    stmt = select(func.count()).where(deliveries.c.state.in_(("pending", "sending")))
    return int(conn.execute(stmt).scalar_one())


def owed(conn: Connection) -> int:
    """Unfinished deliveries (pending, held, sending) and follow-ups (pending, working), every
    channel: what a starting process would send on what the source said before it stopped
    (:mod:`feedsvc.send_gate`). Two counts on indexed state columns."""
    rows = select(func.count()).where(deliveries.c.state.in_(UNFINISHED))
    work = select(func.count()).where(alert_followups.c.state.in_(("pending", "working")))
    return int(conn.execute(rows).scalar_one()) + int(conn.execute(work).scalar_one())


def resend(conn: Connection, id_: int, now: datetime) -> bool:
    """Put a dead letter (any terminal state but sent) back in the queue."""
    result = conn.execute(
        update(deliveries)
        .where(
            deliveries.c.id == id_,
            deliveries.c.state.in_(DEAD_STATES),
        )
        .values(
            state="pending",
            due_at=now,
            finished_at=None,
            plain_text=False,
            retry_kind=None,
            created_at=now,  # queued again now: never "kept unsent" (stale_alerts), however old
        )
    )
    return result.rowcount == 1
