"""Source rows ingest could not take: recorded, listed for the operator, released when fixed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, and_, delete, func, insert, not_, or_, select, update

from feedsvc.db.schema_ingest import ingest_quarantine as t
from feedsvc.store.records import Quarantined as Quarantined
from feedsvc.store.records import QuarantineEntry as QuarantineEntry

REASON_LIMIT = 2000
#: The position of a row whose cursor value has no place in the order (NULL, ``'-infinity'``,
#: a MySQL zero date): it sorts first, so no overlap window ever covers it.
NO_POSITION = datetime.min.replace(tzinfo=UTC)
#: How the source id of a quarantined row without an id begins (``(no id) <its key>``; stage
#: ``read`` at :data:`NO_POSITION`, :mod:`feedsvc.ingest.no_id`): never looked up by id (it
#: has none: ``int('(no id) …')`` would fail the check), listed again by its key instead.
NO_ID = "(no id)"


def put(conn: Connection, source: str, rows: Sequence[Quarantined], now: datetime) -> None:
    """Record ``rows`` (a row seen again gets its new position, reason and ``last_seen_at``).

    A row seen again unchanged is only marked seen, one statement per 500 (:func:`seen`): the
    10-minute re-check puts every refused row it looked at, and 5000 still refused were 5000
    UPDATEs in one write transaction (0.7 s of SQLite's writer lock, which the dispatcher's
    claims wait for)."""
    if not rows:
        return
    latest = {r.source_id: r for r in rows}
    found = select(t.c.source_id, t.c.source_key, t.c.source_cursor, t.c.stage, t.c.reason)
    found = found.where(t.c.source == source, t.c.source_id.in_(list(latest)))
    stored = {sid: tuple(values) for sid, *values in conn.execute(found)}
    unchanged = [sid for sid, values in stored.items() if values == _stored(latest[sid])]
    seen(conn, source, unchanged, now)
    for sid in stored.keys() - set(unchanged):
        r = latest[sid]
        conn.execute(
            update(t)
            .where(t.c.source == source, t.c.source_id == sid)
            .values(
                source_key=r.source_key,
                source_cursor=r.source_cursor,
                stage=r.stage,
                reason=r.reason[:REASON_LIMIT],
                last_seen_at=now,
            )
        )
    new = [
        {
            "source": source,
            "source_id": r.source_id,
            "source_key": r.source_key,
            "source_cursor": r.source_cursor,
            "stage": r.stage,
            "reason": r.reason[:REASON_LIMIT],
            "first_seen_at": now,
            "last_seen_at": now,
        }
        for sid, r in latest.items()
        if sid not in stored
    ]
    if new:
        conn.execute(insert(t), new)


def _stored(r: Quarantined) -> tuple[object, ...]:
    """``r``'s values as :func:`put` stores them (the reason cut to :data:`REASON_LIMIT`)."""
    return (r.source_key, r.source_cursor, r.stage, r.reason[:REASON_LIMIT])


def release(conn: Connection, source: str, source_ids: Sequence[str]) -> None:
    """Forget rows that were ingested after all (fixed in the CMS).

    Ingest calls this for every batch, and a healthy source has nothing quarantined: one
    indexed look for any row of the source first, instead of a ``DELETE`` naming every id of
    the batch (~2 µs per article on SQLite, ~5 on PostgreSQL; issue 17 §2)."""
    if not source_ids or _none_held(conn, source):
        return
    for start in range(0, len(source_ids), 500):
        conn.execute(
            delete(t).where(
                t.c.source == source, t.c.source_id.in_(list(source_ids[start : start + 500]))
            )
        )


def seen(conn: Connection, source: str, source_ids: Sequence[str], now: datetime) -> None:
    """Mark rows still held for the same reason as seen ``now`` (one statement per 500)."""
    for start in range(0, len(source_ids), 500):
        chunk = list(source_ids[start : start + 500])
        conn.execute(
            update(t).where(t.c.source == source, t.c.source_id.in_(chunk)).values(last_seen_at=now)
        )


def unplaced(conn: Connection, source: str) -> dict[str, str]:
    """``{row id: reason}`` of the rows quarantined for a cursor value with no place in the
    order (stage ``read`` at :data:`NO_POSITION`): re-checked by id, as no read takes them."""
    stmt = select(t.c.source_id, t.c.reason).where(
        t.c.source == source,
        t.c.source_cursor <= NO_POSITION,
        t.c.stage == "read",
        not_(t.c.source_id.startswith(NO_ID)),
    )
    return dict(conn.execute(stmt).tuples().all())


def without_id(conn: Connection, source: str) -> set[str]:
    """The source ids (:data:`NO_ID` …) of the rows quarantined for having no id."""
    stmt = select(t.c.source_id).where(t.c.source == source, t.c.source_id.startswith(NO_ID))
    return set(conn.execute(stmt).scalars().all())


def refused(conn: Connection, source: str, limit: int) -> dict[str, str]:
    """``{row id: stage}`` of the rows held for their values, at most ``limit``: refused by
    the parser (stage ``parse``), when read (stage ``read`` at a position: text that is not
    UTF-8, a value the driver cannot convert) or by the state DB (stage ``store``: a NUL byte
    on PostgreSQL, an operator's constraint), or held back for a time in the future (stage
    ``ahead``). Re-checked by id, as a fix made in place (the CMS's cursor value left as it
    was, or set to a time behind the cursor: a typo'd year corrected) is taken by no keyset
    read. The longest unchecked first (a check marks each row it looked at as seen): with more
    than ``limit`` such rows, every one is looked at in turn, never only the first ``limit``."""
    stmt = (
        select(t.c.source_id, t.c.stage)
        .where(
            t.c.source == source,
            or_(
                t.c.stage.in_(("parse", "store", "ahead")),
                and_(t.c.stage == "read", t.c.source_cursor > NO_POSITION),
            ),
            not_(t.c.source_id.startswith(NO_ID)),
        )
        .order_by(t.c.last_seen_at, t.c.id)
        .limit(limit)
    )
    return dict(conn.execute(stmt).tuples().all())


def _none_held(conn: Connection, source: str) -> bool:
    return conn.execute(select(t.c.id).where(t.c.source == source).limit(1)).first() is None


def count(conn: Connection, source: str | None = None) -> int:
    stmt = select(func.count()).select_from(t)
    if source is not None:
        stmt = stmt.where(t.c.source == source)
    return int(conn.execute(stmt).scalar_one())


def newest(conn: Connection, limit: int) -> list[QuarantineEntry]:
    """The most recently seen entries first."""
    stmt = select(t).order_by(t.c.last_seen_at.desc(), t.c.id.desc()).limit(limit)
    return [
        QuarantineEntry(
            Quarantined(m.source_id, m.source_cursor, m.source_key, m.stage, m.reason),
            m.source,
            m.first_seen_at,
            m.last_seen_at,
        )
        for m in conn.execute(stmt)
    ]
