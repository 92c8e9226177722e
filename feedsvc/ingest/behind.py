"""Rows written behind the cursor (a newsroom tester's M4): found by reconciliation, stored,
and said.

A CMS writer whose clock runs slow (an app server minutes behind), or a transaction that
commits long after it took its timestamp, writes a row — a new one, or an edit of one already
read — whose cursor value (``modified``, ``updated_at``, ``published_at``: whatever
``[source.columns] cursor`` is) already lies behind feedsvc's cursor. The keyset read never goes
back; the overlap window (:mod:`feedsvc.ingest.window`) re-reads only ``source.overlap_seconds``
behind it. A row further back was never read, and nothing said so: the article (or its
correction, its takedown) was missing from every feed and alert for good.

Reconciliation (:mod:`feedsvc.lifecycle.reconcile`) reads every row published in the last
``source.reconcile_days`` at each pass, with its position (cursor value). A row among them
that ingest never decided on — no article from that row in any state, not quarantined, not
recorded as not applied — or whose position is none of those it was decided at (written again
since: :func:`changed`), and whose position lies behind the overlap window (:func:`wanted`),
is such a row: :meth:`feedsvc.ingest.Ingestor.recover` reads it by id and stores it through
the one batch write, so every rule of a late commit holds (the writer's versions: an older
version is still not applied, and said; the outbox's alert rules: a first sync's archive or an
article published longer ago than ``telegram.alert_max_age_hours`` never alerts), and
:func:`say` names each at WARNING with its row id, key, cursor value and the cursor, in UTC.
A row ahead of the cursor (written since the last poll) or in the window (the next poll
re-reads it) is left to those reads; one more than :data:`feedsvc.store.unapplied.KEEP` behind
the cursor too (the records of rows decided are kept that long: a row decided before that
looks unknown).

Cost: a usual pass reads no source row more than before (the positions come with the window's
ids, one statement) and looks up in the state DB only the window's rows that hold no public
article or whose position moved; the rows found are read whole (``bench/RESULTS.md``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from feedsvc.keys import spelled
from feedsvc.source import SourceRow

log = logging.getLogger(__name__)


def changed(at: datetime | None, decided: set[datetime] | None) -> bool:
    """Whether a row at position ``at`` (None: not known) is one ingest has not decided on
    where it is: never decided (``decided`` None), or decided only at other positions. Pure."""
    return decided is None or (at is not None and at not in decided)


def wanted(
    positions: Mapping[str, datetime | None],
    decided: Mapping[str, set[datetime]],
    lo: datetime,
    kept: datetime,
) -> list[str]:
    """The ids of ``positions`` (row id → its position, None when the source could not give
    it: then read to know) to read: :func:`changed`, and behind ``lo``, the overlap window's
    lower bound, but not before ``kept``. Pure."""
    return [
        sid
        for sid, at in positions.items()
        if changed(at, decided.get(sid)) and (at is None or kept <= at < lo)
    ]


def behind(
    rows: Sequence[SourceRow], decided: Mapping[str, set[datetime]], lo: datetime, kept: datetime
) -> list[SourceRow]:
    """:func:`wanted` again on the rows as read (their positions now). Pure."""
    return [
        r for r in rows if kept <= r.cursor_ts < lo and changed(r.cursor_ts, decided.get(str(r.id)))
    ]


def say(rows: Sequence[SourceRow], cursor: datetime, lo: datetime, overlap: float) -> None:
    """Log each row stored at WARNING, with the times in UTC: its cursor value, the cursor
    and the window's lower bound it lay behind, and what to do about it."""
    for r in rows:
        key = r.record.get("source_key")
        log.warning(
            "ingest: row id=%s (key %s) written behind the ingest cursor, found by "
            "reconciliation: its cursor value %s is %s before the cursor %s, past the %s s "
            "overlap window (read back to %s), so no poll read it; read now. A CMS server "
            "whose clock runs slow, or a transaction that commits long after its timestamp: "
            "fix the clock, or raise source.overlap_seconds",
            r.id, "?" if key is None else spelled(str(key)), _utc(r.cursor_ts),
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
