"""An ingest batch's way from source rows to a commit, shared by every path that stores rows
(the tick's keyset batches, read by :meth:`BatchPipeline._read`; the overlap window's late
commits, the re-check of rows with no place in the order and reconciliation's re-read, read by
id): parsed and chosen (:meth:`~BatchPipeline._choose`, :func:`feedsvc.ingest.writer.choose`),
matched (:func:`feedsvc.ingest.ahead.matched`), and stored with the cursor in one fenced
transaction (:meth:`~BatchPipeline._store`, :class:`~feedsvc.ingest.commit.BatchCommit`), then
reported (:func:`feedsvc.ingest.committed.report`).

:class:`BatchPipeline` is :class:`feedsvc.ingest.Ingestor`'s base: it holds no state of its own;
the ingestor's constructor sets every attribute declared here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection

from feedsvc.db import Database
from feedsvc.ingest import unapplied, writer
from feedsvc.ingest.ahead import Prepared, Unmatched, matched, up_to_date
from feedsvc.ingest.commit import BatchCommit, TopicsMoved
from feedsvc.ingest.committed import report, say_dropped
from feedsvc.ingest.isolate import Batch, next_limit, parse_rows, read_batch, set_aside
from feedsvc.ingest.lease import IngestLease, LeaseLost
from feedsvc.ingest.model import AfterCommit, Prepares, TickResult, TransactionHook
from feedsvc.ingest.pool import BatchMatcher
from feedsvc.ingest.remap import Boundary, alerting_keys
from feedsvc.ingest.window import WindowCheck
from feedsvc.source import SourceRow, SqlSource
from feedsvc.store.quarantine import Quarantined
from feedsvc.topic_index import TopicIndex


class BatchPipeline:
    """Read, parse, choose, match and store one batch (see the module's docstring)."""

    db: Database
    source: SqlSource
    index: TopicIndex
    tz: tzinfo
    overlap_seconds: float
    batch_size: int
    _limit: int
    hooks: list[TransactionHook]
    after_commit: list[AfterCommit]
    lease: IngestLease | None
    _stop: threading.Event
    matching: BatchMatcher
    window: WindowCheck
    _boundary: Boundary | None
    batches_committed: int
    clock: Callable[[], datetime]

    def _prepare_hooks(self) -> None:
        """The hooks' slow part (e.g. compiling chats' queries), with no transaction open: at
        each tick (so it is ready before the first article) and before each batch's write."""
        for hook in self.hooks:
            if isinstance(hook, Prepares):
                hook.prepare(self.db)

    def _check_lease(self, conn: Connection, now: datetime) -> None:
        """Fencing: renewing takes the lease row lock until this transaction ends."""
        if self.lease is not None and not self.lease.renew(conn, now):
            raise LeaseLost

    def _read(self, ts: Any, id_: Any) -> tuple[Batch, Unmatched]:
        """The next keyset batch, read, parsed and its items chosen (the reader thread).

        Rows dated after now (this process's clock: no round trip per batch) plus the overlap
        window are held back (:func:`read_batch`): the window re-read covers a row the cursor
        passed because the CMS clock runs ahead by less than that."""
        horizon = self.clock() + timedelta(seconds=self.overlap_seconds)
        batch = read_batch(self.source, ts, id_, self._limit, horizon)
        self._limit = next_limit(batch.rows, self.batch_size)
        return batch, self._choose(
            batch.rows, batch.unreadable, remapped=self._boundary is not None
        )

    def _choose(
        self,
        rows: Sequence[SourceRow],
        unreadable: Sequence[Quarantined] = (),
        orphaned: Collection[str] = frozenset(),
        remapped: bool = False,
    ) -> Unmatched:
        parsed, rejected = parse_rows(rows, self.tz)
        chosen = writer.choose(self.db, parsed, self.clock(), orphaned, remapped)
        return Unmatched(len(rows) + len(unreadable), chosen, [*unreadable, *rejected])

    def _match(self, read: Unmatched) -> Prepared | None:
        """A batch read ahead, matched (the match thread); None when stopping (dropped)."""
        return None if self._stop.is_set() else matched(read, self.index, self.matching)

    def _prepare(
        self,
        rows: Sequence[SourceRow],
        unreadable: Sequence[Quarantined] = (),
        orphaned: Collection[str] = frozenset(),
    ) -> Prepared:
        """``rows`` parsed, chosen and matched now (outside a catch-up's read-ahead)."""
        return matched(self._choose(rows, unreadable, orphaned), self.index, self.matching)

    def _store(
        self,
        prepared: Prepared,
        result: TickResult,
        advance_to: tuple[datetime, str] | None,
        backlog: tuple[int, float | None] | None = None,
        first_sync: bool | None = None,
        listed: frozenset[str] = frozenset(),
    ) -> list[Quarantined]:
        """Store one batch and move the cursor (:class:`BatchCommit`), then count, log what was
        quarantined and tell the after-commit listeners; returns the rows the state DB refused.
        Rows ``listed`` in the quarantine already (a re-check by id) are recorded again when
        refused, but neither logged nor counted a second time."""
        result.read += prepared.rows
        skipped = prepared.skipped
        self.window.forget()  # our side of the window changes
        self._prepare_hooks()
        commit = BatchCommit(self.db, self.index, self.source, self.hooks, self._check_lease)
        boundary = self._boundary if first_sync is not None else None
        alerting = alerting_keys(self.source, boundary, prepared.items)
        for tries in range(3):  # topics saved over and over: the third write takes its items
            try:
                version = prepared.topics if tries < 2 else None
                batch = (advance_to, backlog, first_sync, listed, version, alerting)
                changes, refused, said = commit.store(prepared.items, skipped, *batch)
                break
            except TopicsMoved:
                with self.db.read() as conn:
                    self.index.refresh(conn)
                prepared = up_to_date(prepared, self.index, self.matching)
        self.batches_committed += 1
        unapplied.say(self.source, said)  # rows not applied: once each, now committed
        fresh = [q for q in set_aside([*skipped, *refused]) if q.source_id not in listed]
        report(self.source.name, result, changes, fresh, self.after_commit)
        say_dropped(self.source.name, ((i.at.id, i.article) for i in prepared.items), changes)
        return refused
