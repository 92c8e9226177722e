"""Articles withdrawn by their source rows (SPEC §10): rows reconciliation finds deleted, rows
the source says are not shown whose values are no article; and the windows reconciliation
compares. The lifecycle's other state (hidden, the editors' views) is :mod:`.lifecycle`'s."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, select, update

from feedsvc.db.schema import articles
from feedsvc.store.lifecycle import CHUNK, end_queued_deliveries


def withdraw_deleted(
    conn: Connection, source_ids: Sequence[str], since: datetime, clock: Callable[[], datetime]
) -> list[int]:
    """Reconciliation's verdict: the held, not yet withdrawn articles with these source row ids
    (published at/after ``since``) are withdrawn as ``deleted``; their queued deliveries end.
    Returns the article ids withdrawn. The rows are locked first and the change time is read
    from ``clock`` after that wait (see :func:`lock_article`)."""
    return withdraw_rows(conn, source_ids, "deleted", clock, since)


def withdraw_rows(
    conn: Connection,
    source_ids: Sequence[str],
    reason: str,
    clock: Callable[[], datetime],
    since: datetime | None = None,
    keys: Sequence[str] = (),
) -> list[int]:
    """The held, not yet withdrawn articles read from these source rows (``articles.source_id``;
    published at/after ``since`` when given), and those of ``keys`` stored before row ids were
    kept (``source_id`` NULL), withdrawn with ``reason`` (``deleted``, or the source's
    ``withdraw_reason`` for a row its ``visible`` says is not shown); their queued deliveries
    end as ``withdrawn:<reason>``; the retraction sweep owes their sent alerts a follow-up
    (:func:`feedsvc.store.followup_queue.sweep_retired`). Returns the article ids. Locked first, the
    change time read from ``clock`` after that wait (see :func:`lock_article`)."""
    ids: list[int] = []
    wanted: list[ColumnElement[bool]] = [
        articles.c.source_id.in_(list(source_ids[i : i + CHUNK]))
        for i in range(0, len(source_ids), CHUNK)
    ]
    wanted += [
        and_(articles.c.source_id.is_(None), articles.c.source_key.in_(list(keys[i : i + CHUNK])))
        for i in range(0, len(keys), CHUNK)
    ]
    for which in wanted:
        stmt = select(articles.c.id).where(which, articles.c.withdrawn_at.is_(None))
        if since is not None:
            stmt = stmt.where(articles.c.published_at >= since)
        ids += [int(i) for i in conn.execute(stmt.with_for_update()).scalars()]
    now = clock()
    for start in range(0, len(ids), CHUNK):
        conn.execute(
            update(articles)
            .where(articles.c.id.in_(ids[start : start + CHUNK]))
            .values(withdrawn_at=now, withdrawn_reason=reason, last_changed_at=now)
        )
    end_queued_deliveries(conn, ids, f"withdrawn:{reason}", now)
    return ids


def held_keys(conn: Connection, article_ids: Sequence[int]) -> list[str]:
    """The source keys of these articles, in id order (for a log line: at most 500)."""
    stmt = select(articles.c.source_key).where(articles.c.id.in_(list(article_ids[:CHUNK])))
    return list(conn.execute(stmt.order_by(articles.c.id)).scalars())


def deleted_window(
    conn: Connection, since: datetime, after: int, limit: int, reasons: Sequence[str] = ("deleted",)
) -> list[tuple[int, str, str, str]]:
    """``(article id, source_id, source_key, withdrawn_reason)`` of articles withdrawn with one
    of ``reasons`` (reconciliation's ``deleted``; the source's own draft reason) that were
    published at/after ``since``, ids after ``after``, the first ``limit`` by id: the ones it
    looks up again, a bounded slice per pass (``feedsvc.lifecycle.reconcile``)."""
    stmt = (
        select(
            articles.c.id, articles.c.source_id, articles.c.source_key, articles.c.withdrawn_reason
        )
        .where(
            articles.c.published_at >= since,
            articles.c.withdrawn_reason.in_(reasons),
            articles.c.withdrawn_at.is_not(None),
            articles.c.source_id.is_not(None),
            articles.c.id > after,
        )
        .order_by(articles.c.id)
        .limit(limit)
    )
    return [(int(i), str(sid), key, why) for i, sid, key, why in conn.execute(stmt).tuples()]


def held_window(conn: Connection, since: datetime) -> list[tuple[str, str | None, datetime]]:
    """``(source_id, source_key, source_cursor)`` of held, not withdrawn articles published
    at/after ``since`` (the ``published_at`` index bounds it): what reconciliation compares
    with the source (the position: where ingest read the row, to tell one written again)."""
    stmt = select(articles.c.source_id, articles.c.source_key, articles.c.source_cursor).where(
        articles.c.published_at >= since, articles.c.withdrawn_at.is_(None)
    )
    return [(sid or "", key, at) for sid, key, at in conn.execute(stmt).tuples()]
