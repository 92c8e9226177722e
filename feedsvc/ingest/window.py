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
our ``articles.source_cursor``), whatever the table's size; but they read every row *in* the
window, and after an import of 20,000 articles (or a CMS script touching as many rows) that was
~0.3-0.6 s of CPU at every idle tick for as long as the rows stayed behind the cursor. So
:class:`WindowCheck` compares row by row only when the source's window is not the one it last
found fully held: a one-row fingerprint of the source's positions
(:mod:`feedsvc.source.digest`) read first, equal to the last complete comparison's at the same
cursor, means no row there is unseen. A late commit, a deleted or moved row changes it.

:class:`Window` keeps both sides, so the reconciliation of deleted rows (SPEC §10) can use the
same read: a row we hold that the source's window no longer has was deleted or moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from feedsvc.db import Database
from feedsvc.source import SqlSource, WindowKey
from feedsvc.source.digest import Digest
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


def read_window(db: Database, source: SqlSource, lo: Any, hi: Any, hi_id: Any) -> Window:
    """Read the window ``lo`` .. ``(hi, hi_id)`` (native values) on both sides. Raises what
    the source or the state DB raise (the tick's error handling)."""
    keys = source.window(lo, hi, hi_id)
    held: list[SourcePosition] = []
    if keys:
        first, last = min(k.cursor_ts for k in keys), max(k.cursor_ts for k in keys)
        with db.read() as conn:
            held = article_store.window_positions(conn, first, last)
            held += unapplied.window_positions(conn, source.name, first, last)  # + quarantine
    return Window(lo, hi, hi_id, keys, held)


class WindowCheck:
    """One ingestor's window check: the late rows behind its cursor, each source window
    compared row by row once, then only fingerprinted while it stays the same (see the module
    docstring). Not thread-safe: the ingestor's tick lock serialises its use."""

    def __init__(self) -> None:
        #: the cursor, the window's length and the source's fingerprint at the last comparison
        #: that found every row of the window held; ``None`` until one did, or after our side
        #: changed
        self._held: tuple[Any, Any, float, Digest] | None = None
        #: complete (row-by-row) comparisons made: what an idle tick is spared (tests count)
        self.compared = 0

    def forget(self) -> None:
        """Our side changed (a batch was stored): compare row by row at the next check."""
        self._held = None

    def unseen(
        self, db: Database, source: SqlSource, hi: Any, hi_id: Any, seconds: float
    ) -> tuple[Any, list[str]]:
        """The lower bound of the ``seconds`` long window behind the cursor ``(hi, hi_id)``
        and the ids of its rows not held (:meth:`Window.unseen`). The fingerprint is read
        before the rows, so a change between the two reads only costs one more comparison.
        Raises what the source or the state DB raise."""
        lo = source.codec.minus(hi, seconds)
        digest = source.window_digest(lo, hi, hi_id)
        if digest is not None and self._held == (hi, hi_id, seconds, digest):
            return lo, []
        self.compared += 1
        unseen = read_window(db, source, lo, hi, hi_id).unseen()
        # found rows are held once stored: the next check compares again, and then remembers
        self._held = None if unseen or digest is None else (hi, hi_id, seconds, digest)
        return lo, unseen
