"""Held alerts and chat delivery options (issue 15): the SQL of :mod:`feedsvc.digest`.

A delivery of a chat that holds alerts (a digest schedule, or a quiet window it is inside)
goes from ``pending`` to ``held`` with ``due_at`` = the instant of the digest that will carry
it and ``digest`` = True. When that instant passes, every held row of the chat due by then is
claimed at once (``sending``, under a lease, like any delivery) and sent as one digest. A
crash mid-digest returns the rows to ``held`` (see :func:`feedsvc.store.deliveries.
recover_expired`), still due, so the digest goes out after the restart, once (one extra copy
at most when the crash fell between Telegram's answer and the record, as for any alert).
Which rows a chat holds, and the check that no claim sends one it should hold, are
:mod:`feedsvc.store.holding`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, exists, func, or_, select, update

from feedsvc.db.schema import article_topics, chats, deliveries, subscriptions, topics
from feedsvc.digest.settings import ChatSettings
from feedsvc.recipient_names import chat_name
from feedsvc.store import claims


@dataclass(frozen=True, slots=True)
class HeldRow:
    id: int
    article_id: int
    topics: list[str]
    attempts: int
    ambiguous: int
    plain_text: bool


@dataclass(frozen=True, slots=True)
class HeldBatch:
    """One chat's due held rows, leased together: the content of one digest."""

    chat_id: int
    chat_type: str
    link_preview: bool
    silent: bool
    rows: list[HeldRow]
    channel: str = "telegram"
    address: str = ""  # Apprise: a URL with credentials, never logged
    #: the chat's options when claimed: when a row set aside for later goes (its next digest)
    settings: ChatSettings = field(default_factory=ChatSettings)

    @property
    def recipient(self) -> str:
        """The chat as its log lines name it (``zalo chat zb``, an Apprise URL masked):
        :func:`feedsvc.recipient_names.chat_name`, never feedsvc's own number alone."""
        return chat_name(self.channel, self.address, self.chat_id)


@dataclass(frozen=True, slots=True)
class Match:
    """A subscription of the chat that an article matched (a topic), with its forum thread."""

    topic_id: int
    slug: str
    title: str
    thread_id: int | None


def get_settings(conn: Connection, chat_id: int, *, lock: bool = False) -> ChatSettings | None:
    """The chat's options; ``lock``: in a write transaction that then saves them, the chat's
    row locked until it ends (PostgreSQL ``FOR UPDATE``; SQLite's writer holds the database's
    one write lock from ``BEGIN IMMEDIATE``), so the read, the check against what the caller
    saw and the write are one step: two changes in flight each read the options the other
    was about to replace, and the later one wrote them back (``/quiet`` lost to a ``/digest``
    at the same moment; a stale admin page's check passed on a read the bot then changed)."""
    stmt = select(chats.c.digest, chats.c.quiet, chats.c.silent).where(chats.c.chat_id == chat_id)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    return None if row is None else ChatSettings.from_row(*row)


def save_settings(conn: Connection, chat_id: int, settings: ChatSettings) -> bool:
    """Store the chat's options; False when there is no such chat."""
    result = conn.execute(
        update(chats)
        .where(chats.c.chat_id == chat_id)
        .values(
            digest=settings.digest.stored(),
            quiet=settings.quiet.stored() if settings.quiet else None,
            silent=settings.silent,
        )
    )
    return result.rowcount == 1


def retime_held(conn: Connection, chat_id: int, due: datetime) -> int:
    """After a settings change: the chat's held rows go out at ``due`` (now, when the new
    settings no longer hold anything)."""
    result = conn.execute(
        update(deliveries)
        .where(deliveries.c.chat_id == chat_id, deliveries.c.state == "held")
        .values(due_at=due)
    )
    return result.rowcount


