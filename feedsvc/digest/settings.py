"""A chat's delivery settings: parsed from what people type, stored as canonical text.

One parser for the bot (``/digest``, ``/quiet``, ``/silent``), the JSON API
(``PATCH /api/chats/{chat_id}``) and the web admin, so all three accept and refuse the same
things. Errors carry a ``code``, the ``field`` and parameters; the catalogue words them
(``digest.error.<code>``), never this module.

Stored forms (columns of ``chats``): ``digest`` is NULL (instant), ``"hourly"`` or sorted
``"HH:MM,HH:MM"`` (at most :data:`MAX_TIMES`); ``quiet`` is NULL or ``"HH:MM-HH:MM"``;
``silent`` a boolean. Times are local wall-clock times in ``site.timezone``.

A time is read as people write it — ``08:00``, ``8h30``, ``7 giờ 30``, ``7h tối``, ``tối 7h``,
``7 giờ kém 15``, ``7:30 pm`` — by one grammar, :mod:`feedsvc.digest.spoken` (its table says
what each day-part word does to the hour, and what is refused). A digest list is split at
commas, semicolons and ``và`` ("and"), and at a space that cannot continue a time: ``7h 18h``
is two times, ``7h tối`` and ``7 giờ 30`` one each; a day-part word goes with the bare times
of its run (``tối 7h 8h``: 19:00, 20:00); one that would move a bare time across a separator
is asked about (``tối 7h, 8h``: 20:00 or 08:00?, ``word_across_list``). A stray separator
around one value changes nothing (``1h,`` is asked about as ``1h`` is; ``off;`` is off), nor
does a full stop a phone puts at the end (``7h tối.``). A quiet window is two times joined by
a dash (any: ``-``, ``–``, ``−`` minus, ``‐``, ``﹘``, ``〜``…, Unicode Pd), ``~``, ``to``,
``đến``/``tới`` ("until"), maybe after ``từ`` ("from"); a day-part word on one end may go with
the other (``9h-11h tối``: 21:00-23:00) or be asked about (:mod:`feedsvc.digest.window`).

Invisible format characters (Unicode Cf: ZERO WIDTH SPACE, WORD JOINER, BOM, LRM/RLM, SOFT
HYPHEN; :data:`feedsvc.matching.normalize.INVISIBLE_RE`, the matcher's one definition) are
dropped first, as a paste brings them along: ``7h\u200b30`` is 07:30, ``t\u00adắt`` off. They
read as what they show, nothing: ``7h\u200b8h`` shows ``7h8h`` and is refused as that, never
split into two times the reader sees no space between.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import time

import regex

from feedsvc.digest.errors import SettingError
from feedsvc.digest.spoken import hhmm, read_list, read_time
from feedsvc.digest.window import read_window
from feedsvc.fieldtext import control_char, refusal_code
from feedsvc.matching.normalize import INVISIBLE_RE
from feedsvc.typed_forms import plain_forms

__all__ = ["ChatSettings", "DigestSchedule", "QuietWindow", "SettingError", "hhmm", "parse_digest",
           "parse_quiet", "parse_switch", "parse_time"]  # fmt: skip

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
#: between a quiet window's two times: a dash or tilde, "to", "đến"/"tới" ("until", also "den").
#: Any dash (Unicode Pd: hyphen, figure dash, en/em dash, horizontal bar, ﹘, 〜) and the
#: MINUS SIGN: "22h−6h" was refused; full-width "－", "～" arrive as "-", "~" (typed_forms)
_RANGE_SEP = regex.compile(r"\s*[\p{Pd}\u2212~]\s*|\s+(?:to|đến|den|tới)\s+")
#: before a quiet window: "từ 22h đến 6h" ("from … until …")
_FROM = re.compile(r"^(?:từ|tu) ")
#: between a digest list's times: commas, semicolons, "và" ("and": "7h sáng và 7h tối")
_LIST_SEP = re.compile(r"[,;]| (?:và|va)(?= |$)")
#: a sentence's end after the value: phones put ". " on a double space ("7h tối." was refused
#: naming "tối." as no time, "off." as no switch). "7." stays 07:00 read as "7"; "?" is kept,
#: and so is the dot of "a.m."/"p.m.", a refusal naming the word as typed
_END_STOP = re.compile(r"\s*(?:(?<!\.m)\.|[!…。])+$")
# a window's end written as the day's end (22:00-24:00, 22h-24h, 22 giờ-24 giờ): midnight, 00:00
_DAY_END = re.compile(r"24(?:[:h.g](?:00)?| ?(?:giờ|gio)(?: ?00)?)?")


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


def _clean(text: str, field_name: str) -> str:
    """Invisible format characters dropped (``7h\u200b30``: the module's docstring), spaces
    collapsed, lower case, Unicode NFC: a Vietnamese keyboard or a paste may send
    ``tắt`` decomposed (``ta`` + U+0306 U+0301 + ``t``), which must read as the word it shows.
    Longer than :data:`MAX_CHARS` is a :class:`SettingError` (``too_long``): refused whole,
    never cut, so no front end validates a truncated value (the admin's form used to).
    Full-width ``７:３０`` (CJK phone keyboards) reads as ``7:30``: :mod:`feedsvc.typed_forms`.
    A full stop or ``!`` at the end is dropped (:data:`_END_STOP`).

    A character every text field refuses (:func:`feedsvc.fieldtext.control_char`: C0 but tab
    and line breaks, DEL, C1, a bidi embedding/override/isolate, a lone surrogate) is a
    ``control_character`` (``not_text``) error, judged on the text as sent before anything is
    taken out of it: ``str.split`` reads NEL (U+0085) and U+001C–U+001F as spaces and
    :data:`INVISIBLE_RE` drops U+202E, so ``07:30\u0085`` and ``22:00-06:00\u202e`` were
    saved while ``07:30\u0007`` was refused. A no-break space or U+2028 is whitespace here
    as in a topic's title (:func:`feedsvc.fieldtext.one_line`); a direction mark (U+200E/F),
    allowed in a title, is an invisible format character, dropped."""
    if (char := control_char(text)) is not None:
        raise SettingError(field_name, refusal_code(char), f"contains {char}", char=char)
    if len(text) > MAX_CHARS:
        raise SettingError(field_name, "too_long", f"longer than {MAX_CHARS} characters",
                           limit=MAX_CHARS)  # fmt: skip
    visible = INVISIBLE_RE.sub("", text)
    value = unicodedata.normalize("NFC", " ".join(plain_forms(visible).split()).lower())
    return _END_STOP.sub("", value)


def parse_time(text: str, field_name: str) -> time:
    """One time of day: ``8:00``, ``08:00``, ``8h``, ``8h30``, ``7 giờ 30``, ``7h tối``,
    ``tối 7h``, ``7h kém 15``, ``7:30 pm`` → a time (:mod:`feedsvc.digest.spoken`); anything
    else is a :class:`SettingError`: ``bad_time``, ``time_contradicts`` (an hour its day-part
    word does not go with: ``19h sáng``), ``time_ambiguous`` (``12h sáng``), ``minus_range``
    (``7h kém 60``), ``minus_midnight`` (``0h kém 15``) or ``time_day`` (``7h sáng mai``)."""
    return read_time(_clean(text, field_name).strip(), field_name)


def parse_digest(text: str) -> DigestSchedule:
    """``off`` | ``hourly`` | times (:func:`parse_time`'s forms) separated by commas,
    semicolons or ``và``, or by spaces where a space cannot continue a time (``7h 18h``; ``7h
    tối 6h sáng``; ``tối 7h sáng 6h``); at most :data:`MAX_TIMES` distinct times, kept
    sorted. Raises :class:`SettingError` (field ``digest``)."""
    value = _clean(text, "digest")
    spans = _pieces(value)
    chunks = [value[start:end] for start, end in spans]
    if not chunks:  # nothing, or only separators (",", ", ;"): no time given (it read as off)
        raise SettingError("digest", "digest_empty", "give off, hourly or HH:MM times")
    # a stray separator changes no lone value: "1h," and "1h và" were saved as 01:00 unasked
    # while "1h" was asked about; "off;" and "hourly," were refused
    if len(chunks) == 1 and chunks[0] in _INSTANT:
        return DigestSchedule()
    if len(chunks) == 1 and chunks[0] in _HOURLY:
        return DigestSchedule(hourly=True)
    if len(chunks) == 1 and chunks[0] in _AMBIGUOUS:
        raise SettingError("digest", "digest_ambiguous", f"{chunks[0]}: hourly or 01:00? give "
                           "either", value=chunks[0])  # fmt: skip
    times = sorted(set(read_list(value, spans, "digest")))
    if len(times) > MAX_TIMES:
        raise SettingError("digest", "digest_too_many", f"at most {MAX_TIMES} times a day",
                           limit=MAX_TIMES)  # fmt: skip
    return DigestSchedule(times=tuple(times))


def _pieces(value: str) -> list[tuple[int, int]]:
    """Where each non-empty piece of a digest list lies in ``value``, spaces trimmed: the list
    split at :data:`_LIST_SEP`, kept as places so a refusal can name text across a separator
    (``tối 7h, 8h``)."""
    spans: list[tuple[int, int]] = []
    at = 0
    for sep in [*_LIST_SEP.finditer(value), None]:
        end = len(value) if sep is None else sep.start()
        piece = value[at:end]
        start = at + len(piece) - len(piece.lstrip())
        if piece.strip():
            spans.append((start, start + len(piece.strip())))
        at = end if sep is None else sep.end()
    return spans


def parse_quiet(text: str) -> QuietWindow | None:
    """``HH:MM-HH:MM`` (a window, may cross midnight; also ``10h tối đến 6h sáng``, ``từ 22h
    đến 6h``, :data:`_RANGE_SEP`) or ``off`` (None). Raises :class:`SettingError` (field
    ``quiet``); an empty window (start = end) is refused."""
    value = _clean(text, "quiet")
    if value in _OFF:
        return None
    bounds = _RANGE_SEP.split(_FROM.sub("", value, count=1))
    if len(bounds) != 2 or not all(bounds):
        raise SettingError("quiet", "quiet_format", "give HH:MM-HH:MM or off",
                           value=text.strip())  # fmt: skip
    first, last = (_clean(bound, "quiet").strip() for bound in bounds)
    # "22:00-24:00" is how many people write "until midnight": refused as "not a time", it
    # left them guessing; as an end it is 00:00 (a start of 24:00 is no time and refused)
    if _DAY_END.fullmatch(last) is not None:
        start, end = read_time(first, "quiet"), time(0)
    else:  # a day-part word on one end may go with the other (feedsvc.digest.window)
        start, end = read_window(value, first, last, "quiet")
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
