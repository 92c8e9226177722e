"""The ingest cursor per source: a (timestamp, id) keyset position plus health bookkeeping."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, update

from feedsvc.db.schema import source_cursors as t
from feedsvc.store.records import Cursor as Cursor
from feedsvc.store.upsert import insert_missing


def get_cursor(conn: Connection, name: str) -> Cursor:
    row = conn.execute(select(t).where(t.c.name == name)).first()
    if row is None:
        return Cursor(None, None)
    m = row._mapping
    return Cursor(
        m["cursor_ts"],
        m["cursor_id"],
        m["last_tick_at"],
        m["last_success_at"],
        m["last_error"],
        m["failures"],
        m["backlog"],
        m["rate"],
        bool(m["first_sync"]),
    )


def _ensure(conn: Connection, name: str) -> None:
    if conn.execute(select(t.c.name).where(t.c.name == name)).first() is None:
        conn.execute(insert_missing(conn, t).values(name=name, failures=0))


def record_success(
    conn: Connection,
    name: str,
    ts: datetime | None,
    id_: str | None,
    now: datetime,
    *,
    backlog: int | None = None,
    rate: float | None = None,
    first_sync: bool | None = None,
) -> None:
    """Advance the cursor (if ``ts`` is given) in the caller's transaction, with the articles;
    ``backlog`` (rows still behind it) and ``rate`` (rows/s) when ingest measured them;
    ``first_sync`` whether a first sync goes on after this batch (None: unchanged)."""
    _ensure(conn, name)
    values: dict[str, object] = {
        "last_tick_at": now,
        "last_success_at": now,
        "last_error": None,
        "failures": 0,
    }
    if ts is not None:
        values |= {"cursor_ts": ts, "cursor_id": id_}
    if backlog is not None:
        values |= {"backlog": backlog, "rate": rate}
    if first_sync is not None:
        values["first_sync"] = first_sync
    conn.execute(update(t).where(t.c.name == name).values(**values))


def apply_mapping(conn: Connection, name: str, mapping: str) -> bool:
    """Record ``mapping`` (:attr:`feedsvc.source.sql.SqlSource.mapping`) as the one source
    ``name`` is read with; True when another one was recorded: the cursor is then moved back
    to the start as a first sync (no alerts), so every stored row is read again with it. None
    recorded (a new source, a database from before 0030) is no change."""
    _ensure(conn, name)
    stored = conn.execute(select(t.c.mapping).where(t.c.name == name)).scalar_one()
    if stored == mapping:
        return False
    values: dict[str, object] = {"mapping": mapping}
    changed = stored is not None
    if changed:
        values |= {"cursor_ts": None, "cursor_id": None, "first_sync": True, "backlog": None}
    conn.execute(update(t).where(t.c.name == name).values(**values))
    return changed


def record_failure(conn: Connection, name: str, error: str, now: datetime) -> int:
    """Note a failed tick without touching the cursor; returns the consecutive failure count."""
    _ensure(conn, name)
    conn.execute(
        update(t)
        .where(t.c.name == name)
        .values(last_tick_at=now, last_error=error[:2000], failures=t.c.failures + 1)
    )
    return int(conn.execute(select(t.c.failures).where(t.c.name == name)).scalar_one())
