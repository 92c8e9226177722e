"""A Telegram group became a supergroup: its chat row, queue, subscriptions and delivery
options follow the new id.

Telegram gives the supergroup a new chat id and deactivates the group's (FIELD-NOTES: calls on
the old id answer ``migrate_to_chat_id``); the bot learns it from the group's service message
or from a send answered with it. Usually the supergroup is unknown and the chat row is simply
renamed. When the bot already knows it (someone typed ``/settings`` there first), the two rows
are merged into the supergroup's and the group's is dropped.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, select, update

from feedsvc.db.schema import chats, deliveries, subscriptions
from feedsvc.store.subscriptions import get_chat, subscribe

#: The chat options a person sets (``/pause``, ``/silent``, ``/digest``, ``/quiet``, the
#: admin's link previews): what the merge carries from the group to a known supergroup.
OPTIONS = ("paused", "silent", "link_preview", "digest", "quiet")


def follow_migration(conn: Connection, old: int, new: int, now: datetime) -> None:
    """A group became a supergroup (the bot's service message, or a send answered with
    ``migrate_to_chat_id``): its queued alerts, its subscriptions and its options follow the
    new id, and an old chat row left beside a known supergroup is dropped with what could not
    move (its alerts the supergroup has too), so no later article is queued for the dead id."""
    if old == new:  # "moved to itself" (a hostile answer): both exist, so the chat, its
        return  # subscriptions and its queue would be dropped as what stayed behind
    migrate_chat(conn, old, new)
    adopt_options(conn, old, new)
    adopt_subscriptions(conn, old, new, now)


def migrate_chat(conn: Connection, old: int, new: int) -> None:
    """Move the chat (FKs cascade) unless the new id exists.

    Sent rows move too (their history, and the chat's one row per article) but keep
    ``sent_chat_id``, the old group, where their messages are: Telegram's message ids are per
    chat and the old group is deactivated, so their follow-ups end ``unreachable``
    (:mod:`feedsvc.retraction.worker`), never touching the supergroup's message of that id.

    When both exist (the bot already knew the supergroup), the old chat's deliveries move to
    the new one except those of an article the new one already has (one row per chat and
    article: it gets, or got, that alert through its own row); those stay behind and go with the
    old chat (:func:`adopt_subscriptions`). Moving them all broke that uniqueness: the recording
    failed at every try and the alert was never ended. Those left behind are dropped with the
    old chat: a sent one's message is in the old group, beyond reach (its follow-ups could only
    end ``unreachable``); the supergroup's own row of the article is the one followed up."""
    exists = conn.execute(select(chats.c.chat_id).where(chats.c.chat_id == new)).first()
    if exists is None:
        conn.execute(
            update(chats)
            .where(chats.c.chat_id == old)
            .values(chat_id=new, address=str(new), type="supergroup")
        )
        return
    has = select(deliveries.c.article_id).where(deliveries.c.chat_id == new).scalar_subquery()
    conn.execute(
        update(deliveries)
        .where(deliveries.c.chat_id == old, deliveries.c.article_id.not_in(has))
        .values(chat_id=new)
    )


def adopt_options(conn: Connection, old: int, new: int) -> None:
    """When both rows exist, give the supergroup the group's options wherever its own are the
    defaults: a group that was paused, silent, quiet at night or on a digest stays so — the
    supergroup's row often exists only because someone typed ``/settings`` there, and dropping
    the group's row dropped them (an alert then went out at once, with sound, into a chat
    paused or quiet all day). A pause or silence on either side holds (a person asked for it);
    a schedule the supergroup set itself wins over the group's."""
    rows = conn.execute(
        select(chats.c.chat_id, *(chats.c[name] for name in OPTIONS))
        .where(chats.c.chat_id.in_((old, new)))
    ).all()  # fmt: skip
    by_id = {row.chat_id: row for row in rows}
    if old not in by_id or new not in by_id:
        return
    group, known = by_id[old], by_id[new]
    conn.execute(
        update(chats)
        .where(chats.c.chat_id == new)
        .values(
            paused=bool(known.paused or group.paused),
            silent=bool(known.silent or group.silent),
            link_preview=bool(known.link_preview or group.link_preview),
            digest=known.digest if known.digest is not None else group.digest,
            quiet=known.quiet if known.quiet is not None else group.quiet,
        )
    )


def adopt_subscriptions(conn: Connection, old: int, new: int, now: datetime) -> int:
    """Give ``new`` every subscription ``old`` still has, then drop ``old``'s chat row.

    :func:`migrate_chat` renames the chat when the supergroup is unknown (nothing to do here);
    when both rows exist it only moves the queue, so the subscriptions are merged here and the
    old chat row, now empty, is dropped. Returns subscriptions moved."""
    if get_chat(conn, old) is None or get_chat(conn, new) is None:
        return 0
    moved = 0
    for sub in conn.execute(select(subscriptions).where(subscriptions.c.chat_id == old)):
        if subscribe(
            conn, new, topic_id=sub.topic_id, query=sub.query, now=now, created_by=sub.created_by
        ):
            moved += 1
    conn.execute(delete(subscriptions).where(subscriptions.c.chat_id == old))
    conn.execute(delete(chats).where(chats.c.chat_id == old))
    return moved
