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

A deletion is not always for good: a row restored from a backup (or ``INSERT``-ed again from a
saved copy) keeps its cursor value, so once it lies behind the ingest cursor (past the overlap
window) no read takes it again and the article stayed withdrawn forever. So each pass also
looks up, by id, the articles it withdrew as ``deleted`` in the window (:data:`LOOKUP` of them
per pass, in id order, the next pass going on where this one stopped: one indexed state-DB read
and one primary-key lookup at the source, whatever the number withdrawn), and hands the rows
that exist again to ``reread``: the ingestor reads them whole and stores them through its one
batch write (:meth:`feedsvc.ingest.Ingestor.reread`), so the writer's rules decide
(:func:`feedsvc.versions.takes_over`: the same version shown again, or a newer one, replaces
it; an older backup does not) and the hooks decide any alert (one delivery per chat and
article, ever: a chat that had it is not alerted again). Only a row found is evidence here, so
an outage restores nothing (a lookup that fails raises; an empty table finds nothing).

A key column need not be unique (a re-post, a copy in another section; tester 3 F3). An
article is read from one row (the newest version of its key); when that row is deleted while
another row with the key remains, the key is not deleted: each candidate's key is looked up
(:func:`feedsvc.source.recent.rows_with_keys`, the few candidates only) and the remaining rows
are handed to ``reread`` as *orphaned*: the newest of them (a public one before a draft,
:func:`feedsvc.versions.ahead`) takes the article over, whatever its version (a draft one
withdraws it as a draft, not as deleted). The same holds for an article
withdrawn as deleted earlier whose row is gone but whose key another row carries.

The same window shows rows feedsvc never read (a newsroom tester's M4): a CMS clock running
slow, or a transaction committed long after its timestamp, writes a row (or an edit) behind
the ingest cursor and its overlap window, where no read looks. With ``recover``, the window is
read with each row's position (:func:`feedsvc.source.recent.recent_positions`, the same one
statement), and the rows that hold no public article or not at the position ingest read
(:func:`unread`) go to ``recover`` (:meth:`feedsvc.ingest.Ingestor.recover`), which keeps the
ones ingest has not decided on where they are, lying behind the window, stores them as late
commits and says each at WARNING (:mod:`feedsvc.ingest.behind`). Found within
``source.reconcile_seconds`` (default 5 minutes) when the row's ``published_at`` is in the
window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from feedsvc.db import Database
from feedsvc.source import SqlSource
from feedsvc.source.recent import existing_ids, recent_ids, recent_positions, rows_with_keys
from feedsvc.store.withdrawals import deleted_window, held_window, withdraw_deleted

log = logging.getLogger(__name__)

#: Share of the held window one pass may withdraw; beyond it the pass is refused (outage-like).
MAX_SHARE = 0.5
#: Below this many held articles the share rule does not apply (a quiet week, two deletions).
MIN_FOR_SHARE = 20
#: Articles withdrawn as deleted looked up again per pass (one ``IN`` list at the source).
LOOKUP = 500


class Reread(Protocol):
    """Re-reads source rows by id through ingest's batch write; returns how many it stored.
    ``orphaned``: keys whose held article's row is gone (another row takes it over)."""

    def __call__(self, ids: Sequence[str], orphaned: Collection[str] = ..., /) -> int: ...


class Recover(Protocol):
    """Stores the rows of these (row id → position, None when not known) that ingest has not
    read where they are and that lie behind its cursor's window
    (:meth:`feedsvc.ingest.Ingestor.recover`); returns how many it stored."""

    def __call__(self, positions: Mapping[str, datetime | None], /) -> int: ...


@dataclass(frozen=True, slots=True)
class Pass:
    """What one pass did: articles held and rows seen in the window, ids withdrawn, and why
    nothing was withdrawn when a safety rule stopped it (None: it ran to the end)."""

    held: int
    seen: int
    withdrawn: tuple[int, ...]
    refused: str | None = None
    #: source ids of rows withdrawn as deleted earlier and found again, handed to ``reread``
    back: tuple[str, ...] = ()
    #: keys whose row is gone while another row carries them: not withdrawn, that row re-read
    fallen_back: tuple[str, ...] = ()
    #: (source id, key) of the rows found deleted: withdrawn, or what would be (a dry run, a
    #: refusal)
    gone: tuple[tuple[str, str], ...] = ()
    #: window rows handed to ``recover`` (holding no public article, or not where ingest
    #: read them), and how many it stored (rows written behind the cursor: M4)
    unheld: int = 0
    found: int = 0


