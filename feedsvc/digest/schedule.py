"""When held alerts go out: pure functions of (settings, an instant, a time zone).

Every instant is an aware UTC ``datetime``; local wall-clock times are read in the zone given
(``site.timezone``) through :mod:`zoneinfo`, so daylight-saving changes are handled by the
tz database, not by adding hours:

- a local time that does not exist that day (skipped by a spring-forward gap) fires at the
  instant ``zoneinfo`` maps it to (``fold=0``: the offset before the gap, i.e. just after it);
- a local time that happens twice (autumn fold) fires once, at its first occurrence;
- "hourly" is every local top of the hour, also in zones whose offset is not whole hours.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from feedsvc.digest.settings import ChatSettings, DigestSchedule, QuietWindow

_QUARTER = timedelta(minutes=15)  # every UTC offset in the tz database is a multiple of this


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: give an aware UTC instant")
    return instant.astimezone(UTC)


def _at(day: date, wall: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, wall, tzinfo=tz).astimezone(UTC)  # fold=0 (see module doc)


def next_local(wall: time, after: datetime, tz: tzinfo) -> datetime:
    """The first instant strictly after ``after`` whose local time in ``tz`` is ``wall``
    (UTC, aware). Raises ValueError for a naive ``after``."""
    after = _aware(after)
    day = after.astimezone(tz).date() - timedelta(days=1)  # a fold can put today's behind us
    for offset in range(4):
        candidate = _at(day + timedelta(days=offset), wall, tz)
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: a wall time recurs within three days")


def next_hour(after: datetime, tz: tzinfo) -> datetime:
    """The first local top of the hour strictly after ``after`` (UTC, aware)."""
    after = _aware(after)
    base = after.replace(minute=0, second=0, microsecond=0)
    step = base + _QUARTER * ((after - base) // _QUARTER + 1)
    while step.astimezone(tz).minute != 0:
        step += _QUARTER
    return step


def next_digest(schedule: DigestSchedule, after: datetime, tz: tzinfo) -> datetime | None:
    """When the next digest after ``after`` is due; None for an instant chat."""
    if schedule.hourly:
        return next_hour(after, tz)
    if not schedule.times:
        return None
    return min(next_local(t, after, tz) for t in schedule.times)


def quiet_end(window: QuietWindow, at: datetime, tz: tzinfo) -> datetime | None:
    """When the quiet window holding ``at`` ends (UTC), or None when ``at`` is outside it."""
    if not window.contains(_aware(at).astimezone(tz).time()):
        return None
    return next_local(window.end, at, tz)


def release_at(settings: ChatSettings, now: datetime, tz: tzinfo) -> datetime | None:
    """When an alert matched at ``now`` may go out: None means now (send it as usual), else the
    instant of the digest that will carry it.

    A digest due inside the quiet window moves to the window's end, so a night of matches
    becomes one digest in the morning; an instant chat inside the window is held until its end.
    """
    due = next_digest(settings.digest, now, tz)
    probe = now if due is None else due
    end = quiet_end(settings.quiet, probe, tz) if settings.quiet is not None else None
    return end if end is not None else due
