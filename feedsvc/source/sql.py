"""One reader for every source: a SQL table, a column mapping, and a keyset cursor.

The built-in ``source_articles`` table is read through exactly the same code as a CMS table, so
the path the demo and tests exercise is the one production uses (:mod:`feedsvc.source.builtin`).
The table bound to its mapping (reflected on first use), and the pieces every statement here is
built from: :mod:`feedsvc.source.mapped_table`. What a read yields: :mod:`feedsvc.source.rows`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    cast,
    false,
    func,
    literal_column,
    or_,
    select,
)

from feedsvc.db.errors import describe
from feedsvc.source.digest import REFUSED, Digest, digest_of, digest_select
from feedsvc.source.driver_failed import named_unexpected
from feedsvc.source.mapped_table import MappedTable
from feedsvc.source.mapping import FIELDS as FIELDS
from feedsvc.source.mapping import REQUIRED as REQUIRED
from feedsvc.source.mapping import FieldMap as FieldMap
from feedsvc.source.mapping import SourceError as SourceError
from feedsvc.source.rows import SourceRow, WindowKey
from feedsvc.store.records import external_source_name

log = logging.getLogger(__name__)

ID_CHUNK = 500  # ids per IN (...) list: well inside every backend's parameter limit


class SqlSource(MappedTable):
    """Keyset reads on ``(cursor column, id)``; only ever SELECTs."""

    @property
    def bounded(self) -> bool:
        """Whether the cursor column can hold values after every one the driver reads: reads
        are then bounded by the horizon in SQL (:func:`feedsvc.ingest.isolate.read_batch`)."""
        readable = self.bind().readable
        return readable is not None and readable[1] is not None

    def after(self, ts: Any, id_: Any, limit: int, until: Any = None) -> list[SourceRow]:
        """Rows strictly after the keyset position (native values), oldest first; with
        ``until`` (:meth:`CursorCodec.bound`), none whose cursor value sorts after it."""
        b = self.bind()
        stmt = self._keyset(self._select(), ts, id_).order_by(b.ts, b.id).limit(limit)
        if until is not None:
            stmt = stmt.where(b.ts <= until)
        return self._rows(stmt)

    def beyond(self, ts: Any, id_: Any, until: Any, limit: int) -> list[tuple[str, str]]:
        """``(id, cursor value as text)`` of the first rows after the keyset position whose
        cursor value sorts after ``until``: the rows ingest holds back. The value is read as
        text, so one no driver converts (PostgreSQL's ``'infinity'``) is still named."""
        b = self.bind()
        stmt = select(b.id, cast(b.ts, String())).where(b.ts > until).order_by(b.ts, b.id)
        if b.identified is not None:
            stmt = stmt.where(b.identified)
        if ts is not None:
            stmt = stmt.where(b.ts >= ts, or_(b.ts > ts, b.id > id_))
        with self.engine.connect() as conn:
            return [(str(i), str(v)) for i, v in conn.execute(stmt.limit(limit)).tuples()]

    def _unplaced(self) -> ColumnElement[bool] | None:
        """The one test of a cursor value with no place in the order: NULL (tested only where
        the column may hold it: MariaDB says ``IS NULL`` of a zero date in a NOT NULL column),
        or before every value the driver reads (``'-infinity'``, a BC date, a MySQL zero
        date). ``None`` where the column holds no such value (no query is needed)."""
        b = self.bind()
        tests: list[ColumnElement[bool]] = [b.ts.is_(None)] if b.nullable else []
        if b.readable is not None:
            tests.append(b.ts < b.readable[0])
        if not tests:
            return None
        # a row with no id either is named by its key instead (``source.row_ids``): listed by
        # id here, it was quarantined as 'None' and its re-check raised int('None')
        return or_(*tests) if b.identified is None else and_(b.identified, or_(*tests))

    @property
    def may_be_unordered(self) -> bool:
        """Whether the cursor column can hold a value with no place in the order at all."""
        return self._unplaced() is not None

    def unordered(self, limit: int) -> list[tuple[str, str | None]]:
        """``(id, cursor value as text or None)`` of the first rows (by id) whose cursor value
        has no place in the order (:meth:`_unplaced`): rows no keyset read takes
        (:meth:`_keyset`), quarantined by id (:mod:`feedsvc.ingest.unordered`)."""
        b, unplaced = self.bind(), self._unplaced()
        if unplaced is None:
            return []
        stmt = select(b.id, cast(b.ts, String())).where(unplaced).order_by(b.id).limit(limit)
        with self.engine.connect() as conn:
            return [(str(i), v) for i, v in conn.execute(stmt).tuples()]

    def count_unordered(self) -> int:
        """How many rows :meth:`unordered` would list without a limit (asked only when more
        than the listed ones exist)."""
        b, unplaced = self.bind(), self._unplaced()
        if unplaced is None:
            return 0
        stmt = select(func.count()).select_from(b.table).where(unplaced)
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def unordered_among(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` still have a cursor value with no place in the order (primary-key
        lookups, :data:`ID_CHUNK` at a time)."""
        b, unplaced = self.bind(), self._unplaced()
        found: set[str] = set()
        if unplaced is None:
            return found
        with self.engine.connect() as conn:
            for start in range(0, len(ids), ID_CHUNK):
                chunk = self.native_ids(ids[start : start + ID_CHUNK])
                stmt = select(b.id).where(b.id.in_(chunk), unplaced)
                found.update(str(i) for i in conn.execute(stmt).scalars())
        return found

    def placed_rows(self, ids: Sequence[str]) -> list[SourceRow]:
        """Whole rows of some of ``ids`` whose cursor value now has a place in the order,
        wherever it sorts relative to the cursor (rows quarantined for having none, fixed in
        the CMS since, maybe to a time long past); primary-key lookups, oldest first."""
        b = self.bind()
        out: list[SourceRow] = []
        for start in range(0, len(ids), ID_CHUNK):
            chunk = self.native_ids(ids[start : start + ID_CHUNK])
            stmt = self._keyset(self._select(), None, None).where(b.id.in_(chunk))
            out += self._rows(stmt.order_by(b.ts, b.id))
        return out

    def position_of(self, id_: str) -> WindowKey | None:
        """Row ``id_``'s position, when it has one in the order (as :meth:`placed_rows`
        takes rows); None when it has none or is gone. Read alone, so a row whose other
        values the driver cannot convert still gives it (``source.recent.read_alone``)."""
        b = self.bind()
        stmt = self._keyset(select(b.ts, b.id).select_from(b.table), None, None)
        with self.engine.connect() as conn:
            found = conn.execute(stmt.where(b.id == self.native_id(id_))).first()
        return None if found is None else WindowKey(found[0], self.codec.position(found[0]), id_)

    def count_after(self, ts: Any, id_: Any) -> int:
        """How many rows are after the keyset position (a catch-up's total; one index range
        count, run only when a tick finds a backlog)."""
        stmt = self._keyset(select(func.count()).select_from(self.bind().table), ts, id_)
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def after_position(self, ts: Any, id_: Any, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` (row ids as text) sort strictly after the keyset position ``(ts,
        id_)`` (native values), in the source's own order (collation, id type): primary-key
        lookups, :data:`ID_CHUNK` at a time."""
        b = self.bind()
        found: set[str] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(ids), ID_CHUNK):
                chunk = self.native_ids(ids[start : start + ID_CHUNK])
                stmt = self._keyset(select(b.id).select_from(b.table), ts, id_)
                found.update(str(i) for i in conn.execute(stmt.where(b.id.in_(chunk))).scalars())
        return found

    def _window_where(self, stmt: Select[Any], lo: Any, hi: Any, hi_id: Any) -> Select[Any]:
        """Rows at or behind the keyset position ``(hi, hi_id)`` and at or after ``lo``."""
        b = self.bind()
        if isinstance(hi_id, str):
            hi_id = self.native_id(hi_id)
        if b.identified is not None:
            stmt = stmt.where(b.identified)
        return stmt.where(b.ts >= lo, b.ts <= hi, or_(b.ts < hi, b.id <= hi_id))

    def window(self, lo: Any, hi: Any, hi_id: Any) -> list[WindowKey]:
        """The positions (cursor, id) of the rows in the overlap window behind the cursor.

        Only the two keyset columns are read, so the source answers from its ``(cursor, id)``
        index without touching the rows; a window of a few thousand rows costs milliseconds
        whatever the table's size (``bench/ingest.py``)."""
        b = self.bind()
        stmt = self._window_where(select(b.ts, b.id).select_from(b.table), lo, hi, hi_id)
        return self._positions(stmt)

    def window_digest(self, lo: Any, hi: Any, hi_id: Any) -> Digest | None:
        """A fingerprint of :meth:`window`'s positions, read as one row
        (:mod:`feedsvc.source.digest`); ``None`` for a dialect that has none, or after the
        database refused the statement once (logged; the window is then compared row by row).
        Raises the source's other errors (an outage), and a refusal when the window's plain
        ``SELECT`` fails too: a tester's revoked grant and dropped table each turned the
        fingerprint off for good with a WARNING beside the real error."""
        b = self.bind()
        dialect = self.engine.dialect.name
        where = self._window_where(select(b.id).select_from(b.table), lo, hi, hi_id)
        stmt = digest_select(dialect, b.ts, b.id, where)
        if stmt is None or not self.fingerprints:
            return None
        try:
            with self.engine.connect() as conn:
                return digest_of(dialect, conn.execute(stmt).one())
        except REFUSED as exc:
            if not self._reads(where):  # the table itself fails (a grant revoked, a table
                raise  # gone): an outage ingest tells, not a refused fingerprint for good
            self.fingerprints = False
            log.warning(
                "source %s: no fingerprint of the overlap window (%s); each tick compares it "
                "row by row",
                self.name,
                describe(exc),
            )
            return None

    def _reads(self, stmt: Select[Any]) -> bool:
        """Whether ``stmt`` without its rows runs: told apart, a refused fingerprint's cause."""
        try:
            with self.engine.connect() as conn:
                conn.execute(stmt.where(false())).all()
        except Exception:
            return False
        return True

    def positions_after(self, ts: Any, id_: Any, limit: int, until: Any = None) -> list[WindowKey]:
        """:meth:`after`'s rows, positions only: what a batch holds when a row in it cannot be
        read whole (the driver raises on one of its values); with ``until``
        (:meth:`CursorCodec.bound`), none whose cursor value sorts after it."""
        b = self.bind()
        stmt = self._keyset(select(b.ts, b.id).select_from(b.table), ts, id_).limit(limit)
        if until is not None:
            stmt = stmt.where(b.ts <= until)
        return self._positions(stmt)

    def rows_by_ids(self, lo: Any, hi: Any, hi_id: Any, ids: Sequence[str]) -> list[SourceRow]:
        """Whole rows for some of :meth:`window`'s ids (the late commits), oldest first."""
        b = self.bind()
        out: list[SourceRow] = []
        for start in range(0, len(ids), ID_CHUNK):
            chunk = self.native_ids(ids[start : start + ID_CHUNK])
            stmt = self._window_where(self._select(), lo, hi, hi_id).where(b.id.in_(chunk))
            out += self._rows(stmt.order_by(b.ts, b.id))
        return out

    def ping(self) -> None:
        """A cheap round trip: does the source answer at all? (backoff probes; an error of an
        unexpected class is :class:`~feedsvc.source.driver_failed.DriverFailed`: it answered)"""
        with named_unexpected("connecting to the source"), self.engine.connect() as conn:
            conn.execute(select(literal_column("1"))).all()

    def check_statement(self) -> None:
        """Run the mapped ``SELECT`` on no row: raises when the statement itself fails (a mapped
        column dropped in the CMS: SQLite and MariaDB say so as an ``OperationalError``, as for
        a value they cannot convert) or the source does not answer. Asked before a failed read
        is blamed on its rows (``ingest.isolate``, ``ingest.unordered``)."""
        with self.engine.connect() as conn:
            conn.execute(self._select().where(false())).all()

    def latest(self, limit: int) -> list[SourceRow]:
        """The newest rows (``feedsvc source check`` samples)."""
        b = self.bind()
        stmt = self._keyset(self._select(), None, None)
        return self._rows(stmt.order_by(b.ts.desc(), b.id.desc()).limit(limit))

    def latest_positions(self, limit: int) -> list[WindowKey]:
        """:meth:`latest`'s rows, positions only, oldest first: ``source check``'s way to the
        rows when one of them cannot be read whole (``ingest.isolate.read_isolated``)."""
        b = self.bind()
        stmt = self._keyset(select(b.ts, b.id).select_from(b.table), None, None)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt.order_by(b.ts.desc(), b.id.desc()).limit(limit)).all()
        return [WindowKey(ts, self.codec.position(ts), str(id_)) for ts, id_ in reversed(rows)]


def external_name(table: str) -> str:
    return external_source_name(table)
