"""The ingest tick: source rows → our articles, matches and outbox, with the cursor, atomically.

Reads use a keyset cursor on ``(timestamp, id)``; each tick first compares the overlap window
behind the cursor (:mod:`feedsvc.ingest.window`) and re-reads only the late rows it finds. An
idle tick is therefore a handful of indexed queries whatever the table size.

Cursor values stay in the source's native form (:mod:`feedsvc.source.cursor`): they are read,
stored (as text in ``source_cursors.cursor_id``) and bound back exactly as the CMS holds them;
only our own bookkeeping (``articles.source_cursor``, the window) uses UTC instants.

With several replicas on one PostgreSQL state DB, an :class:`IngestLease` makes one of them the
ingest leader: the lease is taken at the start of each tick and re-checked inside every write
transaction, so a leader that stalled past its lease cannot commit over its successor.

A tick never raises: source and state DB trouble is logged as one line, recorded, and backed
off (:mod:`feedsvc.ingest.backoff`), with a cheap probe that resumes as soon as an unreachable
side answers again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy.exc import ProgrammingError

from feedsvc.db import Database
from feedsvc.failure_log import FailureLog
from feedsvc.ingest import no_id, unordered
from feedsvc.ingest.ahead import ReadAhead, up_to_date
from feedsvc.ingest.backoff import Backoff
from feedsvc.ingest.behind import behind, wanted
from feedsvc.ingest.behind import say as say_behind
from feedsvc.ingest.failures import SIDE, Failures
from feedsvc.ingest.isolate import by_id, hold_back
from feedsvc.ingest.lease import IngestLease, LeaseLost
from feedsvc.ingest.model import AfterCommit, IngestHealth, TickResult, TransactionHook
from feedsvc.ingest.pipeline import BatchPipeline
from feedsvc.ingest.pool import BatchMatcher
from feedsvc.ingest.progress import BacklogTold, Progress
from feedsvc.ingest.remap import Boundary, MappingCheck, catching_up_note
from feedsvc.ingest.window import WindowCheck
from feedsvc.source import SourceRow, SqlSource
from feedsvc.store import cursors
from feedsvc.store.quarantine import Quarantined
from feedsvc.store.unapplied import KEEP, decided_positions
from feedsvc.topic_index import TopicIndex

log = logging.getLogger(__name__)


class Ingestor(BatchPipeline):
    """The tick, the re-read by id and their state; each batch goes through the one way to a
    commit, :class:`~feedsvc.ingest.pipeline.BatchPipeline`."""

    def __init__(
        self,
        db: Database,
        source: SqlSource,
        index: TopicIndex,
        *,
        tz: tzinfo,
        poll_seconds: float,
        overlap_seconds: float,
        batch_size: int,
        lease: IngestLease | None = None,
        match_workers: int = 0,
    ) -> None:
        self.db = db
        self.source = source
        self.index = index
        self.tz = tz
        self.poll_seconds = poll_seconds
        self.overlap_seconds = overlap_seconds
        #: late commits behind the cursor (:mod:`feedsvc.ingest.window`)
        self.window = WindowCheck()
        self.batch_size = batch_size
        self._limit = batch_size  # fewer after a batch of big rows (isolate.next_limit)
        self.hooks: list[TransactionHook] = []
        self.after_commit: list[AfterCommit] = []
        self.backoff = Backoff(poll_seconds)
        #: how often a run of failed ticks is told in the log (:mod:`feedsvc.failure_log`)
        self.failure_log = FailureLog()
        self.lease = lease
        self._stop = threading.Event()
        self._busy = threading.Lock()  # a tick and a re-read by id (reconciliation) never overlap
        #: a tick is working through a backlog (after-commit listeners defer per-batch work)
        self.catching_up = False
        #: a tick is between reading a batch and committing it (shutdown: an abandoned tick
        #: then leaves that batch uncommitted, which the service logs)
        self.batch_open = False
        #: the thread a tick runs in, while it runs (shutdown: is it only waiting on a connect?)
        self.tick_thread: int | None = None
        #: normalising and matching, in ``match_workers`` processes (0: in this one)
        self.matching = BatchMatcher(index, match_workers)
        #: [source.columns] and the zone compared with the recorded ones at each tick
        self.remap = MappingCheck(tz)
        self._boundary: Boundary | None = None  # a re-read's (MappingCheck.boundary)
        self._held_seen: dict[tuple[str, datetime], float] = {}  # (row id, position): listed
        #: batches committed since start: a long tick's progress (the scheduler's overrun
        #: warning is for ticks that make none)
        self.batches_committed = 0
        #: whether a tick's "catching up" line is worth saying (not while no batch can commit)
        self.backlog_told = BacklogTold()
        #: the time rows dated after it are held back at (tests with a simulated clock set it)
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        #: seconds between two checks of the rows with no place in the cursor's order
        #: (:mod:`feedsvc.ingest.unordered`; tests set 0), and when this process last checked
        self.unordered_every = unordered.CHECK_EVERY
        self._unordered_at: float | None = None
        #: the last check took rows the state DB had refused and more wait: check again at the
        #: next tick (:func:`unordered.again_next_tick`)
        self._unordered_again = False

    def tick(self) -> TickResult:
        """One ingest pass; never raises (trouble is logged, recorded and backed off)."""
        result = TickResult()
        if self._stop.is_set():
            result.skipped = True
            return result
        began = self.failure_log.clock()  # a run of failures ends here if this tick works
        if not self.backoff.due():
            outage = self.backoff.outage
            if outage is None or not self.failures.answers(outage):
                result.skipped = True
                return result
            # DEBUG: the tick's success says it, with how long it lasted (Failures.succeeded)
            log.debug("ingest: the %s answers again, retrying now", SIDE[outage])
        self.tick_thread = threading.get_ident()
        try:
            if self.lease is not None and not self.lease.take(self.db):
                self.remap.standing_by(self.db, self.source)
                result.skipped = result.standby = True
                result.leader = self.lease.other
                return result
            with self._busy:
                try:
                    self.batch_open = True
                    self._run(result)
                finally:
                    self.catching_up = self.batch_open = False
        except LeaseLost:
            log.warning("ingest: lease lost mid-tick to another replica; batch rolled back")
            result.standby = True
        except Exception as exc:  # a tick must never take the scheduler down
            self.failures.failed(result, exc)
        else:
            self.failures.succeeded(began)
        finally:
            self.tick_thread = None
        return result

    @property
    def failures(self) -> Failures:
        """Failure handling over the current state DB, source and backoff (read at each use:
        tests and a re-bound source swap them)."""
        return Failures(self.db, self.source, self.backoff, self.failure_log)

    def health(self) -> IngestHealth:
        """For ``/readyz?ingest=1``, status and metrics: no I/O, safe from any thread."""
        b = self.backoff
        return IngestHealth(b.failures, b.outage, round(b.seconds_left(), 1))

    # -- the pass ------------------------------------------------------------------------------
    def _run(self, result: TickResult) -> None:
        with self.db.read() as conn:
            self.index.refresh(conn)
            state = cursors.get_state(conn, self.source.name)
        cursor = self.remap.lead(self.db, self.source, state, self._check_lease)
        if cursor is None:  # a newer config leads: this replica must not ingest
            result.standby = True
            if self.lease is not None:
                self.lease.release(self.db)
            return
        self._boundary = self.remap.boundary(self.source, cursor)
        self._prepare_hooks()
        codec = self.source.codec  # reflects the source table on first use
        ts, raw_id = codec.decode(cursor.ts, cursor.id)
        id_ = self.source.native_id(raw_id) if raw_id is not None else None
        # a first sync (no cursor, a backlog) stores the archive without alerting, across
        # restarts (the flag is committed with the cursor) until a batch finds nothing behind
        first = cursor.first_sync
        if ts is not None and self.overlap_seconds:
            self._recheck_window(ts, id_, result, first)
        self._check_unordered(result, ts is None, first)
        advanced = dropped = False
        progress: Progress | None = None
        # While batch k is written, k+1 is matched (in the match pool's process) and k+2 read
        # and parsed (:mod:`feedsvc.ingest.ahead`): the write is mostly the database's own
        # work (SQLite's C code and PostgreSQL's server both run without Python's GIL)
        with ReadAhead(self._read, self._match, self.source.native_id) as ahead:
            current = ahead.start(ts, id_)
            batch, following = current.batch(), None
            while batch.last is not None:
                if batch.full and progress is None:  # a backlog: count it once, report it
                    progress = Progress(self.source.count_after(ts, id_))
                    self.catching_up = True
                    first = first or ts is None
                    told = self.backlog_told.due(self.batches_committed, self.db.outage.down)
                    log.log(
                        logging.INFO if told else logging.DEBUG,
                        "ingest: %d rows behind the cursor, catching up%s",
                        progress.total,
                        catching_up_note(first, self._boundary),
                    )
                ts, id_ = batch.last.cursor, self.source.native_id(batch.last.id)
                if following is None and batch.full and not self._stop.is_set():
                    following = ahead.start(ts, id_)
                after = None if self._stop.is_set() else ahead.after(following)
                prepared = current.prepared()
                if prepared is None:  # stopping: dropped before its match began
                    dropped = True  # not stored: no end-of-tick bookkeeping either
                    break
                if progress is not None:
                    progress.advance(prepared.rows)
                self._store(
                    up_to_date(prepared, self.index, self.matching),
                    result,
                    (batch.last.cursor_ts, codec.encode(ts, id_)),
                    backlog=(
                        progress.backlog if progress is not None and batch.full else 0,
                        None if progress is None else progress.reported_rate,
                    ),
                    first_sync=(batch.full if first else None),
                )
                advanced = True
                if following is None or self._stop.is_set():
                    break  # caught up, or stopping (the batches read ahead are dropped)
                if progress is not None and progress.due():
                    log.info("ingest from %s: %s", self.source.name, progress.line())
                with self.db.read() as conn:  # a topic edited during a catch-up applies now
                    self.index.refresh(conn)
                current, following = following, after
                batch = current.batch()
        self.batch_open = False
        hold_back(self.db, self.source.name, batch.held, self._held_seen)
        if self._stop.is_set():
            log.info("ingest: stopping between batches, %d row(s) committed", result.read)
        elif progress is not None:
            log.info("ingest from %s: caught up, %s", self.source.name,
                     progress.caught_up(len(batch.held)))  # fmt: skip
        # the tick's bookkeeping without a batch (success, failures reset), or the end of a
        # catch-up whose last batch was full (the one read after it found nothing): nothing is
        # behind the cursor that can be read now, so the backlog is 0 — rows held back as
        # dated ahead were counted in it, and it stayed at their number, "catching up" with an
        # ETA of 1 s for as long as they were ahead (a tester's: 7 h)
        ended = batch.last is None and not self._stop.is_set()
        if not dropped and (not advanced or (ended and (first or progress is not None))):
            with self.db.write() as conn:
                now = self.db.now()
                self._check_lease(conn, now)
                cursors.record_success(
                    conn, self.source.name, None, None, now,
                    first_sync=False if first else None, backlog=0 if ended else None,
                )  # fmt: skip

    def reread(self, ids: Sequence[str], orphaned: Collection[str] = frozenset()) -> int:
        """Read these source rows whole by id, wherever they sort, and store them through the
        one batch write (writer rules, hooks, outbox), :attr:`batch_size` at a time; returns how
        many were stored (new or taking over). For rows reconciliation withdrew as deleted and
        finds again (restored with their old cursor value, behind the cursor where no read
        looks); rows dated after the horizon are left to the reads. Waits for a running tick.
        Raises the source's or the state DB's errors, or :class:`LeaseLost`.

        ``orphaned``: keys whose held article's row is gone while these rows carry them (a key
        column that is not unique): the newest of them (a public one before a draft,
        :func:`feedsvc.versions.ahead`) takes the article over, whatever its version
        (:func:`feedsvc.versions.takes_over`, ``held_gone``)."""
        result = TickResult()
        with self._busy:
            horizon = self.clock() + timedelta(seconds=self.overlap_seconds)
            with self.db.read() as conn:
                self.index.refresh(conn)

            def look_up(part: Sequence[str]) -> tuple[list[SourceRow], set[str]]:
                # a row the driver cannot read whole is read field by field (a draft among
                # them withdrawn, another quarantined), never failing the lookup of the rest
                rows, unreadable = unordered.placed(self.source, part)
                return [r for r in rows if r.cursor_ts <= horizon], unreadable

            # the rows of an orphaned key in one batch: its newest takes over, once; else in
            # the keyset read's bounded batches (by_id), never every row at once
            size = max(len(ids), 1) if orphaned else self.batch_size
            for rows, _, _ in by_id(look_up, ids, size, cut=not orphaned):
                if self._stop.is_set():
                    break
                if rows:
                    self._store(self._prepare(rows, orphaned=orphaned), result, None)
        return result.stored

    def recover(self, positions: Mapping[str, datetime | None]) -> int:
        """Of these source rows (reconciliation's window: row id → its position, None when not
        known), read and store the ones written behind the cursor's overlap window that ingest
        has not decided on where they are now — never read, or written again since — within
        :data:`~feedsvc.store.unapplied.KEEP` of the cursor: a CMS clock running slow
        (:mod:`feedsvc.ingest.behind`, M4). Each goes through the one batch write as a late
        commit does (a first sync's archive does not alert) and is said at WARNING. Returns
        how many were stored. Waits for a running tick; raises the source's or the state DB's
        errors, or :class:`LeaseLost`."""
        result = TickResult()
        with self._busy:
            with self.db.read() as conn:
                self.index.refresh(conn)
                cursor, _ = cursors.get_state(conn, self.source.name)
                if cursor.ts is None:  # no cursor: every row is ahead of it
                    return 0
                decided = decided_positions(conn, self.source.name, list(positions))
            codec = self.source.codec
            ts, _raw = codec.decode(cursor.ts, cursor.id)
            lo = codec.position(codec.minus(ts, self.overlap_seconds))
            kept = cursor.ts - KEEP
            ids = wanted(positions, decided, lo, kept)
            self._boundary = self.remap.boundary(self.source, cursor)

            def look_up(part: Sequence[str]) -> tuple[list[SourceRow], set[str]]:
                rows, unreadable = unordered.placed(self.source, part)
                return behind(rows, decided, lo, kept), unreadable

            for rows, _, _ in by_id(look_up, ids, self.batch_size):
                if self._stop.is_set():
                    break
                if rows:
                    first = cursor.first_sync or None
                    self._store(self._prepare(rows), result, None, first_sync=first)
                    say_behind(rows, codec.position(ts), lo, self.overlap_seconds)
        return result.stored

    def request_stop(self) -> None:
        """Make a running tick return after its current batch (committed), and later ticks
        return at once: shutdown never waits for a long catch-up (SIGTERM within seconds)."""
        self._stop.set()
        self.matching.stopping()

    def close(self) -> None:
        """Stop the match pool's processes (the service's shutdown, after the last tick)."""
        self.matching.close()

    def _recheck_window(self, hi: Any, hi_id: Any, result: TickResult, first: bool) -> None:
        lo, unseen = self.window.unseen(self.db, self.source, hi, hi_id, self.overlap_seconds)
        if unseen:
            log.info(
                "ingest: %d row(s) behind the cursor not held yet (late commits), re-reading",
                len(unseen),
            )

            def look_up(ids: Sequence[str]) -> tuple[list[SourceRow], set[str]]:
                try:
                    return self.source.rows_by_ids(lo, hi, hi_id, ids), set()
                except ProgrammingError:
                    raise  # our query, not the rows' data
                except Exception:
                    # a row the driver cannot read whole: read in halves, it field by field
                    # (a draft withdrawn, another quarantined); it failed the tick, and the
                    # next one neither stored nor quarantined it: a takedown lost
                    rows, unreadable = unordered.placed(self.source, ids)
                    upto = self.source.codec.position(hi)
                    return [r for r in rows if r.cursor_ts <= upto], unreadable

            for rows, _, _ in by_id(look_up, unseen, self.batch_size):  # bounded, as a batch
                if rows:
                    self._store(self._prepare(rows), result, None, first_sync=first or None)

    def _check_unordered(self, result: TickResult, start: bool, first: bool) -> None:
        """Every :attr:`unordered_every` seconds (and at this process's first tick), and at the
        next tick while a check leaves refused rows waiting: :func:`unordered.check`, its rows
        stored through the one batch write, and :func:`no_id.check` (rows without an id).
        ``start``: no cursor yet (a first sync)."""
        at = time.monotonic()
        due = self._unordered_at is None or at - self._unordered_at >= self.unordered_every
        if not (due or self._unordered_again):
            return
        horizon = self.clock() + timedelta(seconds=self.overlap_seconds)

        def store(rows: Sequence[SourceRow], listed: frozenset[str]) -> list[Quarantined]:
            return self._store(self._prepare(rows), result, None, None, first or None, listed)

        new, self._unordered_again = unordered.check(
            self.db, self.source, (horizon, self.tz), start, store, self.batch_size
        )
        result.quarantined += new + no_id.check(self.db, self.source)
        self._unordered_at = at
