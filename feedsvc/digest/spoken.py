"""A time of day as people write it: the one grammar behind ``/digest``, ``/quiet``, the API's
and the admin's settings (:mod:`feedsvc.digest.settings` cleans the text and calls here) — pure.

Text arrives cleaned (lower case, NFC, single spaces). A time is an hour 0–23 (ASCII digits)
then maybe minutes — ``8:00``, ``8.30``, ``8h30``, ``7g30``, ``7 giờ 30 (phút)``, ``7 giờ 5``,
``7h30p``, ``7h rưỡi`` or ``7 rưỡi`` (half past), ``7 giờ kém 15 (phút)`` or ``7h kém 15``
(15 minutes to 7: 06:45) — and maybe one day-part word, after the time (``7h tối``, ``7pm``)
or, for the Vietnamese words, before it (``tối 7h``, ``buổi sáng 6h30``), with or without
marks or a space; a leading ``lúc`` ("at") is allowed. The word moves the written hour
(24-hour forms of the same part of the day are taken as they are); any other hour contradicts
it (``time_contradicts``, naming the hours):

    word               written hour → time                          e.g.
    sáng (sang)        1–11 as is; 12 refused (``time_ambiguous``)  7h sáng → 07:00
    trưa (trua)        11–12, 13–14 as is; 1–2 → 13–14              1h trưa → 13:00
    chiều (chieu)      1–6 → 13–18; 12–18 as is                     6 giờ chiều → 18:00
    tối (toi)          6–11 → 18–23; 18–23 as is                    tối 7h → 19:00
    đêm (dem, khuya)   9–11 → 21–23; 12 → 00; 0–4, 21–23 as is      12h đêm → 00:00
    nửa đêm (nua dem)  12 (or 0) → 00:00                            12h nửa đêm → 00:00
    am (a.m.)          1–11 as is; 12 → 00                          12:30 AM → 00:30
    pm (p.m.)          1–11 → 13–23; 12 as is                       7:30 pm → 19:30
    SA / CH            as am / pm: a phone's (vi locale) AM / PM    7:30 CH → 19:30
    noon / midnight    12 → 12:00 / 12 (or 0) → 00:00               12 noon → 12:00

``kém`` is taken after the word moved the hour: ``8 giờ kém 5 tối`` is 20:00 − 5 = 19:55, ``12
giờ kém 15 đêm`` 23:45; it may follow the word too, once (``12h trưa kém 15``, "a quarter to
noon": 11:45; ``8 giờ tối kém 5`` 19:55). ``kém`` takes 1–59 minutes (``minus_range``), and a
written hour 0 has nothing to take them from (``0h kém 15``: ``minus_midnight``, which
suggests ``23:45``).
A setting repeats every day, so ``7h sáng mai`` ("tomorrow") and ``tối nay`` ("tonight") are
refused as such (``time_day``), not read as a one-off.

A time ends at a space or the end, so a list splits where a space cannot continue one: ``7h
18h`` and ``7h tối 6h sáng`` are two times, ``7 giờ 30`` one. A time has one word: after one
written first nothing attaches after, so ``tối 7h sáng 6h`` is 19:00 and 06:00 (never ``7h
sáng``).

A word is shared by the bare times of its run (:func:`_owners`), as a reader shares it: one
written before a time goes on to the bare times after it (``tối 7h 8h``: 19:00 and 20:00), one
written after a time back to the bare times before it (``7h 8h tối``: 19:00 and 20:00), each up
to the next time with a word of its own or a comma / ``và``. A shared word contradicted by a
time is refused like its own (``sáng 7h 19h``: ``time_contradicts``); where a reader could
mean either reading it is refused as ``word_scope``, never guessed: a bare time between a word
going on and another coming back (``sáng 6h 7h 8h tối``), a word after a time that would move
the next bare time (``7h tối 8h``: 19:00 and 08:00 or 20:00?, as ``7h tối, 8h`` is asked) or
could go back to several (``7h 8h tối 9h``), or a word shared by a time it moves and one in
24-hour form (``7h 19h tối``: 19:00 twice, or 07:00 and 19:00?). ``7h tối 6h sáng``, ``7h tối
18h``, ``7h tối 3h`` and ``7h sáng 8h`` read as written. A quiet window's ends are weighed
together by :mod:`feedsvc.digest.window` (``9h-11h tối``: 21:00-23:00).

A comma, semicolon or ``và`` ends a word's run, but a bare time the word nearest it in another
piece would move is asked about (``tối 7h, 8h``, ``7h, 8h tối``: ``word_across_list``), not
saved as 08:00 (:func:`_refuse_word_across`).
"""

