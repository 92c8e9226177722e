"""The outbox: deliveries claimed under leases, paced per chat, finished exactly once.

States: ``pending`` [→ ``held`` until a digest, issue 15] → ``sending`` (leased) → ``sent`` |
``blocked`` | ``chat_not_found`` | ``bad_content`` | ``disabled`` | ``failed`` |
``unknown_outcome``; and ``withdrawn``: the article stopped being public (withdrawn by the
source or hidden by an editor, SPEC §10) before the message went out, so it never will (not a
dead letter: ``resend`` refuses it). A crash leaves rows ``sending``; they return to ``pending``
when their lease expires. That, and one re-send after a send whose outcome is unknown
(``ambiguous`` counts both), are the only ways a message can be sent twice; a second unknown
outcome ends the row as ``unknown_outcome`` (an admin may re-send it). A row leased for a
digest (``digest`` set) goes back to ``held``, still due: the digest is re-sent whole, not
dissolved into instant alerts (see :mod:`feedsvc.store.digests`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, select, update

from feedsvc.db.schema import alert_followups, article_topics, articles, chats, deliveries
from feedsvc.store import claims
from feedsvc.store.claims import Interval, telegram_interval
from feedsvc.store.upsert import insert_rows

WITHDRAWN = "withdrawn"
TERMINAL = (
    "sent", "blocked", "chat_not_found", "bad_content", "disabled", "failed", "unknown_outcome",
    WITHDRAWN,
)  # fmt: skip
# finished without being sent and worth sending again: what ``resend`` accepts
DEAD_STATES = tuple(s for s in TERMINAL if s not in ("sent", WITHDRAWN))


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
    """Insert deliveries, skipping (chat, article) pairs that already exist; returns how many
    were queued (exactly: counted from ``RETURNING``, never the driver's ``rowcount``)."""
    return len(insert_rows(conn, deliveries, rows, deliveries.c.id))


def recover_expired(conn: Connection, now: datetime, channel: str | None = None) -> int:
    """Leases that ran out before ``now`` (a crashed or killed sender) go back to the queue;
    ``channel``: only that channel's (a dispatcher recovering its own at start must never take
    back what another channel's dispatcher holds right now)."""
    mine = [] if channel is None else [_of_channel(channel)]
    return claims.recover(
        conn, deliveries, now, *mine,
        leased="sending",
        state=case((deliveries.c.digest.is_(True), "held"), else_="pending"),
        ambiguous=deliveries.c.ambiguous + 1,
    )  # fmt: skip


def _of_channel(channel: str) -> Any:
    """Deliveries to recipients of ``channel``: a subquery, so a count needs no join."""
    return deliveries.c.chat_id.in_(select(chats.c.chat_id).where(chats.c.channel == channel))


def _claimable(now: datetime, limit: int, channel: str) -> Any:
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
            claims.chat_ready(now),
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
) -> list[Claimed]:
    """Lease up to ``limit`` deliveries of ``channel`` (one per chat) and book each chat's next
    send slot ``interval(chat type)`` ahead. Each channel's dispatcher claims only its own
    recipients, so one channel's backlog or failures never hold another's sends."""
    if limit <= 0:
        return []
    ids_stmt = _claimable(now, limit, channel)
    ids = claims.lease(
        conn, ids_stmt, deliveries, owner, now + lease, idle="pending", leased="sending"
    )
    if not ids:
        return []
    rows = conn.execute(
        select(
            deliveries.c.id,
            deliveries.c.chat_id,
            chats.c.type,
            deliveries.c.article_id,
            deliveries.c.topics,
            deliveries.c.attempts,
            deliveries.c.ambiguous,
            deliveries.c.plain_text,
            chats.c.link_preview,
            chats.c.channel,
            chats.c.address,
        )
        .join(chats, chats.c.chat_id == deliveries.c.chat_id)
        .where(deliveries.c.id.in_(ids), deliveries.c.lease_owner == owner)
        .order_by(deliveries.c.id)
    ).tuples()
    claimed = [Claimed(*row) for row in rows]
    claims.book_slots(conn, claimed, interval, now)
    return claimed


def _finish(conn: Connection, id_: int, owner: str, **values: Any) -> bool:
    """Update a leased row only if we still hold the lease (a slow sender may have lost it)."""
    return claims.release(conn, deliveries, id_, owner, leased="sending", **values)


