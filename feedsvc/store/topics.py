"""Topics and their matches. The state DB is the one source of truth for topics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Dialect, RowMapping, delete, func, insert, select, update
from sqlalchemy.types import TypeEngine

from feedsvc.db.schema import article_topics, topics
from feedsvc.store.records import Topic as Topic
from feedsvc.store.records import TopicSpec as TopicSpec
from feedsvc.store.upsert import insert_missing


def list_topics(conn: Connection, *, enabled_only: bool = False) -> list[Topic]:
    stmt = select(topics).order_by(topics.c.slug)
    if enabled_only:
        stmt = stmt.where(topics.c.enabled.is_(True))
    return [_topic(row._mapping) for row in conn.execute(stmt)]


def topics_version(conn: Connection) -> tuple[object, ...]:
    """Changes whenever a topic is added, removed or saved (count, latest ``updated_at``)."""
    row = conn.execute(
        select(func.count(), func.max(topics.c.updated_at)).select_from(topics)
    ).one()
    return tuple(row)


def get_topic(conn: Connection, slug: str) -> Topic | None:
    row = conn.execute(select(topics).where(topics.c.slug == slug)).first()
    return _topic(row._mapping) if row else None


def get_topic_by_id(conn: Connection, topic_id: int) -> Topic | None:
    row = conn.execute(select(topics).where(topics.c.id == topic_id)).first()
    return _topic(row._mapping) if row else None


def _topic(m: RowMapping) -> Topic:
    return Topic(
        id=int(m["id"]),
        slug=str(m["slug"]),
        title=str(m["title"]),
        description=str(m["description"] or ""),
        query=str(m["query"]),
        enabled=bool(m["enabled"]),
        origin=str(m["origin"]),
        updated_at=m["updated_at"],
    )


def save_topic(conn: Connection, spec: TopicSpec, origin: str, now: datetime) -> str:
    """Create or update by slug; returns ``created``, ``updated`` or ``unchanged``."""
    current = get_topic(conn, spec.slug)
    values = {
        "title": spec.title,
        "description": spec.description,
        "query": spec.query,
        "enabled": spec.enabled,
    }
    if current is None:  # replicas importing topics.toml on start may race: no error
        stmt = insert_missing(conn, topics).values(
            slug=spec.slug, origin=origin, created_at=now, updated_at=now, **values
        )
        if conn.execute(stmt.returning(topics.c.id)).first() is not None:
            return "created"
        current = get_topic(conn, spec.slug)  # the other writer's, committed meanwhile
        assert current is not None
    if current.spec == spec:
        return "unchanged"
    conn.execute(update(topics).where(topics.c.id == current.id).values(updated_at=now, **values))
    return "updated"


def set_enabled(conn: Connection, slug: str, enabled: bool, now: datetime) -> bool:
    result = conn.execute(
        update(topics)
        .where(topics.c.slug == slug, topics.c.enabled.is_(not enabled))
        .values(enabled=enabled, updated_at=now)
    )
    return result.rowcount > 0


def delete_topic(conn: Connection, slug: str) -> bool:
    topic = get_topic(conn, slug)
    if topic is None:
        return False
    conn.execute(delete(article_topics).where(article_topics.c.topic_id == topic.id))
    conn.execute(delete(topics).where(topics.c.id == topic.id))
    return True


def store_matches(
    conn: Connection,
    matched: Mapping[int, Mapping[int, Sequence[str]]],
    now: datetime,
    *,
    replace: Sequence[int] = (),
) -> None:
    """Record which topics articles match (``article_id → topic_id → matched terms``), in one
    statement for the whole batch.

    ``replace`` lists articles whose old matches are dropped first: an edited article can leave
    a topic.
    """
    for start in range(0, len(replace), 500):
        chunk = list(replace[start : start + 500])
        conn.execute(delete(article_topics).where(article_topics.c.article_id.in_(chunk)))
    _insert_matches(
        conn,
        [(aid, tid, terms) for aid, hits in matched.items() for tid, terms in hits.items()],
        now,
    )


def add_topic_matches(
    conn: Connection, topic_id: int, hits: Mapping[int, Sequence[str]], now: datetime
) -> None:
    """Record many articles (``article_id → matched terms``) as matching one topic, in one
    statement: a backfill adds thousands per batch, and a round trip each dominated its time."""
    _insert_matches(conn, [(aid, topic_id, terms) for aid, terms in hits.items()], now)


def matched_among(conn: Connection, topic_id: int, article_ids: Sequence[int]) -> set[int]:
    """Which of ``article_ids`` already match the topic: asks about these ids only (a topic may
    hold 100k+ matches, and a backfill batch needs to know about its own rows)."""
    stmt = select(article_topics.c.article_id).where(
        article_topics.c.topic_id == topic_id, article_topics.c.article_id.in_(list(article_ids))
    )
    return set(conn.execute(stmt).scalars())


#: ``article_topics`` rows in the driver's own parameter style (columns: article_id, topic_id,
#: terms, matched_at), for :func:`_insert_matches`.
_MATCH_INSERT = {
    "sqlite": "INSERT INTO article_topics (article_id, topic_id, terms, matched_at) "
    "VALUES (?, ?, ?, ?)",
    "postgresql": "INSERT INTO article_topics (article_id, topic_id, terms, matched_at) "
    "VALUES (%s, %s, %s::json, %s)",
}


def _insert_matches(
    conn: Connection, rows: Sequence[tuple[int, int, Sequence[str]]], now: datetime
) -> None:
    """Insert ``(article_id, topic_id, terms)`` rows matched at ``now`` in one executemany.

    At thousands of topics an article matches ~25 of them, and SQLAlchemy's per-row bind
    processing (a JSON dump and two datetime conversions per row) cost about three times the
    insert itself (issue 17 §2, ``bench/ingest.py``). So the values go through the columns' own
    bind processors — stored exactly as SQLAlchemy stores them — once for ``now`` and once per
    distinct term list, and the driver's ``executemany`` takes plain tuples.
    """
    if not rows:
        return
    dialect = conn.dialect
    sql = _MATCH_INSERT.get(dialect.name)
    if sql is None:  # another backend: SQLAlchemy's own path
        conn.execute(
            insert(article_topics),
            [
                {"article_id": aid, "topic_id": tid, "terms": list(terms), "matched_at": now}
                for aid, tid, terms in rows
            ],
        )
        return
    at = _processed(article_topics.c.matched_at.type, dialect, now)
    dumped: dict[tuple[str, ...], Any] = {}
    params = []
    for aid, tid, terms in rows:
        key = tuple(terms)
        value = dumped.get(key)
        if value is None:
            value = dumped[key] = _processed(article_topics.c.terms.type, dialect, list(key))
        params.append((aid, tid, value, at))
    conn.exec_driver_sql(sql, params)


def _processed(type_: TypeEngine[Any], dialect: Dialect, value: Any) -> Any:
    process = type_.bind_processor(dialect)
    return value if process is None else process(value)


def topic_ids_of_articles(conn: Connection, article_ids: Sequence[int]) -> dict[int, set[int]]:
    """``article_id → topic ids`` it matches now (articles without matches are absent)."""
    found: dict[int, set[int]] = {}
    for start in range(0, len(article_ids), 500):
        chunk = list(article_ids[start : start + 500])
        rows = conn.execute(
            select(article_topics.c.article_id, article_topics.c.topic_id).where(
                article_topics.c.article_id.in_(chunk)
            )
        ).tuples()
        for aid, tid in rows:
            found.setdefault(aid, set()).add(tid)
    return found
