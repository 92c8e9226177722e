"""What ``feedsvc source check`` says of the source's time zones: ``source.timezone`` against
the zone the naive cursor values are written in (:mod:`feedsvc.source.clock`), and MariaDB/MySQL
``TIMESTAMP`` columns given in a session zone other than it (:mod:`feedsvc.source.
session_zone`). Warnings on stderr; the exit is unchanged (problems only for a failing read).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from feedsvc.cli.common import cell

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from feedsvc.config import Settings
    from feedsvc.source import SqlSource
    from feedsvc.source.clock import Zone
    from feedsvc.source.rows import SourceRow


def zone_warnings(
    src: SqlSource, settings: Settings, sample: list[SourceRow], problems: list[tuple[str, str]]
) -> None:
    """Warn (stderr, exit unchanged) when ``source.timezone`` does not match the zone the
    source's naive cursor values are written in (``feedsvc.source.clock``): the database's
    clock read as ingest reads them (one query; none for a column with its own zone), and the
    newest sample row's value."""
    from datetime import UTC, datetime

    from sqlalchemy.exc import SQLAlchemyError

    from feedsvc.cli.source import first_line
    from feedsvc.source.clock import (
        Zone,
        clock_warning,
        naive_value,
        newest_warning,
        written_offset,
    )
    from feedsvc.source.diagnose import source_clock

    kind = src.codec.kind
    if kind not in ("naive", "text"):
        return  # an aware or epoch cursor: source.timezone plays no part
    s = settings.source
    key = "source.timezone" if s.timezone else "source.timezone (unset: site.timezone)"
    zone = Zone(s.timezone or settings.site.timezone, settings.source_tz, key)
    preferred = [settings.site.timezone]
    cursor = f"source.columns.cursor {s.columns.cursor!r}"
    try:
        clock, db_zone = source_clock(src)
    except SQLAlchemyError as exc:
        problems.append(("source.url", f"reading the source's clock fails: {first_line(exc)}"))
        return
    if db_zone:
        preferred.append(db_zone)
    now = datetime.now(UTC)
    clock_offset = None if clock is None else written_offset(clock, now)
    if _timestamp_warning(src, settings, zone, clock_offset, now) and _converted_cursor(src):
        return  # the session's zone misreads the cursor: "set source.timezone" would not do
    value = naive_value(kind, sample[0].cursor) if sample else None
    said = None if clock is None else clock_warning(clock, zone, now, cursor, preferred, value)
    if said is not None:
        click.echo(f"warning: {cell(said, 1000)}", err=True)
    if sample and value is not None:
        row = cell(str(sample[0].id), 40)
        said = newest_warning(value, row, zone, now, cursor, clock_offset, preferred)
        if said is not None:
            click.echo(f"warning: {cell(said, 1000)}", err=True)


def _converted_cursor(src: SqlSource) -> bool:
    """Whether the cursor column is a TIMESTAMP the server gives in the session's zone."""
    from feedsvc.source.session_zone import CONVERTING

    converting = src.engine.dialect.name in CONVERTING
    return converting and str(src.bind().ts.type).upper().startswith("TIMESTAMP")


def _timestamp_warning(
    src: SqlSource, settings: Settings, zone: Zone, clock_offset: timedelta | None, now: datetime
) -> bool:
    """Warn of the TIMESTAMP columns among the mapped time columns, given in the session's
    zone (``clock_offset``: ``NOW()`` read) other than ``zone``'s (:func:`feedsvc.source.
    session_zone.timestamp_warning`); whether it warned."""
    from feedsvc.source.session_zone import CONVERTING, session_value, timestamp_warning

    if clock_offset is None:
        return False
    bound = src.bind()
    times = {"published_at", "updated_at"}
    columns = [("source.columns.cursor", settings.source.columns.cursor, str(bound.ts.type))]
    columns += [
        (f"source.columns.{f.field}", f.source, f.type)
        for f in bound.mapping
        if f.field in times and f.kind == "column" and f.source and f.type
    ]
    dialect, url = src.engine.dialect.name, settings.source.url or ""
    known = _zone_known(src, session_value(zone, now)) if dialect in CONVERTING else True
    said = timestamp_warning(dialect, columns, clock_offset, zone, now, url, known)
    if said is not None:
        click.echo(f"warning: {cell(said, 2000)}", err=True)
    return said is not None


def _zone_known(src: SqlSource, value: str) -> bool:
    """Whether the MariaDB/MySQL server takes ``value`` in ``SET time_zone`` (an offset
    always; a name only with its zone tables loaded: ``CONVERT_TZ`` gives NULL otherwise)."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    if value[:1] in "+-":
        return True
    try:
        with src.engine.connect() as conn:
            sql = text("SELECT CONVERT_TZ('2000-01-01 00:00:00', '+00:00', :zone)")
            return conn.execute(sql, {"zone": value}).scalar() is not None
    except SQLAlchemyError:
        return False