from __future__ import annotations

import re
from datetime import time

from feedsvc.digest.day_parts import day_part, moved_hour
from feedsvc.digest.errors import SettingError

_VI_WORD = (
    r"(?:(?:buổi|buoi) ?)?"
    r"(?:sáng|sang|trưa|trua|chiều|chieu|tối|toi|nửa đêm|nua dem|đêm|dem|khuya)"
)
# "SA"/"CH": a Vietnamese phone's AM/PM ("7:30 CH"; CLDR's vi day periods, after the time only)
_WORD = _VI_WORD + r"|a\.?m\.?|p\.?m\.?|noon|midnight|sa|ch"
#: a word that stands before a time: a day-part word (one word of it) or "lúc" ("at")
_LEAD = re.compile(r"sáng|sang|trưa|trua|chiều|chieu|tối|toi|đêm|dem|khuya|buổi|buoi|lúc|luc")
_MARK = r"(?:[:.hg]| ?(?:giờ|gio))"  # the hour mark: "7h", "7g", "7 giờ", "7:" (no minutes)
# before minutes, a space only after "giờ": "7h 15" is two times (07:00, 15:00), "7 giờ 15" one
_MARK_MINUTES = r"(?:[:.hg]| ?(?:giờ|gio) ?)"
# minutes are two digits ("7h05"), or one after "giờ": "7 giờ 5" is 07:05 (it was 05:00, 07:00);
# never a number with its own "giờ": "7 giờ 8 giờ" is two times (was 07:08, then "giờ" refused)
_MINUTES = (
    r"(?P<minute>[0-5][0-9]|(?:(?<=giờ )|(?<=gio )|(?<=giờ)|(?<=gio))[0-9])(?! ?(?:giờ|gio)(?= |$))"
)
_PHUT = r"(?: ?(?:phút|phut)|p)?"  # "phút" (minutes) after the minutes, or "p" ("7h30p")
TIME = re.compile(
    r"(?:(?:lúc|luc) ?)?"
    rf"(?:(?P<before>{_VI_WORD}) ?)?"
    r"(?P<hour>[01]?[0-9]|2[0-3])"
    rf"(?:{_MARK_MINUTES}{_MINUTES}{_PHUT}"
    rf"|{_MARK}?(?: ?(?P<half>rưỡi|ruoi)| ?(?:kém|kem) ?(?P<less>[0-9]+){_PHUT})"
    rf"|{_MARK})?"
    rf"(?(before)|(?: ?(?P<after>{_WORD}))?)"
    # "kém" after the word too: "12h trưa kém 15" (a quarter to noon) as "12h kém 15 trưa"; not
    # after minutes, half past or another "kém" ("7h30 tối kém 15" is no time, as "7h30 kém 15")
    rf"(?(minute)|(?(less)|(?(half)|(?(after)(?: ?(?:kém|kem) ?(?P<late>[0-9]+){_PHUT})?))))"
    r"(?= |$)"
)
#: words naming a day, not a time of it ("mai" tomorrow, "nay"/"hôm nay" today, "ngày" day)
_DAY_WORDS = frozenset({"mai", "nay", "hôm", "hom", "ngày"})


