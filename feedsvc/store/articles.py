"""feedsvc's own copy of ingested articles."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from feedsvc.articles import Article
from feedsvc.db.schema import article_topics, articles


@dataclass(frozen=True, slots=True)
class StoredArticle:
    id: int
    article: Article
    first_seen_at: datetime


ARTICLE_COLUMNS = (
    articles.c.source_key,
    articles.c.url,
    articles.c.title,
    articles.c.summary,
    articles.c.body,
    articles.c.author,
    articles.c.section,
    articles.c.tags,
    articles.c.image_url,
    articles.c.published_at,
    articles.c.updated_at,
)


def row_to_article(row: Row[Any]) -> Article:
    m = row._mapping
    return Article(
        source_key=m["source_key"],
        url=m["url"],
        title=m["title"],
        summary=m["summary"],
        body=m["body"],
        author=m["author"],
        section=m["section"],
        tags=tuple(m["tags"] or ()),
        image_url=m["image_url"],
        published_at=m["published_at"],
        updated_at=m["updated_at"],
    )


def known_versions(conn: Connection, keys: Iterable[str]) -> dict[str, tuple[int, datetime]]:
    """``source_key → (id, version)`` for the keys we already hold."""
    wanted = list(keys)
    if not wanted:
        return {}
    rows = conn.execute(
        select(articles.c.source_key, articles.c.id, articles.c.version).where(
            articles.c.source_key.in_(wanted)
        )
    ).tuples()
    return {key: (id_, version) for key, id_, version in rows}


def _values(a: Article, search_text: str, cursor: datetime, now: datetime) -> dict[str, Any]:
    return {
        "source_key": a.source_key,
        "version": a.version,
        "url": a.url,
        "title": a.title,
        "summary": a.summary,
        "body": a.body,
        "author": a.author,
        "section": a.section,
        "tags": list(a.tags),
        "image_url": a.image_url,
        "published_at": a.published_at,
        "updated_at": a.updated_at,
        "search_text": search_text,
        "source_cursor": cursor,
        "last_changed_at": now,
    }


def insert_article(
    conn: Connection, a: Article, search_text: str, cursor: datetime, now: datetime
) -> int:
    values = _values(a, search_text, cursor, now) | {"first_seen_at": now}
    result = conn.execute(insert(articles).values(**values).returning(articles.c.id))
    return int(result.scalar_one())


def update_article(
    conn: Connection, id_: int, a: Article, search_text: str, cursor: datetime, now: datetime
) -> None:
    conn.execute(
        update(articles).where(articles.c.id == id_).values(**_values(a, search_text, cursor, now))
    )


def count_in_window(conn: Connection, lo: datetime, hi: datetime) -> int:
    """How many stored articles the cursor saw in ``[lo, hi]`` (the overlap re-read check)."""
    stmt = select(func.count()).where(
        articles.c.source_cursor >= lo, articles.c.source_cursor <= hi
    )
    return int(conn.execute(stmt).scalar_one())


def count_articles(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(articles)).scalar_one())


def latest_articles(conn: Connection, limit: int) -> list[StoredArticle]:
    stmt = (
        select(articles.c.id, articles.c.first_seen_at, *ARTICLE_COLUMNS)
        .order_by(articles.c.published_at.desc(), articles.c.id.desc())
        .limit(limit)
    )
    return [
        StoredArticle(row.id, row_to_article(row), row.first_seen_at) for row in conn.execute(stmt)
    ]


def topic_articles(conn: Connection, topic_id: int, limit: int) -> list[Article]:
    """A topic's newest matched articles, newest first (feed order)."""
    stmt = (
        select(*ARTICLE_COLUMNS)
        .join(article_topics, article_topics.c.article_id == articles.c.id)
        .where(article_topics.c.topic_id == topic_id)
        .order_by(articles.c.published_at.desc(), articles.c.id.desc())
        .limit(limit)
    )
    return [row_to_article(row) for row in conn.execute(stmt)]


def articles_by_ids(conn: Connection, ids: Sequence[int]) -> dict[int, Article]:
    if not ids:
        return {}
    stmt = select(articles.c.id, *ARTICLE_COLUMNS).where(articles.c.id.in_(list(ids)))
    return {row.id: row_to_article(row) for row in conn.execute(stmt)}
