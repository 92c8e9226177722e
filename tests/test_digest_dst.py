"""Digest times, hourly digests and quiet windows across daylight-saving changes, minute by
minute (``feedsvc.digest.schedule``; README "Alert delivery options": a time a gap skips fires
at the gap's end, a repeated time once).

A chat tester's: in Berlin a quiet window 23:00-02:45 held an alert of the repeated 02:40
(+01:00) until 02:45 the next day, and in New York a 02:30 digest on the spring-forward day
fired at 03:30, after the chat's 03:15 one. Every transition of 2026 in zones with an hour's
change (Berlin, New York), Lord Howe's half hour, changes at midnight (Santiago, Havana,
Beirut), Gaza, and Ho Chi Minh City (none) as the control; every minute around each, for
windows and times in, at and around the gap or fold.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from feedsvc.digest import ChatSettings, DigestSchedule, QuietWindow, parse_digest, parse_quiet
from feedsvc.digest.schedule import next_digest, release_at

ZONES = (
    "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago",
    "America/Havana", "Asia/Beirut", "Asia/Gaza", "Asia/Ho_Chi_Minh",
)  # fmt: skip
MINUTE = timedelta(minutes=1)
SPAN = timedelta(hours=10)  # looked at on each side of a transition


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def wall(instant: datetime, tz: ZoneInfo) -> datetime:
    """The local clock's reading, naive (no ``fold``: a time as typed has none)."""
    return instant.astimezone(tz).replace(tzinfo=None, fold=0)


def transitions(tz: ZoneInfo, year: int = 2026) -> list[datetime]:
    """The instants of ``year`` at which ``tz``'s offset changes (to the minute)."""
    found, at = [], datetime(year, 1, 1, tzinfo=UTC)
    step = timedelta(minutes=30)
    while at.year == year:
        if at.astimezone(tz).utcoffset() != (at + step).astimezone(tz).utcoffset():
            low, high = at, at + step
            while high - low > MINUTE:
                mid = low + (high - low) // 2
                same = mid.astimezone(tz).utcoffset() == at.astimezone(tz).utcoffset()
                low, high = (mid, high) if same else (low, mid)
            found.append(high)
        at += step
    return found


def cases() -> Iterator[tuple[str, datetime]]:
    for name in ZONES:
        found = transitions(ZoneInfo(name))
        # the control: no change; a day like any other
        yield from ((name, t) for t in found or [utc(2026, 3, 29, 1)])


CASES = list(cases())
IDS = [f"{name}-{t:%m-%d}" for name, t in CASES]


def affected(t: datetime, tz: ZoneInfo) -> tuple[time, time]:
    """The wall times a transition at ``t`` skips (a gap) or repeats (a fold): [lo, hi)."""
    before, after = wall(t - MINUTE, tz) + MINUTE, wall(t, tz)
    lo, hi = min(before, after), max(before, after)
    if lo == hi:  # no change (the control): an ordinary hour
        hi = lo + timedelta(hours=1)
    return lo.time(), hi.time()


def shifted(t: time, minutes: int) -> time:
    return (datetime.combine(date(2000, 1, 1), t) + timedelta(minutes=minutes)).time()


