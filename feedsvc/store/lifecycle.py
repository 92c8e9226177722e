"""SQL of the article lifecycle (SPEC §10): is an article public, withdraw/hide/unhide, and the
queued deliveries of articles that stopped being public. Decisions: ``feedsvc.lifecycle``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, select

from feedsvc.db.schema import articles
from feedsvc.lifecycle.visibility import Lifecycle, Visibility, public_clause, visibility


def article_visibility(conn: Connection, article_id: int, now: datetime) -> Visibility | None:
    """The article's state at ``now`` (aware UTC); None when no such article exists."""
    row = conn.execute(
        select(articles.c.published_at, articles.c.withdrawn_at, articles.c.hidden_at).where(
            articles.c.id == article_id
        )
    ).first()
    return None if row is None else visibility(Lifecycle(*row), now)


def is_public(conn: Connection, article_id: int, now: datetime) -> bool:
    """Is this article public at ``now``? (Digests, dispatch at send time.) A missing article
    is not public."""
    return article_visibility(conn, article_id, now) is Visibility.PUBLIC


def public_ids(conn: Connection, article_ids: Iterable[int], now: datetime) -> set[int]:
    """The subset of ``article_ids`` public at ``now``: one query for a digest's worth."""
    ids = list(article_ids)
    if not ids:
        return set()
    out: set[int] = set()
    for start in range(0, len(ids), 500):  # well inside every backend's parameter limit
        chunk = ids[start : start + 500]
        stmt = select(articles.c.id).where(articles.c.id.in_(chunk), public_clause(now))
        out.update(conn.execute(stmt).scalars())
    return out
