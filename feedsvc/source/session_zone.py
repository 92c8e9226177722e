"""MariaDB/MySQL ``TIMESTAMP`` columns and ``source.timezone`` (a tester's M5).

Ingest reads every naive time in ``source.timezone`` (:mod:`feedsvc.source.clock`). A
``DATETIME`` column holds the wall time the CMS wrote; a ``TIMESTAMP`` column holds an instant
that the server gives in the *session's* time zone (MariaDB KB "TIMESTAMP": "converted from
the current time zone to UTC for storage, and from UTC to the current time zone for
retrieval"). A table mixing the two — ``created DATETIME`` written in local time,
``modified TIMESTAMP`` on a server whose zone is UTC — had no right ``source.timezone``: each
value fits one of them and misreads the other by the zones' distance. Giving feedsvc's session
the zone ``source.timezone`` names makes both right: ``init_command`` in ``source.url``, which
the driver runs on every connection (as the tests' CMS fixtures already do), so cursor
comparisons, ``NOW()`` in a ``visible`` expression and the values agree.

Pure: the mapped columns' types, the session's offset (``NOW()`` read, :data:`~feedsvc.source.
clock.CLOCK_SQL`) and the zone in; one warning line (without ``warning:``) or None out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import quote

from feedsvc.source.clock import Zone, offset_text

#: the dialects whose ``TIMESTAMP`` is given in the session's zone
CONVERTING = frozenset({"mysql", "mariadb"})


def init_command(zone: Zone, now: datetime) -> str:
    """The ``source.url`` query parameter that gives the session ``zone``: its fixed offset
    (a zone without summer time, every server accepts it), or its name for one with summer
    time (an offset is an hour off half the year; the name needs the server's zone tables,
    ``mariadb-tzinfo-to-sql``)."""
    year = now.year
    offsets = {zone.offset(datetime(year, m, 1, tzinfo=now.tzinfo)) for m in (1, 7)}
    fixed = offset_text(zone.offset(now)).removeprefix("UTC")
    value = zone.name if len(offsets) > 1 else fixed
    return "init_command=" + quote(f"SET time_zone = '{value}'", safe="")


def timestamp_warning(
    dialect: str,
    columns: Sequence[tuple[str, str, str]],
    session: timedelta,
    zone: Zone,
    now: datetime,
) -> str | None:
    """Warn when a ``TIMESTAMP`` column among ``columns`` ((setting, column, SQL type) of the
    mapped time columns) is given in a session zone (``session``, its offset now) other than
    ``zone``'s: its values are read that far off. None otherwise, and for other dialects."""
    if dialect not in CONVERTING or session == zone.offset(now):
        return None
    stamped = [(key, col) for key, col, kind in columns if kind.upper().startswith("TIMESTAMP")]
    if not stamped:
        return None
    others = [(key, col) for key, col, kind in columns if not kind.upper().startswith("TIMESTAMP")]
    named = ", ".join(f"{key} {col!r}" for key, col in stamped)
    off = zone.offset(now) - session
    span = (
        f"{abs(off).total_seconds() / 3600:g} hour(s) {'early' if off > timedelta(0) else 'late'}"
    )
    said = (
        f"{named} {'is' if len(stamped) == 1 else 'are'} TIMESTAMP, which the server gives in "
        f"the session's time zone ({offset_text(session)}), read in {zone.shown(now)}: those "
        f"times are read {span}. Add {init_command(zone, now)} to source.url (joined with & "
        "after other parameters): the session then has source.timezone's zone"
    )
    if others:
        said += (
            ", and "
            + ", ".join(f"{key} {col!r}" for key, col in others)
            + (
                " (DATETIME, read in source.timezone) stay right; changing source.timezone "
                "instead would misread them"
            )
        )
    return said
