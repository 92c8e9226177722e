"""The overlap window behind the cursor: late commits that a keyset read cannot see.

A CMS can commit a row *after* a row with a later timestamp (a long transaction), so the keyset
read has already moved past it. Each tick therefore compares the window ``[cursor - overlap,
cursor]`` on both sides by **row position** — the cursor instant and the row id of every row
— rather than by counting rows: with counts, a row deleted (or moved out by an edit) and a
late row committed in the same poll interval cancel out and the late row is lost silently
(issue 18 §2). Only the rows the source holds at a position we do not hold are re-read: a
row ingest decided on counts as held whatever the decision (stored; quarantined; not applied,
another row of a key the CMS gives twice), or it would be re-read at every poll.

Both reads are index range scans over the window only (the source's ``(cursor, id)`` index;
our ``articles.source_cursor``), so an idle tick stays a few milliseconds at 1,000,000 rows.

:class:`Window` keeps both sides, so the reconciliation of deleted rows (SPEC §10) can use the
same read: a row we hold that the source's window no longer has was deleted or moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from feedsvc.db import Database
from feedsvc.source import SqlSource, WindowKey
from feedsvc.store import articles as article_store
from feedsvc.store import unapplied
from feedsvc.store.articles import SourcePosition


@dataclass(frozen=True, slots=True)
class Window:
    """Both sides of one window: bounds in the source's native terms, and the positions."""

    lo: Any
    hi: Any
    hi_id: Any
    source: Sequence[WindowKey]  # what the source holds there now, oldest first
    #: where the cursor saw what we hold there, quarantined, or decided not to apply (another
    #: row of a key given twice: :mod:`feedsvc.store.unapplied`)
    held: Sequence[SourcePosition]

    def unseen(self) -> list[str]:
        """Ids of source rows we hold no copy of at their current position (late commits, or
        rows that came back). A held position without an id (stored before ids were kept)
        stands for any row at that instant."""
        exact = {(p.cursor, p.id) for p in self.held if p.id}
        anonymous = {p.cursor for p in self.held if not p.id}
        return [
            k.id
            for k in self.source
            if (k.cursor_ts, k.id) not in exact and k.cursor_ts not in anonymous
        ]


def read_window(db: Database, source: SqlSource, hi: Any, hi_id: Any, seconds: float) -> Window:
    """Read the window behind the keyset position ``(hi, hi_id)`` (native values) on both
    sides. Raises what the source or the state DB raise (the tick's error handling)."""
    lo = source.codec.minus(hi, seconds)
    keys = source.window(lo, hi, hi_id)
    held: list[SourcePosition] = []
    if keys:
        first, last = min(k.cursor_ts for k in keys), max(k.cursor_ts for k in keys)
        with db.read() as conn:
            held = article_store.window_positions(conn, first, last)
            held += unapplied.window_positions(conn, source.name, first, last)  # + quarantine
    return Window(lo, hi, hi_id, keys, held)
