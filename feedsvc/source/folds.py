"""The wall-clock hour a zone shows twice when its daylight saving time ends — pure.

A CMS that writes its cursor column in local time without a zone (WordPress's
``post_modified``, a ``DATETIME`` written with ``NOW()``) writes, in a zone with daylight saving
time (``source.timezone = "Europe/Berlin"``), the wall times of the hour before the clocks go
back twice: 02:00-02:59 in summer time, then 02:00-02:59 again in winter time. The rows of the
second pass sort *behind* the rows of the first in the column's order, so a keyset cursor that
took a first-pass row at 02:50 never reads the rows written at 02:05-02:44 an hour later in real
time (the overlap window behind the cursor is counted in wall time: 02:45-02:50). The cursor's
codec widens its window over such an hour and lets its reads reach the hour's end
(:meth:`feedsvc.source.cursor.CursorCodec.minus`, ``bound``). Fixed offsets and zones without
daylight saving time (``Asia/Ho_Chi_Minh``) have no such hour: nothing changes for them.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, tzinfo


def repeated_hour(tz: tzinfo, start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    """The wall times ``[first, end)`` that ``tz`` shows twice (its clocks going back) and
    that meet the naive wall times ``start`` .. ``end``, or ``None``. Only the first such
    hour: zones change their offset months apart, and the overlap window is at most 7 days.

    Found from the offsets at the range's earliest and latest readings (the first showing of
    ``start``, the second of ``end``): an offset that went down between them is a fall-back,
    whose instant is then narrowed to the second (tz data changes offsets on whole seconds).
    """
    early = start.replace(tzinfo=tz, fold=0).astimezone(UTC)
    late = end.replace(tzinfo=tz, fold=1).astimezone(UTC)
    before, after = _offset(tz, early), _offset(tz, late)
    if late <= early or before is None or after is None or before <= after:
        return None
    low, high = math.floor(early.timestamp()), math.ceil(late.timestamp())
    while high - low > 1:  # the first whole second at the new offset lies in (low, high]
        mid = (low + high) // 2
        if _offset(tz, datetime.fromtimestamp(mid, UTC)) == before:
            low = mid
        else:
            high = mid
    first = datetime.fromtimestamp(high, UTC).astimezone(tz).replace(tzinfo=None, fold=0)
    return first, first + (before - after)


def _offset(tz: tzinfo, moment: datetime) -> timedelta | None:
    return moment.astimezone(tz).utcoffset()
