"""Does ``source.timezone`` match the zone the source's naive times are written in?

Ingest reads a naive cursor value (a ``DATETIME`` / ``timestamp`` column, an SQLite text
timestamp) in ``source.timezone`` (default ``site.timezone``, +07:00). A CMS that writes UTC
into such a column then has every article dated 7 h early; one whose zone is ahead has its new
rows held back as "in the future". ``feedsvc source check`` asks the source database for its
clock as a naive value (:data:`CLOCK_SQL`: what ``NOW()`` / ``CURRENT_TIMESTAMP`` would write
into a naive column: UTC on SQLite, the session time zone on PostgreSQL and MariaDB), reads it
as ingest reads cursor values and compares it with the real time (:func:`clock_warning`); the
newest row's cursor value is compared likewise (:func:`newest_warning`), which catches a CMS
writing UTC from its own code into a database whose clock agrees with ``source.timezone``.

Pure: values in, one warning line (without the ``warning:`` prefix) or None out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feedsvc.catalogue import ENGLISH

#: The source database's clock as a naive value and its zone's name, per SQLAlchemy dialect
#: name. The name (an IANA zone on PostgreSQL; on MariaDB/MySQL one only with zone tables
#: loaded, else "+07:00" or the system's abbreviation) is the advice when its offset matches:
#: a zone with summer time is not a fixed ``Etc/GMT-1``, 1 h off half the year.
_MY_ZONE = "IF(@@session.time_zone = 'SYSTEM', @@system_time_zone, @@session.time_zone)"
CLOCK_SQL = {
    "sqlite": "SELECT CURRENT_TIMESTAMP, 'UTC'",  # UTC text
    "postgresql": "SELECT LOCALTIMESTAMP, current_setting('TimeZone')",  # the session's zone
    "mysql": f"SELECT NOW(), {_MY_ZONE}",  # the session's time_zone
    "mariadb": f"SELECT NOW(), {_MY_ZONE}",
}
#: A difference this small is clock drift or a row written a moment ago, not a zone mistake.
TOLERANCE = timedelta(minutes=5)
STEP = timedelta(minutes=15)  # every zone's offset is a multiple of a quarter hour
LOWEST, HIGHEST = timedelta(hours=-12), timedelta(hours=14)  # the offsets zones have


@dataclass(frozen=True, slots=True)
class Zone:
    """The configured zone: its name as the operator set it (``source.timezone``, or
    ``site.timezone`` when that is unset: ``key`` says which) and the zone itself."""

    name: str
    tz: tzinfo
    key: str = "source.timezone"

    def offset(self, at: datetime) -> timedelta:
        return at.astimezone(self.tz).utcoffset() or timedelta(0)

    def shown(self, at: datetime) -> str:
        return f"{self.key} {self.name!r} ({offset_text(self.offset(at))})"


def naive_value(kind: str, value: Any) -> datetime | None:
    """A cursor value as the naive wall time ingest reads in ``source.timezone``; None when the
    zone plays no part (``aware``/``epoch`` columns, a text value carrying its own offset) or
    the value is no moment (NULL, a placeholder the driver gave as text)."""
    if kind not in ("naive", "text"):
        return None
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if not isinstance(value, datetime) or value.tzinfo is not None:
        return None
    return value


def _span(delta: timedelta) -> str:
    """``1 hour 13 minutes``, ``7 hours``: a difference of zones, in the catalogue's words."""
    return ENGLISH.duration(delta.total_seconds(), precise=True)


def offset_text(offset: timedelta) -> str:
    """``UTC+07:00``, ``UTC-03:30``, ``UTC+00:00``."""
    minutes = round(offset.total_seconds() / 60)
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def written_offset(naive: datetime, now: datetime) -> timedelta:
    """The UTC offset under which the wall time ``naive`` is ``now``, to the quarter hour."""
    raw = naive - now.astimezone(UTC).replace(tzinfo=None)
    return STEP * round(raw / STEP)


def zone_for(offset: timedelta, now: datetime, preferred: Sequence[str]) -> str | None:
    """A ``source.timezone`` value at ``offset`` now: the first of ``preferred`` (the site's
    zone, then the source database's own: a named zone keeps its summer time) that is,
    ``UTC`` for 0, ``Etc/GMT-7`` for a whole hour (POSIX signs: ``Etc/GMT-7`` is UTC+07:00);
    None for an offset only a named zone has (+05:30: the operator picks it)."""
    for name in preferred:
        try:
            if now.astimezone(ZoneInfo(name)).utcoffset() == offset:
                return name
        except (ZoneInfoNotFoundError, ValueError):
            continue
    if offset == timedelta(0):
        return "UTC"
    hours, rest = divmod(offset, timedelta(hours=1))
    if rest:
        return None
    return f"Etc/GMT{-hours:+d}"


def _advice(offset: timedelta, now: datetime, preferred: Sequence[str]) -> str:
    zone = zone_for(offset, now, preferred)
    if zone is None:
        return f"set source.timezone to an IANA zone at {offset_text(offset)}"
    return f'set source.timezone = "{zone}" ({offset_text(offset)})'


