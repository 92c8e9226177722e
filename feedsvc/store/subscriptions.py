"""Chats and their subscriptions (to a topic, or to the chat's own query). Who an article alerts
(the outbox's reads of the same tables) is :mod:`feedsvc.store.audience`; which chats receive
no alerts now, and why, :mod:`feedsvc.store.chat_pauses`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Select, delete, func, select, update

from feedsvc.db.schema import (
    NON_TELEGRAM_END,
    NON_TELEGRAM_IDS,
    chats,
    deliveries,
    subscriptions,
    topics,
)
from feedsvc.fieldtext import quoted_query
from feedsvc.store.upsert import insert_missing


@dataclass(frozen=True, slots=True)
class Chat:
    """One recipient (a ``chats`` row): ``channel`` and ``address`` say where alerts go."""

    chat_id: int
    type: str
    title: str | None
    paused: bool
    disabled_reason: str | None
    link_preview: bool
    channel: str = "telegram"
    address: str = ""  # an Apprise URL here is a secret: mask it before showing it


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    chat_id: int
    topic_slug: str | None
    topic_title: str | None
    query: str | None
    channel: str = "telegram"
    address: str = ""  # the recipient's address; an Apprise URL here is a secret: mask it
    thread_id: int | None = None  # the forum topic thread it delivers to (None: the chat)

    @property
    def label(self) -> str:
        return self.topic_title or self.topic_slug or quoted_query(self.query or "")


class RecipientIdsExhausted(RuntimeError):
    """Every id of the non-Telegram range is taken up to its last: a new recipient would need an
    id a double cannot hold exactly (:func:`ensure_recipient`)."""


def ensure_chat(
    conn: Connection, chat_id: int, type_: str, title: str | None, now: datetime
) -> Chat:
    """The chat's row, created if missing (the bot and the admin API may race: no error) or
    brought up to date with its type and title."""
    row = conn.execute(_chat_select().where(chats.c.chat_id == chat_id)).first()
    if row is None:
        conn.execute(
            insert_missing(conn, chats).values(
                chat_id=chat_id,
                channel="telegram",
                address=str(chat_id),
                type=type_,
                title=title,
                paused=False,
                failures=0,
                link_preview=False,
                created_at=now,
            )
        )
    elif row.title != title or row.type != type_:
        conn.execute(
            update(chats).where(chats.c.chat_id == chat_id).values(type=type_, title=title)
        )
    chat = get_chat(conn, chat_id)
    assert chat is not None
    return chat


def get_chat(conn: Connection, chat_id: int) -> Chat | None:
    row = conn.execute(_chat_select().where(chats.c.chat_id == chat_id)).first()
    return None if row is None else _chat(row)


def _chat_select() -> Any:
    """The columns a :class:`Chat` is made of, named: a column added by a later migration
    (e.g. 0013's delivery options) is not read here, so these functions also work on a
    database one migration behind (the upgrade tests run them there)."""
    return select(
        chats.c.chat_id, chats.c.type, chats.c.title, chats.c.paused, chats.c.disabled_reason,
        chats.c.link_preview, chats.c.channel, chats.c.address,
    )  # fmt: skip


def _chat(row: Any) -> Chat:
    return Chat(
        int(row.chat_id), row.type, row.title, row.paused, row.disabled_reason,
        row.link_preview, row.channel, row.address,
    )  # fmt: skip


def find_recipient(conn: Connection, channel: str, address: str) -> Chat | None:
    """The recipient ``(channel, address)``, or None."""
    stmt = _chat_select().where(chats.c.channel == channel, chats.c.address == address)
    row = conn.execute(stmt).first()
    return None if row is None else _chat(row)


def recipient_addresses(conn: Connection, channel: str) -> list[str]:
    """Every address of ``channel``'s recipients, oldest first."""
    stmt = select(chats.c.address).where(chats.c.channel == channel).order_by(chats.c.chat_id)
    return [row[0] for row in conn.execute(stmt) if row[0] is not None]


def ensure_recipient(
    conn: Connection, channel: str, address: str, type_: str, title: str | None, now: datetime
) -> Chat:
    """The recipient ``(channel, address)`` of a channel other than Telegram, created if missing
    with a ``chat_id`` in [:data:`NON_TELEGRAM_IDS`, :data:`NON_TELEGRAM_END`) (never a Telegram
    id, exact as a double: see ``db.schema``); type and title brought up to date.

    Race-free without a sequence: the insert takes the next id after the largest in the range
    and skips any conflict; when it lost (a concurrent insert took that id, or this very
    address), the row is read back by its address, else the next id is tried. Raises
    ``ValueError`` for the ``telegram`` channel (its rows are keyed by Telegram's own id:
    :func:`ensure_chat`), :class:`RecipientIdsExhausted` past the range's last id (2**52 ids:
    never in practice; an id beyond it would be a double shared by two recipients again).
    """
    if channel == "telegram":
        raise ValueError("telegram recipients are keyed by their chat id: use ensure_chat")
    for _ in range(100):
        found = find_recipient(conn, channel, address)
        if found is not None:
            if found.type != type_ or found.title != title:
                conn.execute(
                    update(chats)
                    .where(chats.c.chat_id == found.chat_id)
                    .values(type=type_, title=title)
                )
                return replace(found, type=type_, title=title)
            return found
        in_range = chats.c.chat_id.between(NON_TELEGRAM_IDS, NON_TELEGRAM_END - 1)
        top = conn.execute(select(func.max(chats.c.chat_id)).where(in_range)).scalar()
        chat_id = NON_TELEGRAM_IDS if top is None else int(top) + 1
        if chat_id >= NON_TELEGRAM_END:
            raise RecipientIdsExhausted(
                f"no recipient id left for a new {channel} recipient: ids {NON_TELEGRAM_IDS} to"
                f" {NON_TELEGRAM_END - 1} are taken up to the last one"
            )
        conn.execute(
            insert_missing(conn, chats).values(
                chat_id=chat_id, channel=channel, address=address, type=type_, title=title,
                paused=False, failures=0, link_preview=False, created_at=now,
            )
        )  # fmt: skip
    raise RuntimeError(f"no free recipient id for a {channel} recipient after 100 tries")


def set_paused(conn: Connection, chat_id: int, paused: bool) -> None:
    """Pause or resume ``chat_id``. Resumed, what it had queued is due now (UTC), in order:
    README promises it goes out after ``/resume``, and an alert due before the pause read as
    "kept unsent since due" to ``dead_letters.end_stale``, which ended it (a verifier's)."""
    changed = conn.execute(
        update(chats).where(chats.c.chat_id == chat_id, chats.c.paused.is_(not paused))
        .values(paused=paused)
    ).rowcount  # fmt: skip
    if changed and not paused:
        now = datetime.now(UTC)
        conn.execute(
            update(deliveries)
            .where(
                deliveries.c.chat_id == chat_id,
                deliveries.c.state == "pending",
                deliveries.c.due_at < now,
            )
            .values(due_at=now)
        )


def set_link_preview(conn: Connection, chat_id: int, on: bool) -> None:
    conn.execute(update(chats).where(chats.c.chat_id == chat_id).values(link_preview=on))


def reenable_chat(conn: Connection, chat_id: int) -> bool:
    """A chat that talks to the bot again (e.g. /start after blocking it) is live again; True
    when it was switched off (what ``subs add`` of an Apprise URL tells the admin)."""
    result = conn.execute(
        update(chats)
        .where(chats.c.chat_id == chat_id, chats.c.disabled_reason.is_not(None))
        .values(disabled_reason=None, failures=0)
    )
    return result.rowcount == 1


def disable_chat(conn: Connection, chat_id: int, reason: str) -> bool:
    """The bot was removed, kicked or blocked: stop queueing alerts for this chat, keep its subs."""
    result = conn.execute(
        update(chats).where(chats.c.chat_id == chat_id).values(disabled_reason=reason)
    )
    return result.rowcount == 1


def subscribe(
    conn: Connection,
    chat_id: int,
    *,
    topic_id: int | None,
    query: str | None,
    now: datetime,
    created_by: str | None = None,
    thread_id: int | object | None = ...,
) -> bool:
    """Idempotent, also against a concurrent writer: False when the chat already had it.
    ``created_by``: the user key (``"telegram:42"``) a bot counts per-user caps by.

    ``thread_id`` (issue 15): the forum topic thread the subscription delivers to, also set on
    an existing subscription (``/sub`` again in another thread moves it); None: the chat
    itself; left out: unchanged (callers that know nothing of threads)."""
    stmt = insert_missing(conn, subscriptions).values(
        chat_id=chat_id, topic_id=topic_id, query=query, created_at=now, created_by=created_by
    )
    # looked up first: an insert that skips still spends an id (SQLite's AUTOINCREMENT,
    # PostgreSQL's sequence), and a repeated /sub left gaps in the ids people see
    found = find_subscription(conn, chat_id, topic_id=topic_id, query=query) is not None
    added = not found and conn.execute(stmt.returning(subscriptions.c.id)).first() is not None
    if thread_id is not ...:
        cond = (
            subscriptions.c.topic_id == topic_id
            if topic_id is not None
            else subscriptions.c.query == query
        )
        conn.execute(
            update(subscriptions)
            .where(subscriptions.c.chat_id == chat_id, cond)
            .values(thread_id=thread_id)
        )
    return added


def subscription_thread(
    conn: Connection, chat_id: int, topic_id: int | None, query: str | None = None
) -> int | None:
    """The forum thread the chat's subscription to ``topic_id`` (or, with ``topic_id`` None,
    to its own ``query``) delivers to (None: the chat itself, or no such subscription)."""
    cond = (
        subscriptions.c.topic_id == topic_id
        if topic_id is not None
        else subscriptions.c.query == query
    )
    stmt = select(subscriptions.c.thread_id).where(subscriptions.c.chat_id == chat_id, cond)
    value = conn.execute(stmt).scalar()
    return int(value) if value is not None else None


def unsubscribe(conn: Connection, chat_id: int, *, topic_id: int | None, query: str | None) -> int:
    cond = (
        subscriptions.c.topic_id == topic_id
        if topic_id is not None
        else subscriptions.c.query == query
    )
    result = conn.execute(delete(subscriptions).where(subscriptions.c.chat_id == chat_id, cond))
    return result.rowcount


_SubRow = tuple[int, int, str | None, str | None, str | None, str, str, int | None]


def _subscriptions_select() -> Select[_SubRow]:
    """Subscriptions with their topic's slug and title (None for query subscriptions) and their
    recipient's channel and address."""
    return select(
        subscriptions.c.id,
        subscriptions.c.chat_id,
        topics.c.slug,
        topics.c.title,
        subscriptions.c.query,
        chats.c.channel,
        chats.c.address,
        subscriptions.c.thread_id,
    ).select_from(
        subscriptions.outerjoin(topics, topics.c.id == subscriptions.c.topic_id).join(
            chats, chats.c.chat_id == subscriptions.c.chat_id
        )
    )


def list_subscriptions(
    conn: Connection, chat_id: int | None = None, *, channel: str | None = None
) -> list[Subscription]:
    """Every subscription (of one chat, of one channel), by chat then id."""
    stmt = _subscriptions_select().order_by(subscriptions.c.chat_id, subscriptions.c.id)
    if chat_id is not None:
        stmt = stmt.where(subscriptions.c.chat_id == chat_id)
    if channel is not None:
        stmt = stmt.where(chats.c.channel == channel)
    return [Subscription(*row) for row in conn.execute(stmt).tuples()]


def unsubscribe_id(conn: Connection, chat_id: int, subscription_id: int) -> int:
    """Remove one subscription by id (``/unsub 2`` picks it from ``/list``), only in this chat;
    an id no subscription can have (:data:`_IDS`) removes nothing."""
    if subscription_id not in _IDS:
        return 0
    result = conn.execute(
        delete(subscriptions).where(
            subscriptions.c.chat_id == chat_id, subscriptions.c.id == subscription_id
        )
    )
    return result.rowcount


def count_user_subscriptions(conn: Connection, user: str) -> int:
    """Subscriptions ``user`` (a ``created_by`` key) created, across every chat."""
    stmt = select(func.count()).select_from(subscriptions).where(subscriptions.c.created_by == user)
    return int(conn.execute(stmt).scalar_one())


def count_subscriptions(conn: Connection, chat_id: int) -> int:
    stmt = select(func.count()).select_from(subscriptions).where(subscriptions.c.chat_id == chat_id)
    return int(conn.execute(stmt).scalar_one())


#: The ids ``subscriptions.id`` (an INTEGER: PostgreSQL's int4) can hold. An id typed outside
#: it (the API and ``subs remove`` take any 64-bit id) names no subscription; bound as it is,
#: PostgreSQL refused the statement ("integer out of range"): a 500 with a traceback from
#: ``DELETE /api/subscriptions/2147483648``, a "database error" from ``subs remove``.
_IDS = range(-(2**31), 2**31)


def get_subscription(conn: Connection, subscription_id: int) -> Subscription | None:
    if subscription_id not in _IDS:
        return None
    stmt = _subscriptions_select().where(subscriptions.c.id == subscription_id)
    row = conn.execute(stmt).tuples().first()
    return Subscription(*row) if row else None


def find_subscription(
    conn: Connection, chat_id: int, *, topic_id: int | None, query: str | None
) -> int | None:
    cond = (
        subscriptions.c.topic_id == topic_id
        if topic_id is not None
        else subscriptions.c.query == query
    )
    stmt = select(subscriptions.c.id).where(subscriptions.c.chat_id == chat_id, cond)
    found = conn.execute(stmt).scalar()
    return int(found) if found is not None else None


def delete_subscription(conn: Connection, subscription_id: int) -> bool:
    """Remove one subscription by id, whatever its chat (the admin's view, not a chat's); an
    id no subscription can have (:data:`_IDS`) removes nothing."""
    if subscription_id not in _IDS:
        return False
    result = conn.execute(delete(subscriptions).where(subscriptions.c.id == subscription_id))
    return result.rowcount == 1


def list_chats(conn: Connection) -> dict[int, Chat]:
    rows = conn.execute(_chat_select().order_by(chats.c.chat_id))
    return {int(r.chat_id): _chat(r) for r in rows}
