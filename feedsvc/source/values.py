"""Driver values → the raw record :func:`feedsvc.articles.parse_article` takes (#16 / #12 polish).

CMS drivers hand back ints for ids, ``date`` for date-only columns and bytes for binary/BLOB
columns (MySQL/MariaDB ``VARBINARY``/``BLOB``, PostgreSQL ``bytea``, SQLite ``BLOB``). Bytes are
decoded as UTF-8 *strictly*: text that is not UTF-8 is a fault of that row, reported so ingest
quarantines it with its source row id (stage ``read``), never "repaired" with U+FFFD into an
article that silently differs from the CMS.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from feedsvc.shown_values import shown_value
from feedsvc.source.cursor import SECONDS_BEYOND

#: Fields that are not text: kept as the driver gives them.
_NOT_TEXT = frozenset({"tags", "published_at", "updated_at", "visible"})
_TRUE_TEXT = frozenset({"1", "t", "true", "y", "yes", "on"})
_ZERO_DATE = re.compile(r"0000-00-00(?:[ T]00:00:00(?:\.0+)?)?")
_FALSE_TEXT = frozenset({"", "0", "f", "false", "n", "no", "off"})


def row_record(values: Mapping[Any, Any]) -> tuple[dict[str, Any], str | None]:
    """A row's mapped fields (``f_<field>`` labels) as a record, and what is wrong with it.

    A field whose bytes are not valid UTF-8 is left out and named in the problem: such text
    is never "repaired" with U+FFFD, which would publish a silently altered article.
    """
    return field_record(record_fields(values.keys()), list(values.values()))


def record_fields(labels: Iterable[Any]) -> list[tuple[int, str]]:
    """``(position, field)`` of a result's mapped columns (``f_<field>`` labels): found once
    per batch, not once per row."""
    return [
        (i, label[2:])
        for i, label in enumerate(labels)
        if isinstance(label, str) and label.startswith("f_")
    ]


def field_record(
    fields: Sequence[tuple[int, str]], row: Sequence[Any]
) -> tuple[dict[str, Any], str | None]:
    """:func:`row_record` of one result row (a tuple), its fields found by
    :func:`record_fields`."""
    record: dict[str, Any] = {}
    problems: list[str] = []
    for i, field in fields:
        value = row[i]
        if value is None or type(value) is str:  # the common case: nothing to convert
            record[field] = value
            continue
        try:
            record[field] = _clean(field, value)
        except UnicodeDecodeError as exc:
            bad = exc.object[exc.start : exc.start + 4].hex(" ")
            problems.append(f"{field} is not valid UTF-8 (byte {exc.start}: {bad})")
    if _is_zero_date(record.get("updated_at")):
        record["updated_at"] = None
    if "visible" in record:  # SPEC §10: `[source.columns] visible` → the record's `withdrawn`
        try:
            record["withdrawn"] = not is_visible(record.pop("visible"))
        except ValueError as exc:
            problems.append(f"visible {exc}")
    return record, "; ".join(problems) or None


def _is_zero_date(value: Any) -> bool:
    """Is ``value`` MySQL/MariaDB's zero date (``0000-00-00``, ``0000-00-00 00:00:00[.000]``),
    as the driver hands it over (text)?

    An optional date column of a legacy MySQL schema is ``NOT NULL DEFAULT '0000-00-00
    00:00:00'``: the zero date is how it says "never set" (JDBC's ``zeroDateTimeBehavior=
    convertToNull``). In ``updated_at`` it was a parse error, so every article never edited
    since it was written was quarantined and never published; it is read as no
    ``updated_at`` (the version is then ``published_at``). A zero ``published_at`` stays an
    error naming the field: an article needs its time. Other impossible dates
    (``2026-02-30``) are not "never set" and stay errors too.
    """
    return isinstance(value, str) and _ZERO_DATE.fullmatch(value.strip()) is not None


def is_visible(value: Any) -> bool:
    """A ``visible`` value as the CMS driver returns it → shown? NULL is not (``status =
    'published'`` on a row without status); numbers (MySQL's 0/1, a ``DOUBLE``) by value;
    MySQL/MariaDB ``BIT(1)``, which PyMySQL hands back as bytes (``b'\\x01'``), by its bits;
    text by the usual spellings of true and false (a driver that returns ``'t'``, an ``ENUM('Y',
    'N')``, a blank field).

    Raises :class:`ValueError` for any other value: ``visible = "status"`` mapped to a text
    column of ``'published'``/``'draft'`` (or a ``BIT(1)`` read as the text ``'\\x01'``) made
    every row "not visible", so every article was silently withdrawn and its alerts deleted.
    Such a row is now quarantined with its id and the value (:func:`field_record`), and what
    was public stays so until the mapping says what it means.
    """
    if value is None:
        return False
    if isinstance(value, bool | int | Decimal):
        return bool(value)
    if isinstance(value, float) and value == value:  # NaN says nothing
        return bool(value)
    if isinstance(value, bytes | bytearray | memoryview):
        value = _bits_or_text(bytes(value))
        if isinstance(value, bool):
            return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_TEXT:
            return True
        if word in _FALSE_TEXT:
            return False
        if word.lstrip("+-").isascii() and word.lstrip("+-").isdigit():
            return int(word) != 0
    raise ValueError(
        f"is not true or false: got {shown_value(value)} (source.columns.visible must be a "
        "boolean column or expression, e.g. \"status = 'published'\")"
    )


def _bits_or_text(raw: bytes) -> bool | str | bytes:
    """A binary ``visible`` value: a ``BIT(n)`` (at most 8 bytes, control bytes or not UTF-8:
    set when any bit is), else its UTF-8 text (a ``VARBINARY`` holding ``'1'``); bytes that
    are neither stay bytes, which :func:`is_visible` refuses."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return any(raw) if len(raw) <= 8 else raw
    if raw and len(raw) <= 8 and all(b < 0x20 for b in raw):
        return any(raw)
    return text


def _clean(field: str, value: Any) -> Any:
    """Driver values → what :func:`parse_article` takes (CMS ids are ints, bytes come from
    binary/BLOB columns). Raises ``UnicodeDecodeError`` for bytes that are not UTF-8.
    ``visible`` is kept as the driver gives it: its bytes may be a ``BIT`` (:func:`is_visible`).
    """
    if field == "visible":
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value).decode("utf-8")
    if field not in _NOT_TEXT and isinstance(value, int | Decimal):
        return str(value)
    if field in ("published_at", "updated_at"):
        if type(value) is date:
            return datetime(value.year, value.month, value.day)
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            return _unix_time(value)
    return value


