"""One reader for every source: a SQL table, a column mapping, and a keyset cursor.

The built-in ``source_articles`` table is read through exactly the same code as a CMS table, so
the path the demo and tests exercise is the one production uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Integer,
    MetaData,
    Select,
    Table,
    create_engine,
    event,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.engine import make_url

from feedsvc.config import SourceColumns
from feedsvc.db.schema import source_articles

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
)


@dataclass(frozen=True, slots=True)
class SourceRow:
    cursor_ts: datetime
    id: Any
    record: dict[str, Any]  # SPEC §3 field names → raw values, for parse_article


class SqlSource:
    """Keyset reads on ``(cursor column, id)``; only ever SELECTs."""

    def __init__(self, engine: Engine, table: Table, columns: SourceColumns, name: str) -> None:
        self.engine = engine
        self.table = table
        self.name = name
        self.ts = table.c[columns.cursor]
        self.id = table.c[columns.id]
        self._fields: list[ColumnElement[Any]] = []
        for field in FIELDS:
            expr = getattr(columns, field)
            if expr is None:
                continue
            col = table.c[expr] if expr in table.c else literal_column(expr)
            self._fields.append(col.label(f"f_{field}"))

    def _select(self) -> Select[Any]:
        return select(self.ts.label("c_ts"), self.id.label("c_id"), *self._fields)

    def _rows(self, stmt: Select[Any]) -> list[SourceRow]:
        with self.engine.connect() as conn:
            result = conn.execute(stmt).mappings().all()
        out = []
        for m in result:
            record = {k[2:]: v for k, v in m.items() if k.startswith("f_")}
            out.append(SourceRow(m["c_ts"], m["c_id"], record))
        return out

    def native_id(self, value: str) -> Any:
        return int(value) if isinstance(self.id.type, Integer) else value

    def after(self, ts: datetime | None, id_: Any, limit: int) -> list[SourceRow]:
        """Rows strictly after the keyset position, oldest first."""
        stmt = self._select().order_by(self.ts, self.id).limit(limit)
        if ts is not None:
            # `ts >= x AND (...)` rather than a bare OR, so every backend uses the index range
            stmt = stmt.where(self.ts >= ts, or_(self.ts > ts, self.id > id_))
        return self._rows(stmt)

    def count_between(self, lo: datetime, hi: datetime) -> int:
        stmt = select(func.count()).select_from(self.table).where(self.ts >= lo, self.ts <= hi)
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def between(self, lo: datetime, hi: datetime) -> list[SourceRow]:
        """The overlap window, re-read when counts say a late commit landed in it."""
        stmt = self._select().where(self.ts >= lo, self.ts <= hi).order_by(self.ts, self.id)
        return self._rows(stmt)


def builtin_source(engine: Engine) -> SqlSource:
    return SqlSource(engine, source_articles, SourceColumns(), "builtin")


def _read_only(engine: Engine) -> None:
    """Belt and braces on top of a read-only DB user: the session itself refuses writes."""
    backend = engine.dialect.name
    statement = {
        "postgresql": "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
        "mysql": "SET SESSION TRANSACTION READ ONLY",
        "mariadb": "SET SESSION TRANSACTION READ ONLY",
        "sqlite": "PRAGMA query_only = ON",
    }.get(backend)
    if statement is None:
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(statement)
        cur.close()


def external_source(url: str, table: str, columns: SourceColumns) -> SqlSource:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "mysql" and parsed.drivername == "mysql":
        parsed = parsed.set(drivername="mysql+pymysql")
    engine = create_engine(parsed, pool_pre_ping=True)
    _read_only(engine)
    reflected = Table(table, MetaData(), autoload_with=engine)
    return SqlSource(engine, reflected, columns, f"external:{table}")


def missing_columns(source_columns: Sequence[str], columns: SourceColumns) -> list[str]:
    """Mapping entries naming a column the table lacks (SQL expressions are not checked)."""
    names = set(source_columns)
    return [
        f"source.columns.{field}"
        for field, value in columns.model_dump().items()
        if isinstance(value, str) and value.isidentifier() and value not in names
    ]
