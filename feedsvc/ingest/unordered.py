"""Source rows whose cursor value has no place in the order: named, quarantined, re-checked.

A cursor value that is NULL, or before every value the driver reads (PostgreSQL's
``'-infinity'`` or a BC date, a MySQL/MariaDB zero date), has no place in the order the keyset
cursor follows, so no read takes the row (:meth:`SqlSource._keyset`). :func:`find` lists such
rows by id and :func:`record` keeps them in the quarantine (stage ``read``, at
:data:`~feedsvc.store.quarantine.NO_POSITION`); the ingestor runs both at a process's first tick
and then every :data:`CHECK_EVERY` seconds: at a first sync, and for rows written so after it
(they sit behind the cursor, where no read looks).

Each check also looks up every listed row by id: once the CMS gives one a time it is ingested
wherever that time sorts (one set to a time long past lies behind the cursor, where no read
would take it) and leaves the list; one the CMS deleted leaves it too. Rows refused for their
values (stage ``parse``: a title missing, ``2026-11-00`` for a date, a NUL byte; stage ``read``
at a position: text that is not UTF-8; stage ``store``: a value the state DB refused, by an
operator's constraint or trigger, a column narrowed) or held back for a time in the future
(stage ``ahead``: a typo'd year) are looked up by id the same way, up to :data:`LISTED` per
check (:data:`STORE_WRITTEN` of the ones the state DB refused), the longest unchecked first: a
newsroom fixes one in place, often to a time behind the cursor (the intended ``2026-11-01``),
and no read would take it again. A check that took some of its :data:`STORE_WRITTEN` rows and
left more waiting runs again at the next tick (:func:`again_next_tick`), so a thousand rows
fixed at once come in within a few polls, not one 10-minute check per 500. One that still
fails stays listed (its reason and "last seen" updated), without a second log line or count;
one still in the future is left to the reads, which take it when its time comes. Whether the
state DB takes a row is known only by writing it: the rows that parse go to the ingestor's one
batch write (:class:`~feedsvc.ingest.commit.BatchCommit`, hooks and outbox included, as any
late row), which stores them row by row when one is refused again, quietly (each is listed
already).

Why not with each batch: the listing is one query over the rows with no place (an index range
on the cursor column) and the re-check one primary-key lookup per ``source.batch_size`` listed
rows, fewer after big ones (:func:`~feedsvc.ingest.isolate.by_id`: the keyset read's bounds,
its text budget included, each batch written before the next is read: 200 rows of 5 MB
bodies read at once took ~1.1 GB every check); the idle tick pays them once per
:data:`CHECK_EVERY`, not at every poll. At most :data:`LISTED` rows are
listed by id (the first by id); beyond that they are counted (the log line, ``source check``)
and each listed row's reason says there are more.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo

from sqlalchemy.exc import ProgrammingError

from feedsvc.db import Database
from feedsvc.db.errors import connection_failed, describe, once_more_if_lost
from feedsvc.ingest.isolate import by_id, held_entries, parse_rows, row_alone, set_aside
from feedsvc.source import SourceRow, SqlSource
from feedsvc.source.sql import ID_CHUNK
from feedsvc.store import quarantine
from feedsvc.store.quarantine import NO_POSITION, Quarantined

log = logging.getLogger(__name__)

LISTED = 5000  # rows with no place in the order quarantined by id at most (the rest counted)
#: rows the state DB refused (stage ``store``) written again per check at most, the longest
#: unchecked first: whether it takes one now is known only by writing it, a savepoint and 4-5
#: statements per row refused again. 5000 still refused, all written in one transaction, took
#: 5 s of SQLite's writer lock (PostgreSQL: 19 s) every check; 500, in batches of
#: ``source.batch_size`` (100), take 0.5 s (1-1.6 s), the longest write 0.1 s (0.35 s)
STORE_WRITTEN = 500
LOGGED = 20  # ids named in one log line
CHECK_EVERY = 600.0  # seconds between two checks by one process (its first tick checks)


@dataclass(frozen=True, slots=True)
class Found:
    """One check, read-only: what the quarantine should hold and which rows to ingest now."""

    entries: list[Quarantined]  # rows with no place in the order now (the first LISTED by id)
    values: dict[str, str | None]  # their cursor values as text (None: NULL)
    total: int  # how many rows have no place (may exceed LISTED)
    known: dict[str, str]  # such rows already quarantined: {row id: reason}
    fixed: list[str]  # ids of quarantined rows that have a place now, up to the horizon
    # (and parse): written; the state DB may refuse one again (stage ``store``: ``again``)
    held: list[Quarantined]  # quarantined rows now dated after the horizon (stage ``ahead``)
    gone: list[str]  # quarantined rows the CMS no longer has
    still: list[Quarantined]  # rows refused for their values, still refused
    left: list[str]  # rows looked at and left as they are (marked seen): the driver still
    # cannot read them, or they are still held back for a future time (each read takes them)
    written: frozenset[str] = frozenset()  # rows the state DB refused (stage ``store``)
    # looked up by this check: at most STORE_WRITTEN, the longest unchecked
    more_written: bool = False  # more such rows wait than this check writes
    again: list[Quarantined] = field(default_factory=list)  # ``fixed`` rows the state DB
    # refused again when written


#: the ingestor's one batch write of rows looked up by id (``listed``: quarantined already, so
#: not logged or counted again when refused); returns the rows the state DB refused
Store = Callable[[Sequence[SourceRow], frozenset[str]], list[Quarantined]]


def check(
    db: Database,
    source: SqlSource,
    read_in: tuple[datetime, tzinfo],
    start: bool,
    store: Store,
    batch_size: int,
) -> tuple[list[Quarantined], bool]:
    """One check: where the cursor column can hold a value with no place in the order,
    quarantine such rows by id, and ingest through ``store`` the quarantined ones the CMS has
    given a time since, wherever it sorts, and the ones refused for their values (by the
    parser, the driver or the state DB) that parse now; one the state DB refuses again stays
    listed, quietly. Rows are looked up and written in the keyset read's batches (at most
    ``batch_size``, within :data:`~feedsvc.ingest.isolate.BATCH_TEXT` of text: a batch's write
    lock each), never all at once. ``read_in``: the horizon (:func:`find`) and the zone of
    naive values. At a first sync (``start``: no cursor yet) the keyset read takes the fixed
    rows itself. Returns the rows newly quarantined and whether to check again at the next
    tick (:func:`again_next_tick`). Raises what the source or the state DB raise."""
    if not source.may_be_unordered:
        with db.read() as conn:
            if not quarantine.refused(conn, source.name, 1):
                return [], False
    found = find(db, source, *read_in, None if start else store, batch_size)
    if start:
        found = replace(found, fixed=[])
    new = record(db, source.name, found)
    report(source.name, source.columns.cursor, found, new)
    report_ingested(source.name, found.fixed, found.again)
    return new, again_next_tick(found, {q.source_id for q in found.again})


def again_next_tick(found: Found, refused: Container[str]) -> bool:
    """Whether the next ingest tick checks again instead of waiting :data:`CHECK_EVERY`: this
    check wrote its full :data:`STORE_WRITTEN` rows the state DB had refused, more wait, and
    the state DB took at least one of them (``refused``: the ids it refused again). A newsroom
    that fixed 1,200 such rows at once gets them in three ticks, not 30 minutes; rows it still
    refuses never make every tick write 500 rows (the pass that takes none ends the run), and
    each tick writes at most :data:`STORE_WRITTEN`, in batches of ``source.batch_size``, one
    short write transaction each."""
    if not found.more_written:
        return False
    return any(sid in found.written and sid not in refused for sid in found.fixed)


def find(
    db: Database,
    source: SqlSource,
    horizon: datetime,
    tz: tzinfo,
    store: Store | None = None,
    batch_size: int = ID_CHUNK,
) -> Found:
    """Which rows have no place in the order now, and what became of the ones quarantined for
    it or held for their values (:func:`~feedsvc.store.quarantine.refused`; parsed in ``tz``,
    ``source.timezone``), looked up by id in bounded batches (:func:`~feedsvc.ingest.isolate.by_id`,
    at most ``batch_size`` ids each); the ones that parse now go to ``store`` batch by batch
    (none when None), so no more than one batch of rows is held at a time. Raises the
    source's or the state DB's error (the tick fails as for any read)."""
    listed = source.unordered(LISTED + 1)
    total = len(listed) if len(listed) <= LISTED else source.count_unordered()
    more = total > LISTED
    column = source.columns.cursor
    entries = [
        Quarantined(sid, NO_POSITION, None, "read", reason(column, value, more))
        for sid, value in listed[:LISTED]
    ]
    with db.read() as conn:
        known = quarantine.unplaced(conn, source.name)
        refused = quarantine.refused(conn, source.name, LISTED)
    stored = [sid for sid, stage in refused.items() if stage == "store"]  # longest unchecked
    for sid in stored[STORE_WRITTEN:]:  # first; the rest first at the next check (not seen)
        del refused[sid]
    now_unplaced = {q.source_id for q in entries}
    others = [sid for sid in known if sid not in now_unplaced]
    if more and others:  # not among the first LISTED, but maybe still with no place
        unplaced = source.unordered_among(others)
        others = [sid for sid in others if sid not in unplaced]
    others += sorted(refused.keys() - now_unplaced - set(known))
    looked = _Looked()
    listed_ids = frozenset(others)  # each quarantined already: refused again, said no more

    def look_up(ids: Sequence[str]) -> tuple[list[SourceRow], set[str]]:
        return placed(source, ids, quiet=refused)

    for rows, unreadable, asked in by_id(look_up, others, batch_size):
        fixed = looked.add(source, rows, unreadable, asked, refused, (horizon, tz))
        if store is not None and fixed:
            looked.again += store(fixed, listed_ids)
        del rows, fixed  # this batch's rows are not held while the next is read
    return Found(
        entries,
        dict(listed[:LISTED]),
        total,
        known,
        looked.fixed,
        looked.held,
        looked.gone,
        looked.still,
        sorted(looked.left),
        frozenset(stored[:STORE_WRITTEN]),
        len(stored) > STORE_WRITTEN,
        looked.again,
    )


@dataclass(slots=True)
class _Looked:
    """What a check's lookups by id found so far (ids and entries: no row is kept)."""

    fixed: list[str] = field(default_factory=list)
    held: list[Quarantined] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    still: list[Quarantined] = field(default_factory=list)
    left: set[str] = field(default_factory=set)
    again: list[Quarantined] = field(default_factory=list)

    def add(
        self,
        source: SqlSource,
        rows: list[SourceRow],
        unreadable: set[str],
        asked: Sequence[str],
        refused: dict[str, str],
        read_in: tuple[datetime, tzinfo],
    ) -> list[SourceRow]:
        """Sort one batch of lookups (``asked``: the ids it settles); returns its rows to
        ingest now: placed, up to the horizon, and parsing when they were refused before."""
        horizon, tz = read_in
        found = {str(r.id) for r in rows}
        self.gone += [sid for sid in asked if sid not in found and sid not in unreadable]
        codec = source.codec
        ahead = [r for r in rows if codec.ahead(r.cursor, horizon)]
        waiting = {str(r.id) for r in ahead if refused.get(str(r.id)) == "ahead"}  # read each tick
        ahead = [r for r in ahead if str(r.id) not in waiting]
        fixed = [r for r in rows if not codec.ahead(r.cursor, horizon)]
        _, failing_now = parse_rows([r for r in fixed if str(r.id) in refused], tz)
        still = set_aside(failing_now)  # a row unpublished since: released, its article withdrawn
        failing = {q.source_id for q in still}
        fixed = [r for r in fixed if str(r.id) not in failing]
        self.held += held_entries(source, [(str(r.id), r.cursor) for r in ahead], horizon)
        self.still += still
        self.left |= (unreadable & refused.keys()) | waiting
        self.fixed += [str(r.id) for r in fixed]
        return fixed


