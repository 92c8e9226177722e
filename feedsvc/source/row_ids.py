"""Questions about the source's row ids themselves: rows without one, ids several rows carry.

feedsvc names a source row by its id for good (``articles.source_id``, the cursor, the
quarantine, reconciliation). A CMS view over a LEFT JOIN, or a table without a primary key, can
break that promise two ways, each found here through the source layer (a tester's U1, U2):

* a row with no id (NULL, or the empty string in a text column: :func:`~feedsvc.source.mapping.
  identified`): no read by position takes it; :func:`unidentified` lists such rows by their key
  and cursor value, for ingest's quarantine (:mod:`feedsvc.ingest.no_id`) and ``source check``;
* an id several rows carry: :func:`duplicate_ids` (``source check``'s warning, among the newest
  rows) and :func:`carried` (ingest's question before it takes a row's new key for a re-key of
  the same row: does a row with that id still carry the old key?).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Label, String, cast, func, not_, select

from feedsvc.keys import trim_key
from feedsvc.source.sql import ID_CHUNK, SqlSource

#: Newest rows (by cursor) ``source check`` looks at for a key or an id given twice: bounded on
#: a big table (the ``(cursor, id)`` index), the rows ingest reads next anyway.
DUPLICATE_SCAN = 10_000


def key_column(source: SqlSource) -> ColumnElement[Any]:
    """The mapped ``source_key`` column or expression, as the reads select it."""
    b = source.bind()
    found = next(f for f in b.fields if getattr(f, "name", None) == "f_source_key")
    return found.element if isinstance(found, Label) else found


@dataclass(frozen=True, slots=True)
class Unidentified:
    """A row without an id: its key and cursor value as text, each None when NULL, and
    whether its id is the empty string (else NULL)."""

    key: str | None
    cursor: str | None
    empty: bool = False


def unidentified(source: SqlSource, limit: int) -> list[Unidentified]:
    """Up to ``limit`` rows without an identity (by key), none where the id column can hold
    none (NOT NULL and not text: no query). A scan of the id column where it has no index: run
    by ``source check`` and by ingest's 10-minute check only, never at every poll."""
    b = source.bind()
    if b.identified is None:
        return []
    key = key_column(source)
    shown = cast(key, String())
    stmt = select(shown, cast(b.ts, String()), b.id.is_not(None)).select_from(b.table)
    stmt = stmt.where(not_(b.identified)).order_by(shown).limit(limit)
    with source.engine.connect() as conn:
        rows = conn.execute(stmt).tuples().all()
    return [Unidentified(None if k is None else str(k), c, bool(e)) for k, c, e in rows]


def count_unidentified(source: SqlSource) -> int:
    """How many rows :func:`unidentified` would list without a limit."""
    b = source.bind()
    if b.identified is None:
        return 0
    stmt = select(func.count()).select_from(b.table).where(not_(b.identified))
    with source.engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


def duplicate_ids(source: SqlSource, limit: int, scan: int = DUPLICATE_SCAN) -> list[str]:
    """Up to ``limit`` ids (as text) that more than one of the newest ``scan`` rows carry,
    compared as ingest compares them (the text, exactly: a case-insensitive collation's
    grouping only finds the candidates, as :func:`feedsvc.source.recent.duplicate_keys`)."""
    b = source.bind()
    ident = b.id.label("i")

    def newest() -> Any:  # the same rows twice: no CTE (MySQL 5.7 has none)
        stmt = select(ident).select_from(b.table)
        if b.identified is not None:
            stmt = stmt.where(b.identified)
        return stmt.order_by(b.ts.desc(), b.id.desc()).limit(scan)

    rows, groups = newest().subquery(), newest().subquery()
    alike = select(groups.c.i).group_by(groups.c.i).having(func.count() > 1).subquery()
    stmt = select(rows.c.i).select_from(rows.join(alike, rows.c.i == alike.c.i))
    with source.engine.connect() as conn:
        ids = conn.execute(stmt).scalars().all()
    counted = Counter(str(i) for i in ids if i is not None)
    return sorted(i for i, n in counted.items() if n > 1)[:limit]


def carried(source: SqlSource, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of ``pairs`` (row id as text, key) a row of the source carries now: the key as
    ingest reads it (:func:`feedsvc.keys.trim_key`). Primary-key lookups by id, :data:`ID_CHUNK`
    at a time; only the id and key columns cross the wire. Raises the driver's error."""
    found: set[tuple[str, str]] = set()
    if not pairs:
        return found
    b = source.bind()
    key = key_column(source)
    wanted = set(pairs)
    ids = sorted({i for i, _ in pairs})
    with source.engine.connect() as conn:
        for start in range(0, len(ids), ID_CHUNK):
            chunk = source.native_ids(ids[start : start + ID_CHUNK])
            stmt = select(b.id, key).select_from(b.table).where(b.id.in_(chunk))
            for i, k in conn.execute(stmt).tuples():
                pair = (str(i), trim_key(str(k)) if k is not None else "")
                if pair in wanted:
                    found.add(pair)
    return found
