"""Finding the rows at fault when a batch cannot be read (issue 12 §3).

A row whose value the CMS driver cannot convert (invalid bytes in a text column, a date
outside Python's range, ``'infinity'`` in a PostgreSQL timestamp) makes the whole batch's
``SELECT`` raise. The batch's positions are then read alone — only the cursor and id columns,
which read fine — and its rows are fetched by id in halves until each failing part is one
row: about ``2 × log2(batch)`` extra queries per bad row. A single row that still fails while
the source answers a probe is quarantined; when the probe fails too, the source itself went
away and the tick fails as any outage does (nothing quarantined).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import ProgrammingError

from feedsvc.articles import MAX_KEY_LEN
from feedsvc.db.errors import describe
from feedsvc.source import SourceRow, SqlSource, WindowKey
from feedsvc.store.quarantine import Quarantined

log = logging.getLogger(__name__)


class SystemicError(Exception):
    """Every row of a failing batch fails alone too (read or written): the query, the source
    or the write path is at fault, so nothing is quarantined and the tick fails (logged,
    backed off)."""


@dataclass(frozen=True, slots=True)
class Batch:
    """One keyset batch: the rows read, the rows that could not be, and where it ends."""

    rows: list[SourceRow]
    unreadable: list[Quarantined]
    last: WindowKey | None  # the position to advance the cursor to (None: nothing read)
    full: bool  # as many positions as asked for: more may follow


def read_batch(source: SqlSource, ts: Any, id_: Any, limit: int) -> Batch:
    """The next ``limit`` rows after ``(ts, id_)``; raises when the source fails as a whole."""
    try:
        rows = source.after(ts, id_, limit)
    except Exception as exc:
        keys = source.positions_after(ts, id_, limit)  # a failure here fails the tick
        if not keys:
            raise
        log.warning(
            "source %s: a batch of %d row(s) cannot be read (%s); reading it in parts",
            source.name,
            len(keys),
            describe(exc),
        )
        rows, bad = read_isolated(source, keys)
        return Batch(rows, bad, keys[-1], len(keys) >= limit)
    last = None
    if rows:
        row = rows[-1]
        last = WindowKey(row.cursor, row.cursor_ts, str(row.id))
    return Batch(rows, [], last, len(rows) >= limit)


def read_isolated(
    source: SqlSource, keys: Sequence[WindowKey]
) -> tuple[list[SourceRow], list[Quarantined]]:
    """The rows at ``keys`` (oldest first), and the ones the driver cannot read."""
    rows: list[SourceRow] = []
    bad: list[Quarantined] = []

    def visit(part: Sequence[WindowKey]) -> None:
        try:
            rows.extend(
                source.rows_by_ids(
                    part[0].cursor, part[-1].cursor, part[-1].id, [k.id for k in part]
                )
            )
        except Exception as exc:
            if len(part) > 1:
                half = len(part) // 2
                visit(part[:half])
                visit(part[half:])
                return
            if isinstance(exc, ProgrammingError):
                raise  # our query, not the row's data
            source.ping()  # raises when the source went away rather than this row
            bad.append(Quarantined(part[0].id, part[0].cursor_ts, None, "read", describe(exc)))

    visit(keys)
    if not rows and len(bad) > 1:
        # no row of the batch reads alone: a systematic failure, not several bad rows
        raise SystemicError(f"no row of {len(keys)} could be read: {bad[0].reason}")
    return rows, bad


def quarantined(row: SourceRow, stage: str, reason: str) -> Quarantined:
    """A source row held back at ``stage``, with its key when one could be read."""
    key = row.record.get("source_key")
    return Quarantined(
        str(row.id),
        row.cursor_ts,
        key[:MAX_KEY_LEN] if isinstance(key, str) else None,
        stage,
        reason,
    )
