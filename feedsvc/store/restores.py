"""Taking a retraction's notice back when its article is public again (SPEC §10).

A tester's report: ``on_withdraw = "edit"``, an alert sent, the article withdrawn (the alert
edited to "Tin này đã được gỡ bỏ."), then published again — the chat kept the notice about a
live article, and the republish's new title queued no correction (a standing retraction blocks
corrections). A notice that is no longer true is worse than none.

The decision is :func:`feedsvc.retraction.plan.restorable`: a retraction that ended ``edited``
(the alert shows the notice), its article public now, the alert sent within the corrections'
window (48 h). Found by state, like retractions (``followup_queue.retired_since``), by the worker's
sweep: so every way back is covered — an imported ``"withdrawn": false``, a ``visible``
expression true again, an editor's unhide, a rescheduled article's time come, a retraction
whose call was in flight when the article came back — without a hook on each path.

Restoring marks the retraction ``restored`` (:data:`~feedsvc.retraction.plan.UNDONE`: a
later withdrawal owes it again, ``followup_queue._retract`` re-arms it) and owes the alert a
correction, queued with the method ``restore``: the worker edits it to the article's current
alert, the one a correction sends, and a photo alert gets its picture back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update

from feedsvc.db.schema import alert_followups as f
from feedsvc.db.schema import articles, deliveries
from feedsvc.lifecycle.visibility import public_clause
from feedsvc.retraction.plan import (
    CORRECT,
    EDIT_WINDOW,
    RESTORE_METHOD,
    RESTORED,
    RETRACT,
    SHOWS_NOTICE,
)
from feedsvc.store.followup_queue import queue_new, queue_restored, rearm

# A retraction is due once its article is withdrawn, which may be before its alert was
# recorded sent (an alert in flight: the retraction waits for it). Its ``due_at`` bounds the
# read on the (state, due_at) index; this much earlier than the window is generous for that.
_DUE_BEFORE_SEND = timedelta(days=7)


def restorable(conn: Connection, now: datetime, window: timedelta = EDIT_WINDOW) -> list[int]:
    """Deliveries whose alert shows a retraction's notice while its article is public at
    ``now``, sent within ``window``: the SQL form of ``plan.restorable``. Read-only, one
    indexed range of recent done follow-ups."""
    stmt = (
        select(deliveries.c.id)
        .join(f, f.c.delivery_id == deliveries.c.id)
        .join(articles, articles.c.id == deliveries.c.article_id)
        .where(
            f.c.state == "done",
            f.c.due_at >= now - window - _DUE_BEFORE_SEND,
            f.c.kind == RETRACT,
            f.c.outcome.in_(SHOWS_NOTICE),
            deliveries.c.state == "sent",
            deliveries.c.message_id.is_not(None),
            deliveries.c.finished_at > now - window,
            public_clause(now),
        )
        .order_by(deliveries.c.id)
    )
    return list(conn.execute(stmt).scalars())


def restore(conn: Connection, delivery_ids: Sequence[int], now: datetime) -> int:
    """Mark these deliveries' notices ``restored`` and owe each a restoring edit (see the
    module docstring). Only the retractions this call changes are followed by an edit, so two
    replicas' sweeps restore an alert once. Returns how many edits were queued."""
    if not delivery_ids:
        return 0
    marked = conn.execute(
        update(f)
        .where(
            f.c.kind == RETRACT,
            f.c.delivery_id.in_(list(delivery_ids)),
            f.c.state == "done",
            f.c.outcome.in_(SHOWS_NOTICE),
        )
        .values(outcome=RESTORED, error="public again", finished_at=now)
        .returning(f.c.delivery_id)
    )
    ids = sorted(marked.scalars())
    if not ids:
        return 0
    queued = rearm(conn, CORRECT, ids, now) + queue_new(conn, CORRECT, ids, now)
    conn.execute(
        update(f)
        .where(f.c.kind == CORRECT, f.c.delivery_id.in_(ids), f.c.state == "pending")
        .values(method=RESTORE_METHOD)
    )
    queue_restored(conn, ids, now)  # a part of a digest lists it again: the others' numbers
    return queued
