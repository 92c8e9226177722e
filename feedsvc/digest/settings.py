"""A chat's delivery settings: parsed from what people type, stored as canonical text.

One parser for the bot (``/digest``, ``/quiet``, ``/silent``), the JSON API
(``PATCH /api/chats/{chat_id}``) and the web admin, so all three accept and refuse the same
things. Errors carry a ``code``, the ``field`` and parameters; the catalogue words them
(``digest.error.<code>``), never this module.

Stored forms (columns of ``chats``): ``digest`` is NULL (instant), ``"hourly"`` or sorted
``"HH:MM,HH:MM"`` (at most :data:`MAX_TIMES`); ``quiet`` is NULL or ``"HH:MM-HH:MM"``;
``silent`` a boolean. Times are local wall-clock times in ``site.timezone``.

A time is read as people write it (:func:`parse_time`): ``08:00``, ``8h30``, ``8g``, ``8.30``,
``7 giờ 30 (phút)``, ``7h rưỡi``, then maybe a day-part word, with or without marks, a space
before it or not. The word moves the written hour (24-hour forms of the same part of the day
are taken as they are); any other hour contradicts it (``time_contradicts``, naming the hours):

    word               written hour → time                          e.g.
    sáng (sang)        1–11 as is; 12 refused (``time_ambiguous``)  7h sáng → 07:00
    trưa (trua)        11–12, 13–14 as is; 1–2 → 13–14              1h trưa → 13:00
    chiều (chieu)      1–6 → 13–18; 12–18 as is                     6 giờ chiều → 18:00
    tối (toi)          6–11 → 18–23; 18–23 as is                    7h tối → 19:00
    đêm (dem, khuya)   9–11 → 21–23; 12 → 00; 0–4, 21–23 as is      12h đêm → 00:00
    am (a.m.)          1–11 as is; 12 → 00                          12:30 AM → 00:30
    pm (p.m.)          1–11 → 13–23; 12 as is                       7:30 pm → 19:30
    noon / midnight    12 → 12:00 / 12 (or 0) → 00:00               12 noon → 12:00

A digest list is split at commas and semicolons, and at a space that cannot continue a time:
``7h 18h`` is two times, ``7h tối`` and ``7 giờ 30`` one each.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import time

from feedsvc.typed_forms import plain_forms

MAX_TIMES = 4  # digests a day: more is no longer a digest (issue 15 §1)
#: characters a typed setting may have: the longest valid value ("07:30, 12:00, 18:00, 21:30")
#: is under 30, spaces included; more is refused whole (``too_long``), by the bot, API and admin
MAX_CHARS = 100
HOURLY = "hourly"
# Vietnamese answers yes/no as "có"/"không" as often as "bật"/"tắt" (on/off): "có" was read
# and "không" refused ("/silent không": "Hãy chọn on hoặc off"), so both halves of each pair
# are here, written with and without their marks as the other words are
_OFF = frozenset({"off", "tắt", "tat", "không", "khong"})
_INSTANT = _OFF | {"instant", "ngay", "none"}
_ON = frozenset({"on", "bật", "bat", "có", "co"})
_HOURLY = frozenset({HOURLY, "hằng giờ", "hàng giờ", "mỗi giờ"})
#: Read both ways: "every 1 h", or 1 o'clock as "8h" is 08:00 (a Vietnamese shorthand taken
#: below). It meant hourly alone and 01:00 in a list ("1h,7h"); now it is asked about. "giờ" is
#: both "hour" and "o'clock", so "1 giờ" alone is asked about too; "1h sáng", "1h30" are times.
_AMBIGUOUS = frozenset({"1h", "1 h", "1 giờ", "1giờ", "1 gio", "1gio"})
# One time of day, on cleaned text (lower case, NFC, single spaces): an hour 0-23 (ASCII digits)
# then the minutes as "8:00", "8.30", "8h30", "8g30", "8 giờ 30 (phút)", "8h rưỡi" (half past),
# or none ("8", "8h", "19g", "8 giờ"), then maybe a day-part word ("7h tối", "7pm", "7:30 p.m.",
# "12 noon"), with or without a space before it. It ends at a space or the end, so "7h 18h" is
# two times and "7 giờ 30" one; no space between "h"/"g" and minutes ("7h 15" is 07:00, 15:00).
_TIME = re.compile(
    r"(?P<hour>[01]?[0-9]|2[0-3])"
    r"(?:(?:[:.hg]| ?(?:giờ|gio) ?)"
    r"(?:(?P<minute>[0-5][0-9])(?: ?(?:phút|phut))?| ?(?P<half>rưỡi|ruoi))?)?"
    r"(?: ?(?P<word>sáng|sang|trưa|trua|chiều|chieu|tối|toi|đêm|dem|khuya"
    r"|a\.?m\.?|p\.?m\.?|noon|midnight))?"
    r"(?= |$)"
)
#: The day-part words: the hours each goes with, as written (first, last, what to add). A
#: written hour outside them contradicts the word ("19h sáng", "3h tối", "15pm") and is refused;
#: 24-hour forms of the same part of the day are taken as they are ("18h tối", "13h trưa").
_PARTS: dict[str, tuple[tuple[int, int, int], ...]] = {
    "sáng": ((1, 11, 0),),  # 12h sáng: noon or midnight? refused (time_ambiguous)
    "trưa": ((11, 12, 0), (1, 2, 12), (13, 14, 0)),
    "chiều": ((1, 6, 12), (12, 18, 0)),
    "tối": ((6, 11, 12), (18, 23, 0)),
    "đêm": ((9, 11, 12), (12, 12, -12), (0, 4, 0), (21, 23, 0)),  # 12h đêm: 00:00
    "am": ((1, 11, 0), (12, 12, -12)),  # 12am: 00:00
    "pm": ((1, 11, 12), (12, 12, 0)),  # 12pm: 12:00
    "noon": ((12, 12, 0),),
    "midnight": ((12, 12, -12), (0, 0, 0)),
}
#: the same words without their marks, and another word for the night ("11h khuya")
_WORDS = {"sang": "sáng", "trua": "trưa", "chieu": "chiều", "toi": "tối", "dem": "đêm",
          "khuya": "đêm"}  # fmt: skip
_RANGE_SEP = re.compile(r"\s*[-–—]\s*|\s+(?:to|đến)\s+", re.IGNORECASE)
# a window's end written as the day's end (22:00-24:00, 22h-24h): midnight, 00:00
_DAY_END = re.compile(r"24(?:[:h.g](?:00)?)?", re.ASCII | re.IGNORECASE)


class SettingError(ValueError):
    """A setting that cannot be used: ``code`` (catalogue ``digest.error.<code>``), the
    ``field`` it concerns (``digest`` | ``quiet`` | ``silent``) and the parameters to word it.
    The English message does not name the field: whoever shows it does, once (the API's
    ``error`` is ``"<field>: <message>"``)."""

    def __init__(self, field_name: str, code: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.field = field_name
        self.code = code
        self.params = params


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    """When held alerts go out: never held (instant), every hour, or at fixed local times."""

    hourly: bool = False
    times: tuple[time, ...] = ()

    @property
    def instant(self) -> bool:
        return not self.hourly and not self.times

    def stored(self) -> str | None:
        """The ``chats.digest`` value: None (instant), ``hourly`` or ``HH:MM,HH:MM``."""
        if self.hourly:
            return HOURLY
        return ",".join(hhmm(t) for t in self.times) or None

    def text(self) -> str:
        """What ``/settings`` and the API show: ``off``, ``hourly`` or ``08:00,18:00``."""
        return self.stored() or "off"


@dataclass(frozen=True, slots=True)
class QuietWindow:
    """Local ``[start, end)``; ``end`` before ``start`` crosses midnight (22:00-06:00)."""

    start: time
    end: time

    def contains(self, local: time) -> bool:
        local = local.replace(second=0, microsecond=0, tzinfo=None, fold=0)
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def stored(self) -> str:
        return f"{hhmm(self.start)}-{hhmm(self.end)}"


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """Everything about *how* a chat gets its alerts (what it gets is its subscriptions)."""

    digest: DigestSchedule = field(default_factory=DigestSchedule)
    quiet: QuietWindow | None = None
    silent: bool = False

    @property
    def holds(self) -> bool:
        """True when alerts to this chat may be held at all (a digest or a quiet window)."""
        return not self.digest.instant or self.quiet is not None

    @classmethod
    def from_row(cls, digest: str | None, quiet: str | None, silent: bool) -> ChatSettings:
        """From the stored columns; a value the parser refuses (hand-edited DB) reads as unset,
        so a bad row can never stop alerts."""
        try:
            schedule = parse_digest(digest) if digest else DigestSchedule()
        except SettingError:
            schedule = DigestSchedule()
        try:
            window = parse_quiet(quiet) if quiet else None
        except SettingError:
            window = None
        return cls(schedule, window, bool(silent))


def hhmm(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def _clean(text: str, field_name: str) -> str:
    """Spaces collapsed, lower case, Unicode NFC: a Vietnamese keyboard or a paste may send
    ``tắt`` decomposed (``ta`` + U+0306 U+0301 + ``t``), which must read as the word it shows.
    Longer than :data:`MAX_CHARS` is a :class:`SettingError` (``too_long``): refused whole,
    never cut, so no front end validates a truncated value (the admin's form used to).
    Full-width ``７:３０`` (CJK phone keyboards) reads as ``7:30``: :mod:`feedsvc.typed_forms`."""
    if len(text) > MAX_CHARS:
        raise SettingError(field_name, "too_long", f"longer than {MAX_CHARS} characters",
                           limit=MAX_CHARS)  # fmt: skip
    return unicodedata.normalize("NFC", " ".join(plain_forms(text).split()).lower())


def parse_time(text: str, field_name: str) -> time:
    """One time of day: ``8:00``, ``08:00``, ``8h``, ``8h30``, ``7 giờ 30``, ``7h tối``,
    ``7:30 pm`` → a time (see :data:`_TIME`, :data:`_PARTS`); anything else is a
    :class:`SettingError`: ``bad_time``, or ``time_contradicts`` (an hour its day-part word
    does not go with: ``19h sáng``) or ``time_ambiguous`` (``12h sáng``)."""
    value = _clean(text, field_name).strip()
    m = _TIME.fullmatch(value)
    if m is None:
        raise SettingError(field_name, "bad_time", f"not a time of day (HH:MM): {value!r}",
                           value=value)  # fmt: skip
    return _resolve(m, field_name)


def _resolve(m: re.Match[str], field_name: str) -> time:
    """A :data:`_TIME` match → the time, its day-part word applied."""
    hour = int(m["hour"])
    minute = 30 if m["half"] else int(m["minute"] or 0)
    if m["word"] is None:
        return time(hour, minute)
    word = m["word"].replace(".", "")
    part = _WORDS.get(word, word)
    if part == "sáng" and hour == 12:
        raise SettingError(field_name, "time_ambiguous", f"{m[0]!r}: noon or midnight?",
                           value=m[0])  # fmt: skip
    for first, last, add in _PARTS[part]:
        if first <= hour <= last:
            return time(hour + add, minute)
    hours = _hours_text(part)
    raise SettingError(field_name, "time_contradicts",
                       f"{m[0]!r}: {m['word']!r} goes with the hours {hours} only",
                       value=m[0], word=m["word"], hours=hours)  # fmt: skip


def _hours_text(part: str) -> str:
    """The hours ``part`` goes with, as written, for a refusal: ``6–11, 18–23``."""
    spans: list[list[int]] = []
    for first, last, _ in sorted(_PARTS[part]):
        if spans and first <= spans[-1][1] + 1:
            spans[-1][1] = max(spans[-1][1], last)
        else:
            spans.append([first, last])
    return ", ".join(f"{a}–{b}" if a != b else str(a) for a, b in spans)


def _times(chunk: str) -> list[time]:
    """The times in one comma-free piece of a digest list, read left to right: several when
    separated by spaces ("7:30 18:00", "7h 18h"), one when the spaces are inside a time
    ("7 giờ 30", "7h tối"). What does not start a time is named as today ("sometimes")."""
    found: list[time] = []
    at = 0
    while at < len(chunk):
        if chunk[at] == " ":
            at += 1
            continue
        m = _TIME.match(chunk, at)
        if m is None:
            word = chunk[at:].split(" ", 1)[0]
            raise SettingError("digest", "bad_time", f"not a time of day (HH:MM): {word!r}",
                               value=word)  # fmt: skip
        found.append(_resolve(m, "digest"))
        at = m.end()
    return found


def parse_digest(text: str) -> DigestSchedule:
    """``off`` | ``hourly`` | times (:func:`parse_time`'s forms) separated by commas or
    semicolons, or by spaces where a space cannot continue a time (``7h 18h``; ``7h tối, 6h
    sáng``); at most :data:`MAX_TIMES` distinct times, kept sorted. Raises
    :class:`SettingError` (field ``digest``)."""
    value = _clean(text, "digest")
    if not value:
        raise SettingError("digest", "digest_empty", "give off, hourly or HH:MM times")
    if value in _INSTANT:
        return DigestSchedule()
    if value in _HOURLY:
        return DigestSchedule(hourly=True)
    if value in _AMBIGUOUS:
        raise SettingError("digest", "digest_ambiguous", f"{value}: hourly or 01:00? give either",
                           value=value)  # fmt: skip
    chunks = [c.strip() for c in re.split(r"[,;]", value)]
    if not any(chunks):  # only separators (",", ", ;"): no time given, as for "" (it read as off)
        raise SettingError("digest", "digest_empty", "give off, hourly or HH:MM times")
    times = sorted({t for c in chunks for t in _times(c)})
    if len(times) > MAX_TIMES:
        raise SettingError("digest", "digest_too_many", f"at most {MAX_TIMES} times a day",
                           limit=MAX_TIMES)  # fmt: skip
    return DigestSchedule(times=tuple(times))


def parse_quiet(text: str) -> QuietWindow | None:
    """``HH:MM-HH:MM`` (a window, may cross midnight) or ``off`` (None). Raises
    :class:`SettingError` (field ``quiet``); an empty window (start = end) is refused."""
    value = _clean(text, "quiet")
    if value in _OFF:
        return None
    bounds = _RANGE_SEP.split(value)
    if len(bounds) != 2 or not all(bounds):
        raise SettingError("quiet", "quiet_format", "give HH:MM-HH:MM or off",
                           value=text.strip())  # fmt: skip
    start = parse_time(bounds[0], "quiet")
    # "22:00-24:00" is how many people write "until midnight": refused as "not a time", it
    # left them guessing; as an end it is 00:00 (a start of 24:00 is no time and refused)
    ends_day = _DAY_END.fullmatch(bounds[1].strip()) is not None
    end = time(0) if ends_day else parse_time(bounds[1], "quiet")
    if start == end:
        raise SettingError("quiet", "quiet_empty", "start and end are the same time")
    return QuietWindow(start, end)


def parse_switch(text: str, field_name: str = "silent") -> bool:
    """``on``/``off`` (also ``bật``/``tắt``). Raises :class:`SettingError`."""
    value = _clean(text, field_name)
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise SettingError(field_name, "switch_format", "give on or off",
                       value=text.strip())  # fmt: skip