def mark_sent(conn: Connection, id_: int, owner: str, message_id: int, now: datetime) -> bool:
    ok = _finish(
        conn,
        id_,
        owner,
        state="sent",
        message_id=message_id,
        finished_at=now,
        attempts=deliveries.c.attempts + 1,
        error=None,
    )
    return ok


def mark_terminal(
    conn: Connection,
    id_: int,
    owner: str,
    state: str,
    error: str,
    now: datetime,
    *,
    ambiguous: bool = False,
) -> bool:
    """End a leased delivery in ``state`` (a dead letter); ``ambiguous``: this last send's
    outcome is unknown (counted like :func:`retry_later` does)."""
    assert state in TERMINAL and state != "sent"
    values: dict[str, Any] = {"ambiguous": deliveries.c.ambiguous + 1} if ambiguous else {}
    return _finish(
        conn,
        id_,
        owner,
        state=state,
        error=error[:1000],
        finished_at=now,
        attempts=deliveries.c.attempts + 1,
        **values,
    )


def retry_later(
    conn: Connection,
    id_: int,
    owner: str,
    due: datetime,
    error: str,
    *,
    plain_text: bool | None = None,
    ambiguous: bool = False,
) -> bool:
    values: dict[str, Any] = {
        "state": "pending",
        "due_at": due,
        "error": error[:1000],
        "attempts": deliveries.c.attempts + 1,
    }
    if plain_text is not None:
        values["plain_text"] = plain_text
    if ambiguous:
        values["ambiguous"] = deliveries.c.ambiguous + 1
    return _finish(conn, id_, owner, **values)


def chat_succeeded(conn: Connection, chat_id: int) -> None:
    conn.execute(
        update(chats).where(chats.c.chat_id == chat_id, chats.c.failures > 0).values(failures=0)
    )


def chat_failed(
    conn: Connection, chat_id: int, reason: str, disable_after: int, now: datetime
) -> bool:
    """Count a hard failure; at ``disable_after`` in a row the chat is disabled and its queue
    closed as ``disabled``. Returns True when this call disabled it."""
    conn.execute(
        update(chats).where(chats.c.chat_id == chat_id).values(failures=chats.c.failures + 1)
    )
    failures = conn.execute(select(chats.c.failures).where(chats.c.chat_id == chat_id)).scalar()
    if failures is None or failures < disable_after:
        return False
    conn.execute(
        update(chats).where(chats.c.chat_id == chat_id).values(disabled_reason=reason[:500])
    )
    conn.execute(
        update(deliveries)
        .where(deliveries.c.chat_id == chat_id, deliveries.c.state.in_(("pending", "held")))
        .values(state="disabled", error=f"chat disabled: {reason}"[:1000], finished_at=now)
    )
    return True