def held_count(conn: Connection, chat_id: int | None = None) -> int:
    stmt = select(func.count()).where(deliveries.c.state == "held")
    if chat_id is not None:
        stmt = stmt.where(deliveries.c.chat_id == chat_id)
    return int(conn.execute(stmt).scalar_one())


def _due_chats(now: datetime, limit: int, channel: str) -> Any:
    due_rows = exists().where(
        deliveries.c.chat_id == chats.c.chat_id,
        deliveries.c.state == "held",
        deliveries.c.due_at <= now,
    )
    in_flight = exists().where(
        deliveries.c.chat_id == chats.c.chat_id, deliveries.c.state == "sending"
    )
    return (
        select(
            chats.c.chat_id,
            chats.c.type,
            chats.c.link_preview,
            chats.c.silent,
            chats.c.channel,
            chats.c.address,
            chats.c.digest,
            chats.c.quiet,
        )
        .where(
            chats.c.channel == channel,
            due_rows,
            ~in_flight,
            _takes_digests(),
            or_(chats.c.blocked_until.is_(None), chats.c.blocked_until <= now),
            or_(chats.c.next_send_at.is_(None), chats.c.next_send_at <= now),
        )
        .order_by(chats.c.next_send_at.asc().nulls_first(), chats.c.chat_id)
        .limit(limit)
    )


def claim_digests(
    conn: Connection, owner: str, now: datetime, limit: int, lease_until: datetime,
    channel: str = "telegram",
) -> list[HeldBatch]:  # fmt: skip
    """Lease the due held rows of up to ``limit`` chats (one digest each). On PostgreSQL the
    chat rows are locked (``SKIP LOCKED``), so two replicas never split one chat's digest."""
    if limit <= 0:
        return []
    stmt = _due_chats(now, limit, channel)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=chats, skip_locked=True)
    batches = []
    for chat_id, chat_type, link_preview, silent, chan, address, digest, quiet in conn.execute(
        stmt
    ).tuples():
        cond = and_(
            deliveries.c.chat_id == chat_id,
            deliveries.c.state == "held",
            deliveries.c.due_at <= now,
        )
        conn.execute(
            update(deliveries)
            .where(cond)
            .values(state="sending", lease_owner=owner, lease_until=lease_until)
        )
        rows = conn.execute(
            select(
                deliveries.c.id, deliveries.c.article_id, deliveries.c.topics,
                deliveries.c.attempts, deliveries.c.ambiguous, deliveries.c.plain_text,
            )
            .where(
                deliveries.c.chat_id == chat_id,
                deliveries.c.state == "sending",
                deliveries.c.lease_owner == owner,
                deliveries.c.digest.is_(True),
            )
            .order_by(deliveries.c.id)
        ).tuples()  # fmt: skip
        held = [HeldRow(i, a, list(t or []), n, amb, bool(p)) for i, a, t, n, amb, p in rows]
        if held:
            settings = ChatSettings.from_row(digest, quiet, bool(silent))
            batches.append(HeldBatch(chat_id, chat_type, bool(link_preview), bool(silent), held,
                                     chan, address, settings))  # fmt: skip
    return batches


def finish_rows(
    conn: Connection, ids: Sequence[int], owner: str, *, attempt: bool = False,
    unknown: bool = False, **values: Any,
) -> int:  # fmt: skip
    """Update leased rows we still hold (a slow sender may have lost its lease); ``attempt``
    counts a send attempt, ``unknown`` a send whose outcome is unknown."""
    if not ids:
        return 0
    if attempt:
        values["attempts"] = deliveries.c.attempts + 1
    if unknown:
        values["ambiguous"] = deliveries.c.ambiguous + 1
    result = conn.execute(
        update(deliveries)
        .where(
            deliveries.c.id.in_(list(ids)),
            deliveries.c.state == "sending",
            deliveries.c.lease_owner == owner,
        )
        .values(lease_until=None, lease_owner=None, **values)
    )
    return result.rowcount