def decide(held: list[str], seen: set[str], still: set[str]) -> list[str]:
    """Pure core: held source ids to withdraw, given the ids the window shows (``seen``) and
    the candidates that still exist outside it (``still``)."""
    return [sid for sid in held if sid not in seen and sid not in still]


def unread(
    positions: Mapping[str, datetime | None], held: Mapping[str, datetime]
) -> dict[str, datetime | None]:
    """Pure core of the search for rows written behind the cursor (M4): the window's rows
    (``positions``, row id → position) that hold no public article (``held``: where ingest
    read each), or whose position is not the one it read: ``recover`` decides which ingest
    never read where they are now."""
    return {sid: at for sid, at in positions.items() if sid not in held or held[sid] != at}


def returned(deleted: Sequence[str], existing: set[str]) -> list[str]:
    """Pure core of the way back: the source ids withdrawn as deleted that exist again."""
    return [sid for sid in deleted if sid in existing]


def remaining(gone: dict[str, str], carriers: dict[str, set[str]]) -> dict[str, set[str]]:
    """Pure core of the fall-back: for each key of ``gone`` (source id → key, rows that no
    longer exist) the ids of the other rows that carry it now; keys no row carries are left
    out (those are deleted)."""
    out: dict[str, set[str]] = {}
    for sid, key in gone.items():
        others = carriers.get(key, set()) - {sid}
        if others:
            out.setdefault(key, set()).update(others)
    return out


