"""Follow-ups owed on sent alerts, as the changes that owe them queue them: a correction in the
transaction that stores it (:func:`queue_corrections`, the ingest hook), a withdrawal, hide or
reschedule by the worker's sweep (:func:`retired_since`, :func:`sweep_retired`) or at once
(:func:`queue_retractions`). The worker's side — claim, lease, finish — is
:mod:`feedsvc.store.followups`.

One follow-up of each kind per delivery: a later correction re-arms the row (the newest text is
what gets sent), a second withdrawal re-arms a retraction that was cancelled or restored by a
re-publish (:data:`~feedsvc.retraction.plan.UNDONE`; restores: :mod:`feedsvc.store.restores`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, or_, select, update

from feedsvc.db.schema import alert_followups as f
from feedsvc.db.schema import articles, deliveries
from feedsvc.lifecycle.visibility import retired_clause, scheduled_clause
from feedsvc.retraction.plan import READS_AS_ALERT, RESTORE_METHOD, UNDONE
from feedsvc.store import digest_parts
from feedsvc.store.digest_parts import digest_rows
from feedsvc.store.followups import CORRECT, RETRACT
from feedsvc.store.upsert import insert_missing

# A sent alert's article moved less than this far into the future is not retracted: a CMS clock
# a little ahead (an edit that re-dates the article to "now") must not take an alert away for
# good; within this its new time comes before the retraction would have been worth it.
RESCHEDULE_GRACE = timedelta(minutes=1)


def queue_new(conn: Connection, kind: str, delivery_ids: Sequence[int], now: datetime) -> int:
    """Insert missing follow-ups of ``kind`` for these deliveries; returns how many are new."""
    if not delivery_ids:
        return 0
    rows = [
        {"delivery_id": d, "kind": kind, "state": "pending", "due_at": now, "attempts": 0,
         "created_at": now}
        for d in delivery_ids
    ]  # fmt: skip
    stmt = insert_missing(conn, f).returning(f.c.id)
    return len(list(conn.execute(stmt, rows).scalars()))


#: The methods of a restore not finished (:data:`RESTORE_METHOD`, then its picture's edit).
_RESTORING = (RESTORE_METHOD, "photo", "photo_plain")


def rearm(
    conn: Connection, kind: str, delivery_ids: Sequence[int], now: datetime, *cond: Any
) -> int:
    """Owe ``kind`` again, from its first step, on these deliveries' follow-ups that meet
    ``cond``; how many. A restore not finished (its notice's picture not yet back) stays a
    restore: re-armed as a plain correction by an edit saved meanwhile, it edited the caption
    only and the chat kept the blank picture for good (a reviewer's)."""
    restoring = and_(f.c.method.in_(_RESTORING), f.c.state != "done")
    result = conn.execute(
        update(f)
        .where(f.c.kind == kind, f.c.delivery_id.in_(list(delivery_ids)), *cond)
        .values(
            state="pending", method=case((restoring, RESTORE_METHOD), else_=None), due_at=now,
            attempts=0, lease_until=None, lease_owner=None, outcome=None, error=None,
            created_at=now, finished_at=None,
        )
    )  # fmt: skip
    return result.rowcount


def _has_retraction(*, open_counts: bool = True, undone: Sequence[str] = UNDONE) -> Any:
    """The delivery owes or had a retraction (one ended as ``undone`` says — cancelled or
    restored, ``UNDONE`` — does not count; nor, with ``open_counts`` false, one not done
    yet): a correlated EXISTS on the unique (delivery_id, kind) index, whatever the size of
    the history."""
    r = f.alias("r")
    standing = or_(r.c.outcome.is_(None), r.c.outcome.not_in(undone))
    if not open_counts:
        standing = and_(r.c.state == "done", r.c.outcome.not_in(undone))
    return select(r.c.id).where(r.c.delivery_id == deliveries.c.id, r.c.kind == RETRACT,
                                standing).exists()  # fmt: skip


def _retract(conn: Connection, delivery_ids: Sequence[int], now: datetime) -> int:
    if not delivery_ids:
        return 0
    ids = list(delivery_ids)
    conn.execute(
        update(f)
        .where(f.c.kind == CORRECT, f.c.delivery_id.in_(ids), f.c.state == "pending")
        .values(state="done", outcome="cancelled", error="withdrawn", finished_at=now)
    )
    rearmed = rearm(conn, RETRACT, ids, now, f.c.state == "done", f.c.outcome.in_(UNDONE))
    return queue_new(conn, RETRACT, ids, now) + rearmed


def queue_retractions(conn: Connection, article_ids: Sequence[int], now: datetime) -> int:
    """Owe a retraction on every alert of these articles that was sent or is being sent (the
    caller decided they are no longer public). Re-arms retractions a re-publish cancelled;
    cancels pending corrections of the same alerts. Returns how many were queued or re-armed."""
    if not article_ids:
        return 0
    ids = conn.execute(
        select(deliveries.c.id).where(
            deliveries.c.article_id.in_(list(article_ids)),
            deliveries.c.state.in_(("sent", "sending")),
        )
    ).scalars()
    return _retract(conn, list(ids), now)


def retired_since(conn: Connection, since: datetime, now: datetime) -> list[int]:
    """Deliveries (sent, or being sent) owing a retraction not queued yet (or only a cancelled
    one): of articles withdrawn or hidden at or after ``since``, and of articles scheduled at
    ``now`` (moved into the future by a correction more than :data:`RESCHEDULE_GRACE` ahead;
    SPEC §10: no alert shows it until its time). A scheduled article has no other stamp: its
    sent alert is the proof it was public, so one that was never public has none here.
    Read-only and cheap: indexed on ``articles.withdrawn_at``/``hidden_at``/``published_at``
    (the future is short) and ``deliveries.article_id``."""
    recent = and_(or_(articles.c.withdrawn_at >= since, articles.c.hidden_at >= since),
                  retired_clause())  # fmt: skip
    rescheduled = scheduled_clause(now + RESCHEDULE_GRACE)
    open_or_done = _has_retraction()
    found: set[int] = set()
    for which in (recent, rescheduled):  # two index ranges, not one OR the planner scans
        found.update(
            conn.execute(
                select(deliveries.c.id)
                .join(articles, articles.c.id == deliveries.c.article_id)
                .where(which, deliveries.c.state.in_(("sent", "sending")), ~open_or_done)
            ).scalars()
        )
    return sorted(found)


def retract_deliveries(conn: Connection, delivery_ids: Sequence[int], now: datetime) -> int:
    """Owe a retraction on these deliveries (see :func:`queue_retractions`); idempotent."""
    return _retract(conn, delivery_ids, now)


def sweep_retired(conn: Connection, since: datetime, now: datetime) -> int:
    """Queue retractions for alerts of articles withdrawn or hidden at or after ``since``, or
    rescheduled (:func:`retired_since`), whichever path did it (ingest, import,
    reconciliation, an editor on any replica or the CLI). State-based and idempotent, so
    nothing is lost to a crash between the withdrawal and here. A retraction already owed or
    done is left as it is."""
    return _retract(conn, retired_since(conn, since, now), now)


def queue_corrections(
    conn: Connection, article_ids: Sequence[int], now: datetime, window: timedelta
) -> int:
    """Owe an edit on every alert of these (corrected) articles sent within ``window`` (48 h),
    or being sent right now: its text was read when it was claimed, before the correction, so
    once sent it shows the old words (the edit waits for the send's outcome, and is cancelled
    if nothing went out).

    An existing correction is re-armed whatever its state: if one is being done right now, its
    lease is cleared, so its (older) outcome is not recorded and the newest text goes out next.
    A delivery whose retraction is done is left alone (deleted, or its notice: ``restores``),
    unless that left it reading as the article (``READS_AS_ALERT``: ``kept`` too — under
    ``on_withdraw = "keep"`` a republished article's alert kept its old title for good); one
    still open is cancelled by the worker for a public article, so the edit is owed (a
    republish's new title was lost). The callers decided the articles are public
    (``store.owed_corrections``). Returns how many were queued or re-armed."""
    if not article_ids:
        return 0
    retracted = _has_retraction(open_counts=False, undone=READS_AS_ALERT)
    sent_lately = and_(
        deliveries.c.state == "sent",
        deliveries.c.message_id.is_not(None),
        deliveries.c.finished_at >= now - window,
    )
    ids = list(
        conn.execute(
            select(deliveries.c.id).where(
                deliveries.c.article_id.in_(list(article_ids)),
                or_(sent_lately, deliveries.c.state == "sending"),
                ~retracted,
            )
        ).scalars()
    )
    if not ids:
        return 0
    return rearm(conn, CORRECT, ids, now) + queue_new(conn, CORRECT, ids, now)


def queue_relayout(conn: Connection, parts: Sequence[Sequence[int]], now: datetime) -> int:
    """Owe an edit of these sent digest messages (``parts``: each message's delivery ids): the
    rest of their digest was laid out again after a re-check left alerts out, or did not go
    at all (``digest.sending``), so the count and the ``(1/3)`` they were opened with are no
    longer true (``(1/2)`` over a digest whose part 2 never came: a verifier's; "8 tin (1/3)"
    above "(tiếp) (2/2)" and 7 articles in all), or another part of their digest changed
    (:func:`queue_parts`). The follow-up worker lays each out again from its public articles,
    in its place among its digest's parts (``retraction.calls.digest_now``: ``Tin tổng hợp ·
    7 tin (1/2)``), as after a correction; a part of one alert too
    (``Followup.digest_message``). One correction per message, on its first delivery still
    sent and not retracted (:func:`_editable`). Returns how many were queued or re-armed."""
    chosen = [first for part in parts if (first := _editable(conn, part)) is not None]
    return _owe_edits(conn, chosen, now)


def _editable(conn: Connection, part: Sequence[int]) -> int | None:
    """The first of a message's deliveries (``part``) still sent and not retracted: the one
    its edit is owed on; None: every article it listed was retracted (the notice, deleted)."""
    if not part:
        return None
    return conn.execute(
        select(deliveries.c.id)
        .where(
            deliveries.c.id.in_(list(part)),
            deliveries.c.state == "sent",
            deliveries.c.message_id.is_not(None),
            ~_has_retraction(open_counts=False),
        )
        .order_by(deliveries.c.id)
        .limit(1)
    ).scalar()


def _owe_edits(conn: Connection, chosen: Sequence[int], now: datetime) -> int:
    chosen = list(dict.fromkeys(chosen))
    if not chosen:
        return 0
    return rearm(conn, CORRECT, chosen, now) + queue_new(conn, CORRECT, chosen, now)


def queue_parts(
    conn: Connection, delivery_ids: Sequence[int], now: datetime, *, renumber: bool
) -> int:
    """Owe the other parts of each digest sent in several that one of these deliveries went in
    an edit, as the change to that delivery's part leaves them (``retraction.plan.
    part_change``): ``renumber`` — the part no longer lists an article (deleted, gone, the
    notice) or lists one again (restored) — every other part still in the chat
    (``store.digest_parts.digest_rows``), each laid out again in its place among the parts
    that list one: "(1/2)", "(tiếp) (2/2)", where "(1/3)" and "(tiếp) (2/3)" stayed over a
    deleted part 3; else only the first of them, whose heading counts the digest's articles
    ("Tin tổng hợp · 8 tin (1/3)" stayed over 7: a lead's). Returns how many are owed."""
    chosen: list[int] = []
    for chat, message in _messages_of(conn, delivery_ids):
        rows = digest_rows(conn, chat, message)
        parts: dict[tuple[int, int], list[int]] = {}
        for row in rows:
            parts.setdefault(row.message, []).append(row.delivery_id)
        editable = [(key, first) for key, ids in parts.items()
                    if (first := _editable(conn, ids)) is not None]  # fmt: skip
        if renumber:
            chosen += [first for key, first in editable if key != (chat, message)]
        elif editable and editable[0][0] != (chat, message):
            chosen.append(editable[0][1])  # its own edit counts when it is the first
    return _owe_edits(conn, chosen, now)


def _messages_of(conn: Connection, delivery_ids: Sequence[int]) -> list[tuple[int, int]]:
    """The messages (sent chat, message id) these deliveries went in as parts of a digest of
    several (``digest_head``)."""
    if not delivery_ids:
        return []
    stmt = (
        select(deliveries.c.sent_chat_id, deliveries.c.message_id)
        .where(
            deliveries.c.id.in_(list(delivery_ids)),
            deliveries.c.digest_head.is_not(None),
            deliveries.c.message_id.is_not(None),
        )
        .distinct()
    )
    return sorted((int(c), int(m)) for c, m in conn.execute(stmt).tuples() if c is not None)


def part_changed(
    conn: Connection, followup_id: int, delivery_id: int, now: datetime, *, renumber: bool
) -> int:
    """A follow-up (``followup_id``, on ``delivery_id``) changed what its part of a digest
    lists: :func:`queue_parts`, in the worker's record. A part another follow-up already
    found gone owes nothing again (its second retraction answered "not found")."""
    if renumber and digest_parts.gone_messages(conn, [delivery_id], but=followup_id):
        return 0
    return queue_parts(conn, [delivery_id], now, renumber=renumber)


def queue_restored(conn: Connection, delivery_ids: Sequence[int], now: datetime) -> int:
    """A restore owed on these deliveries (``store.restores``): a part that showed the notice
    (none of its other deliveries still listed) lists again, so every other part is
    renumbered with it; a part that listed others changes only the count. A part no longer
    in the chat (deleted: never sent again, as an alert) owes nothing."""
    ids = set(delivery_ids)
    gone = digest_parts.gone_messages(conn, list(ids))
    again: list[int] = []
    counted: list[int] = []
    for chat, message in _messages_of(conn, list(ids)):
        if (chat, message) in gone:
            continue
        rows = conn.execute(
            select(deliveries.c.id).where(
                deliveries.c.sent_chat_id == chat, deliveries.c.message_id == message
            )
        ).scalars()
        mine: list[int] = []
        others: list[int] = []
        for i in rows:
            (mine if i in ids else others).append(i)
        (counted if _editable(conn, others) is not None else again).append(mine[0])
    return queue_parts(conn, again, now, renumber=True) + queue_parts(
        conn, counted, now, renumber=False
    )
