"""A quiet window's two ends read together (``/quiet``, the API's and the admin's ``quiet``;
:func:`feedsvc.digest.settings.parse_quiet` splits the text and calls here) — pure.

Each end is one time (:func:`feedsvc.digest.spoken.read_end`). Read alone, ``/quiet 9h-11h
tối`` was 09:00-23:00 and ``10h - 6h sáng`` 10:00-06:00, though a reader writing "9 to 11 in
the evening" means 21:00-23:00. So a day-part word written on one end only is weighed for the
other end when that end is a *bare 12-hour time*: an hour 1–12 with no word of its own and no
leading zero (``9h``, ``9``, ``9:30``, ``11h kém 15``; not ``09h``, ``21h``, ``0h``, ``24h``).

- As in a digest list, a word goes with the bare times of its run: one written before the
  start goes on to the end (``tối 9h-11h``), one written after the end back to the start
  (``9h-11h tối``), where that keeps the window inside the word's part of the day
  (:func:`~feedsvc.digest.day_parts.part_hours`): both are 21:00-23:00, ``1h-5h chiều``
  13:00-17:00, ``9h-11h đêm`` 21:00-23:00, ``10h - 2h đêm`` 22:00-02:00, ``9 - 11 CH``
  21:00-23:00 (``7h - 11h sáng`` 07:00-11:00, the word changing nothing).
- A word written between the times (after the start: ``9h tối - 11h``; before the end: ``9h -
  tối 11h``) goes with its own time, and the other is read as written, but where the word
  would also keep the window inside its part the reader could mean either (21:00-11:00 or
  21:00-23:00?): asked.
- A word that cannot go with the other end inside its part (``10h tối - 6h``: 22:00-18:00 is no
  evening) leaves it as written (22:00-06:00), unless that makes the window longer than 12
  hours while the other 12-hour reading of the end (12 hours on) would not: ``10h - 6h sáng``
  (10:00-06:00 or 22:00-06:00?), ``3h - 11h tối`` (03:00-23:00 or 15:00-23:00?), ``10h tối -
  12h`` (22:00-12:00 or 22:00-00:00?) are asked about.

Asked means refused with ``window_scope``, naming both readings, never guessed. Two bare ends
(``22h-6h``, ``10h-6h``), two worded ones (``10h tối - 6h sáng``: 22:00-06:00) or an end in the
24-hour clock's form (``21h - 6h sáng``, ``22:00 - 06:00``, ``22h - 24h``) are read as written,
each end alone, as before.
"""

from __future__ import annotations

import re
from datetime import time

from feedsvc.digest.day_parts import part_hours
from feedsvc.digest.errors import SettingError
from feedsvc.digest.spoken import hhmm, own_word, read_end, with_word

_DAY = 24 * 60
_HALF_DAY = 12 * 60


def read_window(text: str, first: str, last: str, field_name: str) -> tuple[time, time]:
    """The window's ``(start, end)`` from its two cleaned ends, ``first`` and ``last`` (``text``,
    the whole window as typed, is what a question names). Raises what
    :func:`~feedsvc.digest.spoken.read_end` raises for either end, or ``window_scope``."""
    ends = [read_end(first, field_name), read_end(last, field_name)]
    worded = [k for k, (_, m) in enumerate(ends) if own_word(m) is not None]
    if len(worded) != 1 or not _twelve_hour(ends[1 - worded[0]][1]):
        return ends[0][0], ends[1][0]
    at_word, m = ends[worded[0]]
    word = own_word(m) or ""
    bare, bare_m = ends[1 - worded[0]]

    def window(at: time) -> tuple[time, time]:
        return (at, at_word) if worded[0] == 1 else (at_word, at)

    shared = with_word(bare_m, word)
    if shared is not None and shared != bare and _inside(window(shared), part_hours(word)):
        # before the start going on, or after the end going back: the word's run
        if m["before"] if worded[0] == 0 else m["after"]:
            return window(shared)
        _ask(text, window(bare), window(shared), field_name)
    twin = _later(bare, _HALF_DAY)
    if _length(window(bare)) > _HALF_DAY >= _length(window(twin)):
        _ask(text, window(bare), window(twin), field_name)
    return window(bare)


def _twelve_hour(m: re.Match[str]) -> bool:
    """A bare time a reader may have written on the 12-hour clock: no word, an hour 1–12
    written without a leading zero (``08h``, ``08:00`` are the 24-hour clock's form)."""
    return own_word(m) is None and 1 <= int(m["hour"]) <= 12 and m["hour"][0] != "0"


def _minutes(at: time) -> int:
    return at.hour * 60 + at.minute


def _later(at: time, minutes: int) -> time:
    moved = (_minutes(at) + minutes) % _DAY
    return time(moved // 60, moved % 60)


def _length(window: tuple[time, time]) -> int:
    """Minutes from start to end, across midnight when the end comes first (0: empty)."""
    return (_minutes(window[1]) - _minutes(window[0])) % _DAY


def _inside(window: tuple[time, time], hours: frozenset[int]) -> bool:
    """Does the (non-empty) window lie within these hours of the day, start to end? ``đêm``'s
    cross midnight (21–04): 22:00-02:00 lies within them, 22:00-18:00 within no part."""
    start = _minutes(window[0])
    length = _length(window)
    return length > 0 and all((start + k) % _DAY // 60 in hours for k in range(length))


def _ask(text: str, one: tuple[time, time], other: tuple[time, time], field_name: str) -> None:
    """Refuse the window as ``window_scope``, naming both readings (earlier start first)."""
    first, second = sorted(f"{hhmm(a)}-{hhmm(b)}" for a, b in (one, other))
    raise SettingError(field_name, "window_scope", f"{text!r}: {first} or {second}?",
                       value=text, first=first, second=second)  # fmt: skip
