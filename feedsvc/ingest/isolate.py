"""Finding the rows at fault when a batch cannot be read (issue 12 §3).

A row whose value the CMS driver cannot convert (invalid bytes in a text column, a date outside
Python's range, ``'infinity'`` in a PostgreSQL timestamp other than the cursor's: the cursor
column's own such values are kept out of every read, :func:`read_batch`) makes the whole batch's
``SELECT`` raise. The batch's positions are then read alone — only the cursor and id columns,
which read fine — and its rows are fetched by id in halves until each failing part is one row:
about ``2 × log2(batch)`` extra queries per bad row. A single row that still fails while the
source runs the same statement on no row (:meth:`SqlSource.check_statement`) is quarantined, its
reason naming the fields that fail alone (:func:`feedsvc.source.recent.read_alone`; a row
whose ``visible`` reads false is a takedown, :func:`parse_rows`); when
that probe fails too, the source itself went away or the statement no longer fits the table (a
mapped column dropped in the CMS) and the tick fails as any outage does (nothing quarantined;
the table is reflected again at the next tick). A read that had no connection
(:func:`feedsvc.db.errors.connection_failed`: refused, none from the pool) blames no row
either, even when the probe after it answers on another connection (a flapping source); a
part whose connection was lost is read once more (:func:`~feedsvc.db.errors.once_more_if_lost`)
before its rows are blamed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from typing import Any, TypeVar

from sqlalchemy.exc import ProgrammingError

from feedsvc import heap_trim
from feedsvc.articles import Article, ArticleError, parse_article
from feedsvc.db import Database
from feedsvc.db.errors import connection_failed, describe, once_more_if_lost
from feedsvc.keys import MAX_KEY
from feedsvc.source import SourceRow, SqlSource, WindowKey
from feedsvc.source.recent import read_alone
from feedsvc.store import quarantine
from feedsvc.store.quarantine import Quarantined

log = logging.getLogger(__name__)
T = TypeVar("T")


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
    #: rows after the batch whose cursor value is ahead of the horizon (not read, not stored:
    #: taking one would move the cursor past rows still to be written; see ``held_back``)
    held: list[Quarantined] = field(default_factory=list)


#: characters of text in one batch at most (beyond its first row): what a batch holds in
#: memory, sends to the match workers and writes under the lock stays bounded
BATCH_TEXT = 16 * 1024 * 1024
HELD_SHOWN = 20  # held-back rows named per tick (each is re-read until its time comes)
HELD_REFRESH = 600.0  # seconds between two listings of the same held-back row (last seen)


def read_batch(
    source: SqlSource, ts: Any, id_: Any, limit: int, horizon: datetime | None = None
) -> Batch:
    """The next ``limit`` rows after ``(ts, id_)``, up to the first whose cursor value is
    after ``horizon`` (see :meth:`CursorCodec.ahead`); raises when the source fails as a whole.

    The rows from the first one ahead on are returned as ``held``, not as rows: the cursor
    never moves past a moment that has not come, so a future-dated or garbage cursor value
    cannot hide the rows written after it. They are read again each tick until their time.
    Where the driver cannot read some cursor values (:attr:`SqlSource.bounded`: PostgreSQL's
    ``'infinity'``), the read stops at the horizon in SQL and the rows after it are named by
    id with their value as text: a held row costs no failing query, tick after tick."""
    until = source.codec.bound(horizon) if horizon is not None and source.bounded else None
    try:
        rows = source.after(ts, id_, limit, until)
    except Exception as exc:
        return _read_in_parts(source, ts, id_, limit, horizon, exc)
    rows, ahead = _split(source, rows, horizon, lambda r: r.cursor)
    rows, cut = _within_text_budget(rows)
    last = None
    if rows:
        row = rows[-1]
        last = WindowKey(row.cursor, row.cursor_ts, str(row.id))
    if cut:  # the rest is read by the next batch
        return Batch(rows, [], last, True)
    held = [(str(r.id), r.cursor) for r in ahead[:HELD_SHOWN]]
    if until is not None and not ahead and len(rows) < limit:
        held += source.beyond(*_start(source, ts, id_, last), until, HELD_SHOWN)
    return Batch(rows, [], last, len(rows) >= limit, held_entries(source, held, horizon))


def _start(source: SqlSource, ts: Any, id_: Any, last: WindowKey | None) -> tuple[Any, Any]:
    """Where the rows after a batch start: after its last row, or where it started."""
    return (ts, id_) if last is None else (last.cursor, source.native_id(last.id))


def _within_text_budget(rows: list[SourceRow]) -> tuple[list[SourceRow], bool]:
    """The first rows whose text fits :data:`BATCH_TEXT` (at least one), and whether any were
    left out. Why: a batch is counted in rows, and rows of 2 MB bodies (each within the
    article limit) made a 500-row batch ~1 GB: 9 GB resident in the service, and a write
    holding SQLite's lock past every other writer's busy timeout."""
    total = 0
    for i, row in enumerate(rows):
        total += _text(row)
        if total > BATCH_TEXT and i:
            heap_trim.worked_on(total)
            return rows[:i], True
    heap_trim.worked_on(total)
    return rows, False


def _text(row: SourceRow) -> int:
    """Characters of text in ``row`` (what :data:`BATCH_TEXT` counts)."""
    return sum(len(v) for v in row.record.values() if isinstance(v, str))


def next_limit(rows: Sequence[SourceRow], most: int) -> int:
    """How many rows to ask for next: ``most``, or fewer after a batch (``rows``) of big rows
    (about :data:`BATCH_TEXT` of text at the last batch's size per row), so the rows the cut
    leaves out are not read, then dropped, batch after batch."""
    text = sum(_text(r) for r in rows)
    if not rows or text <= BATCH_TEXT // 2:
        return most
    return max(1, min(most, BATCH_TEXT * len(rows) // text))


#: a lookup by id: the rows found among the ids asked, and the ids the driver cannot read
Lookup = Callable[[Sequence[str]], tuple[list[SourceRow], set[str]]]


def by_id(
    look_up: Lookup, ids: Sequence[str], most: int, cut: bool = True
) -> Iterator[tuple[list[SourceRow], set[str], list[str]]]:
    """Rows of ``ids`` (text) looked up in batches bounded as :func:`read_batch`'s: at most
    ``most`` ids a lookup (``source.batch_size``), fewer after a batch of big rows
    (:func:`next_limit`), and each batch's text within :data:`BATCH_TEXT` (the rows the cut
    leaves out are looked up again with the next); with ``cut`` False, ``most`` ids a lookup
    whatever their text (rows that must be written together). Yields ``(rows, unreadable ids,
    ids settled)``: the ids asked but for the ones cut, each settled once. Why: the 10-minute
    re-check of quarantined rows read every listed row at once; 200 rows of 5 MB bodies
    (quarantined as too long) peaked at 1.85 GB at every check, against 1.0 GB for their first
    ingest (``bench/recheck_memory.py``), and 5,000 would take ~50 GB."""
    pending = list(ids)
    limit = most
    while pending:
        part, pending = pending[:limit], pending[limit:]
        rows, unreadable = look_up(part)
        kept, over = _within_text_budget(rows) if cut else (rows, False)
        if over:
            back = [str(r.id) for r in rows[len(kept) :]]
            pending = back + pending
            again = set(back)
            part = [sid for sid in part if sid not in again]
        del rows  # the rows cut are not held while the caller works on the batch
        limit = next_limit(kept, most) if cut else most
        yield kept, unreadable, part
        del kept  # nor this batch while the next is read


def _read_in_parts(
    source: SqlSource, ts: Any, id_: Any, limit: int, horizon: datetime | None, exc: Exception
) -> Batch:
    """A batch the driver cannot read whole: its positions (up to the horizon, so a cursor
    value the driver cannot convert, PostgreSQL's ``'infinity'``, is left out and named as
    held back), then its rows in parts."""
    if connection_failed(exc):  # the source or the pool, not a row: the tick fails
        raise exc
    source.check_statement()  # the statement itself fails: the tick fails, no row is blamed
    until = None if horizon is None else source.codec.bound(horizon)
    keys = source.positions_after(ts, id_, limit, until)  # a failure here fails the tick
    keys, ahead = _split(source, keys, horizon, lambda k: k.cursor)
    held: list[tuple[str, Any]] = [(k.id, k.cursor) for k in ahead[:HELD_SHOWN]]
    last = keys[-1] if keys else None
    if until is not None and not ahead and len(keys) < limit:
        held += source.beyond(*_start(source, ts, id_, last), until, HELD_SHOWN)
    if not keys:
        if not held:
            raise exc
        return Batch([], [], None, False, held_entries(source, held, horizon))
    log.warning(
        "source %s: a batch of %d row(s) cannot be read (%s); reading it in parts",
        source.name,
        len(keys),
        describe(exc),
    )
    rows, bad = read_isolated(source, keys)
    return Batch(rows, bad, last, len(keys) >= limit, held_entries(source, held, horizon))


def hold_back(
    db: Database, source: str, held: Sequence[Quarantined], seen: dict[tuple[str, datetime], float]
) -> None:
    """List the rows a batch held back (quarantine, stage ``ahead``: released once stored),
    each logged once per position by this process. They are re-read each tick, but listed
    again (their ``last_seen_at``) only every :data:`HELD_REFRESH` seconds (``seen``: when this
    process last listed each ``(row id, position)``): a row held for months (``'infinity'``)
    took a state DB write transaction, SQLite's lock, at every poll."""
    now = time.monotonic()
    due = [q for q in held if now - seen.get(_key(q), now - HELD_REFRESH) >= HELD_REFRESH]
    if not due:
        return
    with db.write() as conn:
        quarantine.put(conn, source, due, db.now())
    for q in due:
        if _key(q) not in seen:
            log.warning("source %s row id=%s held back: %s", source, q.source_id, q.reason)
        seen[_key(q)] = now