def _unix_time(value: int | float | Decimal) -> datetime | int | float | Decimal | None:
    """A time column holding a number (NukeViet's ``publtime``, Drupal's ``created``): Unix
    seconds, an instant whatever ``source.timezone`` says, as the cursor reads such a column
    (:mod:`feedsvc.source.cursor`, ``epoch``). 0 is how those schemas say "never" (NukeViet's
    ``edittime`` of an article never edited): no time, as MySQL's zero date is. A number that
    is no Unix seconds of an article (below :data:`SECONDS_SINCE`, not finite, after the year
    9999 — milliseconds are — :data:`SECONDS_UNTIL`) is handed on as it is, for the parser's
    error naming the field and the number. Why: such columns were refused ("expected an ISO
    8601 timestamp, got the number 1796458330"), and ``FROM_UNIXTIME(publtime)``, the way
    round, gives a naive time read in the site's zone: 7 hours early (a tester's)."""
    if isinstance(value, Decimal) and not value.is_finite():  # NaN would raise on compare
        return value
    if value == 0:
        return None
    if not SECONDS_SINCE <= value < SECONDS_UNTIL:  # float NaN compares False: handed on
        return value
    return datetime.fromtimestamp(float(value), UTC)


#: The least number read as Unix seconds (March 1973: before any newsroom's web archive): a
#: smaller one is a wrong column (``published_at`` mapped to an id read as 1970) or a unit
#: other than seconds, refused naming the number rather than dated in 1970.
SECONDS_SINCE = 100_000_000
#: The first Unix second Python's datetime cannot hold (year 10000): a larger number is handed
#: on for the parser's error, never raised out of the read of a whole batch.
SECONDS_UNTIL = min(SECONDS_BEYOND, 253_402_300_800)
