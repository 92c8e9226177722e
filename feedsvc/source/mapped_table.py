"""A source table bound to its column mapping: what every read of
:class:`feedsvc.source.sql.SqlSource` is built on (its base, :class:`MappedTable`).

An external table is reflected on first use, not at construction: a CMS that is down while
feedsvc boots is an ingest error (logged, backed off, retried), never a crash. Kept apart from
the reads themselves (:mod:`feedsvc.source.sql`): this module owns the binding (reflection, the
mapping checked, forgotten after a failed tick), the fingerprints of the mapping stored with the
cursor, and the pieces every statement shares — the mapped ``SELECT``, the keyset condition,
rows and positions as :mod:`feedsvc.source.rows` gives them —, so a read is a few lines of
conditions on top.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, tzinfo
from typing import Any

from sqlalchemy import Engine, Select, Table, or_, select

from feedsvc.config import SourceColumns
from feedsvc.source.connects import ConnectWatch
from feedsvc.source.cursor import CursorCodec
from feedsvc.source.driver_failed import named_unexpected
from feedsvc.source.mapping import Bound, FieldMap, bind_mapping, id_value, reflect_table
from feedsvc.source.rows import SourceRow, WindowKey
from feedsvc.source.values import field_record, record_fields


class MappedTable:
    """A source table and its ``[source.columns]`` mapping, bound lazily; only ever SELECTs."""

    def __init__(
        self,
        engine: Engine,
        table: Table | str,
        columns: SourceColumns,
        name: str,
        tz: tzinfo = UTC,
        withdraw_reason: str = "draft",
    ) -> None:
        self.engine = engine
        self.columns = columns
        self.name = name
        #: ``articles.withdrawn_reason`` of a row this source says is not visible
        self.withdraw_reason = withdraw_reason
        self.tz = tz
        self._table = table
        self._b: Bound | None = None
        #: whether the window's fingerprint is asked (False once the database refused it)
        self.fingerprints = True
        #: a CMS's connects under way (:mod:`feedsvc.source.connects`; set by external_source)
        self.connects: ConnectWatch | None = None

    @property
    def mapping_key(self) -> str:
        """A fingerprint of how rows become articles (``[source.columns]``: the cursor and id
        columns, each field's column or expression, ``visible``), 32 hex digits: stored with
        the cursor (:func:`feedsvc.store.cursors.apply_mapping`), so a changed mapping is read
        again over every stored row. The table is in :attr:`name` (another table, another
        cursor)."""
        return _fingerprint(self.columns.model_dump())

    @property
    def visible_key(self) -> str:
        """The fingerprint of ``visible`` alone (as :attr:`mapping_key`'s): a re-read whose
        change left it as it was alerts the drafts it finds published
        (:mod:`feedsvc.ingest.remap`)."""
        return _fingerprint(self.columns.visible)

    # -- lazy reflection -----------------------------------------------------------------------
    def bind(self) -> Bound:
        """Reflect (once) and check the mapping; raises SQLAlchemyError, SourceError or
        :class:`~feedsvc.source.driver_failed.DriverFailed` (an error of another class while
        connecting or reflecting, named in one line)."""
        if self._b is None:
            table = self._table
            with named_unexpected("connecting to the source and reading its table's columns"):
                if isinstance(table, str):
                    table = reflect_table(self.engine, table)
                self._b = bind_mapping(table, self.columns, self.engine.dialect.name, self.tz)
        return self._b

    def forget(self) -> None:
        """Drop the binding, so the next use reflects the table again, as a restart would: a
        CMS column dropped or renamed under a running service (asked after a failed tick,
        :mod:`feedsvc.ingest.failures`; a named column gone is then a :class:`SourceError`)."""
        self._b = None

    @property
    def table(self) -> Table:
        return self.bind().table

    @property
    def codec(self) -> CursorCodec:
        return self.bind().codec

    @property
    def mapping(self) -> list[FieldMap]:
        return self.bind().mapping

    # -- what every read is built on ----------------------------------------------------------
    def _select(self) -> Select[Any]:
        b = self.bind()
        return select(b.ts.label("c_ts"), b.id.label("c_id"), *b.fields).select_from(b.table)

    def _rows(self, stmt: Select[Any]) -> list[SourceRow]:
        with self.engine.connect() as conn:
            result = conn.execute(stmt)
            labels = list(result.keys())
            rows = result.all()
        codec = self.codec
        fields = record_fields(labels)  # tuples, positions found once: ingest reads every row
        at, id_ = labels.index("c_ts"), labels.index("c_id")
        out = []
        for row in rows:
            record, problem = field_record(fields, row)
            out.append(SourceRow(row[at], codec.position(row[at]), row[id_], record, problem))
        return out

    def native_id(self, value: str) -> Any:
        """A row id kept as text as the id column's own value (:func:`id_value`)."""
        return id_value(self.bind().id.type, self.engine.dialect.name, value)

    def native_ids(self, values: Sequence[str]) -> list[Any]:
        """:meth:`native_id` of each of ``values`` that can be one of the column's values, for
        a lookup by id (``IN (…)``): one that cannot (``'None'``, kept by an earlier feedsvc from
        a row with a NULL id, looked up in an integer column) names no row, so it is left out
        and not found, where ``int('None')`` failed the whole lookup, reconciliation's
        included, for good (a tester's U1)."""
        out = []
        for value in values:
            try:
                out.append(self.native_id(value))
            except (ValueError, ArithmeticError):  # decimal.InvalidOperation is the latter
                continue
        return out

    def _keyset(self, stmt: Select[Any], ts: Any, id_: Any) -> Select[Any]:
        """Rows strictly after the keyset position ``(ts, id_)``, or every row that has a
        position at all when ``ts`` is None: never one whose cursor value is NULL (it has no
        place in the order; taken, it made the cursor NULL, i.e. the table's start again) or
        one the driver cannot read (PostgreSQL's ``'infinity'``/``'-infinity'``, a year past
        9999 or BC, a MySQL zero date: :func:`readable_range`). Those are named by
        :meth:`SqlSource.unordered <feedsvc.source.sql.SqlSource.unordered>`/``beyond``.
        Never a row without an identity (a NULL id, an empty text one: :func:`identified
        <feedsvc.source.mapping.identified>`), listed by :mod:`feedsvc.source.row_ids`."""
        b = self.bind()
        if b.identified is not None:  # a row without an id has no place either (U1)
            stmt = stmt.where(b.identified)
        if ts is not None:
            # `ts >= x AND (...)` rather than a bare OR, so every backend uses the index range
            stmt = stmt.where(b.ts >= ts, or_(b.ts > ts, b.id > id_))
        else:
            stmt = stmt.where(b.ts.is_not(None))
        if b.readable is not None:
            low, high = b.readable
            stmt = stmt.where(b.ts >= low if high is None else b.ts.between(low, high))
        return stmt

    def _positions(self, stmt: Select[Any]) -> list[WindowKey]:
        b = self.bind()
        with self.engine.connect() as conn:
            rows = conn.execute(stmt.order_by(b.ts, b.id)).all()
        codec = self.codec
        return [WindowKey(ts, codec.position(ts), str(id_)) for ts, id_ in rows]

    def dispose(self) -> None:
        self.engine.dispose()


def _fingerprint(value: object) -> str:
    shown = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(shown.encode()).hexdigest()[:32]