def _key(q: Quarantined) -> tuple[str, datetime]:
    return q.source_id, q.source_cursor


def _split(
    source: SqlSource, items: list[T], horizon: datetime | None, value: Callable[[T], Any]
) -> tuple[list[T], list[T]]:
    """``items`` (in source order) before the first one ahead of ``horizon``, and the rest."""
    if horizon is None:
        return items, []
    codec = source.codec
    for i, item in enumerate(items):
        if codec.ahead(value(item), horizon):
            return items[:i], items[i:]
    return items, []


def held_entries(
    source: SqlSource, held: list[tuple[str, Any]], horizon: datetime | None
) -> list[Quarantined]:
    """Held-back rows ``(id, cursor value)`` as quarantine entries (stage ``ahead``)."""
    if horizon is None:
        return []
    column = source.columns.cursor
    moment = horizon.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    codec = source.codec
    return [
        Quarantined(
            sid,
            codec.position(value),
            None,
            "ahead",
            f"{column} {str(value)[:60]!r} sorts after now plus the overlap window ({moment} "
            + (
                "UTC): held back until its time comes, as taking it would move the cursor past "
                f"every row written before that time{codec.unit_hint(value)}"
                if codec.kind == "epoch" or codec.is_moment(value)
                else "UTC) but is no moment (not a timestamp, or PostgreSQL's 'infinity'): held "
                "back until the CMS writes a timestamp there, as "
                "taking it would move the cursor past every row written before it"
            ),
        )
        for sid, value in held
    ]


