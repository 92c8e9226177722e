"""The chats that receive no alerts right now, and why: paused (``/pause``, an admin), switched
off (``disabled_reason``), or waiting out Telegram's 429 (``blocked_until`` still ahead):
``feedsvc status``' ``chats_not_receiving``, ``/api/status``' ``chat_pauses``, the admin's status
page and ``subs list``'s notes. ``feedsvc.store.lite.chat_pauses`` reads the same without
SQLAlchemy. Apart from :mod:`feedsvc.store.subscriptions` (the chats and their subscriptions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from feedsvc.db.schema import chats
from feedsvc.recipient_names import chat_name


@dataclass(frozen=True, slots=True)
class ChatPause:
    """A chat that is not receiving alerts right now, and why."""

    chat_id: int
    type: str
    title: str | None
    paused: bool  # by the chat itself (/pause) or an admin
    blocked_until: datetime | None  # Telegram's 429 retry_after, when still in the future
    disabled_reason: str | None
    channel: str = "telegram"  # whose words the reason takes (catalogue.reasons)
    address: str | None = None  # the channel's own id (an Apprise URL: a secret, never shown)

    @property
    def recipient(self) -> str:
        """The chat as operators know it (:func:`feedsvc.recipient_names.chat_name`)."""
        return chat_name(self.channel, self.address, self.chat_id)


def chat_pauses(conn: Connection, now: datetime, only: int | None = None) -> list[ChatPause]:
    """The chats not receiving alerts at ``now`` (aware UTC), by chat id; ``only``: that chat
    id's alone (``operations.recipients``: what still stops a recipient just subscribed)."""
    stmt = (
        select(
            chats.c.chat_id,
            chats.c.type,
            chats.c.title,
            chats.c.paused,
            chats.c.blocked_until,
            chats.c.disabled_reason,
            chats.c.channel,
            chats.c.address,
        )
        .where(
            (chats.c.blocked_until > now)
            | chats.c.paused.is_(True)
            | chats.c.disabled_reason.is_not(None)
        )
        .order_by(chats.c.chat_id)
    )
    if only is not None:
        stmt = stmt.where(chats.c.chat_id == only)
    out = []
    for chat_id, type_, title, paused, blocked, reason, channel, address in conn.execute(
        stmt
    ).tuples():
        blocked = blocked if blocked is not None and blocked > now else None
        out.append(
            ChatPause(int(chat_id), type_, title, bool(paused), blocked, reason, channel, address)
        )
    return out
