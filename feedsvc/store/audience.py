"""Who an article alerts (read by the outbox inside the ingest transaction): the live subscribers
of its topics, and the own-query subscriptions, whose texts the chat-query index compiles and
whose change stamp tells it when to read them again. Live: the chat is neither paused nor
disabled, as committed before the ingest transaction, whatever a compiled index still holds."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, func, select

from feedsvc.db.schema import chats, subscriptions


def query_subscriptions_stamp(conn: Connection) -> tuple[object, ...]:
    """A cheap stamp of the own-query subscriptions: it changes when one is added or removed.

    Count, highest id and total query length: SQLite may hand a deleted highest id to the next
    insert, so the length sum catches most such swaps; what slips through is caught when the
    outbox finds a matched subscription's text differs from the compiled one
    (:func:`live_query_targets`) and forces a full re-read.
    """
    row = conn.execute(
        select(
            func.count(),
            func.max(subscriptions.c.id),
            func.coalesce(func.sum(func.length(subscriptions.c.query)), 0),
        ).where(subscriptions.c.query.is_not(None))
    ).one()
    return tuple(row)


def query_subscription_texts(conn: Connection) -> dict[int, str]:
    """``subscription id → query`` for every own-query subscription, whatever its chat's state
    (pausing or disabling a chat must not cost a recompilation; the outbox filters live chats)."""
    stmt = select(subscriptions.c.id, subscriptions.c.query).where(
        subscriptions.c.query.is_not(None)
    )
    return {int(i): str(q) for i, q in conn.execute(stmt).tuples()}


def live_topic_subscribers(conn: Connection, topic_ids: set[int]) -> list[tuple[int, int]]:
    """``(chat_id, topic_id)`` for chats that are neither paused nor disabled."""
    if not topic_ids:
        return []
    stmt = (
        select(subscriptions.c.chat_id, subscriptions.c.topic_id)
        .join(chats, chats.c.chat_id == subscriptions.c.chat_id)
        .where(
            subscriptions.c.topic_id.in_(topic_ids),
            chats.c.paused.is_(False),
            chats.c.disabled_reason.is_(None),
        )
    )
    return [(int(c), int(t)) for c, t in conn.execute(stmt).tuples()]


def live_query_targets(conn: Connection, ids: Iterable[int]) -> dict[int, tuple[int, str]]:
    """``subscription id → (chat_id, query)`` for those of ``ids`` that still exist and whose chat
    is neither paused nor disabled (read inside the ingest transaction: an /unsub or /pause that
    committed before it is always honoured, whatever the compiled index still holds)."""
    wanted = sorted(set(ids))
    out: dict[int, tuple[int, str]] = {}
    for start in range(0, len(wanted), 500):  # bounded IN lists
        stmt = (
            select(subscriptions.c.id, subscriptions.c.chat_id, subscriptions.c.query)
            .join(chats, chats.c.chat_id == subscriptions.c.chat_id)
            .where(
                subscriptions.c.id.in_(wanted[start : start + 500]),
                subscriptions.c.query.is_not(None),
                chats.c.paused.is_(False),
                chats.c.disabled_reason.is_(None),
            )
        )
        for i, c, q in conn.execute(stmt).tuples():
            out[int(i)] = (int(c), str(q))
    return out


def chat_query_subscriptions(
    conn: Connection, chat_ids: Iterable[int]
) -> dict[int, list[tuple[int, str]]]:
    """``chat_id → [(subscription id, query)]`` of these chats' own-query subscriptions, by
    id, whatever the chat's state (what the chat wants of an article now: ``feedsvc.wanted``)."""
    wanted = sorted(set(chat_ids))
    out: dict[int, list[tuple[int, str]]] = {}
    for start in range(0, len(wanted), 500):  # bounded IN lists
        stmt = (
            select(subscriptions.c.id, subscriptions.c.chat_id, subscriptions.c.query)
            .where(
                subscriptions.c.chat_id.in_(wanted[start : start + 500]),
                subscriptions.c.query.is_not(None),
            )
            .order_by(subscriptions.c.id)
        )
        for i, c, q in conn.execute(stmt).tuples():
            out.setdefault(int(c), []).append((int(i), str(q)))
    return out
