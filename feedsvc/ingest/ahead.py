"""A catch-up's batches read, matched and written at once, in three stages (issue 17 §2).

A batch goes through three stages: read and parse (the source's driver and this process's
Python), match (the match worker's process, :mod:`feedsvc.ingest.pool`; this process only
sends and receives), write (mostly the state DB's own work). When one read-ahead thread both
read and matched batch k+1 while batch k was written, the worker sat idle through every read
and the reading waited on the worker: at 5,000 topics, two cores ran ~1.3 processes' worth of
work. Here batch k+2 is read in one thread while k+1 is matched in another and k is written in
the caller's: the worker starts on a batch as soon as it has matched the one before.

What each batch holds is not changed by reading it earlier: :func:`feedsvc.ingest.writer.apply`
takes every "new, newer, already held" decision again under the write lock (an item its
:func:`~feedsvc.ingest.writer.choose` saw unheld included), and the ingestor matches a batch
again when the topics changed after it was matched (:attr:`Prepared.topics`), so a topic edit
during a catch-up still applies from the next batch written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

from feedsvc.articles import Article
from feedsvc.ingest import writer
from feedsvc.ingest.isolate import Batch
from feedsvc.store.quarantine import Quarantined
from feedsvc.topic_index import ArticleMatch, TopicIndex

MatchAll = Callable[[Sequence[Article]], list[ArticleMatch]]


@dataclass(frozen=True, slots=True)
class Unmatched:
    """A batch read and parsed: how many source rows it covers, its items before matching,
    and the rows already skipped (unreadable, rejected by the parser)."""

    rows: int
    chosen: writer.Chosen
    skipped: list[Quarantined]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A batch ready to write: how many source rows it covers, the parsed and matched items,
    the rows already skipped (unreadable, rejected by the parser), and the topics version its
    items were matched with (``None``: no matcher built then)."""

    rows: int
    items: list[writer.Item]
    skipped: list[Quarantined]
    topics: object = None


def matched(read: Unmatched, index: TopicIndex, match_all: MatchAll) -> Prepared:
    """``read`` matched by ``match_all`` (the ingestor's pool or in-process), with the topics
    version current before it began (an edit since makes :func:`up_to_date` match again)."""
    compiled = index.compiled
    items = writer.matched(read.chosen, match_all)
    return Prepared(read.rows, items, read.skipped, compiled and compiled.version)


def up_to_date(prepared: Prepared, index: TopicIndex, match_all: MatchAll) -> Prepared:
    """``prepared`` matched again when the topics changed since it was matched: an edit during
    a catch-up applies from the next batch written, although batches are matched ahead."""
    compiled = index.compiled
    if compiled is None or prepared.topics == compiled.version:
        return prepared
    items = writer.rematch(prepared.items, match_all)
    return replace(prepared, items=items, topics=compiled.version)


class Pending:
    """One batch on its way: its read (the reader thread), then its match (the match thread)."""

    def __init__(
        self, read: Future[tuple[Batch, Unmatched]], matched: Future[Prepared | None]
    ) -> None:
        self._read = read
        self._matched = matched

    def batch(self) -> Batch:
        """The batch read; raises what the read raised."""
        return self._read.result()[0]

    def read_ok(self) -> Batch | None:
        """The batch read, or None when its read failed (:meth:`batch` raises it later: the
        batch before it is written first, as when one thread read and matched)."""
        return None if self._read.exception() is not None else self._read.result()[0]

    def prepared(self) -> Prepared | None:
        """The batch matched; None when the ingestor was stopping before its match began (the
        batch is dropped unwritten). Raises what reading or matching raised."""
        return self._matched.result()


class ReadAhead:
    """The reader and match threads of one catch-up. Leaving the ``with`` block drops the
    batches not begun yet and waits for the read and the match under way (a stop request
    abandons the match pool first: a batch waiting on a worker is matched here at once)."""

    def __init__(
        self,
        read: Callable[[Any, Any], tuple[Batch, Unmatched]],
        match: Callable[[Unmatched], Prepared | None],
        native_id: Callable[[Any], Any],
    ) -> None:
        self._read = read
        self._match = match
        self._native_id = native_id  # a source row id as the keyset read binds it
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-read-ahead")
        self._matcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-match")

    def start(self, ts: Any, id_: Any) -> Pending:
        """Read the batch after ``(ts, id_)`` in the reader thread, then match it in the match
        thread (after the batches started before it: each thread works in order)."""
        read = self._reader.submit(self._read, ts, id_)
        return Pending(read, self._matcher.submit(lambda: self._match(read.result()[1])))

    def after(self, pending: Pending | None) -> Pending | None:
        """The batch after ``pending`` started (read while the one before it is matched), when
        ``pending`` was read whole (full: more may follow); else None."""
        batch = None if pending is None else pending.read_ok()
        if batch is None or not batch.full or batch.last is None:
            return None
        return self.start(batch.last.cursor, self._native_id(batch.last.id))

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._matcher.shutdown(wait=False, cancel_futures=True)
        self._reader.shutdown(wait=True, cancel_futures=True)  # a match waiting on it ends
        self._matcher.shutdown(wait=True)