def reason(column: str, value: str | None, more: bool) -> str:
    """Why a row is quarantined for its cursor value (``value`` as text, None for NULL)."""
    what = (
        f"{column} is NULL"
        if value is None
        else f"{column} {value[:60]!r} is before any time feedsvc can read"
    )
    text = (
        f"{what}: the row has no place in the order the cursor follows; ingested once the CMS "
        "gives it a time (checked by id every 10 minutes)"
    )
    if more:
        text += f"; one of more than {LISTED} such rows (the first {LISTED} by id listed)"
    return text


def placed(
    source: SqlSource, ids: Sequence[str], quiet: Container[str] = ()
) -> tuple[list[SourceRow], set[str]]:
    """The rows of ``ids`` that have a place in the order now (one the driver cannot read
    whole read field by field, :func:`~feedsvc.ingest.isolate.row_alone`, when the fault lies
    in some fields), and the ids of the ones the driver cannot read at all (left as they
    are: neither gone nor fixed; logged, but for the ``quiet`` ones: refused rows whose
    reason is listed already). A lookup the driver fails
    is narrowed down in halves, as a batch read is: one unreadable row among 5000 costs about
    ``2 * log2(5000)`` lookups more, not 5000 (one per row: seconds on a remote CMS)."""
    rows: list[SourceRow] = []
    unreadable: set[str] = set()

    def visit(part: Sequence[str]) -> None:
        try:
            rows.extend(once_more_if_lost(lambda: source.placed_rows(part)))
        except ProgrammingError:
            raise  # our query, not the row's data
        except Exception as exc:  # a value the driver cannot convert, in one row or more
            if connection_failed(exc):  # a row is never blamed for a connection not had
                raise
            if len(part) == len(ids):  # the first failure: a source down fails at once, not
                source.check_statement()  # after 2 x len(ids) lookups (a connect timeout each)
            if len(part) > 1:
                half = len(part) // 2
                visit(part[:half])
                visit(part[half:])
                return
            source.check_statement()  # raises when the source or the statement fails, not the row
            row, _ = row_alone(source, part[0], exc)
            if row is not None:  # read field by field: parse_rows decides (a draft withdrawn)
                rows.append(row)
                return
            log.log(
                logging.DEBUG if part[0] in quiet else logging.WARNING,
                "source %s row id=%s cannot be read: %s",
                source.name,
                part[0],
                describe(exc),
            )
            unreadable.add(part[0])

    if ids:
        visit(ids)
    return rows, unreadable


