"""The ingest cursor per source: a (timestamp, id) keyset position plus health bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from feedsvc.db.schema_ingest import source_cursors as t
from feedsvc.store.records import Cursor as Cursor
from feedsvc.store.upsert import insert_missing


@dataclass(frozen=True, slots=True)
class Recorded:
    """The mapping a source's stored rows were read with (all None: none recorded): its
    fingerprint (:attr:`feedsvc.source.sql.SqlSource.mapping_key`), the zone naive times were
    read in (None: not recorded, before 0031, or a source without naive times), when it
    was recorded (state DB clock; None before 0031) and the fingerprint of its ``visible``
    alone (:attr:`feedsvc.source.sql.SqlSource.visible_key`; None: not known, before 0032)."""

    key: str | None
    zone: str | None
    at: datetime | None
    visible: str | None = None


def get_cursor(conn: Connection, name: str) -> Cursor:
    return get_state(conn, name)[0]


def get_state(conn: Connection, name: str) -> tuple[Cursor, Recorded]:
    """The cursor and the mapping recorded with it, in one read (an ingest tick's)."""
    row = conn.execute(select(t).where(t.c.name == name)).first()
    if row is None:
        return Cursor(None, None), Recorded(None, None, None, None)
    m = row._mapping
    cursor = Cursor(
        m["cursor_ts"],
        m["cursor_id"],
        m["last_tick_at"],
        m["last_success_at"],
        m["last_error"],
        m["failures"],
        m["backlog"],
        m["rate"],
        bool(m["first_sync"]),
        m["alert_ts"],
        m["alert_id"],
        m["reread_visible"],
    )
    recorded = Recorded(m["mapping"], m["mapping_zone"], m["mapping_at"], m["mapping_visible"])
    return cursor, recorded


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
    if first_sync is False:  # caught up: a re-read's alert boundary is behind the cursor
        values |= {"alert_ts": None, "alert_id": None, "reread_visible": None}
    conn.execute(update(t).where(t.c.name == name).values(**values))


def recorded_mapping(conn: Connection, name: str) -> Recorded:
    return get_state(conn, name)[1]


def apply_mapping(
    conn: Connection, name: str, mapping: tuple[str, str], zone: str | None, now: datetime
) -> bool:
    """Record ``mapping`` (its fingerprint and its ``visible``'s) and ``zone`` as what source
    ``name`` is read with (at ``now``); True when another mapping or zone was recorded and
    rows were read with it: the cursor then goes back to the start as a first sync (no
    alerts), so every stored row is read again, and where it stood is kept as the alert
    boundary (a re-read under way keeps its own): rows after it alert (:func:`get_cursor`'s
    ``alert_ts``/``alert_id``). Whether ``visible`` changed is kept for the re-read's life
    (``visible_changed``: None when the recorded one is not known, before 0032; a second
    change during a re-read can only make it True). Nothing recorded (a new source, a
    database from before 0030), or no zone recorded with the same mapping (before 0031), is
    no change: the running ones are taken as the recorded ones; so is the same mapping
    without a recorded ``visible`` (before 0032), which is recorded then."""
    key, visible = mapping
    _ensure(conn, name)
    row = conn.execute(select(t).where(t.c.name == name)).one()._mapping
    if (row["mapping"], row["mapping_zone"]) == (key, zone):
        if row["mapping_visible"] != visible:
            conn.execute(update(t).where(t.c.name == name).values(mapping_visible=visible))
        return False
    values: dict[str, object] = {
        "mapping": key, "mapping_zone": zone, "mapping_at": now, "mapping_visible": visible
    }  # fmt: skip
    adopted = row["mapping"] is None or (row["mapping"] == key and row["mapping_zone"] is None)
    read = row["cursor_ts"] is not None or row["first_sync"]
    changed = read and not adopted
    was = row["mapping_visible"]
    if changed:
        values |= {"cursor_ts": None, "cursor_id": None, "first_sync": True, "backlog": None}
        if not row["first_sync"]:  # else a re-read (or a first sync) is under way: its own
            values |= {"alert_ts": row["cursor_ts"], "alert_id": row["cursor_id"]}
            values["reread_visible"] = None if was is None else was != visible
        elif row["reread_visible"] is False and was != visible:
            values["reread_visible"] = True
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
