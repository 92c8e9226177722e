"""The column mapping (``[source.columns]``) checked against a reflected source table.

Kept apart from the reads (:mod:`feedsvc.source.sql`): the mapping is decided once, at the first
use of a source, and every read then selects what :func:`bind_mapping` bound.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Engine,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Uuid,
    and_,
    inspect,
    literal_column,
    type_coerce,
)
from sqlalchemy.exc import (
    DBAPIError,
    NoSuchTableError,
    SQLAlchemyError,
    UnreflectableTableError,
)
from sqlalchemy.types import NullType, TypeDecorator, TypeEngine

from feedsvc.config import SourceColumns
from feedsvc.db.schema import source_articles
from feedsvc.source.cursor import CursorCodec, CursorTypeError, readable_range

FIELDS = (
    "source_key",
    "url",
    "title",
    "summary",
    "body",
    "author",
    "section",
    "tags",
    "image_url",
    "published_at",
    "updated_at",
    "visible",  # SPEC §10: not an article field; read into the record as ``withdrawn``
)
REQUIRED = frozenset({"source_key", "url", "title", "published_at"})


class SourceError(Exception):
    """The mapping does not fit the table; ``problems`` are ``(config key, message)`` pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{k}: {m}" for k, m in problems))


@dataclass(frozen=True, slots=True)
class FieldMap:
    """Where one article field comes from: a column, an SQL expression, or nothing (null)."""

    field: str
    kind: str  # "column" | "expression" | "absent"
    source: str | None
    type: str | None = None


@dataclass(frozen=True, slots=True)
class Bound:
    table: Table
    ts: ColumnElement[Any]
    id: ColumnElement[Any]  # the id column as read and compared (:func:`id_column`)
    codec: CursorCodec
    fields: list[ColumnElement[Any]]
    mapping: list[FieldMap]
    #: the cursor values the driver can read, where the column holds others (``None``: all;
    #: the upper bound ``None``: no value sorts after every readable one): ``readable_range``
    readable: tuple[Any, Any | None] | None = None
    #: whether the cursor column may hold NULL (a NOT NULL one is never tested ``IS NULL``:
    #: MariaDB says that of a zero date there)
    nullable: bool = True
    #: the test that a row has an identity (:func:`identified`), added to every read by
    #: position; None where the id column can hold no value that is none (NOT NULL, not text)
    identified: ColumnElement[bool] | None = None


def _column(table: Table, name: str) -> Column[Any] | None:
    if name in table.c:
        return table.c[name]
    folded = {c.name.lower(): c for c in table.c}  # MySQL names are case-insensitive
    return folded.get(name.lower())


def as_stored(col: Column[Any], dialect: str) -> ColumnElement[Any]:
    """A mapped column read as the driver gives it, on SQLite without SQLAlchemy's conversion.

    SQLite keeps any value in any column; SQLAlchemy's result processors for the declared type
    raised on a value of another shape (``published_at`` in a ``TIMESTAMP`` column holding
    ``'2026-02-30 10:00:00'`` or Unix seconds: ``ValueError: day is out of range for month``,
    a quarantine reason naming no field, a traceback in ``source check``) or read it wrongly
    (a ``BOOLEAN`` of legacy ``'f'``/``'false'`` text came back True: every draft published).
    Raw, each value goes through :mod:`feedsvc.source.values` and ``parse_article``, which name
    the field. Other drivers convert themselves (SQLAlchemy's processors there are kept: MySQL's
    ``BIT`` becomes an int), and so are feedsvc's own types (the built-in table's
    ``UTCDateTime`` stores naive UTC text and reads it back as UTC, which the raw text is not).
    """
    # kept: feedsvc's own table (``UTCDateTime``'s UTC; its ``tags``, a JSON list, read raw
    # became one tag '["An ninh"]' in every feed of the demo) and a declared JSON column,
    # whose text SQLAlchemy parses into the list a ``tags`` mapping expects
    kept = col.table is source_articles or isinstance(col.type, TypeDecorator | JSON)
    return type_coerce(col, NullType()) if dialect == "sqlite" and not kept else col


