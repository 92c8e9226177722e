"""Reads of stored articles for feeds, previews, on-demand search and backfill (the ingest side
and the row shape are :mod:`feedsvc.store.articles`). Feed reads show only what is public now
(SPEC §10); the others mark withdrawn and hidden articles ``retired`` for the caller."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select

from feedsvc.articles import Article
from feedsvc.db.schema import article_topics, articles
from feedsvc.lifecycle.visibility import as_of, public_clause, retired_clause
from feedsvc.store.articles import ARTICLE_COLUMNS, row_to_article


@dataclass(frozen=True, slots=True)
class StoredArticle:
    id: int
    article: Article
    first_seen_at: datetime
    #: when feedsvc last stored a change to it (a version, a withdrawal, hide or unhide)
    changed_at: datetime | None = None
    #: withdrawn by the source or hidden by an editor (SPEC §10): never shown
    retired: bool = False


_STORED = (
    articles.c.id,
    articles.c.first_seen_at,
    articles.c.last_changed_at,
    retired_clause().label("retired"),
    *ARTICLE_COLUMNS,
)


def _stored(row: Row[Any]) -> StoredArticle:
    return StoredArticle(
        row.id, row_to_article(row), row.first_seen_at, row.last_changed_at, bool(row.retired)
    )


def latest_articles(conn: Connection, limit: int, until: datetime) -> list[StoredArticle]:
    """The newest articles published at/before ``until`` (aware UTC; a scheduled one is not
    there yet), withdrawn and hidden ones included but marked (``retired``)."""
    stmt = (
        select(*_STORED)
        .where(articles.c.published_at <= until)
        .order_by(articles.c.published_at.desc(), articles.c.id.desc())
        .limit(limit)
    )
    return [_stored(row) for row in conn.execute(stmt)]


def topic_articles(conn: Connection, topic_id: int, limit: int, now: datetime) -> list[Article]:
    """A topic's newest matched articles public at ``now`` (aware UTC), newest first (feed
    order): never a scheduled, withdrawn or hidden one (SPEC §10)."""
    stmt = (
        select(*ARTICLE_COLUMNS)
        .join(article_topics, article_topics.c.article_id == articles.c.id)
        .where(article_topics.c.topic_id == topic_id, public_clause(now))
        .order_by(articles.c.published_at.desc(), articles.c.id.desc())
        .limit(limit)
    )
    return [as_of(row_to_article(row), now) for row in conn.execute(stmt)]


def last_article_change(conn: Connection, now: datetime) -> datetime | None:
    """The latest moment at or before ``now`` (aware UTC) at which any article's public state
    may have changed: one stored, edited, withdrawn, hidden or shown again (``last_changed_at``)
    or one whose time came (``published_at``); None with no article. Two indexed probes.

    Why: it dates what a feed rendered on demand shows (:mod:`feedsvc.on_demand`). An article
    edited out of a search's results, or changed past a topic's default items, leaves no trace
    in what that render lists, and a Last-Modified that did not move told a reader polling with
    only If-Modified-Since 304: it kept a withdrawn article or an old title."""
    written = select(func.max(articles.c.last_changed_at)).where(articles.c.last_changed_at <= now)
    due = select(func.max(articles.c.published_at)).where(articles.c.published_at <= now)
    moments = [conn.execute(stmt).scalar() for stmt in (written, due)]
    return max((m for m in moments if m is not None), default=None)


def topic_last_change(
    conn: Connection, topic_id: int, now: datetime, since: datetime | None = None
) -> datetime | None:
    """:func:`last_article_change` among the articles matched to one topic — public or not:
    withdrawn, hidden —, published at or after ``since`` when given (the span a feed's items
    cover). Why: it dates what a ``?limit=`` variant shows past its default feed's items (a
    takedown there leaves nothing in the render to date it by), while changes elsewhere leave
    its bytes as they are. An article edited out of the topic is not among them: its match row
    went with the edit."""
    matched = (
        select()
        .select_from(articles.join(article_topics, article_topics.c.article_id == articles.c.id))
        .where(article_topics.c.topic_id == topic_id)
    )
    if since is not None:
        matched = matched.where(articles.c.published_at >= since)
    written = matched.add_columns(func.max(articles.c.last_changed_at)).where(
        articles.c.last_changed_at <= now
    )
    due = matched.add_columns(func.max(articles.c.published_at)).where(
        articles.c.published_at <= now
    )
    moments = [conn.execute(stmt).scalar() for stmt in (written, due)]
    return max((m for m in moments if m is not None), default=None)


def topics_newest(
    conn: Connection, topic_ids: Sequence[int], limit: int, now: datetime
) -> dict[int, list[Article]]:
    """Each topic's ``limit`` newest articles public at ``now``, as :func:`topic_articles`
    gives them, for many topics in one statement per 500 (a window function): the index page
    lists every topic, and one query each cost ~1 ms of statement building, ~5 s at 5,000
    topics. Topics without any are absent."""
    found: dict[int, list[Article]] = {}
    order = (articles.c.published_at.desc(), articles.c.id.desc())
    for start in range(0, len(topic_ids), 500):
        rank = func.row_number().over(partition_by=article_topics.c.topic_id, order_by=order)
        ranked = (
            select(article_topics.c.topic_id, *ARTICLE_COLUMNS, rank.label("rank"))
            .join(articles, articles.c.id == article_topics.c.article_id)
            .where(article_topics.c.topic_id.in_(list(topic_ids[start : start + 500])))
            .where(public_clause(now))
            .subquery()
        )
        stmt = (
            select(ranked).where(ranked.c.rank <= limit).order_by(ranked.c.topic_id, ranked.c.rank)
        )
        for row in conn.execute(stmt):
            found.setdefault(int(row.topic_id), []).append(as_of(row_to_article(row), now))
    return found


def topic_article_counts(
    conn: Connection, now: datetime, topic_ids: Sequence[int] | None = None
) -> dict[int, int]:
    """Matched articles public at ``now`` per topic id (topics without any are absent); only
    ``topic_ids``' when given (at most 500: a page of the index's topics)."""
    stmt = (
        select(article_topics.c.topic_id, func.count())
        .join(articles, articles.c.id == article_topics.c.article_id)
        .where(public_clause(now))
        .group_by(article_topics.c.topic_id)
    )
    if topic_ids is not None:
        stmt = stmt.where(article_topics.c.topic_id.in_(list(topic_ids)))
    return {int(topic_id): int(n) for topic_id, n in conn.execute(stmt)}


def stored_articles(conn: Connection, ids: Sequence[int]) -> list[StoredArticle]:
    """The articles with these ids, in the order given (candidates come newest first);
    withdrawn and hidden ones are marked ``retired`` for the caller to leave out."""
    if not ids:
        return []
    stmt = select(*_STORED).where(articles.c.id.in_(list(ids)))
    found = {row.id: _stored(row) for row in conn.execute(stmt)}
    return [found[i] for i in ids if i in found]


def count_since(conn: Connection, since: datetime | None) -> int:
    """Stored articles published at or after ``since`` (all of them when None)."""
    stmt = select(func.count()).select_from(articles)
    if since is not None:
        stmt = stmt.where(articles.c.published_at >= since)
    return int(conn.execute(stmt).scalar_one())


def count_public(conn: Connection, now: datetime) -> int:
    """Articles public at ``now`` (aware UTC; :func:`~feedsvc.lifecycle.visibility.public_clause`):
    what a preview's "of all N" counts, as readers can see them (not hidden, withdrawn or
    scheduled ones)."""
    stmt = select(func.count()).select_from(articles).where(public_clause(now))
    return int(conn.execute(stmt).scalar_one())


#: A backfill's rows: the article, and when it last changed (to see it changed meanwhile).
_JUDGED = (articles.c.id, articles.c.last_changed_at, *ARTICLE_COLUMNS)


def article_rows(conn: Connection, ids: Sequence[int]) -> Sequence[Row[Any]]:
    """Rows (``id``, ``last_changed_at`` + :data:`ARTICLE_COLUMNS`) of the articles with these
    ids, in no order."""
    return conn.execute(select(*_JUDGED).where(articles.c.id.in_(list(ids)))).all()


def changed_since_read(conn: Connection, read: Mapping[int, datetime]) -> list[int]:
    """Of ``read`` (article id → ``last_changed_at`` as read), the ids whose article changed
    since or is gone."""
    if not read:
        return []
    stmt = select(articles.c.id, articles.c.last_changed_at).where(articles.c.id.in_(list(read)))
    now = dict(conn.execute(stmt).tuples().all())
    return [i for i, at in read.items() if now.get(i) != at]


def article_rows_after(
    conn: Connection, last_id: int, since: datetime | None, limit: int
) -> Sequence[Row[Any]]:
    """Keyset paging in id order: up to ``limit`` rows (as :func:`article_rows`) of
    articles with an id above ``last_id``, published at or after ``since`` (any when None)."""
    stmt = select(*_JUDGED).where(articles.c.id > last_id)
    if since is not None:
        stmt = stmt.where(articles.c.published_at >= since)
    return conn.execute(stmt.order_by(articles.c.id).limit(limit)).all()
