"""When held alerts go out: pure functions of (settings, an instant, a time zone).

Every instant is an aware UTC ``datetime``; local wall-clock times are read in the zone given
(``site.timezone``) through :mod:`zoneinfo`, so daylight-saving changes are handled by the
tz database, not by adding hours. One rule for every wall-clock time here — a digest time,
the top of an hour, a quiet window's start and end: a time *comes* (:func:`arrivals`) when
the local clock reaches it, that is

- once on an ordinary day, at the instant the clock shows it;
- at the end of a spring-forward gap when the gap skips it (02:30 on a day the clock goes
  from 02:00 to 03:00 comes at 03:00, the instant it was skipped: never after a later time of
  the same day, 02:30 before 03:15), in any zone and at any hour (a gap at midnight, Lord
  Howe's half hour);
- twice when the autumn fold repeats it, at both of its occurrences (the clock goes back below
  it and reaches it again).

A digest time fires once a day, at its first coming (README: "a repeated time fires once");
the top of an hour at each (hourly: every hour of news, the repeated one too). A quiet window
holds an alert while the clock shows a time inside it, and from the window's start until its
end comes: the clock going back out of the window after the start (a window from 02:30, the
clock put back to 02:00) does not end it. It ends at the next coming of its end time: a
window ending at 02:45 that the fold's second 02:00 is inside again ends at the second 02:45,
5 minutes after a 02:40 alert, not at 02:45 the next day; one ending in a gap ends at the
gap's end.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache

from feedsvc.digest.settings import ChatSettings, DigestSchedule, QuietWindow

_SECOND = timedelta(seconds=1)
_DAYS = 4  # a wall time comes within two days of any instant, whatever the zone's changes


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: give an aware UTC instant")
    return instant.astimezone(UTC)


def _transition(before: datetime, after: datetime, tz: tzinfo) -> datetime:
    """The instant in ``(before, after]`` at which ``tz``'s UTC offset changes from the one at
    ``before`` (UTC; transitions in the tz database fall on whole seconds)."""
    offset = before.astimezone(tz).utcoffset()
    low, high = 0, int((after - before) // _SECOND)  # low: old offset, high: new
    while high - low > 1:
        mid = (low + high) // 2
        if (before + mid * _SECOND).astimezone(tz).utcoffset() == offset:
            low = mid
        else:
            high = mid
    return before + high * _SECOND


@lru_cache(maxsize=4096)  # a chat's few times on a few days: the same answers again and again
def arrivals(day: date, wall: time, tz: tzinfo) -> tuple[datetime, ...]:
    """The instants (UTC, ascending) at which ``tz``'s clock reaches ``wall`` on local ``day``:
    one; two when the autumn fold shows it twice; the end of the gap that skips it (the
    module's rule). ``wall``'s own ``fold`` and ``tzinfo`` are not read."""
    local = datetime.combine(day, wall.replace(tzinfo=None, fold=0), tzinfo=tz)
    first = local.astimezone(UTC)  # fold=0: the offset before the change
    second = local.replace(fold=1).astimezone(UTC)
    if first == second:
        return (first,)
    if first < second:  # the fold: shown at the earlier offset, then again at the later one
        return (first, second)
    # a gap (PEP 495: fold=0 reads the skipped time at the offset before it, the later
    # instant): the clock jumps over it at the transition between the two readings
    return (_transition(second, first, tz),)


def _comings(wall: time, around: datetime, tz: tzinfo, repeat: bool) -> list[datetime]:
    """Every coming of ``wall`` on the local days from the day before ``around`` to two days
    after (UTC, ascending); ``repeat`` false: only the first of a day's two."""
    start = around.astimezone(tz).date() - timedelta(days=1)
    found: list[datetime] = []
    for offset in range(_DAYS):
        times = arrivals(start + timedelta(days=offset), wall, tz)
        found.extend(times if repeat else times[:1])
    return sorted(found)


def next_local(wall: time, after: datetime, tz: tzinfo, *, repeat: bool = False) -> datetime:
    """The first coming of ``wall`` (local, in ``tz``) strictly after ``after`` (UTC, aware):
    a time skipped by a gap at the gap's end; one the fold repeats at its first occurrence
    only, or at both with ``repeat``. Raises ValueError for a naive ``after``."""
    after = _aware(after)
    for instant in _comings(wall, after, tz, repeat):
        if instant > after:
            return instant
    raise AssertionError("unreachable: a wall time comes within two days")


def _last_local(wall: time, at: datetime, tz: tzinfo) -> datetime | None:
    """The last coming of ``wall`` (either occurrence in a fold) at or before ``at``."""
    passed = [instant for instant in _comings(wall, at, tz, True) if instant <= at]
    return passed[-1] if passed else None


def next_hour(after: datetime, tz: tzinfo) -> datetime:
    """The first coming of a local top of the hour strictly after ``after`` (UTC, aware): in
    zones whose offset is no whole number of hours too (Kolkata's are at :30 UTC); an hour a
    gap skips comes at the gap's end (Lord Howe's half-hour gap: 02:00 at 02:30); the hour
    the fold repeats, at both occurrences. The hours looked at are the two around the local
    time's on each side: a fold of up to two hours brings an earlier one back."""
    after = _aware(after)
    hour = after.astimezone(tz).replace(minute=0, second=0, microsecond=0, tzinfo=None, fold=0)
    walls = (hour + timedelta(hours=k) for k in range(-2, 3))
    return min(t for w in walls for t in arrivals(w.date(), w.time(), tz) if t > after)


def next_digest(schedule: DigestSchedule, after: datetime, tz: tzinfo) -> datetime | None:
    """When the next digest after ``after`` is due; None for an instant chat."""
    if schedule.hourly:
        return next_hour(after, tz)
    if not schedule.times:
        return None
    return min(next_local(t, after, tz) for t in schedule.times)


def in_quiet(window: QuietWindow, at: datetime, tz: tzinfo) -> bool:
    """Whether ``window`` holds alerts at ``at``: the clock shows a time inside it, or its
    start came and its end has not since (the clock put back out of it after the start)."""
    at = _aware(at)
    if window.contains(at.astimezone(tz).time()):
        return True
    started = _last_local(window.start, at, tz)
    ended = _last_local(window.end, at, tz)
    return started is not None and (ended is None or ended < started)


def quiet_end(window: QuietWindow, at: datetime, tz: tzinfo) -> datetime | None:
    """When the quiet window holding ``at`` ends (UTC): the next coming of its end, either
    occurrence in a fold; None when ``at`` is outside it (:func:`in_quiet`)."""
    if not in_quiet(window, at, tz):
        return None
    return next_local(window.end, at, tz, repeat=True)


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