def walls_around(t: datetime, tz: ZoneInfo) -> list[time]:
    """Times at the edges, inside and around the skipped or repeated wall times."""
    lo, hi = affected(t, tz)
    width = length(QuietWindow(lo, hi))  # through midnight too: 23:00-00:00 is an hour
    mid = shifted(lo, int(width.total_seconds() // 120))
    return sorted({lo, mid, hi, shifted(lo, 5), shifted(hi, -5), shifted(lo, -120),
                   shifted(hi, 150)})  # fmt: skip


def windows(t: datetime, tz: ZoneInfo) -> list[QuietWindow]:
    lo, hi = affected(t, tz)
    mid = walls_around(t, tz)
    starts = [shifted(lo, -120), lo, shifted(lo, 5), *mid[2:3], hi]
    ends = [lo, shifted(lo, 5), *mid[2:3], shifted(hi, -5), hi, shifted(hi, 60)]
    return [QuietWindow(s, e) for s in starts for e in ends if s != e]


def minutes(t: datetime) -> Iterator[datetime]:
    at = t - SPAN
    while at <= t + SPAN:
        yield at
        at += MINUTE


def fired(schedule: DigestSchedule, t: datetime, tz: ZoneInfo) -> list[datetime]:
    """The digests due over the minutes around ``t``."""
    due = (next_digest(schedule, at, tz) for at in minutes(t))
    return sorted({at for at in due if at is not None})


def offset(instant: datetime, tz: ZoneInfo) -> timedelta:
    shift = instant.astimezone(tz).utcoffset()
    assert shift is not None
    return shift


def length(window: QuietWindow) -> timedelta:
    day = date(2000, 1, 1)
    gap = datetime.combine(day, window.end) - datetime.combine(day, window.start)
    return gap if gap > timedelta(0) else gap + timedelta(days=1)


def reaches(instant: datetime, target: time, tz: ZoneInfo) -> bool:
    """The clock reaches ``target`` at ``instant``: it shows it or a later time of the same
    day, and showed an earlier one a second before (a time a gap skips: at the gap's end), or
    it was put back to show ``target`` itself (the fold's second 02:00)."""
    now = wall(instant, tz)
    goal = datetime.combine(now.date(), target)
    before = wall(instant - timedelta(seconds=1), tz)
    return goal <= now and (before < goal or (before > now and goal == now))


def nearest(x: time, t: datetime, tz: ZoneInfo) -> datetime:
    """``x`` on the local day that puts it nearest the transition ``t`` (naive)."""
    at = wall(t, tz)
    days = (datetime.combine(at.date() + timedelta(days=k), x) for k in (-1, 0, 1))
    return min(days, key=lambda d: abs(d - at))


# --- the reported cases -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("zone", "quiet", "arrival", "release"),
    [
        # the repeated 02:40 (+01:00): the second 02:45, 5 minutes later (held a day and 5 min)
        ("Europe/Berlin", "23:00-02:45", utc(2026, 10, 25, 1, 40), utc(2026, 10, 25, 1, 45)),
        ("Europe/Berlin", "23:00-02:45", utc(2026, 10, 25, 0, 40), utc(2026, 10, 25, 0, 45)),
        ("Europe/Berlin", "23:00-02:45", utc(2026, 10, 25, 1, 0), utc(2026, 10, 25, 1, 45)),
        # 01:10 EST, the repeated hour: 01:30 EST
        ("America/New_York", "00:00-01:30", utc(2026, 11, 1, 6, 10), utc(2026, 11, 1, 6, 30)),
        # a window starting in the repeated hour: the clock going back out of it after its
        # start does not end it (02:10 +01:00 was sent while 02:40 +02:00 waited till 06:00)
        ("Europe/Berlin", "02:30-06:00", utc(2026, 10, 25, 1, 10), utc(2026, 10, 25, 5)),
        # an end the spring gap skips: at the gap's end, 03:00 (held until 03:30)
        ("America/New_York", "23:00-02:30", utc(2026, 3, 8, 6, 50), utc(2026, 3, 8, 7)),
        # Lord Howe's half-hour gap (02:00→02:30) and fold (01:30-02:00 twice)
        ("Australia/Lord_Howe", "22:00-02:15", utc(2026, 10, 3, 15, 20),
         utc(2026, 10, 3, 15, 30)),
        ("Australia/Lord_Howe", "22:00-01:45", utc(2026, 4, 4, 15, 10), utc(2026, 4, 4, 15, 15)),
        # midnight changes: Santiago's gap at 00:00, Beirut's fold 23:00-24:00
        ("America/Santiago", "22:00-00:30", utc(2026, 9, 6, 3, 50), utc(2026, 9, 6, 4)),
        ("Asia/Beirut", "22:00-23:30", utc(2026, 10, 24, 21, 10), utc(2026, 10, 24, 21, 30)),
    ],
)  # fmt: skip
def test_a_quiet_window_ends_when_the_clock_next_shows_its_end(
    zone: str, quiet: str, arrival: datetime, release: datetime
) -> None:
    settings = ChatSettings(quiet=parse_quiet(quiet))
    assert release_at(settings, arrival, ZoneInfo(zone)) == release


@pytest.mark.parametrize(
    ("zone", "times", "after", "fires"),
    [
        # 02:30 is skipped on 8 March: at the gap's end (03:00 EDT), before 03:15 (was 03:30)
        ("America/New_York", "02:30,03:15", utc(2026, 3, 8, 6),
         [utc(2026, 3, 8, 7), utc(2026, 3, 8, 7, 15), utc(2026, 3, 9, 6, 30)]),
        ("Europe/Berlin", "02:10,02:50,03:05", utc(2026, 3, 28, 23),
         [utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 5), utc(2026, 3, 30, 0, 10)]),
        # Santiago's clock goes from 23:59:59 to 01:00 on 6 September: 00:00 fires at 01:00
        ("America/Santiago", "00:00,00:40,01:20", utc(2026, 9, 6, 2),
         [utc(2026, 9, 6, 4), utc(2026, 9, 6, 4, 20), utc(2026, 9, 7, 3)]),
        # a repeated time fires once, at its first occurrence
        ("Europe/Berlin", "02:30", utc(2026, 10, 24, 12),
         [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]),
    ],
)  # fmt: skip
def test_a_digest_time_a_gap_skips_fires_at_its_end_in_order(
    zone: str, times: str, after: datetime, fires: list[datetime]
) -> None:
    schedule, tz, got = parse_digest(times), ZoneInfo(zone), []
    for _ in fires:
        due = next_digest(schedule, after, tz)
        assert due is not None
        got.append(after := due)
    assert got == fires


