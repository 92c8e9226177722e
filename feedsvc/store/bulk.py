"""Many-row INSERTs with driver-ready values: ingest's articles and article-topic matches.

SQLAlchemy's ``executemany`` builds a parameter dict for every row and runs the columns' bind
processors through its generic per-row machinery; for ingest's 500-article batches that cost
more than SQLite's own work of inserting the rows (issue 17 §2, ``bench/ingest.py``). Here
SQLAlchemy compiles the statement once per dialect (the SQL, casts and parameter style its own
path uses), the columns' own bind processors convert the values, so what is stored is exactly
what SQLAlchemy stores, and the driver's ``executemany`` takes the rows as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Connection, Dialect, Table, insert
from sqlalchemy.engine.default import DefaultDialect

Convert = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    #: where each parameter comes from in a row given in :attr:`BulkInsert.names` order
    #: (positional drivers), or None: the driver takes a dict by name
    order: tuple[int, ...] | None
    #: ``(index in the row, processor)`` for the columns that have one
    processors: tuple[tuple[int, Convert], ...]


class BulkInsert:
    """``INSERT INTO table (names...)`` for many rows at once; each row a sequence of values in
    ``names`` order. Every column with a Python-side default must be named (its default is
    not applied here): the constructor of the compiled form checks it."""

    def __init__(self, table: Table, names: Sequence[str]) -> None:
        self.table = table
        self.names = tuple(names)
        self._compiled: dict[Dialect, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect)
        if compiled is None:  # a race only compiles it twice
            compiled = self._compiled[dialect] = self._compile(dialect)
        return compiled

    def _compile(self, dialect: Dialect) -> _Compiled:
        # psycopg takes ``%s`` as well as ``%(name)s``: rows as tuples cost less on both sides
        # of the driver than dicts (it reorders every dict into a sequence)
        compiler = dialect
        if isinstance(dialect, DefaultDialect) and dialect.paramstyle == "pyformat":
            compiler = type(dialect)(paramstyle="format")
        stmt = insert(self.table).compile(
            dialect=compiler, column_keys=list(self.names), for_executemany=True
        )
        if set(stmt.binds) != set(self.names):
            raise ValueError(
                f"insert into {self.table.name} would bind {sorted(stmt.binds)}, "
                f"not {sorted(self.names)} (a column default must be given)"
            )
        order = None
        if compiler.positional:
            assert stmt.positiontup is not None
            order = tuple(self.names.index(name) for name in stmt.positiontup)
        processors = tuple(
            (i, process)
            for i, name in enumerate(self.names)
            if (process := self._processor(dialect, name)) is not None
        )
        return _Compiled(stmt.string, order, processors)

    def _processor(self, dialect: Dialect, name: str) -> Convert | None:
        type_ = self.table.c[name].type
        if isinstance(type_, JSON):
            # JSON as its text, on every backend: the statement casts it where the backend
            # needs it (PostgreSQL's ``::JSON``), and a repeated value can be serialized once
            # (psycopg's own ``Json`` wrapper would serialize it again in every row)
            process: Convert | None = type_.bind_processor(dialect)  # type: ignore[no-untyped-call]
        else:
            process = type_.dialect_impl(dialect).bind_processor(dialect)
        return process

    def converter(self, dialect: Dialect, name: str) -> Convert:
        """What :meth:`execute` does to column ``name``'s values: for a caller that converts
        a value repeated across rows once (``converted=True``)."""
        return self._processor(dialect, name) or _same

    def execute(
        self, conn: Connection, rows: Sequence[Sequence[Any]], *, converted: bool = False
    ) -> None:
        """Insert ``rows`` in one ``executemany``. Values are converted by their columns' bind
        processors, once per value object per column (ingest repeats ``now`` and ``None`` in
        every row), unless ``converted``: the caller did it with :meth:`converter`."""
        if not rows:
            return
        compiled = self._for(conn.dialect)
        params: Sequence[Sequence[Any]] = rows if converted else self._convert(compiled, rows)
        order = compiled.order
        if order is None:
            names = self.names
            conn.exec_driver_sql(
                compiled.sql, [dict(zip(names, row, strict=True)) for row in params]
            )
        elif order == tuple(range(len(order))):
            conn.exec_driver_sql(compiled.sql, [tuple(row) for row in params])
        else:
            conn.exec_driver_sql(compiled.sql, [tuple([row[i] for i in order]) for row in params])

    @staticmethod
    def _convert(compiled: _Compiled, rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
        # Memo by identity, holding the value: its id cannot be reused while the memo lives.
        memos: list[dict[int, tuple[Any, Any]]] = [{} for _ in compiled.processors]
        out = []
        for row in rows:
            values = list(row)
            for (i, process), memo in zip(compiled.processors, memos, strict=True):
                value = values[i]
                seen = memo.get(id(value))
                if seen is None or seen[0] is not value:
                    seen = memo[id(value)] = (value, process(value))
                values[i] = seen[1]
            out.append(values)
        return out
