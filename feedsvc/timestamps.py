"""Why a text is no timestamp, worded for the newsroom that sent it — pure.

:func:`feedsvc.articles.parse_timestamp` reads ISO 8601 with ``datetime.fromisoformat``; when
that refuses a value, "not ISO 8601" is right for ``yesterday`` but sends a newsroom looking for
a format problem when the value has the right shape and names a day no calendar has: MySQL and
MariaDB store such dates where ``sql_mode`` allows them (``2026-11-00``, ``2026-00-15``,
``2026-02-30``) and hand them over as text.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

_CALENDAR_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ]|$)")
#: a time of day ``fromisoformat`` refuses and ISO 8601 allows: the end of a day (``24:00``,
#: ``24:00:00``, ``24:00:00.000``) or a leap second (``:60``, a fraction allowed)
_EDGE_TIME = re.compile(
    r"(?P<day>\d{4}-?\d{2}-?\d{2}[Tt ])(?:(?P<end>24(?::?00(?::?00(?:[.,]0+)?)?)?)"
    r"|(?P<hm>\d{2}:?\d{2}):?60(?P<frac>[.,]\d+)?)(?P<zone>[+-]\d{2}(?::?\d{2})?)?"
)


def edge_of_time(text: str) -> datetime | None:
    """``text`` (ISO 8601, ``Z`` already written ``+00:00``) read where ``fromisoformat``
    refuses what the standard allows, in any form it reads (``T`` or ``t``, basic or extended):
    ``24:00`` is the next day's ``00:00``, a leap second ``23:59:60`` the next second
    (``00:00:00`` of the next day, as PostgreSQL reads it; UTC counts no leap seconds; a
    fraction is kept, which PostgreSQL refuses). None: not one of those, or no timestamp once
    read so (the caller's error then says why); past year 9999, the day itself (the caller's
    range check names it). A CMS that logs a leap second or writes a day's end so had its
    article refused as "not an ISO 8601 timestamp" (a tester's)."""
    edge = _EDGE_TIME.fullmatch(text)
    if edge is None:
        return None
    zone, step = edge["zone"] or "", timedelta(days=1)
    plain = f"{edge['day']}00:00{zone}"
    if not edge["end"]:
        plain = f"{edge['day']}{edge['hm'].replace(':', '')}59{edge['frac'] or ''}{zone}"
        step = timedelta(seconds=1)
    try:
        read = datetime.fromisoformat(plain)
    except ValueError:
        return None
    try:
        return read + step
    except OverflowError:
        return read


def unparsable_reason(value: str) -> str:
    """Why ``value`` (text ``fromisoformat`` refused) is no timestamp, one line, quoting at
    most 60 characters of it: ``no such date: '2026-02-30' (day 30: that month has 28 days)``
    for a date of the right shape that no calendar has, else ``not an ISO 8601 timestamp: …``."""
    shape = _CALENDAR_DATE.match(value.strip())
    if shape is not None:
        year, month, day = (int(part) for part in shape.groups())
        if year == 0:
            return f"no such date: {value[:60]!r} (year 0000)"
        if not 1 <= month <= 12:
            return f"no such date: {value[:60]!r} (month {shape.group(2)})"
        days = calendar.monthrange(year, month)[1]
        if day == 0:
            return f"no such date: {value[:60]!r} (day 00)"
        if day > days:
            return f"no such date: {value[:60]!r} (day {day}: that month has {days} days)"
    return f"not an ISO 8601 timestamp: {value[:60]!r}"
