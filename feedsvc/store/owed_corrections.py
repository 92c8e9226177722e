"""Corrections owed to sent alerts: now, or once the article is public again (SPEC §10).

A tester's report: an alerted article corrected (new title and summary) with its
``published_at`` 10 s ahead of now — a CMS clock a little ahead re-dating the edit, too little
to retract the alert (``followup_queue.RESCHEDULE_GRACE``) — came back in the feeds with the new
title 10 s later, while the chat kept the old one for good: a correction was owed only when it
was stored while its article was public, and the article's coming due, like an unhide or a
republish, owed nothing. A restore (``store.restores``) covered only a notice; an alert left
as it was (a move under a minute, a retraction cancelled because the article came back before
its turn, ``on_withdraw = "keep"``) kept the old words.

:func:`owe_corrections` is **the one decision of when a correction's edits are owed**: an
article public now gets them at once (``followup_queue.queue_corrections``, in the ingest
transaction); one that is not — scheduled ahead, hidden, withdrawn — is marked
(``articles.correction_owed_at``, migration 0043), and the follow-up worker's sweep takes the
mark once the article is public, by whatever path (its time come, an unhide, a republish), and
owes the same edits then (:func:`take_owed`), within the 48 h window counted from then: the
worker reads the article's text when it claims the edit, so the newest correction is what
goes out, once. Which alerts an edit is owed on — sent within the window, not deleted nor
showing a notice (a notice is restored instead, and that restore is this same edit) — stays
``queue_corrections``' decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update

from feedsvc.db.schema import articles, deliveries
from feedsvc.lifecycle.visibility import public_clause
from feedsvc.retraction.plan import EDIT_WINDOW
from feedsvc.store.followup_queue import queue_corrections
from feedsvc.store.lifecycle import public_ids

#: a sweep takes at most this many marked articles (the rest at the next sweep)
TAKE = 500


def owe_corrections(
    conn: Connection, article_ids: Sequence[int], now: datetime, window: timedelta = EDIT_WINDOW
) -> int:
    """The sent alerts of these corrected articles are owed an edit: queued now for those
    public at ``now`` (their mark cleared: this edit carries the newest text), marked for
    later on the others that were ever alerted. Returns how many edits were queued now."""
    ids = sorted(set(article_ids))
    if not ids:
        return 0
    public = public_ids(conn, ids, now)
    later = [i for i in ids if i not in public]
    alerted = select(deliveries.c.id).where(
        deliveries.c.article_id == articles.c.id,
        deliveries.c.state.in_(("sent", "sending")),
    )
    if later:
        conn.execute(
            update(articles)
            .where(articles.c.id.in_(later), alerted.exists())
            .values(correction_owed_at=now)
        )
    now_ids = sorted(public)
    if now_ids:
        _clear(conn, now_ids)
    return queue_corrections(conn, now_ids, now, window)


def owed(conn: Connection, now: datetime) -> list[int]:
    """Marked articles public at ``now``: their corrections are owed now. Read-only, on the
    ``correction_owed_at`` index (few rows are ever marked)."""
    stmt = (
        select(articles.c.id)
        .where(articles.c.correction_owed_at.is_not(None), public_clause(now))
        .order_by(articles.c.correction_owed_at, articles.c.id)
        .limit(TAKE)
    )
    return list(conn.execute(stmt).scalars())


def take_owed(
    conn: Connection, article_ids: Sequence[int], now: datetime, window: timedelta = EDIT_WINDOW
) -> int:
    """Clear the marks of these articles that are still marked and public at ``now`` and
    queue their edits (:func:`owe_corrections`' later half). Only the marks this call clears
    are followed by edits, so two replicas' sweeps owe them once. Returns how many edits."""
    if not article_ids:
        return 0
    taken = conn.execute(
        update(articles)
        .where(
            articles.c.id.in_(list(article_ids)),
            articles.c.correction_owed_at.is_not(None),
            public_clause(now),
        )
        .values(correction_owed_at=None)
        .returning(articles.c.id)
    )
    return queue_corrections(conn, sorted(taken.scalars()), now, window)


def _clear(conn: Connection, article_ids: Sequence[int]) -> None:
    conn.execute(
        update(articles)
        .where(articles.c.id.in_(list(article_ids)), articles.c.correction_owed_at.is_not(None))
        .values(correction_owed_at=None)
    )
