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
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from feedsvc.articles import Article, ArticleError, parse_article
from feedsvc.db import Database
from feedsvc.ingest.backoff import Backoff, Outage
from feedsvc.ingest.lease import IngestLease, LeaseLost
from feedsvc.ingest.model import (
    AfterCommit,
    Change,
    IngestHealth,
    TickResult,
    TransactionHook,
)
from feedsvc.ingest.window import read_window
from feedsvc.source import SourceError, SourceRow, SqlSource
from feedsvc.store import articles as article_store
from feedsvc.store import cursors
from feedsvc.store.articles import Known, SourcePosition
from feedsvc.store.topics import store_matches, topic_ids_of_article
from feedsvc.topic_index import TopicIndex

log = logging.getLogger(__name__)

#: Failures that are the infrastructure's, not a bug: logged as one line, never a traceback.
EXPECTED = (SQLAlchemyError, SourceError, OSError, UnicodeError)


class Ingestor:
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
        max_batches: int = 50,
        lease: IngestLease | None = None,
    ) -> None:
        self.db = db
        self.source = source
        self.index = index
        self.tz = tz
        self.poll_seconds = poll_seconds
        self.overlap_seconds = overlap_seconds
        self.batch_size = batch_size
        self.max_batches = max_batches
        self.hooks: list[TransactionHook] = []
        self.after_commit: list[AfterCommit] = []
        self.backoff = Backoff(poll_seconds)
        self.lease = lease

    def tick(self) -> TickResult:
        """One ingest pass; never raises (trouble is logged, recorded and backed off)."""
        result = TickResult()
        if not self.backoff.due():
            outage = self.backoff.outage
            if outage is None or not self._answers(outage):
                result.skipped = True
                return result
            log.info("ingest: the %s answers again, retrying now", _SIDE[outage])
        try:
            if self.lease is not None and not self.lease.take(self.db):
                result.skipped = result.standby = True
                return result
            self._run(result)
        except LeaseLost:
            log.warning("ingest: lease lost mid-tick to another replica; batch rolled back")
            result.standby = True
        except Exception as exc:  # a tick must never take the scheduler down
            self._failed(result, exc)
        else:
            self.backoff.succeeded()
        return result

    def health(self) -> IngestHealth:
        """For ``/readyz?ingest=1``, status and metrics: no I/O, safe from any thread."""
        b = self.backoff
        return IngestHealth(b.failures, b.outage, round(b.seconds_left(), 1))

    # -- failures ------------------------------------------------------------------------------
    def _answers(self, side: Outage) -> bool:
        """The backoff probe: one ``SELECT 1`` to the side that was down."""
        try:
            (self.db.ping if side == "state" else self.source.ping)()
        except Exception:  # any failure means "not yet"
            return False
        return True

    def _outage(self) -> Outage | None:
        """After a failure: which side (if any) does not answer at all."""
        if not self._answers("state"):
            return "state"
        if not self._answers("source"):
            return "source"
        return None

    def _failed(self, result: TickResult, exc: Exception) -> None:
        error = describe(exc)
        result.error = error
        outage = self._outage()
        recorded: int | None = None
        if outage != "state":
            try:
                with self.db.write() as conn:
                    recorded = cursors.record_failure(conn, self.source.name, error, self.db.now())
            except SQLAlchemyError as db_exc:
                log.warning("ingest: could not record the failure: %s", describe(db_exc))
        delay = self.backoff.failed(outage, recorded)
        when = f"in {delay:.0f} s" + (" or as soon as it answers" if outage else "")
        what = f"the {_SIDE[outage]} does not answer" if outage else "failed"
        log.warning(
            "ingest from %s: %s (%d in a row), retrying %s: %s",
            self.source.name,
            what,
            self.backoff.failures,
            when,
            error,
            exc_info=None if isinstance(exc, EXPECTED) else exc,  # a bug: show where, once
        )

    # -- the pass ------------------------------------------------------------------------------
    def _run(self, result: TickResult) -> None:
        with self.db.read() as conn:
            self.index.refresh(conn)
            cursor = cursors.get_cursor(conn, self.source.name)
        codec = self.source.codec  # reflects the source table on first use
        ts, raw_id = codec.decode(cursor.ts, cursor.id)
        id_ = self.source.native_id(raw_id) if raw_id is not None else None
        if ts is not None and self.overlap_seconds:
            self._recheck_window(ts, id_, result)
        advanced = False
        for _ in range(self.max_batches):
            rows = self.source.after(ts, id_, self.batch_size)
            if not rows:
                break
            last = rows[-1]
            ts, id_ = last.cursor, last.id
            self._store(rows, result, advance_to=(last.cursor_ts, codec.encode(ts, id_)))
            advanced = True
            if len(rows) < self.batch_size:
                break
        else:
            log.info("ingest: %d batches this tick, continuing next tick", self.max_batches)
        if not advanced:  # the tick's bookkeeping (success, failures reset) without a batch
            with self.db.write() as conn:
                now = self.db.now()
                self._check_lease(conn, now)
                cursors.record_success(conn, self.source.name, None, None, now)

    def _check_lease(self, conn: Connection, now: datetime) -> None:
        """Fencing: renewing takes the lease row lock until this transaction ends."""
        if self.lease is not None and not self.lease.renew(conn, now):
            raise LeaseLost

    def _recheck_window(self, hi: Any, hi_id: Any, result: TickResult) -> None:
        window = read_window(self.db, self.source, hi, hi_id, self.overlap_seconds)
        unseen = window.unseen()
        if unseen:
            log.info(
                "ingest: %d row(s) behind the cursor not held yet (late commits), re-reading",
                len(unseen),
            )
            rows = self.source.rows_by_ids(window.lo, hi, hi_id, unseen)
            self._store(rows, result, advance_to=None)

    def _parse(self, rows: Sequence[SourceRow], result: TickResult) -> list[tuple[Any, Article]]:
        parsed = []
        for row in rows:
            try:
                parsed.append((row, parse_article(row.record, self.tz)))
            except ArticleError as exc:
                result.rejected += 1
                log.warning("source %s row id=%s rejected: %s", self.source.name, row.id, exc)
        return parsed

    def _store(
        self,
        rows: Sequence[SourceRow],
        result: TickResult,
        advance_to: tuple[datetime, str] | None,
    ) -> None:
        result.read += len(rows)
        parsed = self._parse(rows, result)
        changes: list[Change] = []
        with self.db.write() as conn:
            now = self.db.now()
            self._check_lease(conn, now)
            known = article_store.known_versions(conn, (a.source_key for _, a in parsed))
            for row, article in parsed:
                at = SourcePosition(row.cursor_ts, str(row.id))
                change = self._apply(conn, at, article, known.get(article.source_key), now)
                if change is not None:
                    changes.append(change)
                    known[article.source_key] = Known(
                        change.article_id, article.version, at.cursor, at.id
                    )
            for hook in self.hooks:
                hook(conn, changes, now)
            if advance_to is not None:
                cursors.record_success(conn, self.source.name, *advance_to, now)
        result.stored += len(changes)
        result.new += sum(c.is_new for c in changes)
        result.updated += sum(not c.is_new for c in changes)
        result.changes.extend(changes)
        if changes:
            for callback in self.after_commit:
                try:
                    callback(changes)
                except Exception:  # a broken listener must not undo a committed ingest
                    log.exception("after-ingest callback failed")

    def _apply(
        self,
        conn: Connection,
        at: SourcePosition,
        article: Article,
        known: Known | None,
        now: datetime,
    ) -> Change | None:
        if known is not None and article.version <= known.version:
            # already have this version (an overlap re-read, or a stale edit): only note where
            # the row is now, so the window check stops re-reading it
            if (known.source_cursor, known.source_id) != (at.cursor, at.id):
                article_store.move_source_position(conn, known.id, at)
            return None
        match = self.index.match(article)
        if known is None:
            article_id = article_store.insert_article(conn, article, match.search_text, at, now)
            previous: frozenset[int] = frozenset()
        else:
            article_id = known.id
            previous = frozenset(topic_ids_of_article(conn, article_id))
            article_store.update_article(conn, article_id, article, match.search_text, at, now)
        store_matches(conn, article_id, match.topics, now, replace=known is not None)
        return Change(article_id, article, known is None, frozenset(match.topics), previous)


_SIDE: dict[Outage, str] = {"source": "source", "state": "state database"}


def describe(exc: BaseException) -> str:
    """One line naming the error and the driver's message (no SQL, no parameters)."""
    orig = getattr(exc, "orig", None)
    message = str(orig if orig is not None else exc) or repr(exc)
    return f"{type(exc).__name__}: {message.strip().splitlines()[0] if message.strip() else ''}"[
        :500
    ]
