"""Queued alerts ended in bulk without a send: dead letters, which an admin may re-send
(:func:`feedsvc.store.deliveries.resend`), each saying why in its ``error``.

* a recipient switched off after ``disable_after`` hard failures in a row (:func:`chat_failed`,
  its queue ``disabled``; :func:`chat_succeeded` resets the count);
* a channel this service does not configure (:func:`end_off_channel`, :mod:`feedsvc.channel_modes`);
* alerts kept unsent past the bound (:func:`end_stale`, :mod:`feedsvc.stale_alerts`).

The rows' life is told in :mod:`feedsvc.store.deliveries`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update

from feedsvc.db.schema import articles, chats, deliveries
from feedsvc.store import claims
from feedsvc.store.deliveries import of_channel


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
        .values(state="disabled", error=_said(reason)[:1000], finished_at=now)
    )
    return True


def _said(reason: str) -> str:
    """What a stored switch-off reason (``code|the channel's words``,
    :func:`feedsvc.catalogue.reasons.stored_reason`) puts in its deliveries' error: the
    channel's words when it gave any, else the code; never the ``code|`` form, which the admin
    and ``feedsvc status`` showed as if the channel had said it. No words of ours before them:
    the state (``disabled``) says the recipient was switched off, worded for its channel where
    shown; an English "chat disabled:" read wrong for an Apprise destination."""
    from feedsvc.catalogue.reasons import split_reason  # only when a chat is switched off

    code, detail = split_reason(reason)
    return detail or code or reason


def end_off_channel(conn: Connection, channel: str, error: str, now: datetime) -> int:
    """End every queued delivery of ``channel`` (``pending`` or ``held``, never one being sent)
    as ``failed`` with ``error``: the channel is not configured in this service
    (:mod:`feedsvc.channel_modes`), so nothing can send them; a dead letter says why and can be
    re-sent once it is. Returns how many."""
    result = conn.execute(
        update(deliveries)
        .where(deliveries.c.state.in_(("pending", "held")), of_channel(channel))
        .values(state="failed", error=error[:1000], finished_at=now)
    )
    return result.rowcount


def end_stale(conn: Connection, channel: str, max_age: timedelta, error: str, now: datetime) -> int:
    """End ``channel``'s alerts kept unsent past the bound as ``failed`` with ``error``
    (:mod:`feedsvc.stale_alerts`): ``pending`` ones whose article was published more than
    ``max_age`` before ``now``, queued while it was fresh, and that either became due while
    it was fresh (never tried since: a channel ``waiting``, a backlog) or wait on a failed try
    (``retry_kind``: an outage, a refused token, a closed topic). Returns how many.

    Left waiting, as README promises: a paused chat's queue (it goes out after ``/resume``,
    which makes it due then: ``subscriptions.set_paused``), ``held`` alerts (a digest or quiet
    hours sends them at its time), one being sent, and a re-sent one (:func:`resend` queues it
    again, ``created_at`` then): it was ended again within a minute, or after one failed try,
    before it could go (verifiers')."""
    published_before = now - max_age
    rows = conn.execute(
        select(deliveries.c.id, deliveries.c.due_at, deliveries.c.retry_kind,
               deliveries.c.created_at, articles.c.published_at)
        .join(articles, articles.c.id == deliveries.c.article_id)
        .join(chats, chats.c.chat_id == deliveries.c.chat_id)
        .where(
            deliveries.c.state == "pending",
            of_channel(channel),
            claims.chat_unpaused(),
            articles.c.published_at < published_before,
        )
    ).all()  # fmt: skip
    ids = [
        row.id
        for row in rows
        if row.created_at < row.published_at + max_age
        and (row.retry_kind is not None or row.due_at < row.published_at + max_age)
    ]
    for chunk in range(0, len(ids), 500):
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(ids[chunk : chunk + 500]), deliveries.c.state == "pending")
            .values(state="failed", error=error[:1000], finished_at=now)
        )
    return len(ids)