def _effect(delta: timedelta) -> str:
    """What reading values in the wrong zone does, ``delta`` = read instant minus the truth."""
    if delta < timedelta(0):
        return f"every article is dated {_span(delta)} early"
    return f"new rows are held back {_span(delta)} as dated in the future"


def clock_warning(
    clock: datetime,
    zone: Zone,
    now: datetime,
    cursor: str,
    preferred: Sequence[str] = (),
    newest: datetime | None = None,
) -> str | None:
    """Warn when the source database's clock (``clock``, naive, :data:`CLOCK_SQL`) read in
    ``zone`` is more than :data:`TOLERANCE` from ``now`` (aware, the real time): a CMS that
    writes the database's time into ``cursor`` (the column, as configured) would be read that
    far off. None when they agree, and when the newest row's value (``newest``, naive) shows
    the CMS does not write the database's time (:func:`_rows_disagree`): a CMS whose own code
    writes ``zone``'s wall time into a database whose clock is UTC (SQLite's always is)."""
    delta = clock.replace(tzinfo=zone.tz).astimezone(UTC) - now
    if abs(delta) <= TOLERANCE:
        return None
    offset = written_offset(clock, now)
    if newest is not None and _rows_disagree(newest, zone, offset, now):
        return None
    if not LOWEST <= offset <= HIGHEST:
        return (
            f"the source database's clock reads {clock:%Y-%m-%d %H:%M:%S}, "
            f"{_span(delta)} {'before' if delta < timedelta(0) else 'after'} now in "
            f"{zone.shown(now)}, more than any time zone explains: check that server's clock"
        )
    return (
        f"the source database's clock reads {clock:%Y-%m-%d %H:%M:%S}, which "
        f"{zone.shown(now)} makes {_span(delta)} "
        f"{'before' if delta < timedelta(0) else 'after'} now: that database's time zone is "
        f"{offset_text(offset)}. If the CMS writes the database's time (NOW(), "
        f"CURRENT_TIMESTAMP) into {cursor}, {_effect(delta)}; "
        f"then {_advice(offset, now, preferred)}"
    )


def _rows_disagree(newest: datetime, zone: Zone, offset: timedelta, now: datetime) -> bool:
    """The newest row (naive) is dated within :data:`TOLERANCE` of ``now`` read in ``zone``
    (the zone is right), or read at the clock's ``offset`` it would lie after now (no row is
    written in the future: the clock's zone is not the one the CMS writes). Either way the
    advice to read values at ``offset`` would be wrong: it would hold new rows back. A newest
    row already after now in ``zone`` (a placeholder, a zone ahead) shows nothing here."""
    late = newest.replace(tzinfo=zone.tz).astimezone(UTC) - now
    if late > TOLERANCE:
        return False
    if abs(late) <= TOLERANCE:
        return True
    return newest - offset - now.astimezone(UTC).replace(tzinfo=None) > TOLERANCE


def newest_warning(
    value: datetime,
    row_id: str,
    zone: Zone,
    now: datetime,
    cursor: str,
    clock_offset: timedelta | None = None,
    preferred: Sequence[str] = (),
) -> str | None:
    """Warn when the newest row's cursor value (``value``, naive) read in ``zone`` lies off
    ``now`` by what a zone mistake explains: after now by a zone's offset (it waits, held
    back), or before now by exactly the distance from ``zone`` to UTC or to the database's own
    clock (``clock_offset``), the two zones a CMS writes by mistake. An older newest row is
    otherwise just an older article: None."""
    delta = value.replace(tzinfo=zone.tz).astimezone(UTC) - now
    offset = written_offset(value, now)
    if abs(delta) <= TOLERANCE or not LOWEST <= offset <= HIGHEST:
        return None
    shown = f"the newest row (id={row_id}, {cursor} = {value:%Y-%m-%d %H:%M:%S})"
    if delta > timedelta(0):
        held = f"{shown} is dated {_span(delta)} after now in {zone.shown(now)}: ingest holds "
        naive_now = now.astimezone(UTC).replace(tzinfo=None)
        age = None if clock_offset is None else naive_now - (value - clock_offset)
        if (
            clock_offset is not None
            and age is not None
            and age > TOLERANCE
            and clock_offset != zone.offset(now)
        ):
            # read in the database's own zone it is a row of the past: that zone, not a guess
            # that it was written a moment ago (a row 1 h old guessed "UTC+05:45")
            return (
                f"{held}it back until then. In the database's zone {offset_text(clock_offset)} "
                f"it was written {_span(age)} ago: "
                f"{_effect(clock_offset - zone.offset(now))}; "
                f"{_advice(clock_offset, now, preferred)}"
            )
        return (
            f"{held}it back until then. Written in the last minutes, it is in "
            f"{offset_text(offset)}: {_effect(delta)}; {_advice(offset, now, preferred)}"
        )
    drift = abs(value - now.astimezone(UTC).replace(tzinfo=None) - offset)
    if drift > TOLERANCE or offset not in (timedelta(0), clock_offset):
        return None
    return (
        f"{shown} is dated {_span(delta)} before now in {zone.shown(now)}, just the "
        f"distance to {offset_text(offset)}. If it was written in the last minutes, the CMS "
        f"writes {offset_text(offset)} times and {_effect(delta)}; "
        f"{_advice(offset, now, preferred)}"
    )
