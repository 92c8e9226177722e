"""Incremental ingest: source rows → our articles, matches and outbox, with the cursor, atomically.

Reads use a keyset cursor on ``(timestamp, id)``. Because a CMS can commit a row *after* a row
with a later timestamp (long transactions), each tick also checks an overlap window behind the
cursor: when the number of source rows in it differs from what we stored, the window is re-read
and de-duplicated by ``source_key`` + version. An idle tick is therefore a handful of indexed
count/limit queries whatever the table size.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, Protocol

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from feedsvc.articles import Article, ArticleError, parse_article
from feedsvc.db import Database
from feedsvc.source import SourceRow, SqlSource
from feedsvc.store import articles as article_store
from feedsvc.store import cursors
from feedsvc.store.topics import store_matches, topic_ids_of_article
from feedsvc.topic_index import TopicIndex

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300.0


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

    def tick(self) -> TickResult:
        """One ingest pass; never raises for source or state DB trouble (logged, backed off)."""
        now = self.db.now()
        result = TickResult()
        if self._retry_at is not None and now < self._retry_at:
            result.skipped = True
            return result
        try:
            self._run(result)
        except SQLAlchemyError as exc:
            self._failed(result, exc)
        else:
            self._retry_at = None
        return result

    def _failed(self, result: TickResult, exc: SQLAlchemyError) -> None:
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
        if cursor.ts is not None and self.overlap:
            self._recheck_window(cursor.ts, result)
        ts, id_ = cursor.ts, self.source.native_id(cursor.id) if cursor.id is not None else None
        for _ in range(self.max_batches):
            rows = self.source.after(ts, id_, self.batch_size)
            if not rows:
                break
            ts, id_ = rows[-1].cursor_ts, rows[-1].id
            self._store(rows, result, advance_to=(ts, str(id_)))
            if len(rows) < self.batch_size:
                break
        else:
            log.info("ingest: %d batches this tick, continuing next tick", self.max_batches)
        if result.read == 0:
            with self.db.write() as conn:
                cursors.record_success(conn, self.source.name, None, None, self.db.now())

    def _recheck_window(self, hi: datetime, result: TickResult) -> None:
        lo = hi - self.overlap
        in_source = self.source.count_between(lo, hi)
        with self.db.read() as conn:
            stored = article_store.count_in_window(conn, lo, hi)
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
