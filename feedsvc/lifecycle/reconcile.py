"""Deleted source rows (SPEC §10): every ``source.reconcile_seconds``, the rows published in the
last ``source.reconcile_days`` are compared with the articles feedsvc holds for that window;
a held article whose row is gone is withdrawn (``deleted``) and its queued alerts end.

A source outage must never look like a deletion, so a pass withdraws nothing when:

* the source cannot be read (any error, including one mid-read: the window is read in one
  statement, which returns all of it or raises);
* the source table is empty, or the window is (a truncated or restoring table);
* more than :data:`MAX_SHARE` of the held window would go at once (a half-restored table): the
  pass is refused and logged, and the next pass tries again;
* a candidate still exists by id (its ``published_at`` only moved out of the window): each
  candidate is confirmed by a primary-key lookup before it is withdrawn.

Cost: two indexed range reads (``published_at`` on both sides, ids only) plus primary-key
lookups for the few candidates: constant in the table sizes (``bench/reconcile.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from feedsvc.db import Database
from feedsvc.source import SqlSource
from feedsvc.source.recent import existing_ids, recent_ids
from feedsvc.store.lifecycle import held_window, withdraw_deleted

log = logging.getLogger(__name__)

#: Share of the held window one pass may withdraw; beyond it the pass is refused (outage-like).
MAX_SHARE = 0.5
#: Below this many held articles the share rule does not apply (a quiet week, two deletions).
MIN_FOR_SHARE = 20


@dataclass(frozen=True, slots=True)
class Pass:
    """What one pass did: articles held and rows seen in the window, ids withdrawn, and why
    nothing was withdrawn when a safety rule stopped it (None: it ran to the end)."""

    held: int
    seen: int
    withdrawn: tuple[int, ...]
    refused: str | None = None


def decide(held: list[str], seen: set[str], still: set[str]) -> list[str]:
    """Pure core: held source ids to withdraw, given the ids the window shows (``seen``) and
    the candidates that still exist outside it (``still``)."""
    return [sid for sid in held if sid not in seen and sid not in still]


class Reconciler:
    """One pass per :meth:`run` over ``source`` and ``db`` (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        source: SqlSource,
        days: float,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self.source = source
        self.window = timedelta(days=days)
        self.clock = clock or db.now

    def run(self) -> Pass:
        """One pass. Raises the source's or the state DB's errors (nothing is withdrawn then);
        the caller logs them and tries again next time."""
        now = self.clock()
        since = now - self.window
        with self.db.read() as conn:
            held = [sid for sid, _key in held_window(conn, since) if sid]
        if not held:
            return Pass(0, 0, ())
        seen = recent_ids(self.source, since)
        if not seen:  # an empty (truncated, restoring) table or window is not 7 days of deletions
            return self._refuse(held, seen, "the source shows no row in the window")
        candidates = [sid for sid in held if sid not in seen]
        if not candidates:
            return Pass(len(held), len(seen), ())
        gone = decide(candidates, seen, existing_ids(self.source, candidates))
        if len(held) >= MIN_FOR_SHARE and len(gone) > MAX_SHARE * len(held):
            why = f"{len(gone)} of {len(held)} held articles would go at once"
            return self._refuse(held, seen, why)
        with self.db.write() as conn:
            ids = withdraw_deleted(conn, gone, since, self.clock)
        if ids:
            log.info("reconciliation: %d article(s) deleted from the source withdrawn", len(ids))
        return Pass(len(held), len(seen), tuple(ids))

    def _refuse(self, held: list[str], seen: set[str], why: str) -> Pass:
        log.warning("reconciliation withdrew nothing: %s (%s)", why, self.source.name)
        return Pass(len(held), len(seen), (), why)
