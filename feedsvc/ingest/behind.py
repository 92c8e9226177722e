"""Rows the cursor passed before they were written (a newsroom tester's M4): found by
reconciliation, stored, and said.

A CMS writer whose clock runs slow (an app server minutes behind), or a transaction that
commits long after it took its timestamp, stores a row whose cursor value (``modified``,
``updated_at``, ``published_at``, the id: whatever ``[source.columns] cursor`` is) already lies
behind feedsvc's cursor. The keyset read never goes back; the overlap window
(:mod:`feedsvc.ingest.window`) re-reads only ``source.overlap_seconds`` behind it. A row
further back was never read, and nothing said so: the article was missing from every feed
and alert for good.

Reconciliation (:mod:`feedsvc.lifecycle.reconcile`) already reads the ids of every row
published in the last ``source.reconcile_days`` at each pass. The ids among them that ingest
never decided on — no article from that row (in any state), not quarantined, not recorded as
not applied (:func:`feedsvc.store.unapplied.decided_ids`) — and whose position is behind the
overlap window (:func:`behind`) are such rows: :meth:`feedsvc.ingest.Ingestor.recover` reads
them by id and stores them through the one batch write, so every rule of a late commit holds
(the writer's versions, the outbox's alert rules: a first sync's archive or an article
published longer ago than ``telegram.alert_max_age_hours`` never alerts), and :func:`say`
names each at WARNING: its row id, key, cursor value and the cursor it was behind, in UTC.
A row not read yet because it is ahead of the cursor (written since the last poll) or in the
window (the next poll re-reads it) is left to those reads.

Cost: no more source reads in the usual pass (the ids are the ones reconciliation reads
anyway); one state-DB lookup of the window's ids that hold no public article (drafts, rows not
applied, quarantined, scheduled ones: usually few), and a primary-key read of the rows found.
Rows re-read per pass: only the ones found (``bench/RESULTS.md``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from feedsvc.source import SourceRow

log = logging.getLogger(__name__)


def behind(rows: Sequence[SourceRow], lo: datetime) -> list[SourceRow]:
    """The ``rows`` whose position is behind ``lo`` (aware UTC), the overlap window's lower
    bound: no read of ingest takes them again (a row at ``lo`` is the window's). Pure."""
    return [r for r in rows if r.cursor_ts < lo]


def say(rows: Sequence[SourceRow], cursor: datetime, lo: datetime, overlap: float) -> None:
    """Log each found row at WARNING, with the times in UTC: its cursor value, the cursor and
    the window's lower bound it lay behind, and what to do about it."""
    for r in rows:
        key = r.record.get("source_key")
        log.warning(
            "ingest: row id=%s (key %s) found by reconciliation behind the ingest cursor: its "
            "cursor value %s is %s before the cursor %s, past the %s s overlap window (read "
            "back to %s), so no poll read it; stored now. A CMS server whose clock runs slow, "
            "or a transaction that commits long after its timestamp: fix the clock, or raise "
            "source.overlap_seconds",
            r.id, key if key is not None else "?", _utc(r.cursor_ts),
            _span((cursor - r.cursor_ts).total_seconds()), _utc(cursor), _number(overlap),
            _utc(lo),
        )  # fmt: skip


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def _number(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


def _span(seconds: float) -> str:
    """``seconds`` as people say it: ``90 s``, ``10 min``, ``7 h``, ``3 d``."""
    s = round(seconds)
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{round(s / 60)} min"
    return f"{round(s / 3600)} h" if s < 3 * 86400 else f"{round(s / 86400)} d"
