"""Incremental ingest: source rows → our articles, matches and outbox, with the cursor, atomically.

Reads use a keyset cursor on ``(timestamp, id)``. Because a CMS can commit a row *after* a row
with a later timestamp (long transactions), each tick also checks an overlap window behind the
cursor: when the number of source rows in it differs from what we stored, the window is re-read
and de-duplicated by ``source_key`` + version. An idle tick is therefore a handful of indexed
count/limit queries whatever the table size.

Cursor values stay in the source's native form (:mod:`feedsvc.source.cursor`): they are read,
stored (as text in ``source_cursors.cursor_id``) and bound back exactly as the CMS holds them;
only our own bookkeeping (``articles.source_cursor``, the window count) uses UTC instants.

With several replicas on one PostgreSQL state DB, an :class:`IngestLease` makes one of them the
ingest leader: the lease is taken at the start of each tick and re-checked inside every write
transaction, so a leader that stalled past its lease cannot commit over its successor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, Protocol

from sqlalchemy import Connection, select, text
from sqlalchemy.exc import SQLAlchemyError

from feedsvc.articles import Article, ArticleError, parse_article
from feedsvc.db import Database
from feedsvc.db.schema import deliveries
from feedsvc.source import SourceError, SourceRow, SqlSource
from feedsvc.store import articles as article_store
from feedsvc.store import cursors, leases
from feedsvc.store.topics import store_matches, topic_ids_of_article
from feedsvc.topic_index import TopicIndex

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300.0
INGEST_LEASE = "ingest"
LEASE_MIN_SECONDS = 6.0
WAKE_CHANNEL = "feedsvc_deliveries"


class LeaseLost(Exception):
    """Another replica took the ingest lease while this one was mid-tick: roll back."""


class IngestLease:
    """The ``ingest`` lease (:mod:`feedsvc.store.leases`, DB clock): one leader per state DB.

    The TTL is three poll intervals (at least 6 s): a leader renews it every tick (and in every
    write transaction of a long tick), so it only lapses when the leader died or stalled, and a
    standby takes over within TTL + one poll.
    """

    def __init__(self, holder: str, poll_seconds: float) -> None:
        self.holder = holder
        self.ttl = timedelta(seconds=max(3 * poll_seconds, LEASE_MIN_SECONDS))
        self.held = False

    def take(self, db: Database) -> bool:
        with db.write() as conn:
            self.held = self.renew(conn, db.now())
        return self.held

    def renew(self, conn: Connection, now: datetime) -> bool:
        return leases.acquire(conn, INGEST_LEASE, self.holder, self.ttl, now)

    def release(self, db: Database) -> None:
        if self.held:
            with db.write() as conn:
                leases.release(conn, INGEST_LEASE, self.holder)
            self.held = False


def notify_new_deliveries(conn: Connection, changes: Sequence[Change], now: datetime) -> None:
    """Transaction hook (PostgreSQL): wake every replica's dispatcher when this commit queued
    deliveries. NOTIFY is transactional (sent on commit, dropped on rollback) and goes to OUR
    state DB only, never the CMS. It is a hint; dispatchers also poll."""
    if conn.dialect.name != "postgresql" or not any(c.is_new for c in changes):
        return
    queued = conn.execute(
        select(deliveries.c.id).where(deliveries.c.created_at == now).limit(1)
    ).first()
    if queued is not None:
        conn.execute(text(f"NOTIFY {WAKE_CHANNEL}"))


@dataclass(frozen=True, slots=True)
class Change:
    """One stored article that is new or has a new version, with its topics before and after."""

    article_id: int
    article: Article
    is_new: bool
    topic_ids: frozenset[int]
    previous_topic_ids: frozenset[int] = frozenset()

    @property
    def affected_topic_ids(self) -> frozenset[int]:
        return self.topic_ids | self.previous_topic_ids


class TransactionHook(Protocol):
    """Runs inside the ingest transaction (e.g. the outbox): commits or rolls back with it."""

    def __call__(self, conn: Connection, changes: Sequence[Change], now: datetime) -> None: ...


AfterCommit = Callable[[Sequence[Change]], None]


@dataclass
class TickResult:
    read: int = 0
    stored: int = 0
    new: int = 0
    updated: int = 0
    rejected: int = 0
    skipped: bool = False
    standby: bool = False  # another replica holds the ingest lease
    error: str | None = None
    changes: list[Change] = field(default_factory=list)


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
        self.overlap = timedelta(seconds=overlap_seconds)
        self.batch_size = batch_size
        self.max_batches = max_batches
        self.hooks: list[TransactionHook] = []
        self.after_commit: list[AfterCommit] = []
        self._retry_at: datetime | None = None
        self.lease = lease

    def tick(self) -> TickResult:
        """One ingest pass; never raises for source or state DB trouble (logged, backed off)."""
        now = self.db.now()
        result = TickResult()
        if self._retry_at is not None and now < self._retry_at:
            result.skipped = True
            return result
        try:
            if self.lease is not None and not self.lease.take(self.db):
                result.skipped = result.standby = True
                return result
            self._run(result)
        except LeaseLost:
            log.warning("ingest: lease lost mid-tick to another replica; batch rolled back")
            result.standby = True
        except (SQLAlchemyError, SourceError) as exc:
            self._failed(result, exc)
        else:
            self._retry_at = None
        return result

    def _failed(self, result: TickResult, exc: SQLAlchemyError | SourceError) -> None:
        error = f"{type(exc).__name__}: {exc.orig if hasattr(exc, 'orig') else exc!s}"
        error = error.splitlines()[0][:500]
        result.error = error
        now = self.db.now()
        failures = 1
        try:
            with self.db.write() as conn:
                failures = cursors.record_failure(conn, self.source.name, error, now)
        except SQLAlchemyError:
            log.exception("could not record the ingest failure in the state DB")
        delay = min(self.poll_seconds * 2 ** (failures - 1), MAX_BACKOFF_SECONDS)
        self._retry_at = now + timedelta(seconds=delay)
        log.warning(
            "ingest from %s failed (%d in a row), retrying in %.0f s: %s",
            self.source.name,
            failures,
            delay,
            error,
        )

    def _run(self, result: TickResult) -> None:
        with self.db.read() as conn:
            self.index.refresh(conn)
            cursor = cursors.get_cursor(conn, self.source.name)
        codec = self.source.codec  # reflects the source table on first use
        ts, raw_id = codec.decode(cursor.ts, cursor.id)
        if ts is not None and self.overlap:
            self._recheck_window(ts, result)
        id_ = self.source.native_id(raw_id) if raw_id is not None else None
        for _ in range(self.max_batches):
            rows = self.source.after(ts, id_, self.batch_size)
            if not rows:
                break
            last = rows[-1]
            ts, id_ = last.cursor, last.id
            self._store(rows, result, advance_to=(last.cursor_ts, codec.encode(ts, id_)))
            if len(rows) < self.batch_size:
                break
        else:
            log.info("ingest: %d batches this tick, continuing next tick", self.max_batches)
        if result.read == 0:
            now = self.db.now()
            with self.db.write() as conn:
                self._check_lease(conn, now)
                cursors.record_success(conn, self.source.name, None, None, now)

    def _check_lease(self, conn: Connection, now: datetime) -> None:
        """Fencing: renewing takes the lease row lock until this transaction ends."""
        if self.lease is not None and not self.lease.renew(conn, now):
            raise LeaseLost

    def _recheck_window(self, hi: Any, result: TickResult) -> None:
        """``hi`` is the native cursor value; the source is asked in native terms, our copy in
        UTC instants of the same bounds."""
        codec = self.source.codec
        lo = codec.minus(hi, self.overlap.total_seconds())
        in_source = self.source.count_between(lo, hi)
        with self.db.read() as conn:
            stored = article_store.count_in_window(conn, codec.instant(lo), codec.instant(hi))
        if in_source != stored:
            log.debug("overlap window %s..%s: source %d, stored %d", lo, hi, in_source, stored)
            self._store(self.source.between(lo, hi), result, advance_to=None)

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
                change = self._apply(conn, row, article, known.get(article.source_key), now)
                if change is not None:
                    changes.append(change)
                    known[article.source_key] = (change.article_id, article.version)
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
        row: SourceRow,
        article: Article,
        known: tuple[int, datetime] | None,
        now: datetime,
    ) -> Change | None:
        if known is not None and article.version <= known[1]:
            return None  # already have this version (overlap re-read, or a stale edit)
        match = self.index.match(article)
        if known is None:
            article_id = article_store.insert_article(
                conn, article, match.search_text, row.cursor_ts, now
            )
            previous: frozenset[int] = frozenset()
        else:
            article_id = known[0]
            previous = frozenset(topic_ids_of_article(conn, article_id))
            article_store.update_article(
                conn, article_id, article, match.search_text, row.cursor_ts, now
            )
        store_matches(conn, article_id, match.topics, now, replace=known is not None)
        return Change(article_id, article, known is None, frozenset(match.topics), previous)