def read_isolated(
    source: SqlSource, keys: Sequence[WindowKey]
) -> tuple[list[SourceRow], list[Quarantined]]:
    """The rows at ``keys`` (oldest first), and the ones the driver cannot read."""
    rows: list[SourceRow] = []
    bad: list[Quarantined] = []
    named = 0  # rows whose fault is in some of their fields, read field by field

    def visit(part: Sequence[WindowKey]) -> None:
        nonlocal named
        try:
            ids = [k.id for k in part]
            at = (part[0].cursor, part[-1].cursor, part[-1].id)
            rows.extend(once_more_if_lost(lambda: source.rows_by_ids(*at, ids)))
        except Exception as exc:
            if connection_failed(exc):  # a row is never blamed for a connection not had
                raise
            if len(part) > 1:
                half = len(part) // 2
                visit(part[:half])
                visit(part[half:])
                return
            if isinstance(exc, ProgrammingError):
                raise  # our query, not the row's data
            source.check_statement()  # raises when the source or the statement fails, not the row
            row, reason = row_alone(source, part[0].id, exc, part[0])
            if row is not None:  # its fault lies in some fields: parse_rows decides on it
                named += 1
                rows.append(row)
                return
            bad.append(Quarantined(part[0].id, part[0].cursor_ts, None, "read", reason))

    visit(keys)
    if len(rows) == named and bad and named + len(bad) > 1:
        # no row of the batch reads alone, and not for its own values: a systematic failure
        raise SystemicError(f"no row of {len(keys)} could be read: {bad[0].reason}")
    return rows, bad


