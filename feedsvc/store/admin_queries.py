"""Read-only listings for the web admin's operator pages (deliveries, chats, recent errors).

Kept apart from the outbox module so the admin's display needs never change the dispatcher's
queries; every listing is bounded by ``limit`` because these tables grow without end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, or_, select

from feedsvc.db.schema import articles, chats, deliveries
from feedsvc.store.deliveries import TERMINAL

DEAD = tuple(s for s in TERMINAL if s != "sent")
STATES = ("pending", "sending", *TERMINAL)


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    id: int
    chat_id: int
    chat_title: str | None
    article_title: str
    article_url: str
    topics: list[str]
    state: str
    attempts: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None

    @property
    def dead(self) -> bool:
        return self.state in DEAD


@dataclass(frozen=True, slots=True)
class ChatRow:
    chat_id: int
    type: str
    title: str | None
    paused: bool
    disabled_reason: str | None
    blocked_until: datetime | None
    failures: int


def list_deliveries(
    conn: Connection, state: str | None = None, *, with_error: bool = False, limit: int = 200
) -> list[DeliveryRow]:
    """Newest first; ``state`` is one state, ``dead`` (every dead letter) or None for all."""
    stmt = (
        select(
            deliveries.c.id,
            deliveries.c.chat_id,
            chats.c.title,
            articles.c.title,
            articles.c.url,
            deliveries.c.topics,
            deliveries.c.state,
            deliveries.c.attempts,
            deliveries.c.error,
            deliveries.c.created_at,
            deliveries.c.finished_at,
        )
        .select_from(
            deliveries.join(articles, articles.c.id == deliveries.c.article_id).outerjoin(
                chats, chats.c.chat_id == deliveries.c.chat_id
            )
        )
        .order_by(deliveries.c.id.desc())
        .limit(limit)
    )
    if state == "dead":
        stmt = stmt.where(deliveries.c.state.in_(DEAD))
    elif state:
        stmt = stmt.where(deliveries.c.state == state)
    if with_error:
        stmt = stmt.where(deliveries.c.error.is_not(None))
    return [
        DeliveryRow(
            int(r[0]),
            int(r[1]),
            r[2],
            str(r[3]),
            str(r[4]),
            list(r[5] or []),
            str(r[6]),
            int(r[7]),
            r[8],
            r[9],
            r[10],
        )
        for r in conn.execute(stmt).tuples()
    ]


def list_chats(conn: Connection) -> dict[int, ChatRow]:
    rows = conn.execute(select(chats).order_by(chats.c.chat_id))
    return {
        int(r.chat_id): ChatRow(
            int(r.chat_id),
            str(r.type),
            r.title,
            bool(r.paused),
            r.disabled_reason,
            r.blocked_until,
            int(r.failures or 0),
        )
        for r in rows
    }


def held_chats(conn: Connection, now: datetime) -> list[ChatRow]:
    """Chats not receiving alerts right now: paused, disabled, or rate-blocked by Telegram."""
    stmt = (
        select(chats)
        .where(
            or_(
                chats.c.paused.is_(True),
                chats.c.disabled_reason.is_not(None),
                and_(chats.c.blocked_until.is_not(None), chats.c.blocked_until > now),
            )
        )
        .order_by(chats.c.chat_id)
        .limit(500)
    )
    return [
        ChatRow(
            int(r.chat_id),
            str(r.type),
            r.title,
            bool(r.paused),
            r.disabled_reason,
            r.blocked_until,
            int(r.failures or 0),
        )
        for r in conn.execute(stmt)
    ]


def recent_errors(conn: Connection, *, limit: int = 20) -> list[DeliveryRow]:
    """The latest deliveries that recorded an error (dead letters and retries alike)."""
    return list_deliveries(conn, None, with_error=True, limit=limit)
