"""Rendered feed bytes per (topic, format), shared by every replica."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from feedsvc.db.schema import feed_snapshots as t


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    slug: str
    fmt: str
    body: bytes
    etag: str
    last_modified: datetime


def get_snapshots(conn: Connection, since: datetime | None = None) -> list[StoredSnapshot]:
    stmt = select(t.c.topic_slug, t.c.format, t.c.body, t.c.etag, t.c.last_modified)
    if since is not None:
        stmt = stmt.where(t.c.rendered_at > since)
    return [StoredSnapshot(*row) for row in conn.execute(stmt).tuples()]


def put_snapshot(conn: Connection, snap: StoredSnapshot, now: datetime) -> bool:
    """Store a render; returns False (and writes nothing) when the bytes did not change."""
    current = conn.execute(
        select(t.c.etag).where(t.c.topic_slug == snap.slug, t.c.format == snap.fmt)
    ).scalar_one_or_none()
    values = {
        "body": snap.body,
        "etag": snap.etag,
        "last_modified": snap.last_modified,
        "rendered_at": now,
    }
    if current is None:
        conn.execute(insert(t).values(topic_slug=snap.slug, format=snap.fmt, **values))
        return True
    if current == snap.etag:
        return False
    conn.execute(
        update(t).where(t.c.topic_slug == snap.slug, t.c.format == snap.fmt).values(**values)
    )
    return True


def drop_snapshots(conn: Connection, slug: str) -> None:
    conn.execute(delete(t).where(t.c.topic_slug == slug))