def expression(expr: str) -> ColumnElement[Any]:
    """An operator's ``[source.columns]`` SQL expression, ended by a line break.

    Every column is selected on one line, ``expr AS f_<field>, …``: an expression ending in a
    line comment (``-- …``; MySQL/MariaDB ``# …``) swallowed its own alias and every mapped
    column after it, so ``updated_at = "… -- edit time"`` dropped ``visible`` without an error
    and every draft was published. The line break ends any such comment where the expression
    ends; unbalanced parentheses are still the expression's own error (no wrapping in them).
    """
    return literal_column(f"{expr}\n")


def _expression_refused(key: str, name: str, table: str) -> str:
    """Why ``id`` or ``cursor`` cannot be the expression ``name``, and what to map instead."""
    why = (
        "the row id names each row for good"
        if key == "id"
        else "the reads are ordered and resumed by it, through an index"
    )
    text = f'"{name}" is an expression, not a column of table {table}: {key} must be a column'
    text += f" ({why})."
    if key == "cursor":
        text += (
            " A cursor column that is NULL until a row's first edit cannot be one: map a column"
            " every save sets, or give source.table a view or generated column that has one"
            " (e.g. COALESCE(updated, created), indexed)"
        )
    return text


def bind_mapping(table: Table, columns: SourceColumns, dialect: str, tz: tzinfo) -> Bound:
    """Check the mapping against the reflected table; raises :class:`SourceError` with all
    problems. A default-named optional column the table lacks reads as null (SPEC §3); one the
    operator named explicitly must exist, so a typo is an error rather than silent nulls."""
    problems: list[tuple[str, str]] = []
    names = ", ".join(c.name for c in table.c)
    listed = False

    def missing(key: str, name: str) -> None:
        # the table's columns once, with the first missing one: a wide table's list repeated
        # for each key (six times for mysql.user) buried the problems themselves
        nonlocal listed
        also = "" if listed else f" (columns: {names})"
        listed = True
        problems.append(
            (f"source.columns.{key}", f'column "{name}" not in table {table.name}{also}')
        )

    def not_found(key: str, name: str) -> None:
        if "(" not in name:  # a typo'd name (`post-modified`, `2nd_date`) is a missing column
            missing(key, name)
        else:  # "COALESCE(updated, created)" was said as a column the table lacks (a tester's)
            problems.append((f"source.columns.{key}", _expression_refused(key, name, table.name)))

    id_col = _column(table, columns.id)
    if id_col is None:
        not_found("id", columns.id)
    elif isinstance(id_col.type, Float):
        problems.append(("source.columns.id", _inexact_id(id_col)))
    ts_col = _column(table, columns.cursor)
    codec: CursorCodec | None = None
    if ts_col is None:
        not_found("cursor", columns.cursor)
    else:
        try:
            codec = CursorCodec.for_column(ts_col, dialect, tz)
        except CursorTypeError as exc:
            problems.append(("source.columns.cursor", str(exc)))
    fields: list[ColumnElement[Any]] = []
    mapping: list[FieldMap] = []
    for field in FIELDS:
        expr = getattr(columns, field)
        if expr is None or not expr.strip():
            if field in REQUIRED:
                problems.append((f"source.columns.{field}", "is required"))
            mapping.append(FieldMap(field, "absent", None))
            continue
        col = _column(table, expr) if expr.isidentifier() else None
        if col is not None:
            fields.append(as_stored(col, dialect).label(f"f_{field}"))
            mapping.append(FieldMap(field, "column", col.name, str(col.type)))
        elif expr.isidentifier():
            if field in REQUIRED or field in columns.model_fields_set:
                missing(field, expr)
            mapping.append(FieldMap(field, "absent", expr))
        else:
            fields.append(expression(expr).label(f"f_{field}"))
            mapping.append(FieldMap(field, "expression", expr))
    if problems:
        raise SourceError(problems)
    assert id_col is not None and ts_col is not None and codec is not None
    readable = readable_range(ts_col, codec, dialect)
    nullable = bool(ts_col.nullable)
    id_read = id_column(id_col, dialect)
    ident = identified(id_col, id_read)
    return Bound(
        table, codec.expr(ts_col), id_read, codec, fields, mapping, readable, nullable, ident
    )


