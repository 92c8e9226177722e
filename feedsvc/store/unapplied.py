"""Source rows ingest read and decided not to apply (``ingest_not_applied``, migration 0029).

A key column that is not unique gives one article several rows; ingest stores one and not the
others. Their positions are kept here so the overlap window behind the cursor counts them as
seen (as it counts the articles' and the quarantine's): before, such a row was re-read as a
late commit at every poll. The key and version each was decided at tell ingest whether it has
said so already, across restarts (:func:`record`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, union_all, update

from feedsvc.db.schema import articles
from feedsvc.db.schema_ingest import ingest_not_applied as t
from feedsvc.db.schema_ingest import ingest_quarantine
from feedsvc.store.articles import SourcePosition

#: How far behind the cursor a record is kept: beyond the longest overlap window a
#: configuration allows (``source.overlap_seconds`` <= 7 days), with a day for a naive
#: cursor's zone shifts. No window reaches further back, so the record is of no more use.
KEEP = timedelta(days=8)

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Unapplied:
    """A source row not applied: where it is, the key it carries and its version."""

    at: SourcePosition
    key: str
    version: datetime


def record(
    conn: Connection, source: str, rows: Sequence[Unapplied], now: datetime
) -> list[Unapplied]:
    """Record ``rows`` at their current positions; returns those not recorded before with this
    key and version (to be said: a row moved by an edit that kept both is not said again)."""
    latest = {r.at.id: r for r in rows}
    stored: dict[str, tuple[str, datetime, datetime]] = {}
    ids = list(latest)
    for start in range(0, len(ids), _CHUNK):
        found = select(t.c.source_id, t.c.source_key, t.c.version, t.c.source_cursor).where(
            t.c.source == source, t.c.source_id.in_(ids[start : start + _CHUNK])
        )
        stored.update({sid: (key, version, at) for sid, key, version, at in conn.execute(found)})
    new: list[Unapplied] = []
    for sid, r in latest.items():
        before = stored.get(sid)
        if before is None:
            continue
        if (before[0], before[1]) != (r.key, r.version):
            new.append(r)
        if before != (r.key, r.version, r.at.cursor):
            conn.execute(
                update(t)
                .where(t.c.source == source, t.c.source_id == sid)
                .values(
                    source_key=r.key, version=r.version, source_cursor=r.at.cursor, decided_at=now
                )
            )
    fresh = [r for sid, r in latest.items() if sid not in stored]
    if fresh:
        conn.execute(
            insert(t),
            [
                {
                    "source": source,
                    "source_id": r.at.id,
                    "source_key": r.key,
                    "source_cursor": r.at.cursor,
                    "version": r.version,
                    "decided_at": now,
                }
                for r in fresh
            ],
        )
    return [*fresh, *new]


def release(conn: Connection, source: str, source_ids: Sequence[str]) -> None:
    """Forget rows that hold their article now (stored, or its own row moved). Called for
    every batch: one indexed look for any record of the source first, as a table that is
    not unique is the exception (no ``DELETE`` naming every id of the batch)."""
    if not source_ids or _none(conn, source):
        return
    for start in range(0, len(source_ids), _CHUNK):
        chunk = list(source_ids[start : start + _CHUNK])
        conn.execute(delete(t).where(t.c.source == source, t.c.source_id.in_(chunk)))


def prune(conn: Connection, source: str, cursor: datetime) -> None:
    """Drop the records :data:`KEEP` behind ``cursor`` (the cursor a batch moves to; one in
    the first days of year 1, a CMS's placeholder date, has nothing behind it to drop)."""
    if cursor - datetime.min.replace(tzinfo=cursor.tzinfo) <= KEEP:
        return
    conn.execute(delete(t).where(t.c.source == source, t.c.source_cursor < cursor - KEEP))


def window_positions(
    conn: Connection, source: str, lo: datetime, hi: datetime
) -> list[SourcePosition]:
    """The positions in ``[lo, hi]`` (UTC) of the rows decided without an article there: the
    quarantined ones and the recorded ones (one statement, a ``UNION ALL`` of two index range
    scans: an idle tick costs no more queries than before). The overlap window counts them as
    seen, so neither a bad row nor a row not applied is re-read at every tick."""
    q = ingest_quarantine
    stmt = union_all(
        select(q.c.source_cursor, q.c.source_id).where(
            q.c.source == source, q.c.source_cursor >= lo, q.c.source_cursor <= hi
        ),
        select(t.c.source_cursor, t.c.source_id).where(
            t.c.source == source, t.c.source_cursor >= lo, t.c.source_cursor <= hi
        ),
    )
    return [SourcePosition(ts, sid) for ts, sid in conn.execute(stmt).tuples()]


def recorded(conn: Connection, source: str) -> dict[str, Unapplied]:
    """Every record of ``source`` by row id (status reads and tests)."""
    stmt = select(t.c.source_id, t.c.source_cursor, t.c.source_key, t.c.version).where(
        t.c.source == source
    )
    return {
        sid: Unapplied(SourcePosition(at, sid), key, version)
        for sid, at, key, version in conn.execute(stmt).tuples()
    }


def _none(conn: Connection, source: str) -> bool:
    return conn.execute(select(t.c.source_id).where(t.c.source == source).limit(1)).first() is None


def decided_positions(
    conn: Connection, source: str, source_ids: Sequence[str]
) -> dict[str, set[datetime]]:
    """Of ``source_ids``, the ones ingest has decided on — an article read from that row (in
    any state), a quarantined row, a row recorded as not applied — each with the positions it
    was decided at (UTC, as ingest keeps a row's place). A row not among them
    was never read; one whose position now is none of them was written again since
    (:mod:`feedsvc.ingest.behind`). Three indexed lookups per :data:`_CHUNK` ids
    (``articles.source_id``; the two tables' ``(source, source_id)`` keys)."""
    found: dict[str, set[datetime]] = {}
    q = ingest_quarantine
    for start in range(0, len(source_ids), _CHUNK):
        chunk = list(source_ids[start : start + _CHUNK])
        stmt = union_all(
            select(articles.c.source_id, articles.c.source_cursor).where(
                articles.c.source_id.in_(chunk)
            ),
            select(q.c.source_id, q.c.source_cursor).where(
                q.c.source == source, q.c.source_id.in_(chunk)
            ),
            select(t.c.source_id, t.c.source_cursor).where(
                t.c.source == source, t.c.source_id.in_(chunk)
            ),
        )
        for sid, at in conn.execute(stmt).tuples():
            found.setdefault(str(sid), set()).add(at)
    return found
