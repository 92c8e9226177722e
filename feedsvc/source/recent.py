"""The source side of reconciliation (SPEC §10): which rows the recent window holds, and which
of some ids still exist. Only two indexed reads, ids only: the cost depends on the window's
rows, not on the table's size (``bench/reconcile.py``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Column, func, select
from sqlalchemy.exc import DBAPIError, ProgrammingError

from feedsvc.db.errors import connection_failed, once_more_if_lost
from feedsvc.keys import trim_key
from feedsvc.source.cursor import CursorCodec, CursorTypeError
from feedsvc.source.row_ids import DUPLICATE_SCAN, key_column
from feedsvc.source.rows import SourceRow, WindowKey
from feedsvc.source.sql import ID_CHUNK, SqlSource
from feedsvc.source.values import is_visible, row_record


class NotReconcilable(Exception):
    """The mapping gives no plain ``published_at`` column to bound the window with."""


def _published(source: SqlSource) -> tuple[Column[Any], CursorCodec]:
    b = source.bind()
    found = next((m for m in source.mapping if m.field == "published_at"), None)
    if found is None or found.kind != "column" or found.source is None:
        raise NotReconcilable("source.columns.published_at is an expression, not a column")
    column = b.table.c[found.source]
    try:
        return column, CursorCodec.for_column(column, source.engine.dialect.name, source.tz)
    except CursorTypeError as exc:
        raise NotReconcilable(str(exc)) from None


def recent_ids(source: SqlSource, since: datetime) -> set[str]:
    """Ids (as text, like ``articles.source_id``) of every row published at/after ``since``
    (aware UTC), whatever its status, in ONE statement: it returns the whole window or raises
    (a connection lost mid-read raises; a half-read window is never returned). Raises
    :class:`NotReconcilable`, or the driver's error."""
    column, codec = _published(source)
    b = source.bind()
    stmt = select(b.id).select_from(b.table).where(codec.expr(column) >= codec.from_instant(since))
    if b.identified is not None:  # a row without an id is no stored article's ('None')
        stmt = stmt.where(b.identified)
    with source.engine.connect() as conn:
        return {str(i) for i in conn.execute(stmt).scalars().all()}


def recent_positions(source: SqlSource, since: datetime) -> dict[str, datetime | None]:
    """:func:`recent_ids` with each row's position (its cursor value as an instant, UTC, as
    ingest keeps it): reconciliation's read when it also looks for rows written behind the
    cursor (:mod:`feedsvc.ingest.behind`). One statement, whole or raising, as
    :func:`recent_ids`; when the driver cannot read some cursor value in the window (a
    PostgreSQL ``'infinity'``, a MySQL zero date), the ids alone, each position None (read
    later by id, where such a row is handled alone) — never a failed pass for that."""
    column, codec = _published(source)
    b = source.bind()
    where = codec.expr(column) >= codec.from_instant(since)
    stmt = select(b.id, b.ts).select_from(b.table).where(where)
    if b.identified is not None:
        stmt = stmt.where(b.identified)
    try:
        with source.engine.connect() as conn:
            rows = conn.execute(stmt).tuples().all()
    except ProgrammingError:
        raise  # our query, not a value
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise  # an outage: the pass fails, as recent_ids would
        return dict.fromkeys(recent_ids(source, since))
    except (ValueError, OverflowError, TypeError):  # a value the driver cannot convert
        return dict.fromkeys(recent_ids(source, since))
    position = source.codec.position
    return {str(i): (None if at is None else position(at)) for i, at in rows}