def hhmm(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def read_time(value: str, field_name: str) -> time:
    """Exactly one time in cleaned ``value``, else a :class:`SettingError`: ``bad_time`` naming
    the whole value, or as :func:`_resolve` and :func:`_unreadable` say."""
    return read_end(value, field_name)[0]


def read_end(value: str, field_name: str) -> tuple[time, re.Match[str]]:
    """:func:`read_time` with its :data:`TIME` match: a quiet window's end, which
    :mod:`feedsvc.digest.window` weighs with the other end (:func:`with_word`)."""
    m = TIME.fullmatch(value)
    if m is None:
        for word in value.split(" "):
            _refuse_day_word(word, field_name)
        raise SettingError(field_name, "bad_time", f"not a time of day (HH:MM): {value!r}",
                           value=value)  # fmt: skip
    return _resolve(m, own_word(m), m[0], field_name), m


def read_list(text: str, spans: list[tuple[int, int]], field_name: str) -> list[time]:
    """The times of a digest list: cleaned ``text`` and the ``(start, end)`` of each piece the
    list's separators (comma, semicolon, ``và``) leave, each read by :func:`_read_piece`; then
    a word that might reach across a separator is asked about (:func:`_refuse_word_across`)."""
    pieces = [(start, *_read_piece(text[start:end], field_name)) for start, end in spans]
    _refuse_word_across(text, pieces, field_name)
    return [t for _, _, _, times in pieces for t in times]


def _read_piece(
    chunk: str, field_name: str
) -> tuple[list[re.Match[str]], list[int | None], list[time]]:
    """The times in one separator-free piece of cleaned text, read left to right: several when
    separated by spaces ("7h 18h"), one when the spaces are inside a time ("7 giờ 30", "tối 7h");
    a day-part word is shared by the bare times next to it (:func:`_owners`, whose answer is
    returned with the matches and times). The first word that does not start a time is named
    (``bad_time``), or a day word there or just after it (``time_day``: ``tối nay 7h``)."""
    found: list[re.Match[str]] = []
    at = 0
    while at < len(chunk):
        if chunk[at] == " ":
            at += 1
            continue
        m = TIME.match(chunk, at)
        if m is None:
            word, *rest = chunk[at:].split(" ", 2)
            for day in (word, *rest[:1]):  # "mai"…, or "tối nay 7h"'s "nay"
                _refuse_day_word(day, field_name)
            # "tối 7h/8h": the time after the word is at fault; "tối" alone said it was no time
            words = chunk[at:].split(" ")
            shown = 1
            while shown < len(words) and _LEAD.fullmatch(words[shown - 1]):
                shown += 1
            word = " ".join(words[:shown])
            raise SettingError(field_name, "bad_time", f"not a time of day (HH:MM): {word!r}",
                               value=word)  # fmt: skip
        found.append(m)
        at = m.end()
    owners = _owners(chunk, found, field_name)
    times: list[time] = []
    for i, (m, owner) in enumerate(zip(found, owners, strict=True)):
        shared = None if owner is None else own_word(found[owner])
        value = m[0] if owner in (None, i) else _span(chunk, found, [i, owner])
        times.append(_resolve(m, shared, value, field_name))
    _refuse_mixed_forms(chunk, found, owners, field_name)
    return found, owners, times


def own_word(m: re.Match[str]) -> str | None:
    return m["before"] or m["after"]


def _span(chunk: str, found: list[re.Match[str]], indexes: list[int]) -> str:
    """The text from the first to the last of these times: what a refusal names."""
    return chunk[min(found[i].start() for i in indexes) : max(found[i].end() for i in indexes)]


def _owners(chunk: str, found: list[re.Match[str]], field_name: str) -> list[int | None]:
    """For each time, the index of the time whose day-part word it takes (its own, or None):
    one written before a time goes on to the bare times after it, one after a time back to those
    before it, up to the next time with a word of its own (the module's docstring). Neither goes
    the other way: :func:`_refuse_word_between` asks where a reader may mean it (``7h tối 8h``).
    A bare time between a word going on and another coming back (``sáng 6h 7h 8h tối``) could
    take either: refused (``word_scope``); the same part of the day from both sides is no doubt."""
    lead: list[int | None] = []
    going: int | None = None
    for i, m in enumerate(found):
        if own_word(m) is not None:
            going = i if m["before"] else None
        lead.append(going)
    trail: list[int | None] = []
    coming: int | None = None
    for i in reversed(range(len(found))):
        if own_word(found[i]) is not None:
            coming = i if found[i]["after"] else None
        trail.append(coming)
    trail.reverse()
    for i, (first, last) in enumerate(zip(lead, trail, strict=True)):
        if first is None or last is None or first == last:
            continue
        if day_part(own_word(found[first]) or "") != day_part(own_word(found[last]) or ""):
            value = _span(chunk, found, [first, last])
            raise SettingError(field_name, "word_scope",
                               f"{value!r}: which part of the day goes with {found[i][0]!r}?",
                               value=value)  # fmt: skip
    owners = [first if first is not None else last for first, last in zip(lead, trail, strict=True)]
    _refuse_word_between(chunk, found, lead, owners, field_name)
    return owners


def _refuse_word_between(
    chunk: str,
    found: list[re.Match[str]],
    lead: list[int | None],
    owners: list[int | None],
    field_name: str,
) -> None:
    """A word between two times goes with the one before, but may be meant for the next bare
    time too: ``7h tối 8h`` is 19:00 and 08:00 or 20:00 (or 07:00 and 20:00?), ``7h 8h tối 9h``
    19:00, 20:00, 09:00 or 07:00, 08:00, 21:00. Refused (``word_scope``), never guessed, where
    the word would move that time's hour (:func:`_moves`), or the time before shares it back or
    is in another word's run (``tối 7h 8h sáng 9h``: 08:00 or 20:00?)."""
    for i in range(len(found) - 1):
        after, nxt = found[i]["after"], found[i + 1]
        if not after or own_word(nxt) is not None:
            continue
        going = lead[i - 1] if i else None
        back = [j for j in range(i) if owners[j] == i]
        if going is not None or back or (owners[i + 1] is None and _moves(nxt, after)):
            first = going if going is not None else back[0] if back else i
            value = _span(chunk, found, [first, i + 1])
            raise SettingError(field_name, "word_scope",
                               f"{value!r}: does {after!r} go before or after?",
                               value=value)  # fmt: skip


def _moves(m: re.Match[str], word: str) -> bool:
    """Would ``word`` move bare ``m``'s hour? Not one it keeps (``sáng`` 8h, ``tối`` 18h) or cannot
    go with (``tối`` 3h), nor one with a leading zero (``08:00``: the 24-hour clock's, exact)."""
    if len(m["hour"]) == 2 and m["hour"][0] == "0":
        return False
    try:
        return moved_hour(int(m["hour"]), word, "", "") != int(m["hour"])
    except SettingError:
        return False


def _refuse_mixed_forms(
    chunk: str, found: list[re.Match[str]], owners: list[int | None], field_name: str
) -> None:
    """A word shared by a time it moves and one written in 24-hour form (``tối 7h 19h``, ``7h
    21h tối``, ``tối 19h 8h``): does it go with both (19:00 twice; 19:00, 21:00) or only with the
    time it touches (07:00, 21:00)? Refused (``word_scope``), not guessed: a 24-hour time
    needs no word, so one written next to it may be meant for it alone."""
    for owner in {o for o in owners if o is not None}:
        group = [i for i, o in enumerate(owners) if o == owner]
        word = own_word(found[owner]) or ""
        hours = [int(found[i]["hour"]) for i in group]
        moved = any(moved_hour(hour, word, "", field_name) != hour for hour in hours)
        if moved and any(13 <= hour <= 23 for hour in hours):
            value = _span(chunk, found, group)
            raise SettingError(field_name, "word_scope",
                               f"{value!r}: does {word!r} go with each of these times?",
                               value=value)  # fmt: skip


def _refuse_word_across(
    text: str,
    pieces: list[tuple[int, list[re.Match[str]], list[int | None], list[time]]],
    field_name: str,
) -> None:
    """A bare time no word of its piece reaches, next to a word in another piece of the list
    that would move its hour (``tối 7h, 8h``: 20:00 or 08:00? ``7h, 8h tối``: 07:00 or 19:00?),
    is asked about (``word_across_list``), never guessed: a separator ended the word's run, but
    a reader who wrote "evening 7, 8" most likely meant 20:00. The word nearest the time on each
    side is weighed, if it could carry that far as it would inside a piece: one written before
    its time goes on, one written after goes back, and one after the last time of its piece
    also on (``7h tối, 8h``, as ``7pm, 8``, and as ``7h tối 8h`` inside a piece). No doubt
    where the word does not move the hour (:func:`_moves`: ``sáng 7h, 8h``; ``tối 7h, 18h``;
    ``tối 7h, 3h``, 03:00; ``tối 7h, 08:00``, the 24-hour clock's form, exactly 08:00)."""
    items = [
        (k, start, m, owner)
        for k, (start, found, owners, _) in enumerate(pieces)
        for m, owner in zip(found, owners, strict=True)
    ]
    last = {item[0]: i for i, item in enumerate(items)}  # each piece's last time
    worded = [j for j, item in enumerate(items) if own_word(item[2]) is not None]
    for i, (k, start, m, owner) in enumerate(items):
        if owner is not None:
            continue
        near = [j for j in worded if j < i][-1:] + [j for j in worded if j > i][:1]
        for j in near:
            wk, wstart, wm, _ = items[j]
            carries = bool(wm["before"]) or j == last[wk] if j < i else bool(wm["after"])
            word = own_word(wm) or ""
            if wk != k and carries and _moves(m, word):
                ends = sorted((wstart + wm.start(), wstart + wm.end(), start + m.start(),
                               start + m.end()))  # fmt: skip
                value = text[ends[0] : ends[-1]]
                raise SettingError(field_name, "word_across_list",
                                   f"{value!r}: does {word!r} go with {m[0]!r} too?",
                                   value=value, word=word, time=m[0])  # fmt: skip


def _refuse_day_word(word: str, field_name: str) -> None:
    """``mai``/``nay``… where a time was expected: the setting repeats daily (``time_day``)."""
    if word in _DAY_WORDS:
        raise SettingError(field_name, "time_day", f"{word!r}: the setting repeats every day",
                           value=word)  # fmt: skip


def _resolve(m: re.Match[str], word: str | None, value: str, field_name: str) -> time:
    """A :data:`TIME` match → the time: ``word`` (its own or shared, :func:`_owners`; ``value``
    names both for a refusal) applied, then ``kém``'s minutes."""
    hour = int(m["hour"])
    if word is not None:
        hour = moved_hour(hour, word, value, field_name)
    less = m["less"] or m["late"]
    if less is not None:
        return _minus(hour, int(less), m, field_name)
    return time(hour, 30 if m["half"] else int(m["minute"] or 0))


def with_word(m: re.Match[str], word: str) -> time | None:
    """Bare ``m``'s time with another time's day-part ``word``; None where the word does not go
    with its hour (``time_contradicts``, ``time_ambiguous``: it cannot be meant for it)."""
    try:
        return _resolve(m, word, m[0], "")
    except SettingError:
        return None


def _minus(hour: int, minutes: int, m: re.Match[str], field_name: str) -> time:
    """``hour`` (0–23, the word applied) ``kém`` ``minutes``: 1–59 (``minus_range``); a written
    hour 0 is refused (``minus_midnight``, suggesting the time meant); 12 midnight (``12 giờ
    kém 15 đêm``) is the same night's 23:45."""
    if not 1 <= minutes <= 59:
        raise SettingError(field_name, "minus_range", f"{m[0]!r}: 'kém' takes 1-59 minutes",
                           value=m[0], minutes=minutes)  # fmt: skip
    at = (hour * 60 - minutes) % (24 * 60)
    meant = time(at // 60, at % 60)
    if int(m["hour"]) == 0:
        raise SettingError(field_name, "minus_midnight", f"{m[0]!r}: give {hhmm(meant)}",
                           value=m[0], time=hhmm(meant))  # fmt: skip
    return meant
