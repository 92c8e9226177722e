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


def session_value(zone: Zone, now: datetime) -> str:
    """What ``SET time_zone`` takes for ``zone``: its fixed offset (a zone without summer time;
    every server accepts it), or its name for one with summer time (an offset is an hour off
    half the year; the name needs the server's zone tables, :data:`ZONE_TABLES`)."""
    offsets = {zone.offset(datetime(now.year, m, 1, tzinfo=now.tzinfo)) for m in (1, 7)}
    fixed = offset_text(zone.offset(now)).removeprefix("UTC")
    return zone.name if len(offsets) > 1 else fixed


def init_command(zone: Zone, now: datetime) -> str:
    """The ``source.url`` query parameter that gives the session ``zone``, URL-encoded."""
    return "init_command=" + quote(f"SET time_zone = '{session_value(zone, now)}'", safe="")


def advised_url(url: str, zone: Zone, now: datetime) -> str:
    """``url`` (``source.url``) with :func:`init_command` in its query — after ``?`` or ``&``
    as the URL has one (a verifier copied "&init_command=…" after a URL without a query: the
    driver read it as part of the database's name) —, its password masked."""
    from sqlalchemy.engine import make_url

    with_zone = make_url(url).update_query_dict(
        {"init_command": f"SET time_zone = '{session_value(zone, now)}'"}
    )
    return with_zone.render_as_string(hide_password=True)


#: how to load MariaDB's zone tables (a named zone in ``SET time_zone``), Debian's paths
ZONE_TABLES = "mariadb-tzinfo-to-sql /usr/share/zoneinfo | mariadb -u root mysql"


def timestamp_warning(
    dialect: str,
    columns: Sequence[tuple[str, str, str]],
    session: timedelta,
    zone: Zone,
    now: datetime,
    url: str = "",
    named_known: bool = True,
) -> str | None:
    """Warn when a ``TIMESTAMP`` column among ``columns`` ((setting, column, SQL type) of the
    mapped time columns) is given in a session zone (``session``, its offset now) other than
    ``zone``'s: its values are read that far off; ``url``: ``source.url`` (the whole URL to set
    is said); ``named_known``: whether the server knows ``zone``'s name (its zone tables are
    loaded), asked only for a zone with summer time. None otherwise, and for other dialects."""
    if dialect not in CONVERTING or session == zone.offset(now):
        return None
    stamped = [(key, col) for key, col, kind in columns if kind.upper().startswith("TIMESTAMP")]
    if not stamped:
        return None
    others = [(key, col) for key, col, kind in columns if not kind.upper().startswith("TIMESTAMP")]
    named = ", ".join(f"{key} {col!r}" for key, col in stamped)
    off = zone.offset(now) - session
    hours = abs(off).total_seconds() / 3600
    span = f"{hours:g} hour(s) {'early' if off > timedelta(0) else 'late'}"
    value = session_value(zone, now)
    target = advised_url(url, zone, now) if url else init_command(zone, now)
    said = (
        f"{named} {'is' if len(stamped) == 1 else 'are'} TIMESTAMP, which the server gives in "
        f"the session's time zone ({offset_text(session)}), read in {zone.shown(now)}: those "
        f"times are read {span}. Give the session source.timezone's zone (SET time_zone = "
        f"'{value}'): " + (f'source.url = "{target}"' if url else f"add {target} to source.url")
    )
    if "***" in target:
        said += " (your password where *** is)"
    if value == zone.name and not named_known:
        said += (
            f"; this server does not know the zone {zone.name!r} yet: load its zone tables "
            f"first ({ZONE_TABLES})"
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