def migrate_chat(conn: Connection, old: int, new: int) -> None:
    """A group became a supergroup: move the chat (FKs cascade) unless the new id exists."""
    exists = conn.execute(select(chats.c.chat_id).where(chats.c.chat_id == new)).first()
    if exists is None:
        conn.execute(
            update(chats)
            .where(chats.c.chat_id == old)
            .values(chat_id=new, address=str(new), type="supergroup")
        )
        return
    # Both exist (the bot already knew the supergroup): keep the new one, move the queue over.
    conn.execute(update(deliveries).where(deliveries.c.chat_id == old).values(chat_id=new))


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
    slot or 429 pause, whichever is last), so an idle dispatcher sleeps exactly that long."""
    stmt = (
        select(deliveries.c.due_at, chats.c.next_send_at, chats.c.blocked_until)
        .join(chats, chats.c.chat_id == deliveries.c.chat_id)
        .where(
            deliveries.c.state == "pending",
            deliveries.c.id.in_(_heads()),
            chats.c.channel == channel,
        )
    )
    times = [max(t for t in row if t is not None) for row in conn.execute(stmt).tuples()]
    return min(times, default=None)


def queue_depth(conn: Connection) -> int:
    stmt = select(func.count()).where(deliveries.c.state.in_(("pending", "sending")))
    return int(conn.execute(stmt).scalar_one())


def resend(conn: Connection, id_: int, now: datetime) -> bool:
    """Put a dead letter (any terminal state but sent) back in the queue."""
    result = conn.execute(
        update(deliveries)
        .where(
            deliveries.c.id == id_,
            deliveries.c.state.in_(DEAD_STATES),
        )
        .values(state="pending", due_at=now, finished_at=None, plain_text=False)
    )
    return result.rowcount == 1


DEAD = "dead"  # a listing filter: every terminal state but ``sent`` (what ``resend`` accepts)
STATES = ("pending", "held", "sending", *TERMINAL)


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """One outbox row as the admin sees it: the article, the chat and what happened."""

    id: int
    chat_id: int
    chat_title: str | None
    article_id: int
    article_title: str
    article_url: str
    topics: list[str]
    state: str
    attempts: int
    error: str | None
    due_at: datetime
    created_at: datetime
    finished_at: datetime | None
    # follow-ups on the sent alert (SPEC §10): outcome (or pending/working) and when it ended
    retraction: str | None = None  # deleted | edited | gone | kept | cancelled | failed
    retracted_at: datetime | None = None
    correction: str | None = None  # edited | unchanged | gone | kept | cancelled | failed
    corrected_at: datetime | None = None
    channel: str = "telegram"

    @property
    def dead(self) -> bool:
        """A dead letter: finished without being sent (what ``resend`` accepts)."""
        return self.state in DEAD_STATES


def _rows_select() -> Any:
    retract, correct = alert_followups.alias("retract"), alert_followups.alias("correct")
    return (
        select(
            deliveries.c.id, deliveries.c.chat_id, chats.c.title, deliveries.c.article_id,
            articles.c.title, articles.c.url, deliveries.c.topics, deliveries.c.state,
            deliveries.c.attempts, deliveries.c.error, deliveries.c.due_at,
            deliveries.c.created_at, deliveries.c.finished_at,
            func.coalesce(retract.c.outcome, retract.c.state), retract.c.finished_at,
            func.coalesce(correct.c.outcome, correct.c.state), correct.c.finished_at,
            chats.c.channel,
        )
        .join(chats, chats.c.chat_id == deliveries.c.chat_id)
        .join(articles, articles.c.id == deliveries.c.article_id)
        .outerjoin(retract, and_(retract.c.delivery_id == deliveries.c.id,
                                 retract.c.kind == "retract"))
        .outerjoin(correct, and_(correct.c.delivery_id == deliveries.c.id,
                                 correct.c.kind == "correct"))
    )  # fmt: skip


def _to_rows(result: Any) -> list[DeliveryRow]:
    out = []
    for row in result.tuples():
        values = list(row)
        values[6] = list(values[6] or [])
        out.append(DeliveryRow(*values))
    return out


def _listing_filter(
    stmt: Any,
    state: str | None,
    chat_id: int | None,
    topic_id: int | None,
    channel: str | None = None,
) -> Any:
    if state == DEAD:
        stmt = stmt.where(deliveries.c.state.in_(DEAD_STATES))
    elif state is not None:
        stmt = stmt.where(deliveries.c.state == state)
    if chat_id is not None:
        stmt = stmt.where(deliveries.c.chat_id == chat_id)
    if channel is not None:
        stmt = stmt.where(_of_channel(channel))
    if topic_id is not None:  # the delivered article matched this topic
        stmt = stmt.where(
            select(article_topics.c.article_id)
            .where(
                article_topics.c.article_id == deliveries.c.article_id,
                article_topics.c.topic_id == topic_id,
            )
            .exists()
        )
    return stmt


def list_deliveries(
    conn: Connection,
    *,
    state: str | None = None,
    chat_id: int | None = None,
    topic_id: int | None = None,
    channel: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[DeliveryRow], int]:
    """Newest first, with the total matching the filters (for paging). ``state`` may be
    :data:`DEAD`."""
    total_stmt = _listing_filter(
        select(func.count()).select_from(deliveries), state, chat_id, topic_id, channel
    )
    total = int(conn.execute(total_stmt).scalar_one())
    stmt = _rows_select().order_by(deliveries.c.id.desc()).limit(limit).offset(offset)
    stmt = _listing_filter(stmt, state, chat_id, topic_id, channel)
    return _to_rows(conn.execute(stmt)), total


def delivery_state(conn: Connection, id_: int) -> str | None:
    return conn.execute(select(deliveries.c.state).where(deliveries.c.id == id_)).scalar()


def recent_errors(conn: Connection, limit: int = 10) -> list[DeliveryRow]:
    """The latest deliveries that recorded an error (retrying or dead), newest first."""
    stmt = (
        _rows_select()
        .where(deliveries.c.error.is_not(None))
        .order_by(func.coalesce(deliveries.c.finished_at, deliveries.c.due_at).desc())
        .limit(limit)
    )
    return _to_rows(conn.execute(stmt))