def row_alone(
    source: SqlSource, id_: str, exc: Exception, at: WindowKey | None = None
) -> tuple[SourceRow | None, str]:
    """Row ``id_``, which the driver cannot read whole (``exc``), read field by field: the
    row with the fields that read, its :attr:`~SourceRow.problem` naming the others
    (``published_at: cannot be read: DataError: timestamp too large (after year 10K):
    'infinity'``), and that reason; or None and the whole row's error, when the row fails in
    every field or in none alone (then it may be the query or the source, not the row), or
    is gone. ``at``: its position, when known.

    Why: the whole row's error named no field, and a batch of only such rows was taken for a
    systemic failure; and a row quarantined whole was never known to be a draft: sent back
    to draft with such a value, its article stayed public with its alerts (a tester's H1).
    Its ``visible`` and key, read alone, now let :func:`parse_rows` withdraw it."""
    try:
        row, faults = read_alone(source, id_, at)
    except Exception as failed:  # the diagnosis is a courtesy: the row is quarantined all the
        if connection_failed(failed):  # same, but not as a whole for a connection not had in it
            raise
        return None, describe(exc)
    if row is None or not faults or len(faults) == len(source.bind().fields):
        return None, describe(exc)
    said = [f"{name}: cannot be read: {describe(e)}" for name, e in faults]
    said += [row.problem] if row.problem else []
    if any(name == "visible" for name, _ in faults):
        said.append(TAKEDOWN_UNKNOWN)
    reason = "; ".join(said)
    return replace(row, problem=reason), reason


#: Said of a row whose ``visible`` cannot be read: whether the CMS took it down is not known.
TAKEDOWN_UNKNOWN = (
    "whether the CMS still shows this row is not known, so a takedown may be waiting: the "
    "article read from it before stays as it was (feedsvc articles hide KEY takes it down)"
)


#: The stage of a row the source says is not shown (``visible`` false) whose values are no
#: article (no ``published_at``: a CMS's "unpublished" is often ``published_at IS NULL``, or
#: MySQL's zero date of a WordPress draft): never quarantined, but the article read from it
#: before is withdrawn (:meth:`feedsvc.ingest.commit.BatchCommit.store`). Quarantined, such a
#: row left its article public with its alerts, against SPEC §10's "a row going back to draft
#: is seen and withdrawn", and every new draft raised a quarantine warning (a tester's).
UNPUBLISHED = "unpublished"


def parse_rows(
    rows: Sequence[SourceRow], tz: tzinfo
) -> tuple[list[tuple[SourceRow, Article]], list[Quarantined]]:
    """A batch's rows as articles, and the rows that are not (held back, stage ``read`` or
    ``parse``, whatever a row's values make the parser raise: one row never stops a batch;
    :data:`UNPUBLISHED` when the row says it is not shown)."""
    parsed, rejected = [], []
    for row in rows:
        hidden = row.record.get("withdrawn") is True
        if row.problem is not None:  # e.g. text that is not UTF-8: never altered, held back
            # but a row the source says is not shown needs no article values, readable or
            # not: the article read from it is withdrawn (by row id, its key if readable)
            rejected.append(quarantined(row, UNPUBLISHED if hidden else "read", row.problem))
            continue
        try:
            parsed.append((row, parse_article(row.record, tz)))
        except Exception as exc:
            reason = str(exc) if isinstance(exc, ArticleError) else describe(exc)
            rejected.append(quarantined(row, UNPUBLISHED if hidden else "parse", reason))
    return parsed, rejected


def set_aside(rows: Sequence[Quarantined]) -> list[Quarantined]:
    """``rows`` without the :data:`UNPUBLISHED` ones: what is quarantined and said."""
    return [q for q in rows if q.stage != UNPUBLISHED]


def quarantined(row: SourceRow, stage: str, reason: str) -> Quarantined:
    """A source row held back at ``stage``, with its key when one could be read."""
    key = row.record.get("source_key")
    return Quarantined(
        str(row.id),
        row.cursor_ts,
        key[:MAX_KEY] if isinstance(key, str) else None,
        stage,
        reason,
    )
