"""The source side of reconciliation (SPEC §10): which rows the recent window holds, and which
of some ids still exist. Only two indexed reads, ids only: the cost depends on the window's
rows, not on the table's size (``bench/reconcile.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column, select

from feedsvc.source.cursor import CursorCodec, CursorTypeError
from feedsvc.source.sql import ID_CHUNK, SqlSource


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
    with source.engine.connect() as conn:
        return {str(i) for i in conn.execute(stmt).scalars().all()}


def existing_ids(source: SqlSource, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` still exist, whatever their date (a row whose ``published_at`` moved out
    of the window is not deleted). Primary-key lookups, :data:`ID_CHUNK` at a time."""
    b = source.bind()
    found: set[str] = set()
    with source.engine.connect() as conn:
        for start in range(0, len(ids), ID_CHUNK):
            chunk = [source.native_id(i) for i in ids[start : start + ID_CHUNK]]
            stmt = select(b.id).select_from(b.table).where(b.id.in_(chunk))
            found.update(str(i) for i in conn.execute(stmt).scalars().all())
    return found
