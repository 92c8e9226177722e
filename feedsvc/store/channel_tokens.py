"""What the channels said of the bot tokens given to them: accepted (``channel_tokens``,
migration 0036) or refused (``channel_refusals``, migration 0038).

A start with a token records the channel (:func:`note_tokens`); a later start without it reads
that (:func:`tokens_seen`), and :mod:`feedsvc.channel_modes` makes the channel wait for the token
instead of logging its alerts as sent (Telegram's console) or ending them as failed (Zalo off).
A refusal (:func:`note_refusal`) is each process's own (one row per channel and holder,
migration 0039, with its token's fingerprint): it stands until that process's token is
accepted (which deletes it; a row carried over from before 0039, holder ``""``, goes with any
acceptance) or its records stop (the process stopped: it ages out, and an older one is deleted
as the channel's next word is recorded). Every process on the DB reads a fresh one as
``refused`` (:func:`refusals`), whatever another process's token does; status names the
processes (:func:`refusal_records`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Connection, delete, func, select, update

from feedsvc.channel_modes import (
    REFUSED_FRESH_SECONDS,
    Refusal,
    channel_modes,
    latest_refusals,
    shown_modes,
)
from feedsvc.db.schema import chats, deliveries
from feedsvc.db.schema_service import channel_refusals as r
from feedsvc.db.schema_service import channel_tokens as t
from feedsvc.delivery_states import UNFINISHED
from feedsvc.store.leases import this_process
from feedsvc.store.upsert import insert_missing

if TYPE_CHECKING:
    from feedsvc.channel_modes import Mode, Shown
    from feedsvc.config import Settings


def note_tokens(
    conn: Connection, channels: Collection[str], now: datetime, *, holder: str | None = None
) -> None:
    """Record that each of ``channels`` accepted the token of ``holder`` (default this process,
    ``store.leases.this_process``) now (UTC): that process's refusal, if it recorded one, is
    over (another process's is not: its token is another), and so is one carried over from
    before migration 0039 (its process unknown, holder ``""``)."""
    holder = holder or this_process()
    for channel in channels:
        done = conn.execute(update(t).where(t.c.channel == channel).values(last_at=now))
        if done.rowcount == 0:  # a replica recording at the same moment may insert it first
            row = {"channel": channel, "first_at": now, "last_at": now}
            conn.execute(insert_missing(conn, t).values(**row))
        mine = r.c.holder.in_([holder, ""])
        conn.execute(delete(r).where(r.c.channel == channel, mine | _stale(now)))


def note_refusal(
    conn: Connection, channel: str, now: datetime, *, holder: str | None = None,
    token: str | None = None,
) -> None:  # fmt: skip
    """Record that ``channel`` refused the token of ``holder`` (default this process) now
    (UTC: getMe or a send said so); ``token``: its fingerprint
    (``channel_modes.token_fingerprint``, never the token). The acceptance record stays
    (``waiting`` needs it once the token is fixed); the channel's refusals of processes
    stopped long since go."""
    holder = holder or this_process()
    mine = (r.c.channel == channel) & (r.c.holder == holder)
    done = conn.execute(update(r).where(mine).values(last_at=now, token=token))
    if done.rowcount == 0:  # two of this process's transactions may both insert it
        row = {"channel": channel, "holder": holder, "token": token}
        conn.execute(insert_missing(conn, r).values(**row, first_at=now, last_at=now))
    conn.execute(delete(r).where(r.c.channel == channel, _stale(now)))


def forget_refusal(conn: Connection, channel: str, *, holder: str | None = None) -> None:
    """``holder``'s (default this process's) refusal record of ``channel`` goes: it stopped."""
    holder = holder or this_process()
    conn.execute(delete(r).where(r.c.channel == channel, r.c.holder == holder))


def _stale(now: datetime) -> ColumnElement[bool]:
    """Refusals older than twice the freshness bound: no process records them any more
    (the bound's margin keeps a record a reader with a slower clock still reads)."""
    return r.c.last_at < now - timedelta(seconds=2 * REFUSED_FRESH_SECONDS)


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
    """``{channel: its latest refusal of a token by any process (UTC)}``: what
    ``channel_modes.shown_modes`` reads (:func:`refusal_records` says whose)."""
    return latest_refusals(refusal_records(conn))


def refusal_records(conn: Connection) -> list[Refusal]:
    """Every process's refusal record, by channel, newest first (stale ones too: the reader
    keeps the fresh, ``channel_modes.fresh_refusals``)."""
    stmt = select(r.c.channel, r.c.holder, r.c.token, r.c.last_at)
    rows = conn.execute(stmt.order_by(r.c.channel, r.c.last_at.desc(), r.c.holder))
    return [Refusal(c, h or None, fp, at) for c, h, fp, at in rows]


def refused_fresh(conn: Connection, channel: str, now: datetime) -> bool:
    """Whether a process holds a token ``channel`` refuses now (a refusal under
    ``REFUSED_FRESH_SECONDS`` old by ``now``, UTC): a stand-in must then claim nothing."""
    since = now - timedelta(seconds=REFUSED_FRESH_SECONDS)
    stmt = select(r.c.holder).where(r.c.channel == channel, r.c.last_at >= since).limit(1)
    return conn.execute(stmt).first() is not None


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