def relabel(conn: Connection, labels: Mapping[int, list[str]]) -> None:
    """Give deliveries (id → labels) the labels they go out with, decided at send time
    (:mod:`feedsvc.wanted`); one statement per row, for the rare rows whose labels changed."""
    for id_, names in labels.items():
        conn.execute(update(deliveries).where(deliveries.c.id == id_).values(topics=names))


def matches_for(
    conn: Connection, pairs: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], list[Match]]:
    """For each (chat id, article id) pair, the chat's subscriptions to enabled topics the
    article matches now (in subscription order), with their current title and forum thread,
    in one query: the topic half of what a chat wants of an article (:mod:`feedsvc.wanted`:
    an alert's labels, a digest's group), and which topics an alert's mute buttons offer and
    which thread it goes to. A disabled topic's stored matches want nothing."""
    if not pairs:
        return {}
    wanted = set(pairs)
    stmt = (
        select(
            subscriptions.c.chat_id, article_topics.c.article_id, topics.c.id, topics.c.slug,
            topics.c.title, subscriptions.c.thread_id,
        )
        .join(subscriptions, subscriptions.c.topic_id == article_topics.c.topic_id)
        .join(topics, topics.c.id == article_topics.c.topic_id)
        .where(
            subscriptions.c.chat_id.in_({c for c, _ in wanted}),
            article_topics.c.article_id.in_({a for _, a in wanted}),
            topics.c.enabled.is_(True),
        )
        .order_by(subscriptions.c.id)
    )  # fmt: skip
    out: dict[tuple[int, int], list[Match]] = {}
    for chat_id, article_id, topic_id, slug, title, thread in conn.execute(stmt).tuples():
        key = (int(chat_id), int(article_id))
        if key in wanted:
            out.setdefault(key, []).append(Match(int(topic_id), slug, title, thread))
    return out


@dataclass(frozen=True, slots=True)
class Unfollowed:
    """An enabled topic an article matches that a chat does not subscribe to (now), with
    when the topic was created: one created after an alert was sent was not followed then."""

    topic_id: int
    slug: str
    title: str
    created_at: datetime


def unfollowed_matches(
    conn: Connection, pairs: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], list[Unfollowed]]:
    """For each (chat id, article id) pair, the enabled topics the article matches now that
    the chat does not subscribe to, by topic id (two queries): where a corrected alert may
    offer the undo of a mute (:mod:`feedsvc.retraction.undo`)."""
    if not pairs:
        return {}
    wanted = set(pairs)
    stmt = (
        select(article_topics.c.article_id, topics.c.id, topics.c.slug, topics.c.title,
               topics.c.created_at)
        .join(topics, topics.c.id == article_topics.c.topic_id)
        .where(article_topics.c.article_id.in_({a for _, a in wanted}),
               topics.c.enabled.is_(True))
        .order_by(topics.c.id)
    )  # fmt: skip
    matched: dict[int, list[Unfollowed]] = {}
    for article_id, topic_id, slug, title, created in conn.execute(stmt).tuples():
        matched.setdefault(int(article_id), []).append(
            Unfollowed(int(topic_id), slug, title, created)
        )
    topic_ids = {t.topic_id for found in matched.values() for t in found}
    if not topic_ids:
        return {}
    followed = set(
        conn.execute(
            select(subscriptions.c.chat_id, subscriptions.c.topic_id).where(
                subscriptions.c.chat_id.in_({c for c, _ in wanted}),
                subscriptions.c.topic_id.in_(topic_ids),
            )
        ).tuples()
    )
    out: dict[tuple[int, int], list[Unfollowed]] = {}
    for chat_id, article_id in wanted:
        left = [t for t in matched.get(article_id, []) if (chat_id, t.topic_id) not in followed]
        if left:
            out[(chat_id, article_id)] = left
    return out


