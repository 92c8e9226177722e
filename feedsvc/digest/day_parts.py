"""The day-part words of a time of day (``sáng``, ``tối``, ``pm``, ``nửa đêm``…): the hours each
goes with and how it moves a written hour, for :mod:`feedsvc.digest.spoken`'s grammar (its
docstring's table) and :mod:`feedsvc.digest.window`'s weighing of a quiet window's ends — pure."""

from __future__ import annotations

import re

from feedsvc.digest.errors import SettingError

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
#: the same words without their marks, another word for the night ("11h khuya"), "nửa đêm"
#: (midnight: "12h nửa đêm" is 00:00), and a phone's "SA"/"CH" (sáng/chiều: its AM/PM)
_WORDS = {"sang": "sáng", "trua": "trưa", "chieu": "chiều", "toi": "tối", "dem": "đêm",
          "khuya": "đêm", "nửa đêm": "midnight", "nua dem": "midnight", "sa": "am",
          "ch": "pm"}  # fmt: skip


def part_hours(word: str) -> frozenset[int]:
    """The hours of the day (0–23) ``word``'s part covers, by :data:`_PARTS`: ``tối`` 18–23."""
    return frozenset(h + add for first, last, add in _PARTS[day_part(word)]
                     for h in range(first, last + 1))  # fmt: skip


def day_part(word: str) -> str:
    """The :data:`_PARTS` key of a day-part word as written (``buổi tối``, ``toi``, ``p.m.``)."""
    bare = re.sub(r"^(?:buổi|buoi) ?", "", word).replace(".", "")
    return _WORDS.get(bare, bare)


def moved_hour(hour: int, word: str, value: str, field_name: str) -> int:
    """The written ``hour`` as ``word`` places it in the day (:data:`_PARTS`); raises
    ``time_ambiguous`` (12 sáng) or ``time_contradicts`` (naming the hours the word goes with)."""
    part = day_part(word)
    if part == "sáng" and hour == 12:
        raise SettingError(field_name, "time_ambiguous", f"{value!r}: noon or midnight?",
                           value=value)  # fmt: skip
    for first, last, add in _PARTS[part]:
        if first <= hour <= last:
            return hour + add
    hours = _hours_text(part)
    raise SettingError(field_name, "time_contradicts",
                       f"{value!r}: {word!r} goes with the hours {hours} only",
                       value=value, word=word, hours=hours)  # fmt: skip


def _hours_text(part: str) -> str:
    """The hours ``part`` goes with, as written, for a refusal: ``6–11, 18–23``."""
    spans: list[list[int]] = []
    for first, last, _ in sorted(_PARTS[part]):
        if spans and first <= spans[-1][1] + 1:
            spans[-1][1] = max(spans[-1][1], last)
        else:
            spans.append([first, last])
    return ", ".join(f"{a}–{b}" if a != b else str(a) for a, b in spans)