# --- every minute around every transition -------------------------------------------------------
@pytest.mark.parametrize(("zone", "t"), CASES, ids=IDS)
def test_quiet_windows_minute_by_minute(zone: str, t: datetime) -> None:
    """Never before the window's end shows on the clock, never more than the window's length
    and an hour after the alert, in the order alerts arrive; a time inside the window on the
    clock is always held."""
    tz = ZoneInfo(zone)
    for window in windows(t, tz):
        settings, last = ChatSettings(quiet=window), None
        for at in minutes(t):
            released = release_at(settings, at, tz)
            what = f"{window.stored()} at {at.astimezone(tz).isoformat()}: {released}"
            if window.contains(at.astimezone(tz).time()):
                assert released is not None, what
            if released is not None:
                assert released > at, what
                assert reaches(released, window.end, tz), what
                assert released - at <= length(window) + timedelta(hours=1), what
            effective = released or at
            assert last is None or effective >= last, what
            last = effective


@pytest.mark.parametrize(("zone", "t"), CASES, ids=IDS)
def test_digest_times_minute_by_minute(zone: str, t: datetime) -> None:
    """Each digest time of the transition's day fires exactly once, when the clock reaches it
    (a skipped one at the gap's end), the day's times in their order; held alerts are
    released in the order they arrived, also with quiet hours."""
    tz = ZoneInfo(zone)
    picks = walls_around(t, tz)
    for times in (picks[:4], picks[2:6], picks[3:]):
        schedule = DigestSchedule(times=tuple(times))
        fires = fired(schedule, t, tz)
        served: dict[tuple[date, time], list[datetime]] = defaultdict(list)
        for fire in fires:
            hit = [x for x in times if reaches(fire, x, tz)]
            assert hit, f"{fire.astimezone(tz).isoformat()} is none of {times}"
            for x in hit:
                served[(wall(fire, tz).date(), x)].append(fire)
        # each time's coming nearest the transition (00:00 next to a change at 23:00 is the
        # next day's), the day's times in their order on the clock
        near = {x: nearest(x, t, tz) for x in times}
        for x in times:
            assert len(served[(near[x].date(), x)]) == 1, (x, served[(near[x].date(), x)])
        ordered = sorted(times, key=near.__getitem__)
        for x, y in pairwise(ordered):
            assert served[(near[x].date(), x)][0] <= served[(near[y].date(), y)][0], (x, y)
        for window in windows(t, tz)[::7]:
            settings, last = ChatSettings(schedule, window), t - SPAN
            for at in minutes(t):
                released = release_at(settings, at, tz)
                assert released is not None and released > at
                assert released >= last, (window.stored(), at, released)
                last = released


@pytest.mark.parametrize(("zone", "t"), CASES, ids=IDS)
def test_hourly_minute_by_minute(zone: str, t: datetime) -> None:
    """Every local hour comes (a skipped one at the gap's end, a repeated one twice), at most
    an hour apart, and what the clock is put back: Lord Howe's half-hour gap left 90 minutes
    between two hourly digests (its fold makes an hour of 90 minutes: that one may)."""
    tz = ZoneInfo(zone)
    schedule = DigestSchedule(hourly=True)
    fires = fired(schedule, t, tz)
    for fire, following in pairwise(fires):
        back = offset(fire, tz) - offset(following, tz)
        assert following - fire <= timedelta(hours=1) + max(back, timedelta(0)), (fire, following)
    for fire in fires:
        assert any(reaches(fire, time(h), tz) for h in range(24)), fire.astimezone(tz)
