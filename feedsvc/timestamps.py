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

_CALENDAR_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ]|$)")


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
