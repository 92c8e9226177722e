"""One ingest batch's write: articles, matches, the hooks (the outbox), quarantine and the
cursor in one transaction, so a crash leaves either all of the batch or none of it (SPEC §6).

When the state DB refuses the batch for a reason that is not a database fault (one row a
constraint or a hook cannot take), the batch is written again row by row, each row and its
hooks in a savepoint, and the rows still refused are quarantined (issue 12 §3); a batch no row
of which stores alone is a systemic failure, never a batch of quarantined rows. Rows listed in
the quarantine already (the 10-minute re-check by id, :mod:`feedsvc.ingest.unordered`) are
written the same way; refused again they say nothing new about the write path, so they do not
count towards that failure (a batch of only such rows refused is these rows still refused).

A batch matched before a topic was saved is not written with the old topics: the topics'
version is checked under the write lock (:class:`TopicsMoved`), so a topic saved while the
batch waited for the lock applies to it (SPEC §2: to articles ingested after that moment); on
PostgreSQL the check holds the topics (:func:`feedsvc.store.topics.hold_topics`) to the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import Connection

from feedsvc.db import Database
from feedsvc.db.committed import savepoint
from feedsvc.db.errors import describe, is_database_fault
from feedsvc.ingest import writer
from feedsvc.ingest.isolate import UNPUBLISHED, SystemicError, set_aside
from feedsvc.ingest.lease import LeaseLost
from feedsvc.ingest.model import Change, TransactionHook
from feedsvc.ingest.remap import Alerting
from feedsvc.ingest.shared_ids import carried_now
from feedsvc.ingest.unapplied import SetAside
from feedsvc.keys import spelled
from feedsvc.source import SqlSource
from feedsvc.store import cursors, pending_hides, quarantine, unapplied
from feedsvc.store.articles import SourcePosition
from feedsvc.store.quarantine import Quarantined
from feedsvc.store.topics import hold_topics, topics_version
from feedsvc.store.unapplied import Unapplied
from feedsvc.store.withdrawals import held_keys, withdraw_rows
from feedsvc.topic_index import TopicIndex

log = logging.getLogger(__name__)


#: a batch outside a re-read: nothing of a first sync alerts
_SILENT = Alerting()


class TopicsMoved(Exception):
    """The topics changed after the batch was matched (seen under the write lock, nothing
    written): match it again, then store it (verifier P1: a topic saved while the batch waited
    for SQLite's write lock missed that batch for good)."""


@dataclass(frozen=True, slots=True)
class BatchCommit:
    """What a batch's transaction needs: the state DB, the matcher (match rows), the source
    (its name, its withdrawal reason), the hooks run inside it, and the lease check (fencing:
    raises :class:`LeaseLost` when another replica leads now)."""

    db: Database
    index: TopicIndex
    source: SqlSource
    hooks: Sequence[TransactionHook]
    check_lease: Callable[[Connection, datetime], None]
    #: keys of the articles the batch being written withdrew (:meth:`_withdraw`), said after
    #: its commit
    _withdrawn: list[str] = field(default_factory=list, init=False)

    def store(
        self,
        items: Sequence[writer.Item],
        skipped: Sequence[Quarantined],
        advance_to: tuple[datetime, str] | None,
        backlog: tuple[int, float | None] | None,
        first_sync: bool | None,
        listed: Container[str] = frozenset(),
        matched_with: object = None,
        alerting: Alerting = _SILENT,
    ) -> tuple[list[Change], list[Quarantined], list[SetAside]]:
        """Write the batch and move the cursor to ``advance_to`` (with ``backlog``: rows still
        behind it and the catch-up's rows/s); with ``first_sync`` (whether the first sync goes
        on after it) its changes never alert. ``listed``: the ids of rows quarantined already
        (a re-check): refused again, they are not evidence of a systemic failure, and a batch
        of only such rows is stored row by row without a warning. Returns the changes and the
        rows refused. ``matched_with``: the topics version the items were matched with (None:
        not checked). ``alerting``: what of a first sync's changes still alerts (a re-read's
        rows after its alert boundary and drafts it finds published by status,
        :func:`feedsvc.ingest.remap.alerting_keys`). Also
        returns the rows not applied to be said now it is committed
        (:func:`feedsvc.ingest.unapplied.say`). Raises a database fault, :class:`LeaseLost`,
        :class:`SystemicError` or :class:`TopicsMoved` (rolled back)."""
        batch = (items, skipped, advance_to, backlog, first_sync, listed, matched_with, alerting)
        self._withdrawn.clear()
        # asked before the write lock is taken: keys a row of the same id still carries (an id
        # given twice, not a row re-keyed: ``ingest.shared_ids``)
        rows = [(i.at.id, i.article.source_key) for i in items if i.at.id]
        carried = carried_now(self.db, self.source, rows) if rows else frozenset()
        try:
            done = self._write(*batch, isolate=False, carried=carried)
        except Exception as exc:
            self._withdrawn.clear()  # rolled back
            if isinstance(exc, TopicsMoved) or not_the_rows(exc):
                raise
            again = all(i.at.id in listed for i in items)
            log.log(
                logging.DEBUG if again else logging.WARNING,
                "ingest: the state DB refused a batch of %d row(s) (%s); storing it row by row",
                len(items),
                describe(exc),
            )
            done = self._write(*batch, isolate=True, carried=carried)
        self._say_withdrawn()
        return done

    def _write(
        self,
        items: Sequence[writer.Item],
        skipped: Sequence[Quarantined],
        advance_to: tuple[datetime, str] | None,
        backlog: tuple[int, float | None] | None,
        first_sync: bool | None,
        listed: Container[str],
        matched_with: object,
        alerting: Alerting,
        *,
        isolate: bool,
        carried: frozenset[tuple[str, str]] = frozenset(),
    ) -> tuple[list[Change], list[Quarantined], list[SetAside]]:
        """One transaction: articles, matches, hooks (outbox), quarantine, cursor. With
        ``isolate``, each row and its hooks run in a savepoint; returns the changes and the
        rows refused. Raises whatever fails outside a row (the whole batch rolls back)."""
        changes: list[Change] = []
        refused: list[Quarantined] = []
        said: list[SetAside] = []
        name = self.source.name
        with self.db.write() as conn:
            now = self.db.now()
            self.check_lease(conn, now)
            hold_topics(conn)  # no topic change commits between this check and the commit
            if matched_with is not None and topics_version(conn) != matched_with:
                raise TopicsMoved()
            # a re-read's drafts as held before this write (which shows them)
            keys = [i.article.source_key for i in items]
            drafts = alerting.held(conn, keys) if first_sync is not None else {}
            archived = _archiving(first_sync, alerting, drafts, now)
            if not isolate:
                changes, said = writer.apply(
                    conn, self.index, items, now, name, self.source.withdraw_reason, None, carried
                )
                changes = archived(changes)
                for hook in self.hooks:
                    hook(conn, changes, now)
            # row by row: the pending hides read once, under a lock held to the commit (a
            # lock and a read per row made a batch of refused rows ~2x slower on PostgreSQL)
            pending = pending_hides.read_locked(conn, keys) if isolate else None
            for item in items if isolate else ():
                try:
                    with savepoint(conn):  # a row refused: its lines are not said either
                        one, say = writer.apply(
                            conn, self.index, [item], now, name, self.source.withdraw_reason,
                            pending, carried,
                        )  # fmt: skip
                        one = archived(one)
                        for hook in self.hooks if one else ():
                            hook(conn, one, now)
                except Exception as exc:
                    if not_the_rows(exc):
                        raise
                    at, key = item.at, item.article.source_key
                    refused.append(Quarantined(at.id, at.cursor, key, "store", describe(exc)))
                    continue
                changes += one
                said += say
            tried = sum(i.at.id not in listed for i in items)
            if tried > 1 and len(refused) == len(items):
                # no row stores alone: the write path itself fails (e.g. a broken hook or
                # schema), so quarantining every row would skip them all for good
                raise SystemicError(f"no row of {len(items)} could be stored: {refused[0].reason}")
            unpublished = [q for q in skipped if q.stage == UNPUBLISHED]
            self._withdraw(conn, unpublished, now)
            quarantine.put(conn, name, set_aside([*skipped, *refused]), now)
            bad = {q.source_id for q in refused}
            # decided, stored or not: the other rows of a key a batch sets aside too
            held = [r.id for i in items if i.at.id not in bad for r in _rows(i)]
            quarantine.release(conn, name, held + [q.source_id for q in unpublished])
            if advance_to is not None:
                unapplied.prune(conn, name, advance_to[0])
                rows, rate = backlog if backlog is not None else (None, None)
                cursors.record_success(
                    conn,
                    self.source.name,
                    *advance_to,
                    now,
                    backlog=rows,
                    rate=rate,
                    first_sync=first_sync,
                )
        return changes, refused, said

    def _withdraw(self, conn: Connection, rows: Sequence[Quarantined], now: datetime) -> None:
        """Rows the source now says are not shown, whose values are no article
        (:data:`~feedsvc.ingest.isolate.UNPUBLISHED`): the articles read from them withdrawn
        as its drafts are (by row id; by key for one stored before row ids were kept), and
        their positions recorded as decided (:mod:`feedsvc.store.unapplied`), so the overlap
        window does not take them for late commits and read them again at every poll (a
        reviewer's: a draft with no time was re-read and re-written each tick). The log line
        waits for the commit (:meth:`store`)."""
        if not rows:
            return
        name = self.source.name
        keys = [q.source_key for q in rows if q.source_key]
        ids = [q.source_id for q in rows]
        withdrawn = withdraw_rows(conn, ids, self.source.withdraw_reason, self.db.now, keys=keys)
        decided = [  # the version: the row's own time (it has no article's)
            Unapplied(
                SourcePosition(q.source_cursor, q.source_id), q.source_key or "", q.source_cursor
            )
            for q in rows
        ]
        unapplied.record(conn, name, decided, now)
        if withdrawn:
            self._withdrawn.extend(held_keys(conn, withdrawn))

    def _say_withdrawn(self) -> None:
        """After the commit: the articles :meth:`_withdraw` withdrew, by key."""
        keys = list(self._withdrawn)
        self._withdrawn.clear()
        if keys:
            log.info(
                "source %s: %d article(s) withdrawn: their rows are not shown now (%s: %s)",
                self.source.name, len(keys), self.source.withdraw_reason,
                ", ".join(map(spelled, keys[:5])),
            )  # fmt: skip


def _rows(item: writer.Item) -> list[SourcePosition]:
    """Every source row ``item`` decides: its own and the others of its key in the batch."""
    return [item.at, *(at for at, _ in item.others)]


def _archiving(
    first_sync: bool | None, alerting: Alerting, held: Mapping[str, datetime], now: datetime
) -> Callable[[list[Change]], list[Change]]:
    """How a batch's changes are marked: a first sync's so the outbox does not alert them,
    but for those ``alerting`` says are news (after a re-read's alert boundary, or a draft
    ``held`` before the write that the source now shows and the published check would
    alert)."""

    def archived(changes: list[Change]) -> list[Change]:
        if first_sync is None:
            return changes
        return [c if alerting.alerts(c, held, now) else replace(c, archive=True) for c in changes]

    return archived


def not_the_rows(exc: BaseException) -> bool:
    """A write failure to fail the tick with (rolled back, retried after backoff), not to
    quarantine rows for: the state DB cannot go on, or the ingest lease was lost."""
    return isinstance(exc, LeaseLost) or is_database_fault(exc)
