"""Rendered feed bytes per (topic, format), shared by every replica, and their dates.

Two dates per row, each never going back: ``last_modified``, the HTTP ``Last-Modified`` served
with the bytes (:func:`next_modified`: a later whole second than the version it replaces), and
``rendered_at``, when the bytes last changed (:func:`bytes_changed_at`; replicas' syncs look
for rows by it, and a topic's JSON Feed row's dates that feed's own ``updated``:
``feedsvc.publish.metas.topic_feed_dated``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from feedsvc.db.schema_service import feed_snapshots as t
from feedsvc.db.schema_service import feed_watermark as w
from feedsvc.http_dates import utc_seconds

#: The one watermark row's name.
WATERMARK = "feeds"
#: HTTP dates, and so a reader's If-Modified-Since, carry whole seconds.
SECOND = timedelta(seconds=1)

Key = tuple[str, str]  # (slug, format)


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    slug: str
    fmt: str
    body: bytes
    etag: str
    last_modified: datetime


@dataclass(frozen=True, slots=True)
class Mark:
    """What a stored row is, without its bytes: its tag and when its bytes last changed."""

    etag: str
    rendered_at: datetime


@dataclass(frozen=True, slots=True)
class Kept:
    """A row as a put left it: its ``Last-Modified``, when its bytes last changed, and whether
    this put stored them (False: the same bytes were there, written by anyone)."""

    last_modified: datetime
    rendered_at: datetime
    changed: bool


@dataclass(frozen=True, slots=True)
class Row:
    etag: str
    last_modified: datetime
    rendered_at: datetime


class SnapshotConflict(Exception):
    """The row a put was told to expect (:class:`Mark`) changed since it was read: another
    process stored that feed meanwhile. Nothing was written; render again from what it stored."""


def next_modified(previous: datetime | None, now: datetime) -> datetime:
    """The ``Last-Modified`` of a render replacing a version dated ``previous`` (None: none):
    ``now``, unless that is not in a later whole second than ``previous``; then the start of the
    second after ``previous``'s, ahead of the clock for a moment.

    Why: HTTP dates have one-second resolution. Two versions of a feed stored within one second
    had the same ``Last-Modified``, and a reader polling with only If-Modified-Since that got the
    first was answered 304 for the second: it kept the first (a taken-down article) until the
    next change. Each version a later second than the one it replaces is new to every reader of
    an older one; a date still ahead of the clock is served as the clock's, never with a 304 on
    If-Modified-Since (:class:`feedsvc.web.http_cache.Replies`), so a reader that got it then
    gets the version once more when its second has come, and 304s after."""
    if previous is None:
        return now
    after = utc_seconds(previous) + SECOND
    return max(now, after)


def bytes_changed_at(previous: Mark | None, etag: str, now: datetime) -> datetime:
    """When the bytes tagged ``etag`` changed, rendered at ``now`` over the stored ``previous``
    (None: none stored): ``previous``'s time if they are its bytes, else ``now`` — or
    ``previous``'s time if that is later (another process's clock, a render that began before
    the stored one): the time a row's bytes last changed never goes back. The one rule, for a
    put (:func:`put_rows`) and for a render dating a feed by it before storing it."""
    if previous is None:
        return now
    if previous.etag == etag:
        return previous.rendered_at
    return max(now, previous.rendered_at)


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


def feed_mark(conn: Connection, slug: str, fmt: str) -> Mark | None:
    """The stored ``(slug, fmt)`` row's :class:`Mark` (None: none stored)."""
    stmt = select(t.c.etag, t.c.rendered_at).where(t.c.topic_slug == slug, t.c.format == fmt)
    row = conn.execute(stmt).first()
    return None if row is None else Mark(row.etag, row.rendered_at)


def put_snapshot(conn: Connection, snap: StoredSnapshot, now: datetime) -> bool:
    """Store a render; returns False (and writes nothing) when the bytes did not change."""
    return put_rows(conn, [snap], now)[(snap.slug, snap.fmt)].changed


def put_snapshots(
    conn: Connection,
    snaps: list[StoredSnapshot],
    now: datetime,
    expect: tuple[str, Mark | None] | None = None,
) -> dict[str, Kept]:
    """:func:`put_rows` for one topic's renders, by format. ``expect``: ``(format, mark)``, that
    format's row of the topic as the render read it (None: absent)."""
    if not snaps:
        return {}
    wanted = None if expect is None else ((snaps[0].slug, expect[0]), expect[1])
    return {fmt: kept for (_, fmt), kept in put_rows(conn, snaps, now, wanted).items()}