def _inexact_id(col: Column[Any]) -> str:
    """Why a floating-point id column cannot name rows: its values are rounded (two rows past
    2**53 one id, ``0.1`` read back as ``0.1000000000000000055…`` by a driver), so a row
    could never be found again by the id feedsvc keeps as text."""
    return (
        f'column "{col.name}" is {col.type} (floating point): a row id must be exact; map an '
        "integer, NUMERIC, text or UUID column"
    )


def identified(col: Column[Any], read: ColumnElement[Any]) -> ColumnElement[bool] | None:
    """The SQL test that a row has an identity: its id is not NULL and, in a text column, not
    the empty string. None when the column holds no such value (NOT NULL and not text).

    Why: a row is stored, quarantined, re-checked and resumed after by its id kept as text.
    A NULL id (a view over a LEFT JOIN, a table without a primary key) was kept as ``'None'``:
    last in a batch it became the cursor and every tick failed (``int('None')``), ingest
    stopped for good; mid-batch it was stored, and a second NULL-id row took the first one's
    article as a re-key of the same row (a tester's U1). Rows without one are kept out of
    every read by position and listed apart (:func:`feedsvc.source.row_ids.unidentified`)."""
    tests: list[ColumnElement[bool]] = [read.is_not(None)] if col.nullable else []
    if isinstance(col.type, String):
        tests.append(read != "")
    return and_(*tests) if tests else None


def id_column(col: Column[Any], dialect: str) -> ColumnElement[Any]:
    """The id column as read and compared: on SQLite a ``NUMERIC``/``DECIMAL`` one without
    SQLAlchemy's conversion, which reads SQLite's numbers through a float: ids past 2**53
    (64-bit "snowflake" ids) came back rounded, several rows as one id, and a tick re-read
    the same rows batch after batch, for ever (``4611686018427387904.0000000000``, the text
    kept as ``articles.source_id``). Read raw, SQLite gives the integer it holds. Elsewhere,
    and for any other type, the column as it is (the drivers' own values are exact)."""
    if dialect == "sqlite" and isinstance(col.type, Numeric) and not isinstance(col.type, Integer):
        return type_coerce(col, NullType())
    return col


def id_value(column_type: TypeEngine[Any], dialect: str, value: str) -> Any:
    """A row id kept as text (``articles.source_id``, the cursor, the quarantine) as the id
    column's own value, to bind back: ``int`` for an integer column, ``Decimal`` for a
    ``NUMERIC``/``DECIMAL`` one, ``uuid.UUID`` for a ``UUID`` one, else the text.

    Why: bound as text, a PostgreSQL ``NUMERIC`` id failed every keyset read after the first
    batch ("operator does not exist: numeric <= character varying") and a MariaDB ``UUID`` one
    raised inside SQLAlchemy ("'str' object has no attribute 'hex'"): ingest stopped for good
    after one batch. SQLite keeps the text: its ``NUMERIC`` column compares text exactly by
    its affinity, where SQLAlchemy would bind a ``Decimal`` as a float (inexact past 2**53)."""
    if isinstance(column_type, Integer):
        return int(value)
    if isinstance(column_type, Uuid) and column_type.as_uuid:
        return uuid.UUID(value)
    if isinstance(column_type, Numeric) and dialect != "sqlite":
        return Decimal(value)
    return value


