"""A changed ``[source.columns]`` or source zone applied to what is stored: the source read again.

Rows are read with the mapping of the day (which column holds the summary, the ``visible``
expression) and in the zone of the day (``source.timezone``, default ``site.timezone``: what a
naive ``published_at``/``updated_at`` means); an operator who adds ``visible = "status =
'published'"`` after a first sync expects the drafts already stored to go, and one who fixes
the zone expects every stored date to move, not only those of rows edited since.

The re-read is a first sync (no alerts) only up to where the cursor stood when the mapping
changed (:func:`feedsvc.store.cursors.apply_mapping` keeps that alert boundary): rows after it
(new ones, or ones the old cursor had not reached) alert as in any sync.

Replicas sharing a state DB may run different configs for a while (a rolling deploy). Only
the ingest leader records a mapping (inside its fenced write), and one that another replica
recorded *after* this process started is a newer config: this replica then stands by instead
of sending the cursor back to the start again (the replicas would reset each other at every
start and every change of leader).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from typing import Any, Literal

from sqlalchemy import Connection

from feedsvc.db import Database
from feedsvc.ingest.writer import Item
from feedsvc.source.sql import BUILTIN_NAME, SqlSource
from feedsvc.store import cursors
from feedsvc.store.cursors import Cursor, Recorded

log = logging.getLogger(__name__)

#: what a replica does with the recorded mapping: reads with it (``same``), records its own
#: as it (nothing was recorded: ``adopt``), records its own and reads again (``apply``), or
#: stands by (another replica recorded its own after this one started: ``superseded``)
Decision = Literal["same", "adopt", "apply", "superseded"]


def zone_key(source: SqlSource, tz: tzinfo) -> str | None:
    """The zone recorded with ``source``'s mapping: ``tz``'s IANA name (``str`` of another
    tzinfo); None for the built-in table, whose times carry their zone."""
    return None if source.name == BUILTIN_NAME else str(getattr(tz, "key", None) or tz)


def decide(recorded: Recorded, key: str, zone: str | None, started: datetime) -> Decision:
    """:data:`Decision` for a replica reading with ``key`` in ``zone``, started at ``started``
    (state DB clock). A recorded zone of None (before 0031) with the same key is adopted: an
    upgrade reads nothing again."""
    if (recorded.key, recorded.zone) == (key, zone):
        return "same"
    if recorded.key is None or (recorded.key == key and recorded.zone is None):
        return "adopt"
    if recorded.at is not None and recorded.at > started:
        return "superseded"
    return "apply"


class MappingCheck:
    """One Ingestor's view of the recorded mapping: checked at every tick (another replica
    may record one at any time), warned about once per recorded mapping."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz  # the zone naive times are read in (the Ingestor's)
        self.started: datetime | None = None  # this process's first check (state DB clock)
        self._warned: Recorded | None = None

    def _started(self, db: Database) -> datetime:
        if self.started is None:
            self.started = db.now()
        return self.started

    def standing_by(self, db: Database, source: SqlSource) -> None:
        """Another replica leads ingest: warn (once) when it reads with another mapping."""
        with db.read() as conn:
            recorded = cursors.recorded_mapping(conn, source.name)
        zone, started = zone_key(source, self.tz), self._started(db)
        self._warn(source, recorded, decide(recorded, source.mapping_key, zone, started))

    def lead(
        self,
        db: Database,
        source: SqlSource,
        state: tuple[Cursor, Recorded],
        fence: Callable[[Connection, datetime], None],
    ) -> Cursor | None:
        """As ingest leader, with the cursor and mapping the tick read
        (:func:`cursors.get_state`: no read of its own when nothing changed): record this
        replica's mapping when it is to be (``fence``: the lease check, in the same
        transaction) and return the cursor to read from (moved back by a change,
        :func:`cursors.apply_mapping`); None when a newer replica's mapping is recorded: this
        one must not ingest."""
        cursor, recorded = state
        key, zone, started = source.mapping_key, zone_key(source, self.tz), self._started(db)
        if decide(recorded, key, zone, started) == "same":
            return cursor
        with db.write() as conn:
            now = db.now()
            fence(conn, now)
            recorded = cursors.recorded_mapping(conn, source.name)
            decision = decide(recorded, key, zone, started)
            if decision != "superseded" and cursors.apply_mapping(
                conn, source.name, key, zone, now
            ):
                log.warning("ingest: [source.columns] or source.timezone changed since the "
                            "stored articles were read: reading every row of %s again to "
                            "apply it (rows the cursor had passed do not alert)",
                            source.name)  # fmt: skip
            cursor = cursors.get_cursor(conn, source.name)
        if decision == "superseded":
            self._warn(source, recorded, decision)
            return None
        return cursor

    def _warn(self, source: SqlSource, recorded: Recorded, decision: Decision) -> None:
        if decision not in ("apply", "superseded") or recorded == self._warned:
            return
        self._warned = recorded
        if decision == "apply":
            log.warning("ingest: this replica's [source.columns]/source.timezone differ from "
                        "those %s is read with (another replica's config, e.g. during a rolling "
                        "deploy); nothing is read again while another replica leads ingest",
                        source.name)  # fmt: skip
        else:
            log.warning("ingest: another replica recorded other [source.columns]/"
                        "source.timezone for %s after this one started (a newer config): this "
                        "replica ingests nothing; restart it with the current config",
                        source.name)  # fmt: skip


def alert_boundary(source: SqlSource, cursor: Cursor) -> tuple[Any, Any] | None:
    """Where the cursor stood when the mapping changed (native values, as the keyset binds
    them), or None: no re-read under way, or one with nothing read before it."""
    ts, id_ = source.codec.decode(cursor.alert_ts, cursor.alert_id)
    return None if ts is None or id_ is None else (ts, source.native_id(id_))


def alerting_keys(
    source: SqlSource, boundary: tuple[Any, Any] | None, items: Sequence[Item]
) -> frozenset[str]:
    """The keys of ``items`` whose row sorts after ``boundary`` (the source's own keyset
    order, one primary-key lookup per chunk): in a re-read, what alerts as in any sync. Empty
    without a boundary (all of a first sync is archive)."""
    if boundary is None or not items:
        return frozenset()
    after = source.after_position(*boundary, [i.at.id for i in items])
    return frozenset(i.article.source_key for i in items if i.at.id in after)


def catching_up_note(first: bool, boundary: tuple[Any, Any] | None) -> str:
    """The tail of the tick's "catching up" line: what a catch-up alerts (a first sync none,
    a re-read after a mapping change only the rows after its boundary)."""
    if not first:
        return ""
    if boundary is None:
        return " (a first sync: no alerts)"
    return " (read again after a mapping change: only rows after the old cursor alert)"