def record(db: Database, name: str, found: Found) -> list[Quarantined]:
    """Bring the quarantine in line with ``found`` in one write transaction (none when nothing
    is held or changed); returns the entries new to it."""
    changed = [q for q in found.entries if found.known.get(q.source_id) != q.reason]
    same = [q.source_id for q in found.entries if found.known.get(q.source_id) == q.reason]
    if not (changed or same or found.held or found.gone or found.still or found.left):
        return []
    with db.write() as conn:
        now = db.now()
        quarantine.put(conn, name, [*changed, *found.held, *found.still], now)
        quarantine.seen(conn, name, [*same, *found.left], now)
        quarantine.release(conn, name, found.gone)
    return [q for q in changed if q.source_id not in found.known]


def report(name: str, column: str, found: Found, new: Sequence[Quarantined]) -> None:
    """The log lines of one check: rows newly quarantined (the total, the first ids, how many
    more), rows held back, rows the CMS deleted. The rows ingested by id are told after their
    write (:func:`report_ingested`): the state DB may refuse one again."""
    if new:
        shown = ", ".join(
            f"id={q.source_id} ({_shown(found.values.get(q.source_id))})" for q in new[:LOGGED]
        )
        rest = len(new) - LOGGED
        log.warning(
            "source %s: %d row(s) whose %s is NULL or before any time feedsvc can read are not "
            "ingested (no place in the order the cursor follows); %d newly quarantined: %s%s; "
            "each is ingested once the CMS gives it a time",
            name,
            found.total,
            column,
            len(new),
            shown,
            f", and {rest} more" if rest > 0 else "",
        )
    for q in found.held:
        log.warning("source %s row id=%s held back: %s", name, q.source_id, q.reason)
    if found.gone:
        log.info(  # rows with no cursor value, or refused for their values
            "source %s: %d quarantined row(s) are gone from the source: no longer listed",
            name,
            len(found.gone),
        )


def report_ingested(name: str, fixed: Sequence[str], refused: Sequence[Quarantined]) -> None:
    """The log line of the quarantined rows a check wrote (ids: ``fixed``) and the state DB
    took (but for ``refused``: still listed, quietly, as they were logged once already)."""
    again = {q.source_id for q in refused}
    taken = [sid for sid in fixed if sid not in again]
    if taken:
        log.info(
            "source %s: %d quarantined row(s) taken now: ingested by id (%s)",
            name,
            len(taken),
            ", ".join(f"id={sid}" for sid in taken[:LOGGED]),
        )
    if again:
        log.debug("source %s: %d quarantined row(s) still refused", name, len(again))


def _shown(value: str | None) -> str:
    return "NULL" if value is None else repr(value[:60])