#: Tables named when ``source.table`` is not found: enough to spot a typo, never a screenful.
LISTED_TABLES = 30


def missing_table(engine: Engine, table: str) -> str:
    """``source.table``'s problem when the database has no such table: with the tables and
    views the source's user sees there (in its schema, for ``schema.table``), as a mistyped
    column is told with the table's columns; a typo (``baiviet`` for ``bai_viet``) or the
    wrong database in ``source.url`` is then seen at once, in ``source check`` and in
    ingest's log line alike (it said ``NoSuchTableError: baiviet``)."""
    schema = table.rpartition(".")[0] or None
    said = f"table {table!r} not found"
    try:
        seen = inspect(engine)
        names = sorted({*seen.get_table_names(schema), *seen.get_view_names(schema)})
    except SQLAlchemyError:
        return said
    if not names:
        where = f"schema {schema!r}" if schema else "the database in source.url"
        return f"{said}: {where} has no table or view its user can see (is it the CMS's?)"
    more = len(names) - LISTED_TABLES
    listed = ", ".join(names[:LISTED_TABLES]) + (f", and {more} more" if more > 0 else "")
    return f"{said} (tables and views: {listed})"


def reflect_table(engine: Engine, table: str) -> Table:
    """``source.table`` (``schema.table`` on PostgreSQL) as the database describes it; a table
    it does not have is a :class:`SourceError` naming the ones it has (:func:`missing_table`)."""
    schema, _, name = table.rpartition(".")
    try:
        return Table(name, MetaData(), autoload_with=engine, schema=schema or None)
    except NoSuchTableError:
        raise SourceError([("source.table", missing_table(engine, table))]) from None
    except (DBAPIError, UnreflectableTableError) as exc:  # the latter wraps a view's error
        said = str(getattr(exc, "orig", exc))
        number = found.group(1) if (found := _MYSQL_ERROR.search(said)) else None
        if _SHOW_VIEW_DENIED in said:
            raise SourceError([("source.table", view_needs_show_view(table))]) from None
        if number == "1142":
            raise SourceError([("source.table", table_not_granted(table))]) from None
        if number == "1356":
            raise SourceError([("source.table", view_broken(table))]) from None
        raise


#: MariaDB/MySQL error 1142 when a user with SELECT on a view describes it (SHOW CREATE VIEW)
_SHOW_VIEW_DENIED = "SHOW VIEW command denied"
#: PyMySQL's error text: ``(1142, "…")``; 1142 a command denied on the table (no grant on it),
#: 1356 a view that references a table or column that is gone
_MYSQL_ERROR = re.compile(r"\((\d{4}), ")


def table_not_granted(table: str) -> str:
    """MariaDB refused the source's user the table itself (error 1142, no SELECT on it): it
    read "cannot connect to the source" (a verifier's). Says which grant to give."""
    return (
        f"the user in source.url may not read {table}: GRANT SELECT ON "
        f"<database>.{table.rpartition('.')[2]} TO <the user in source.url>"
    )


def view_broken(table: str) -> str:
    """A view over a table or column dropped since (MariaDB error 1356)."""
    return (
        f"{table} is a view that refers to a table or column that is gone (or that its "
        "definer may no longer read): re-create the view"
    )


def view_needs_show_view(table: str) -> str:
    """MariaDB and MySQL describe a view (``SHOW CREATE VIEW``, what reflection reads) only to
    a user with the ``SHOW VIEW`` privilege, which ``GRANT SELECT`` does not give: a reader
    user set up as for a table was told "cannot connect to the source" and ingest retried
    for good (a tester's). Says which grant to add."""
    return (
        f"{table} is a view, and MariaDB describes a view only to a user with the SHOW VIEW "
        f"privilege: GRANT SELECT, SHOW VIEW ON <database>.{table.rpartition('.')[2]} TO "
        "<the user in source.url>"
    )
