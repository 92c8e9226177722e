"""What the channels said of the bot tokens given to them: accepted (``channel_tokens``,
migration 0036) or refused (``channel_refusals``, migration 0038).

A start with a token records the channel (:func:`note_tokens`); a later start without it reads
that (:func:`tokens_seen`), and :mod:`feedsvc.channel_modes` makes the channel wait for the token
instead of logging its alerts as sent (Telegram's console) or ending them as failed (Zalo off).
A refusal (:func:`note_refusal`) stands until a token is accepted (which deletes it): every
process on the DB reads it as ``refused`` while it is fresh (:func:`refusals`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Table, delete, func, select, update

from feedsvc.channel_modes import channel_modes, shown_modes
from feedsvc.db.schema import chats, deliveries
from feedsvc.db.schema_service import channel_refusals as r
from feedsvc.db.schema_service import channel_tokens as t
from feedsvc.delivery_states import UNFINISHED
from feedsvc.store.upsert import insert_missing

if TYPE_CHECKING:
    from feedsvc.channel_modes import Mode, Shown
    from feedsvc.config import Settings


def note_tokens(conn: Connection, channels: Collection[str], now: datetime) -> None:
    """Record that each of ``channels`` accepted this process's token now (UTC): its refusal,
    if one was recorded, is over."""
    for channel in channels:
        _touch(conn, t, channel, now)
        conn.execute(delete(r).where(r.c.channel == channel))


def note_refusal(conn: Connection, channel: str, now: datetime) -> None:
    """Record that ``channel`` refused this process's token now (UTC: getMe or a send said
    so); the acceptance record stays (``waiting`` needs it once the token is fixed)."""
    _touch(conn, r, channel, now)


def _touch(conn: Connection, table: Table, channel: str, now: datetime) -> None:
    done = conn.execute(update(table).where(table.c.channel == channel).values(last_at=now))
    if done.rowcount == 0:  # a replica recording at the same moment may insert it first
        conn.execute(insert_missing(conn, table).values(channel=channel, first_at=now, last_at=now))


def forget_token(conn: Connection, channel: str) -> bool:
    """Forget ``channel``'s record (``feedsvc db forget-token``), its refusal too; whether
    there was an acceptance recorded."""
    conn.execute(delete(r).where(r.c.channel == channel))
    return bool(conn.execute(delete(t).where(t.c.channel == channel)).rowcount)


def has_token(conn: Connection, channel: str) -> bool:
    """Whether a process has recorded ``channel``'s token (one primary-key read)."""
    return conn.execute(select(t.c.channel).where(t.c.channel == channel)).first() is not None


def modes_on(conn: Connection, settings: Settings) -> dict[str, Mode]:
    """The channel modes a service started with ``settings`` has on this DB
    (:func:`feedsvc.channel_modes.channel_modes` of :func:`tokens_seen`): what ``status`` and
    ``subs add`` say without a running service."""
    return channel_modes(settings, tokens_seen(conn))


def modes_shown(conn: Connection, modes: Mapping[str, Mode], now: datetime) -> dict[str, Shown]:
    """What ``modes`` (a process's, or :func:`modes_on`'s) show on this DB now (UTC, the DB's
    clock): :func:`feedsvc.channel_modes.shown_modes` of this DB's evidence — ``/readyz``'s
    and ``/metrics``' probe; the status facts read the same evidence with the rest."""
    return shown_modes(modes, refusals(conn), tokens_seen(conn), now)


def refusals(conn: Connection) -> dict[str, datetime]:
    """``{channel: its latest refusal of a token (UTC)}`` for each refusal not yet superseded
    by an acceptance."""
    return {c: at for c, at in conn.execute(select(r.c.channel, r.c.last_at))}


def tokens_seen(conn: Connection) -> dict[str, datetime]:
    """``{channel: the latest start with its token (UTC)}`` for every channel recorded."""
    return {c: at for c, at in conn.execute(select(t.c.channel, t.c.last_at))}


def queued_for(conn: Connection, channel: str) -> int:
    """Alerts of ``channel``'s recipients not yet finished (pending, held or sending)."""
    stmt = (
        select(func.count())
        .select_from(deliveries.join(chats, chats.c.chat_id == deliveries.c.chat_id))
        .where(chats.c.channel == channel, deliveries.c.state.in_(UNFINISHED))
    )
    return int(conn.execute(stmt).scalar_one())