class Reconciler:
    """One pass per :meth:`run` over ``source`` and ``db`` (see the module docstring);
    ``reread`` (the ingestor's) brings back the rows found again (None: none are looked up)."""

    def __init__(
        self,
        db: Database,
        source: SqlSource,
        days: float,
        clock: Callable[[], datetime] | None = None,
        reread: Reread | None = None,
        recover: Recover | None = None,
    ) -> None:
        self.db = db
        self.source = source
        self.window = timedelta(days=days)
        self.clock = clock or db.now
        self.reread = reread
        self.recover = recover
        self._after = 0  # the last article id looked up again (the next pass goes on after it)

    def run(self, *, bulk: bool = False, dry_run: bool = False) -> Pass:
        """One pass. Raises the source's or the state DB's errors (nothing is withdrawn then);
        the caller logs them and tries again next time. ``bulk``: the share rule does not
        hold (an operator confirmed the newsroom deleted that many: ``feedsvc source
        reconcile --bulk``); ``dry_run``: decide, withdraw and re-read nothing."""
        now = self.clock()
        since = now - self.window
        back = () if dry_run else self._bring_back(since)
        with self.db.read() as conn:
            window = [(sid, key, at) for sid, key, at in held_window(conn, since) if sid and key]
        keys = {sid: key for sid, key, _at in window}
        held = list(keys)
        # the source is read even when nothing is held: "0 rows in the source" was said of a
        # table never read, even one that does not exist (a tester's); its count is true now
        if self.recover is None:
            seen = recent_ids(self.source, since)
            unheld: dict[str, datetime | None] = {}
        else:
            positions = recent_positions(self.source, since)
            seen = set(positions)
            unheld = unread(positions, {sid: at for sid, _key, at in window})
        found = self.recover(unheld) if self.recover is not None and unheld and not dry_run else 0
        if not held:
            return Pass(0, len(seen), (), back=back, unheld=len(unheld), found=found)
        if not seen:  # an empty (truncated, restoring) table or window is not 7 days of deletions
            return self._refuse(held, seen, "the source shows no row in the window", back)
        candidates = [sid for sid in held if sid not in seen]
        if not candidates:
            return Pass(len(held), len(seen), (), back=back, unheld=len(unheld), found=found)
        gone = decide(candidates, seen, existing_ids(self.source, candidates))
        if gone:  # a key another row still carries is not deleted: that row takes over
            rows = remaining({sid: keys[sid] for sid in gone}, self._carriers(gone, keys))
            gone = [sid for sid in gone if keys[sid] not in rows]
        else:
            rows = {}
        if not bulk and len(held) >= MIN_FOR_SHARE and len(gone) > MAX_SHARE * len(held):
            why = (
                f"{len(gone)} of {len(held)} held articles would go at once (if the newsroom "
                "did delete them: feedsvc source reconcile --bulk)"
            )
            return self._refuse(held, seen, why, back, _pairs(gone, keys))
        if dry_run:
            return Pass(len(held), len(seen), (), fallen_back=tuple(sorted(rows)),
                        gone=_pairs(gone, keys))  # fmt: skip
        with self.db.write() as conn:
            ids = withdraw_deleted(conn, gone, since, self.clock)
        if ids:
            log.info("reconciliation: %d article(s) deleted from the source withdrawn", len(ids))
        self._fall_back(rows)
        return Pass(
            len(held), len(seen), tuple(ids), back=back, fallen_back=tuple(sorted(rows)),
            gone=_pairs(gone, keys), unheld=len(unheld), found=found,
        )  # fmt: skip

    def _carriers(self, gone: Sequence[str], keys: dict[str, str]) -> dict[str, set[str]]:
        """The rows that carry the keys of the ``gone`` ones now (one ``IN`` list)."""
        return rows_with_keys(self.source, sorted({keys[sid] for sid in gone}))

    def _fall_back(self, rows: dict[str, set[str]]) -> None:
        """Have the remaining rows of keys whose held row is gone read and stored as the
        key's record (``reread`` with ``orphaned``); without ``reread`` they are only logged.
        Raises the source's or the state DB's errors."""
        if not rows:
            return
        ids = sorted({i for found in rows.values() for i in found})
        stored = self.reread(ids, frozenset(rows)) if self.reread is not None else 0
        log.info(
            "reconciliation: %d article(s) whose source row is gone kept: another row carries "
            "the key (%s; the key column is not unique), %d stored from it",
            len(rows), ", ".join(sorted(rows)[:5]), stored,
        )  # fmt: skip

    def _bring_back(self, since: datetime) -> tuple[str, ...]:
        """Look up the next :data:`LOOKUP` articles withdrawn as deleted or as the source's
        drafts (by id, after the last pass's); have the rows withdrawn as deleted that exist
        again read whole and stored (``reread``), and the key of any whose row is gone taken
        over by another row that carries it (a verifier's: a key's newer row set to draft,
        then deleted, left the article withdrawn for good while its older row was public).
        Returns the source ids read again. Raises the source's or the state DB's errors."""
        if self.reread is None:
            return ()
        reasons = ("deleted", self.source.withdraw_reason)
        with self.db.read() as conn:
            slice_ = deleted_window(conn, since, self._after, LOOKUP, reasons)
        self._after = slice_[-1][0] if len(slice_) == LOOKUP else 0  # then from the start
        if not slice_:
            return ()
        sids = [sid for _id, sid, _key, _why in slice_]
        existing = existing_ids(self.source, sids)
        back = returned([sid for _i, sid, _k, why in slice_ if why == "deleted"], existing)
        absent = {sid: key for _id, sid, key, _why in slice_ if sid not in existing}
        if absent:  # gone while another row carries the key: that row takes it over
            carriers = rows_with_keys(self.source, sorted(set(absent.values())))
            self._fall_back(remaining(absent, carriers))
        if back:
            stored = self.reread(back)
            log.log(
                logging.INFO if stored else logging.DEBUG,
                "reconciliation: %d row(s) withdrawn as deleted are in the source again, "
                "%d stored again",
                len(back),
                stored,
            )
        return tuple(back)

    def _refuse(
        self, held: list[str], seen: set[str], why: str, back: tuple[str, ...] = (),
        gone: tuple[tuple[str, str], ...] = (),
    ) -> Pass:  # fmt: skip
        # told by the caller: the service's leader checks, as its failures (at most every
        # 15 minutes while it lasts), `source reconcile` on its own lines
        log.debug("reconciliation withdrew nothing: %s (%s)", why, self.source.name)
        return Pass(len(held), len(seen), (), why, back, gone=gone)


def _pairs(gone: Sequence[str], keys: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((sid, keys[sid]) for sid in gone)
