"""What people follow, in SQL: subscribers per topic and channel, alerts and articles per hour,
feed polls per topic and day, each topic's newest article.

Hour buckets are computed by the database (UTC hours; ``strftime`` on SQLite, ``date_trunc`` on
PostgreSQL), so a week of alerts is at most 168 rows per series whatever the traffic; turning
them into local days is :mod:`feedsvc.stats`' job.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from feedsvc.db.schema import (
    article_topics,
    articles,
    chats,
    deliveries,
    subscriptions,
)
from feedsvc.db.schema_service import feed_polls
from feedsvc.lifecycle.visibility import public_clause


def _hour(conn: Connection, column: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return func.date_trunc("hour", column)
    return func.strftime("%Y-%m-%d %H:00:00", column)


def _as_utc(value: Any) -> datetime:
    """A bucket as the database returns it (text on SQLite, a datetime on PostgreSQL)."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(when, datetime)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _per_hour(conn: Connection, column: Any, since: datetime, *where: Any) -> dict[datetime, int]:
    bucket = _hour(conn, column).label("bucket")
    stmt = select(bucket, func.count()).where(column >= since, *where).group_by(bucket)
    return {_as_utc(b): int(n) for b, n in conn.execute(stmt)}


def articles_per_hour(conn: Connection, since: datetime) -> dict[datetime, int]:
    """Articles first stored (ingested) per UTC hour since ``since``."""
    return _per_hour(conn, articles.c.first_seen_at, since)


def alerts_per_hour(conn: Connection, since: datetime) -> dict[datetime, int]:
    """Alerts sent (deliveries ending ``sent``) per UTC hour since ``since``."""
    return _per_hour(conn, deliveries.c.finished_at, since, deliveries.c.state == "sent")


def topic_alerts_per_hour(conn: Connection, since: datetime) -> dict[tuple[int, datetime], int]:
    """Alerts sent per (topic id, UTC hour): a sent delivery counts for each topic of its chat
    that matched the article (one message may list several topics)."""
    bucket = _hour(conn, deliveries.c.finished_at).label("bucket")
    stmt = (
        select(article_topics.c.topic_id, bucket, func.count())
        .select_from(deliveries)
        .join(article_topics, article_topics.c.article_id == deliveries.c.article_id)
        .join(
            subscriptions,
            and_(
                subscriptions.c.chat_id == deliveries.c.chat_id,
                subscriptions.c.topic_id == article_topics.c.topic_id,
            ),
        )
        .where(deliveries.c.state == "sent", deliveries.c.finished_at >= since)
        .group_by(article_topics.c.topic_id, bucket)
    )
    return {(int(t), _as_utc(b)): int(n) for t, b, n in conn.execute(stmt)}


def subscribers(conn: Connection) -> dict[int, dict[str, int]]:
    """Chats subscribed to each topic id, by channel; chats switched off are not counted."""
    stmt = (
        select(subscriptions.c.topic_id, chats.c.channel, func.count())
        .join(chats, chats.c.chat_id == subscriptions.c.chat_id)
        .where(subscriptions.c.topic_id.is_not(None), chats.c.disabled_reason.is_(None))
        .group_by(subscriptions.c.topic_id, chats.c.channel)
    )
    out: dict[int, dict[str, int]] = {}
    for topic_id, channel, n in conn.execute(stmt):
        out.setdefault(int(topic_id), {})[str(channel)] = int(n)
    return out


def newest_articles(conn: Connection, now: datetime) -> dict[int, datetime]:
    """Each topic's newest matched article's ``published_at``, among those public at ``now``
    (a scheduled 2064 article is not "newest")."""
    stmt = (
        select(article_topics.c.topic_id, func.max(articles.c.published_at))
        .join(articles, articles.c.id == article_topics.c.article_id)
        .where(public_clause(now))
        .group_by(article_topics.c.topic_id)
    )
    return {int(t): _as_utc(when) for t, when in conn.execute(stmt) if when is not None}


def add_polls(conn: Connection, day: date, counts: Mapping[str, int]) -> None:
    """Add ``counts`` (topic slug → polls) to ``day``'s rows; replicas add their own."""
    if not counts:
        return
    rows = [{"day": day, "topic_slug": slug, "polls": n} for slug, n in counts.items()]
    insert: Any = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(feed_polls).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[feed_polls.c.day, feed_polls.c.topic_slug],
        set_={"polls": feed_polls.c.polls + stmt.excluded.polls},
    )
    conn.execute(stmt)


def polls_per_day(conn: Connection, since: date) -> dict[tuple[str, date], int]:
    stmt = select(feed_polls.c.topic_slug, feed_polls.c.day, feed_polls.c.polls).where(
        feed_polls.c.day >= since
    )
    return {(slug, day): int(n) for slug, day, n in conn.execute(stmt)}
