"""Driver values → the raw record :func:`feedsvc.articles.parse_article` takes (#16 / #12 polish).

CMS drivers hand back ints for ids, ``date`` for date-only columns and bytes for binary/BLOB
columns (MySQL/MariaDB ``VARBINARY``/``BLOB``, PostgreSQL ``bytea``, SQLite ``BLOB``). Bytes are
decoded as UTF-8 *strictly*: text that is not UTF-8 is a fault of that row, reported so ingest
quarantines it with its source row id (stage ``read``), never "repaired" with U+FFFD into an
article that silently differs from the CMS.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

#: Fields that are not text: kept as the driver gives them.
_NOT_TEXT = frozenset({"tags", "published_at", "updated_at"})


def row_record(values: Mapping[Any, Any]) -> tuple[dict[str, Any], str | None]:
    """A row's mapped fields (``f_<field>`` labels) as a record, and what is wrong with it.

    A field whose bytes are not valid UTF-8 is left out and named in the problem: such text
    is never "repaired" with U+FFFD, which would publish a silently altered article.
    """
    record: dict[str, Any] = {}
    problems: list[str] = []
    for label, value in values.items():
        if not label.startswith("f_"):
            continue
        field = label[2:]
        try:
            record[field] = _clean(field, value)
        except UnicodeDecodeError as exc:
            bad = exc.object[exc.start : exc.start + 4].hex(" ")
            problems.append(f"{field} is not valid UTF-8 (byte {exc.start}: {bad})")
    return record, "; ".join(problems) or None


def _clean(field: str, value: Any) -> Any:
    """Driver values → what :func:`parse_article` takes (CMS ids are ints, bytes come from
    binary/BLOB columns). Raises ``UnicodeDecodeError`` for bytes that are not UTF-8."""
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value).decode("utf-8")
    if field not in _NOT_TEXT and isinstance(value, int | Decimal):
        return str(value)
    if field in ("published_at", "updated_at") and type(value) is date:
        return datetime(value.year, value.month, value.day)
    return value
