"""A changed ``[source.columns]`` or source zone applied to what is stored: the source read again.

Rows are read with the mapping of the day (which column holds the summary, the ``visible``
expression) and in the zone of the day (``source.timezone``, default ``site.timezone``: what a
naive ``published_at``/``updated_at`` means); an operator who adds ``visible = "status =
'published'"`` after a first sync expects the drafts already stored to go, and one who fixes
the zone expects every stored date to move, not only those of rows edited since.

The re-read is a first sync (no alerts) only up to where the cursor stood when the mapping
changed (:func:`feedsvc.store.cursors.apply_mapping` keeps that alert boundary): rows after it
(new ones, or ones the old cursor had not reached) alert as in any sync. So does a row before
it held as a draft and now shown that the published check would alert
(:meth:`feedsvc.lifecycle.published.PublishedCheck.alerts`: a status flip, WordPress's cron,
that the re-read reached first), when the change left ``visible`` as it was: a widened
``visible`` that shows old drafts is no news, so with it (or not knowing, a re-read begun
before migration 0032) they stay silent.

Replicas sharing a state DB may run different configs for a while (a rolling deploy). Only
the ingest leader records a mapping (inside its fenced write), and one that another replica
recorded *after* this process started is a newer config: this replica then stands by instead
of sending the cursor back to the start again (the replicas would reset each other at every
start and every change of leader).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Literal

from sqlalchemy import Connection

from feedsvc.db import Database
from feedsvc.db.committed import say
from feedsvc.ingest.model import Change
from feedsvc.ingest.writer import Item
from feedsvc.source.builtin import BUILTIN_NAME
from feedsvc.source.sql import SqlSource
from feedsvc.store import cursors, drafts
from feedsvc.store.cursors import Cursor, Recorded

log = logging.getLogger(__name__)

#: what a replica does with the recorded mapping: reads with it (``same``), records its own
#: as it (nothing was recorded: ``adopt``), records its own and reads again (``apply``), or
#: stands by (another replica recorded its own after this one started: ``superseded``)
Decision = Literal["same", "adopt", "apply", "superseded"]

#: whether a held draft with this ``published_at``, found shown at this moment, alerts
#: (:meth:`feedsvc.lifecycle.published.PublishedCheck.alerts`)
Published = Callable[[datetime, datetime], bool]


@dataclass(frozen=True, slots=True)
class Boundary:
    """A re-read under way: where the cursor stood when the mapping changed (native values,
    as the keyset binds them), and the rule drafts published by status alone before it alert
    by (None: the change touched ``visible``, or it is not known, or no check runs)."""

    at: tuple[Any, Any]
    published: Published | None = None


@dataclass(frozen=True, slots=True)
class Alerting:
    """Which of a re-read batch's changes alert: those of ``keys`` (rows after the boundary)
    and, with ``published``, drafts before it (``withdrawn_reason`` = ``reason``) now shown."""

    keys: frozenset[str] = frozenset()
    published: Published | None = None
    reason: str = "draft"

    def held(self, conn: Connection, keys: Sequence[str]) -> dict[str, datetime]:
        """Before the batch's write: its keys held as drafts (their ``published_at``) the
        rule may alert; nothing read without one."""
        if self.published is None:
            return {}
        return drafts.held_among(conn, self.reason, [k for k in keys if k not in self.keys])

    def alerts(self, change: Change, held: Mapping[str, datetime], now: datetime) -> bool:
        """``change`` alerts: after the boundary, or a draft ``held`` (read before the write)
        that the source shows now and the published check would alert at ``now``."""
        key = change.article.source_key
        if key in self.keys:
            return True
        at = held.get(key)
        rule = self.published
        return at is not None and change.revealed and rule is not None and rule(at, now)


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
        #: the published check's rule, where one runs (the service sets it): drafts a re-read
        #: finds published by status alone alert by it (:meth:`boundary`)
        self.published: Published | None = None

    def boundary(self, source: SqlSource, cursor: Cursor) -> Boundary | None:
        """The re-read under way (:func:`alert_boundary`), with :attr:`published` when its
        change left ``visible`` as it was (``cursor.visible_changed`` False)."""
        at = alert_boundary(source, cursor)
        if at is None:
            return None
        return Boundary(at, self.published if cursor.visible_changed is False else None)

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
        visible = source.visible_key
        if decide(recorded, key, zone, started) == "same" and recorded.visible == visible:
            return cursor  # (a ``visible`` not recorded yet, before 0032: recorded below)
        with db.write() as conn:
            now = db.now()
            fence(conn, now)
            recorded = cursors.recorded_mapping(conn, source.name)
            decision = decide(recorded, key, zone, started)
            if decision != "superseded" and cursors.apply_mapping(
                conn, source.name, (key, visible), zone, now
            ):
                say(conn, log, logging.WARNING,
                    "ingest: [source.columns] or source.timezone changed since the stored "
                    "articles were read: reading every row of %s again to apply it (rows the "
                    "cursor had passed do not alert)", source.name)  # fmt: skip
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


def alerting_keys(source: SqlSource, boundary: Boundary | None, items: Sequence[Item]) -> Alerting:
    """What of ``items`` alerts in a re-read (:class:`Alerting`): the keys whose row sorts after
    ``boundary`` (the source's own keyset order, one primary-key lookup per chunk), as in any
    sync, and the boundary's rule for drafts published by status. Nothing without a boundary
    (all of a first sync is archive)."""
    reason = source.withdraw_reason
    if boundary is None or not items:
        return Alerting(reason=reason)
    after = source.after_position(*boundary.at, [i.at.id for i in items])
    keys = frozenset(i.article.source_key for i in items if i.at.id in after)
    return Alerting(keys, boundary.published, reason)


def catching_up_note(first: bool, boundary: Boundary | None) -> str:
    """The tail of the tick's "catching up" line: what a catch-up alerts (a first sync none,
    a re-read after a mapping change only the rows after its boundary)."""
    if not first:
        return ""
    if boundary is None:
        return " (a first sync: no alerts)"
    return " (read again after a mapping change: only rows after the old cursor alert)"
