"""What ``feedsvc source check`` asks a source database besides its rows: its clock, and each
mapped expression on its own. Ingest never runs these."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text

from feedsvc.source.clock import CLOCK_SQL
from feedsvc.source.sql import SqlSource


def source_clock(source: SqlSource) -> tuple[datetime | None, str | None]:
    """The source database's clock as a naive value and the name of its zone
    (:data:`feedsvc.source.clock.CLOCK_SQL`: what ``NOW()``/``CURRENT_TIMESTAMP`` writes into
    a naive column, and ``TimeZone`` / ``time_zone``; one query); ``(None, None)`` for a
    dialect not listed there. Raises the driver's errors."""
    sql = CLOCK_SQL.get(source.engine.dialect.name)
    if sql is None:
        return None, None
    with source.engine.connect() as conn:
        value, zone = conn.execute(text(sql)).one()
    if isinstance(value, str):  # SQLite's text
        value = datetime.fromisoformat(value)
    name = zone.decode(errors="replace") if isinstance(zone, bytes) else zone
    name = name if isinstance(name, str) else None
    if not isinstance(value, datetime):
        return None, name
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None), name


def probe(source: SqlSource, field: str) -> None:
    """Run one mapped expression on its own, so a failing one is reported by its key (raises
    the driver's error)."""
    b = source.bind()
    label = f"f_{field}"
    for col in b.fields:
        if col.name == label:
            with source.engine.connect() as conn:
                conn.execute(select(col).select_from(b.table).limit(1)).all()
