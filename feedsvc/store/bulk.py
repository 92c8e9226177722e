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
from weakref import WeakKeyDictionary

from sqlalchemy import JSON, Connection, Dialect, Table, insert
from sqlalchemy.engine.default import DefaultDialect

Convert = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    #: the driver's parameters, by their place in a row given in :attr:`BulkInsert.names`
    #: order: the compiled statement's order (positional drivers, rows as tuples)
    order: tuple[int, ...]
    #: whether the driver takes each row as a dict by name instead
    named: bool
    #: ``(parameter index, processor)`` for the columns that have one
    processors: tuple[tuple[int, Convert], ...]


class BulkInsert:
    """``INSERT INTO table (names...)`` for many rows at once; each row a sequence of values in
    ``names`` order. Every column with a Python-side default must be named (its default is
    not applied here): compiling the statement checks it."""

    def __init__(self, table: Table, names: Sequence[str]) -> None:
        self.table = table
        self.names = tuple(names)
        #: per dialect (an engine's), dropped with it
        self._compiled: WeakKeyDictionary[Dialect, _Compiled] = WeakKeyDictionary()

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
        named = not compiler.positional
        params = self.names if named else tuple(stmt.positiontup or ())
        processors = tuple(
            (i, process)
            for i, name in enumerate(params)
            if (process := self._processor(dialect, name)) is not None
        )
        order = tuple(self.names.index(name) for name in params)
        return _Compiled(stmt.string, order, named, processors)

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
        params = self._params(compiled, rows, converted)
        if compiled.named:
            names = self.names
            conn.exec_driver_sql(compiled.sql, [dict(zip(names, p, strict=True)) for p in params])
        else:
            conn.exec_driver_sql(compiled.sql, params)

    @staticmethod
    def _params(
        compiled: _Compiled, rows: Sequence[Sequence[Any]], converted: bool
    ) -> list[tuple[Any, ...]]:
        """Each row's values in the driver's order, converted."""
        order = compiled.order
        as_given = order == tuple(range(len(order)))
        if converted:
            return [tuple(row) if as_given else tuple([row[i] for i in order]) for row in rows]
        # Memo by identity, holding the value: its id cannot be reused while the memo lives.
        memos: list[dict[int, tuple[Any, Any]]] = [{} for _ in compiled.processors]
        out = []
        for row in rows:
            values = list(row) if as_given else [row[i] for i in order]
            for (i, process), memo in zip(compiled.processors, memos, strict=True):
                value = values[i]
                seen = memo.get(id(value))
                if seen is None or seen[0] is not value:
                    seen = memo[id(value)] = (value, process(value))
                values[i] = seen[1]
            out.append(tuple(values))
        return out
