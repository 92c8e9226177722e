"""Source rows without an id (NULL, or empty in a text column): quarantined by their key.

feedsvc names every source row by its id for good (the article's ``source_id``, the cursor,
the quarantine, reconciliation). A row without one cannot be stored (a tester's U1: kept as
``'None'``, last in a batch it became the cursor and every tick then failed on
``int('None')``, ingest stopped for good; mid-batch it was stored, and a second such row took
the first one's article as a re-key of "the same row" and withdrew it). No read by position
takes such a row (:func:`feedsvc.source.mapping.identified`), so the rows around it are
ingested and the cursor moves on; this check lists them, as :mod:`feedsvc.ingest.unordered`
lists rows with no cursor value, at the same times (a process's first tick, then every
:data:`~feedsvc.ingest.unordered.CHECK_EVERY` seconds): each is quarantined (stage ``read``,
its reason naming the field ``id``) under ``(no id) <its key>`` — the only name it has —, at
:data:`~feedsvc.store.quarantine.NO_POSITION`, and released once no row without an id carries
that key (the CMS gave it one: the reads take it then, wherever its cursor value sorts after
the cursor; one given behind the cursor is taken by the overlap window or reconciliation).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from feedsvc.db import Database
from feedsvc.keys import MAX_KEY, spelled, trim_key
from feedsvc.source import SqlSource
from feedsvc.source.row_ids import Unidentified, count_unidentified, unidentified
from feedsvc.store import quarantine
from feedsvc.store.quarantine import NO_ID, NO_POSITION, Quarantined

log = logging.getLogger(__name__)

LISTED = 500  # rows without an id quarantined at most (the rest counted in the reason)
LOGGED = 20  # keys named in one log line


def check(db: Database, source: SqlSource) -> list[Quarantined]:
    """Quarantine the source's rows without an id, release the ones listed before that have
    one now; returns the rows newly quarantined (logged here, one WARNING). Costs nothing
    where the id column cannot hold such a value (NOT NULL, not text). Raises what the source
    or the state DB raise."""
    if source.bind().identified is None:
        with db.read() as conn:
            listed = quarantine.without_id(conn, source.name)
        if listed:  # the column became NOT NULL: nothing is without an id any more
            with db.write() as conn:
                quarantine.release(conn, source.name, sorted(listed))
        return []
    found = unidentified(source, LISTED + 1)
    total = len(found) if len(found) <= LISTED else count_unidentified(source)
    entries = entries_for(source.columns.id, found[:LISTED], total)
    with db.read() as conn:
        before = quarantine.without_id(conn, source.name)
    if not entries and not before:
        return []  # the usual case: no write transaction (SQLite's lock) for nothing
    with db.write() as conn:
        quarantine.put(conn, source.name, entries, db.now())
        gone = before - {q.source_id for q in entries}
        quarantine.release(conn, source.name, sorted(gone))
    new = [q for q in entries if q.source_id not in before]
    if new:
        keys = ", ".join(spelled(q.source_key) if q.source_key else "(none)" for q in new[:LOGGED])
        more = f", and {len(new) - LOGGED} more" if len(new) > LOGGED else ""
        log.warning(
            "source %s: %d row(s) have no id (source.columns.id = %r is NULL or empty), "
            "quarantined: key(s) %s%s. Every row needs a unique id that is not NULL: give them "
            "one in the CMS (a view: select a column that is never NULL)",
            source.name,
            total,
            source.columns.id,
            keys,
            more,
        )
    return new


def entries_for(column: str, rows: Sequence[Unidentified], total: int) -> list[Quarantined]:
    """``rows`` as quarantine entries, one per name (two rows of one key without an id are one
    entry: they have no other name). Pure."""
    out: dict[str, Quarantined] = {}
    more = ""
    if total > len(rows):
        more = f"; {total} rows have no id, the first {len(rows)} by key listed"
    for row in rows:
        key = trim_key(row.key) if row.key is not None else None
        name = f"{NO_ID} {key}" if key else f"{NO_ID} (no key) {row.cursor}"
        what = "the empty string" if row.empty else "NULL"
        reason = (
            f"id: is {what} (source.columns.id = {column!r}): feedsvc names every row by its id, "
            "so this row cannot be stored; give it a unique id that is not NULL in the CMS"
            f"{more}"
        )
        shown_key = key[:MAX_KEY] if key else None
        out.setdefault(name, Quarantined(name[:255], NO_POSITION, shown_key, "read", reason))
    return list(out.values())
