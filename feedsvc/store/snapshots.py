"""Rendered feed bytes per (topic, format), shared by every replica."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from feedsvc.db.schema_service import feed_snapshots as t
from feedsvc.db.schema_service import feed_watermark as w

#: The one watermark row's name.
WATERMARK = "feeds"


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    slug: str
    fmt: str
    body: bytes
    etag: str
    last_modified: datetime


def get_snapshots(
    conn: Connection, keys: Collection[tuple[str, str]] | None = None
) -> list[StoredSnapshot]:
    """Every stored snapshot, or those of the given ``(slug, format)`` keys."""
    stmt = select(t.c.topic_slug, t.c.format, t.c.body, t.c.etag, t.c.last_modified)
    if keys is not None:
        if not keys:
            return []
        stmt = stmt.where(tuple_(t.c.topic_slug, t.c.format).in_(list(keys)))
    return [StoredSnapshot(*row) for row in conn.execute(stmt).tuples()]


def snapshot_etags(conn: Connection, since: datetime) -> list[tuple[str, str, str]]:
    """``(slug, format, etag)`` of snapshots rendered after ``since``: what a replica compares
    with its own before fetching any bytes."""
    stmt = select(t.c.topic_slug, t.c.format, t.c.etag).where(t.c.rendered_at > since)
    return [(slug, fmt, etag) for slug, fmt, etag in conn.execute(stmt).tuples()]


def put_snapshot(conn: Connection, snap: StoredSnapshot, now: datetime) -> bool:
    """Store a render; returns False (and writes nothing) when the bytes did not change.

    One upsert, so replicas starting together and rendering the same new topic cannot trip
    over each other's insert (a select-then-insert raced into a unique violation here).
    """
    stmt = _upsert(conn).values(**_row(snap, now))
    # a row comes back only when it was inserted or its bytes changed (rowcount is not
    # reliable for upserts across drivers)
    return conn.execute(stmt.returning(t.c.etag)).first() is not None


def put_snapshots(conn: Connection, snaps: list[StoredSnapshot], now: datetime) -> set[str]:
    """:func:`put_snapshot` for each of one topic's renders, in the caller's transaction; the
    formats whose stored bytes changed."""
    return {snap.fmt for snap in snaps if put_snapshot(conn, snap, now)}


def put_many(conn: Connection, snaps: Sequence[StoredSnapshot], now: datetime) -> None:
    """Store many renders (the pages of the index a topic list change moves) in one statement
    run for each (the driver's ``executemany``), in the caller's transaction; a row whose
    bytes did not change is left as it is. Why: :func:`put_snapshot` builds its statement
    per row (~2 ms each: 100 pages at 5,000 topics)."""
    if not snaps:
        return
    conn.execute(_upsert(conn), [_row(snap, now) for snap in snaps])


def drop_snapshots(conn: Connection, slug: str) -> None:
    conn.execute(delete(t).where(t.c.topic_slug == slug))


def snapshot_times(conn: Connection) -> dict[str, tuple[frozenset[str], datetime]]:
    """``slug → (formats stored, oldest rendered_at of them)`` without the bytes: what a
    restart checks before trusting a topic's stored snapshots (``feedsvc.warm_start``)."""
    stmt = select(t.c.topic_slug, t.c.format, t.c.rendered_at)
    out: dict[str, tuple[frozenset[str], datetime]] = {}
    for slug, fmt, at in conn.execute(stmt).tuples():
        formats, oldest = out.get(slug, (frozenset(), at))
        out[slug] = (formats | {fmt}, min(oldest, at))
    return out


@dataclass(frozen=True, slots=True)
class StoredWatermark:
    """Every change to the state DB up to ``rendered_through`` (UTC) is in ``feed_snapshots``,
    rendered with settings ``fingerprint``; the index page shows topics ``topics_digest``."""

    rendered_through: datetime
    fingerprint: str
    topics_digest: str


def get_watermark(conn: Connection) -> StoredWatermark | None:
    """The watermark (None: never written, e.g. a database older than migration 0015)."""
    row = conn.execute(
        select(w.c.rendered_through, w.c.fingerprint, w.c.topics_digest).where(
            w.c.name == WATERMARK
        )
    ).first()
    return None if row is None else StoredWatermark(*row)


def put_watermark(conn: Connection, mark: StoredWatermark) -> None:
    """Replace the watermark (one upsert: replicas write it concurrently; whichever lands last
    is true too, each being true when written)."""
    values = {
        "name": WATERMARK,
        "rendered_through": mark.rendered_through,
        "fingerprint": mark.fingerprint,
        "topics_digest": mark.topics_digest,
    }
    upsert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = upsert(w).values(**values)
    changed = ("rendered_through", "fingerprint", "topics_digest")
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[w.c.name], set_={k: stmt.excluded[k] for k in changed}
        )
    )


def drop_watermark(conn: Connection) -> None:
    """Forget the watermark: a full render is starting, and until one finishes every start
    renders everything (one stopped midway leaves renders of other settings stored)."""
    conn.execute(delete(w).where(w.c.name == WATERMARK))


def _row(snap: StoredSnapshot, now: datetime) -> dict[str, Any]:
    """A render as a ``feed_snapshots`` row, rendered at ``now``."""
    return {
        "topic_slug": snap.slug,
        "format": snap.fmt,
        "body": snap.body,
        "etag": snap.etag,
        "last_modified": snap.last_modified,
        "rendered_at": now,
    }


def _upsert(conn: Connection) -> Any:
    """The snapshot upsert: insert, or replace a stored render only when its ETag changed."""
    upsert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = upsert(t)
    return stmt.on_conflict_do_update(
        index_elements=[t.c.topic_slug, t.c.format],
        set_={k: stmt.excluded[k] for k in ("body", "etag", "last_modified", "rendered_at")},
        where=t.c.etag != stmt.excluded.etag,
    )
