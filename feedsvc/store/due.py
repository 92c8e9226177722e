"""SQL of the due check (:mod:`feedsvc.lifecycle.due`, SPEC §10): the scheduled articles whose
time came, the record of their release (``articles.released_at``, migration 0022) and the
check's shared watermark (``due_watermark``, 0018)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, or_, select, update

from feedsvc.articles import Article
from feedsvc.db.schema import articles
from feedsvc.db.schema_service import due_watermark
from feedsvc.lifecycle.visibility import public_clause
from feedsvc.store.articles import ARTICLE_COLUMNS, row_to_article
from feedsvc.store.upsert import insert_missing

CHUNK = 500  # ids per IN (...) list: well inside every backend's parameter limit

#: How far back each due check looks past the stored watermark (the previous run's end, by any
#: process): a scheduled article whose row commits just after a check passed its time (a slow
#: `feedsvc import`, a replica that lost the ingest lease mid-tick) is still released. Articles
#: released already (``released_at``) are not released again.
DUE_OVERLAP_SECONDS = 600.0


def became_due(conn: Connection, since: datetime, now: datetime) -> list[tuple[int, Article]]:
    """Articles stored before their time (scheduled) whose ``published_at`` lies in
    ``(since, now]``, that are public now and not released since their time came
    (``released_at`` unset, or before a later ``published_at``: rescheduled), oldest first,
    with their stored record: the ones whose alerts were held back until now."""
    stmt = (
        select(articles.c.id, *ARTICLE_COLUMNS)
        .where(
            articles.c.published_at > since,
            articles.c.first_seen_at < articles.c.published_at,
            or_(
                articles.c.released_at.is_(None),
                articles.c.released_at < articles.c.published_at,
            ),
            public_clause(now),
        )
        .order_by(articles.c.published_at, articles.c.id)
    )
    return [(int(row.id), row_to_article(row)) for row in conn.execute(stmt)]


def mark_released(conn: Connection, article_ids: Sequence[int], now: datetime) -> None:
    """Record the release of these public articles at ``now`` (at or after their time), in
    the releasing transaction: no later check — in this process, after a restart or on
    another replica — releases them again, unless their ``published_at`` moves past it."""
    ids = list(article_ids)
    for start in range(0, len(ids), CHUNK):
        conn.execute(
            update(articles)
            .where(articles.c.id.in_(ids[start : start + CHUNK]))
            .values(released_at=now)
        )


def due_checked_through(conn: Connection) -> datetime | None:
    """The end of the due check's last committed run (``due_watermark``), or None (never)."""
    stmt = select(due_watermark.c.checked_through).where(due_watermark.c.name == "due")
    at: datetime | None = conn.execute(stmt).scalar_one_or_none()
    return at


def set_due_checked_through(conn: Connection, at: datetime) -> None:
    """Record ``at`` as the end of the due check's run, committed with what it released. Run
    first in the check's transaction, its row lock makes two checks (a lease handover on
    PostgreSQL) run one after the other: the second reads what the first released."""
    done = conn.execute(
        update(due_watermark).where(due_watermark.c.name == "due").values(checked_through=at)
    )
    if done.rowcount == 0:
        conn.execute(insert_missing(conn, due_watermark).values(name="due", checked_through=at))
