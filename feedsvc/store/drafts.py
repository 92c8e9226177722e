"""SQL of the draft re-check (:mod:`feedsvc.lifecycle.published`, SPEC §10): the held articles
the source marked not visible, a bounded slice of a ``published_at`` band at a time; and the
same drafts among a re-read's keys (:mod:`feedsvc.ingest.remap`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, or_, select

from feedsvc.db.schema import articles

#: A position in a band's rotation: the last ``(published_at, article id)`` looked up.
Position = tuple[datetime, int]


def held_drafts(
    conn: Connection,
    reason: str,
    band: tuple[datetime, datetime],
    after: Position | None,
    limit: int,
) -> list[tuple[int, str, datetime]]:
    """``(article id, source_id, published_at)`` of articles withdrawn by their source as not
    visible (``withdrawn_reason`` = ``reason``: ``"draft"`` for an external CMS) whose
    ``published_at`` lies in ``band`` (``[low, high]``, aware UTC), after ``after`` in
    ``(published_at, id)`` order, the first ``limit``.

    Ordered by ``(published_at, id)``, not by id: the range is read on
    ``ix_articles_published_at`` (migration 0008), so the cost is the band's articles (a day
    of a newsroom's), never a walk of the primary key over a million-row archive to find a few
    drafts."""
    low, high = band
    c = articles.c
    stmt = select(c.id, c.source_id, c.published_at).where(
        c.published_at > low, c.published_at <= high, *_held(reason)
    )
    if after is not None:
        at, id_ = after
        stmt = stmt.where(or_(c.published_at > at, and_(c.published_at == at, c.id > id_)))
    stmt = stmt.order_by(c.published_at, c.id).limit(limit)
    return [(int(i), str(sid), at) for i, sid, at in conn.execute(stmt).tuples()]


def held_among(conn: Connection, reason: str, keys: Sequence[str]) -> dict[str, datetime]:
    """``source_key → published_at`` of the articles of ``keys`` held as such drafts (what
    :func:`held_drafts` reads): read in a re-read's batch transaction before its write."""
    c = articles.c
    found: dict[str, datetime] = {}
    for i in range(0, len(keys), 500):  # bound the IN list
        stmt = select(c.source_key, c.published_at).where(
            c.source_key.in_(keys[i : i + 500]), c.published_at.is_not(None), *_held(reason)
        )
        found |= {str(key): at for key, at in conn.execute(stmt).tuples()}
    return found


def _held(reason: str) -> list[ColumnElement[bool]]:
    """An article the source withdrew as not visible (``reason``), read from a source row."""
    c = articles.c
    return [c.withdrawn_reason == reason, c.withdrawn_at.is_not(None), c.source_id.is_not(None)]