def put_many(conn: Connection, snaps: Sequence[StoredSnapshot], now: datetime) -> dict[Key, Kept]:
    """Store many renders (the pages of the index a topic list change moves): :func:`put_rows`,
    whose statements each write all of them (the driver's ``executemany``). Why: one statement
    per row was ~2 ms each (100 pages at 5,000 topics)."""
    return put_rows(conn, snaps, now)


def put_rows(
    conn: Connection,
    snaps: Sequence[StoredSnapshot],
    now: datetime,
    expect: tuple[Key, Mark | None] | None = None,
) -> dict[Key, Kept]:
    """Store renders in the caller's write transaction: a row whose bytes did not change is
    left as it is; a changed one is dated by the row it replaces, read under that row's lock
    (:func:`next_modified`, :func:`bytes_changed_at`), so replicas storing one feed at once
    still give each version its own second. What each row is now.

    Rows missing are first inserted empty (``ON CONFLICT DO NOTHING``: replicas starting
    together insert the same new topic; one inserted meanwhile is then dated like any other);
    the first statement is a write, so an SQLite transaction begun deferred waits for the
    write lock instead of failing to upgrade its read.

    ``expect``: a row (written here or not) as the caller's render read it, ``(key, mark)``
    (None: absent); when it is no longer so, :class:`SnapshotConflict` is raised before
    anything is written (the render dated the feed by it: ``feedsvc.publish``)."""
    if not snaps:
        return {}
    keys = [(s.slug, s.fmt) for s in snaps]
    conn.execute(_insert(conn), [_row(s, b"", "", now, now) for s in snaps])
    found = _locked(conn, keys if expect is None else {*keys, expect[0]})
    if expect is not None:
        row = found.get(expect[0])
        if (None if row is None or not row.etag else Mark(row.etag, row.rendered_at)) != expect[1]:
            raise SnapshotConflict(expect[0])
    kept: dict[Key, Kept] = {}
    changes: list[dict[str, Any]] = []
    for snap in snaps:
        key = (snap.slug, snap.fmt)
        row = found[key]
        if row.etag == snap.etag:  # unchanged (stored by anyone)
            kept[key] = Kept(row.last_modified, row.rendered_at, False)
            continue
        if not row.etag:  # inserted empty just now: the first version
            modified = at = now
        else:
            modified = next_modified(row.last_modified, now)
            at = bytes_changed_at(Mark(row.etag, row.rendered_at), snap.etag, now)
        changes.append(_row(snap, snap.body, snap.etag, modified, at, prefix="new_"))
        kept[key] = Kept(modified, at, True)
    if changes:
        conn.execute(_UPDATE, changes)
    return kept


def _locked(conn: Connection, keys: Collection[Key]) -> dict[Key, Row]:
    """The stored rows of ``keys``, locked until the transaction ends (PostgreSQL; SQLite's
    write transaction holds the whole file), in key order so two writers never deadlock."""
    stmt = (
        select(t.c.topic_slug, t.c.format, t.c.etag, t.c.last_modified, t.c.rendered_at)
        .where(tuple_(t.c.topic_slug, t.c.format).in_(list(keys)))
        .order_by(t.c.topic_slug, t.c.format)
        .with_for_update()
    )
    return {
        (slug, fmt): Row(etag, modified, at)
        for slug, fmt, etag, modified, at in conn.execute(stmt).tuples()
    }


#: A changed row's new bytes and dates, by its key (``new_*``: not a column's own name, which
#: SQLAlchemy reserves for the row's current value in an UPDATE's parameters).
_UPDATE = (
    update(t)
    .where(t.c.topic_slug == bindparam("new_topic_slug"), t.c.format == bindparam("new_format"))
    .values(
        {
            column: bindparam("new_" + column, type_=t.c[column].type)
            for column in ("body", "etag", "last_modified", "rendered_at")
        }
    )
)


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


def _row(
    snap: StoredSnapshot,
    body: bytes,
    etag: str,
    modified: datetime,
    at: datetime,
    prefix: str = "",
) -> dict[str, Any]:
    """A ``feed_snapshots`` row's values for ``snap``'s key (names ``prefix``-ed)."""
    values = {
        "topic_slug": snap.slug,
        "format": snap.fmt,
        "body": body,
        "etag": etag,
        "last_modified": modified,
        "rendered_at": at,
    }
    return {prefix + name: value for name, value in values.items()}


def _insert(conn: Connection) -> Any:
    """Insert rows not there yet, leaving any another writer inserted first."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    return insert(t).on_conflict_do_nothing(index_elements=[t.c.topic_slug, t.c.format])