def existing_ids(source: SqlSource, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` still exist, whatever their date (a row whose ``published_at`` moved out
    of the window is not deleted). Primary-key lookups, :data:`ID_CHUNK` at a time."""
    b = source.bind()
    found: set[str] = set()
    with source.engine.connect() as conn:
        for start in range(0, len(ids), ID_CHUNK):
            chunk = source.native_ids(ids[start : start + ID_CHUNK])
            stmt = select(b.id).select_from(b.table).where(b.id.in_(chunk))
            found.update(str(i) for i in conn.execute(stmt).scalars().all())
    return found


def visible_among(source: SqlSource, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` the source shows now (``[source.columns] visible`` true, read as ingest
    reads it: :func:`~feedsvc.source.values.is_visible`): a draft or scheduled row whose status
    changed without its cursor column moving (:mod:`feedsvc.lifecycle.published`). Ids and the
    one value only, primary-key lookups, :data:`ID_CHUNK` at a time; a row gone or with a value
    that is not true or false is not among them; no ``visible`` mapped: none (every row is
    shown, so nothing is held as a draft). Raises the driver's error (nothing is decided)."""
    b = source.bind()
    visible = next((f for f in b.fields if getattr(f, "name", None) == "f_visible"), None)
    found: set[str] = set()
    if visible is None or not ids:
        return found
    with source.engine.connect() as conn:
        for start in range(0, len(ids), ID_CHUNK):
            chunk = source.native_ids(ids[start : start + ID_CHUNK])
            stmt = select(b.id, visible).select_from(b.table).where(b.id.in_(chunk))
            found.update(str(i) for i, shown in conn.execute(stmt).tuples() if _shown(shown))
    return found


def _shown(value: Any) -> bool:
    """``is_visible``, with a value it refuses taken as not shown (a re-read would quarantine
    the row; here it is only not brought forward)."""
    try:
        return is_visible(value)
    except ValueError:
        return False


def rows_with_keys(source: SqlSource, keys: Sequence[str]) -> dict[str, set[str]]:
    """The ids (as text) of the rows that carry each of ``keys`` now (a CMS key column need
    not be unique: a re-post, a copy in another section), :data:`ID_CHUNK` keys at a time.
    Reconciliation asks it of the few held articles whose row is gone: the key is deleted only
    when no row carries it. Exact values (a key the CMS pads with blanks is not found: it is
    then taken as deleted, as before)."""
    b = source.bind()
    key = key_column(source)
    found: dict[str, set[str]] = {}
    with source.engine.connect() as conn:
        for start in range(0, len(keys), ID_CHUNK):
            chunk = list(keys[start : start + ID_CHUNK])
            stmt = select(key, b.id).select_from(b.table).where(key.in_(chunk))
            if b.identified is not None:  # a row without an id carries no article (no_id)
                stmt = stmt.where(b.identified)
            for k, i in conn.execute(stmt).tuples():
                found.setdefault(str(k), set()).add(str(i))
    return found


def duplicate_keys(source: SqlSource, limit: int, scan: int = DUPLICATE_SCAN) -> list[str]:
    """Up to ``limit`` keys that more than one of the newest ``scan`` rows carry, compared as
    ingest compares them: exactly, once trimmed (:func:`feedsvc.keys.trim_key`), among the
    keys the database's grouping puts together (keys apart only by blanks at their ends, on a
    collation that keeps them apart, are not found: as before).

    Why here, not in SQL: the database compares by the column's collation, and MariaDB's
    default ``utf8mb4_general_ci`` (MySQL's ``…_0900_ai_ci``, a PostgreSQL nondeterministic
    collation, SQLite's ``NOCASE``) makes ``M-004`` and ``m-004`` one key, which ingest stores
    as two articles: ``source check`` called them one (a tester's). The database's grouping
    finds the candidates — every key that equals another by its collation, a superset of the
    exact duplicates on every collation —, and only their rows' keys cross the wire."""
    b = source.bind()
    key = key_column(source).label("k")

    def newest() -> Any:  # the same rows twice: no CTE (MySQL 5.7 has none)
        return select(key).select_from(b.table).order_by(b.ts.desc(), b.id.desc()).limit(scan)

    rows, groups = newest().subquery(), newest().subquery()
    alike = select(groups.c.k).group_by(groups.c.k).having(func.count() > 1).subquery()
    stmt = select(rows.c.k).select_from(rows.join(alike, rows.c.k == alike.c.k))
    with source.engine.connect() as conn:
        keys = conn.execute(stmt).scalars().all()
    counted = Counter(trim_key(str(k)) for k in keys if k is not None)
    return sorted(k for k, n in counted.items() if n > 1)[:limit]


def read_alone(
    source: SqlSource, id_: str, at: WindowKey | None = None
) -> tuple[SourceRow | None, list[tuple[str, BaseException]]]:
    """Row ``id_`` read one mapped field at a time: the row with the fields the driver reads
    (its :attr:`~SourceRow.problem` naming none of the others: the caller words them), and
    the fields it cannot read, each with its error. ``(None, [])`` when the row is gone or
    has no place in the order; ``at``: its position, when known (else read alone too).

    Why: a row the driver cannot read whole (PostgreSQL's ``'infinity'`` in ``published_at``,
    a year BC, bytes a text column cannot decode) was quarantined for that field alone, its
    ``visible`` and key unread, so a row sent back to draft stayed public with its alerts
    (``ingest.isolate.parse_rows`` withdraws such a row's article when ``visible`` says it is
    not shown). One primary-key lookup per mapped field, only for a row that failed alone."""
    at = source.position_of(id_) if at is None else at
    if at is None:
        return None, []
    b = source.bind()
    key = source.native_id(id_)
    values: dict[str, Any] = {}
    failed: list[tuple[str, BaseException]] = []
    for field in b.fields:
        name = str(getattr(field, "name", ""))
        stmt = select(field).select_from(b.table).where(b.id == key)
        try:
            values[name] = once_more_if_lost(partial(_value, source, stmt))
        except Exception as exc:
            if connection_failed(exc):  # the connection's, not the field's: no diagnosis
                raise
            failed.append((name.removeprefix("f_"), exc))
    record, problem = row_record(values)
    return SourceRow(at.cursor, at.cursor_ts, source.native_id(at.id), record, problem), failed


def _value(source: SqlSource, stmt: Any) -> Any:
    """One field's value, on a connection of its own (a failed read leaves no aborted
    transaction behind)."""
    with source.engine.connect() as conn:
        return conn.execute(stmt).scalar()