def query_threads(conn: Connection, chat_id: int) -> dict[str, int]:
    """The chat's own-query subscriptions that live in a forum thread: query → thread id."""
    return query_threads_for(conn, [chat_id]).get(chat_id, {})


def query_threads_for(conn: Connection, chat_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """:func:`query_threads` for many chats in one query."""
    if not chat_ids:
        return {}
    stmt = select(subscriptions.c.chat_id, subscriptions.c.query, subscriptions.c.thread_id).where(
        subscriptions.c.chat_id.in_(set(chat_ids)),
        subscriptions.c.query.is_not(None),
        subscriptions.c.thread_id.is_not(None),
    )
    out: dict[int, dict[str, int]] = {}
    for chat_id, query, thread in conn.execute(stmt).tuples():
        out.setdefault(int(chat_id), {})[str(query)] = int(thread)
    return out


def forget_thread(conn: Connection, chat_id: int, thread_id: int) -> int:
    """A deleted forum thread: its subscriptions deliver to the chat itself from now on."""
    result = conn.execute(
        update(subscriptions)
        .where(subscriptions.c.chat_id == chat_id, subscriptions.c.thread_id == thread_id)
        .values(thread_id=None)
    )
    return result.rowcount


def set_notice(conn: Connection, delivery_id: int, key: str | None) -> None:
    """A catalogue key (``digest.notice.<key>``) said once above this delivery's message."""
    conn.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(notice=key))


def next_due(conn: Connection, channel: str = "telegram") -> datetime | None:
    """When the next digest of ``channel`` may be claimed (its dispatcher sleeps that long at
    most): per chat the latest of its first held row's due time, its pacing slot and its 429
    pause; chats :func:`claim_digests` never takes (disabled, paused) are left out. A due time
    a chat cannot take yet would otherwise wake the dispatcher every 10 ms until it can."""
    stmt = (
        select(func.min(deliveries.c.due_at), chats.c.next_send_at, chats.c.blocked_until)
        .join(chats, chats.c.chat_id == deliveries.c.chat_id)
        .where(deliveries.c.state == "held", chats.c.channel == channel, _takes_digests())
        .group_by(chats.c.chat_id, chats.c.next_send_at, chats.c.blocked_until)
    )
    rows = conn.execute(stmt).tuples()
    return min((max(t for t in row if t is not None) for row in rows), default=None)


def _takes_digests() -> Any:
    """Chats a digest may go to at all: not disabled (bot removed, blocked) and not paused
    (``/pause``: nothing is sent; what is held waits for ``/resume``)."""
    return and_(chats.c.disabled_reason.is_(None), claims.chat_unpaused())


def alert_options(
    conn: Connection, delivery_ids: Sequence[int]
) -> dict[int, tuple[bool, str | None]]:
    """Per delivery: its chat's ``silent`` flag and the delivery's notice key."""
    if not delivery_ids:
        return {}
    stmt = (
        select(deliveries.c.id, chats.c.silent, deliveries.c.notice)
        .join(chats, chats.c.chat_id == deliveries.c.chat_id)
        .where(deliveries.c.id.in_(list(delivery_ids)))
    )
    return {int(i): (bool(s), n) for i, s, n in conn.execute(stmt).tuples()}


def message_articles(conn: Connection, chat_id: int, message_id: int) -> dict[int, list[str]]:
    """The articles one sent message carries (a digest part: several deliveries recorded with
    its id in the chat it was SENT to, ``sent_chat_id``), each with the labels it went out
    with: what :meth:`feedsvc.digest.edge.DigestEdge.message_now` lays out again."""
    stmt = (
        select(deliveries.c.article_id, deliveries.c.topics)
        .where(
            deliveries.c.sent_chat_id == chat_id,
            deliveries.c.message_id == message_id,
            deliveries.c.state == "sent",
        )
        .order_by(deliveries.c.id)
    )
    return {int(a): list(t or []) for a, t in conn.execute(stmt).tuples()}
