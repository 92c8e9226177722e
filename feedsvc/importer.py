"""``feedsvc import``: JSON Lines of SPEC §3 articles into the built-in source table.

Each batch commits on its own, so a crash never costs the batches before it. Within a batch,
a line the database refuses (a constraint, a value the driver cannot send) is rejected alone:
the batch is retried line by line, each in a savepoint, and the others are stored. An error
that is the database's rather than a line's (disk full, connection lost) stops the import with
:class:`ImportAborted`, whose report says exactly what was committed before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection

from feedsvc.articles import Article, ArticleError
from feedsvc.db import Database
from feedsvc.db.errors import describe, is_disk_full, is_row_error
from feedsvc.jsonlines import Rejected
from feedsvc.store.source_articles import UpsertCounts, upsert_source_articles

BATCH = 2000


@dataclass
class ImportReport:
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    rejected: list[Rejected] = field(default_factory=list)
    #: Last line number of the last committed batch (0: nothing committed yet).
    committed_through: int = 0

    @property
    def total(self) -> int:
        c = self.counts
        return c.inserted + c.updated + c.unchanged + len(self.rejected)

    def summary(self) -> str:
        c = self.counts
        return (
            f"inserted {c.inserted}, updated {c.updated}, unchanged {c.unchanged}, "
            f"rejected {len(self.rejected)}"
        )


class ImportAborted(Exception):
    """The database could not take more (``disk_full`` tells the likeliest case apart).

    ``report`` holds what was committed (through line ``report.committed_through``) and the
    lines rejected so far; ``first_line`` is the first line of the batch that was not stored.
    """

    def __init__(self, report: ImportReport, first_line: int, reason: str, disk_full: bool):
        self.report = report
        self.first_line = first_line
        self.reason = reason
        self.disk_full = disk_full
        super().__init__(reason)


class ImportInterrupted(Exception):
    """Ctrl-C (SIGINT) stopped the import; ``report`` says what was committed (at least
    through line ``report.committed_through``: an interrupt during a commit may leave that
    batch stored and uncounted, which a rerun shows as unchanged)."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        super().__init__("interrupted")


Batch = list[tuple[int, Article]]


def import_articles(
    db: Database,
    items: Iterable[tuple[int, Article | Rejected]],
    *,
    now: Callable[[], datetime],
    on_reject: Callable[[Rejected], None] = lambda r: None,
) -> ImportReport:
    """Store ``items`` (from :func:`feedsvc.jsonlines.read_jsonl`) in batches of :data:`BATCH`.

    Returns the report; raises :class:`ImportAborted` when the database stops accepting writes,
    :class:`ImportInterrupted` on Ctrl-C (both carry what was committed).
    """
    report = ImportReport()
    batch: Batch = []

    def reject(line: int, error: ArticleError) -> None:
        rejected = Rejected(line, error)
        report.rejected.append(rejected)
        on_reject(rejected)

    def flush() -> None:
        if not batch:
            return
        try:
            counts = _store(db, batch, now(), reject)
        except Exception as exc:  # row errors were handled inside: this is the database's
            raise ImportAborted(report, batch[0][0], describe(exc), is_disk_full(exc)) from exc
        report.counts.add(counts)  # only once committed
        report.committed_through = batch[-1][0]
        batch.clear()

    try:
        for line, item in items:
            if isinstance(item, Rejected):
                reject(item.line, item.error)
                continue
            batch.append((line, item))
            if len(batch) >= BATCH:
                flush()
        flush()
    except KeyboardInterrupt:
        raise ImportInterrupted(report) from None
    return report


def _store(
    db: Database, batch: Batch, now: datetime, reject: Callable[[int, ArticleError], None]
) -> UpsertCounts:
    """One transaction for the batch; if a line's data fails it, one savepoint per line."""
    try:
        with db.write() as conn:
            return upsert_source_articles(conn, [a for _, a in batch], now)
    except Exception as exc:
        if not is_row_error(exc):
            raise
    with db.write() as conn:
        return _line_by_line(conn, batch, now, reject)


def _line_by_line(
    conn: Connection, batch: Batch, now: datetime, reject: Callable[[int, ArticleError], None]
) -> UpsertCounts:
    """Each line in a savepoint. Raises the last error when no line of several stores alone:
    a systematic failure (the transaction is rolled back and the import stops) rather than
    every line's fault."""
    # The last occurrence of a key wins, as in upsert_source_articles' batch path.
    winners: dict[str, tuple[int, Article]] = {}
    for line, a in batch:
        prev = winners.get(a.source_key)
        if prev is None or a.version >= prev[1].version:
            winners[a.source_key] = (line, a)
    counts = UpsertCounts(unchanged=len(batch) - len(winners))
    refused: list[tuple[int, Exception]] = []
    for line, a in sorted(winners.values(), key=lambda pair: pair[0]):
        try:
            with conn.begin_nested():
                counts.add(upsert_source_articles(conn, [a], now))
        except Exception as exc:
            if not is_row_error(exc):
                raise
            refused.append((line, exc))
    if len(winners) > 1 and len(refused) == len(winners):
        raise refused[-1][1]
    for line, error in refused:
        reject(line, ArticleError(None, f"refused by the database: {describe(error)}"))
    return counts
