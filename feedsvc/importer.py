"""``feedsvc import``: JSON Lines of SPEC §3 articles into the built-in source table.

Each batch commits on its own, so a crash never costs the batches before it. Within a batch,
a line the database refuses (a constraint, a value the driver cannot send) is rejected alone:
the batch is retried line by line, each in a savepoint, and the others are stored. An error
that is the database's rather than a line's (disk full, connection lost) stops the import with
:class:`ImportAborted`, whose report says exactly what was committed before it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import Connection

from feedsvc.article_urls import DROPPED
from feedsvc.articles import Article, ArticleError
from feedsvc.db import Database
from feedsvc.db.errors import describe, is_disk_full, is_row_error
from feedsvc.jsonlines import Pause, Rejected
from feedsvc.keys import named
from feedsvc.not_applied import not_applied_error
from feedsvc.signal_hold import SignalHold
from feedsvc.store.source_articles import (
    UpsertCounts,
    latest_per_key,
    upsert_source_articles,
)

BATCH = 2000
#: Seconds a batch's first line waits at most for the batch to fill: a slow producer piping
#: into ``import -`` had nothing stored until 2,000 lines or the end of its input. The reader
#: of a pipe says when a line has waited this long with none after it
#: (:func:`feedsvc.pipe_lines.paced_lines`, a :class:`~feedsvc.jsonlines.Pause`).
BATCH_SECONDS = 1.0


def external_source_refusal(source_url: str | None, table: str) -> str | None:
    """Why ``feedsvc import`` must not run with this ``[source]`` config, or None.

    The import writes the built-in table (``source_articles``, SPEC §3, §9), which is the source
    only while ``source.url`` is unset; with an external source set, ingest never reads it, and
    an import that reported "inserted 2" put articles where they would never appear. Asked
    before any input is read or the state DB is touched."""
    if not source_url:
        return None
    return (
        f"source.url is set (external source, table {table!r}): import writes only the built-in"
        " table source_articles, which this service does not read while source.url is set;"
        " add, change or withdraw articles in that source itself, or unset source.url to use"
        " the built-in table"
    )


@dataclass(frozen=True, slots=True)
class Warned:
    """A line stored with something changed that its author should know of: a URL's user
    name and password dropped (:data:`feedsvc.article_urls.DROPPED`; never printed)."""

    line: int
    text: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.text}"


def lookalike_warning(line: int, article: Article, others: tuple[str, ...]) -> Warned:
    """What ``import`` says of a line inserted under a key canonically equivalent to others
    of the table (:class:`feedsvc.store.source_articles.Lookalike`): the keys in the one
    spelling the CLI reads back (:func:`feedsvc.keys.spelled`), since they look the same.
    Stored as given (the keys are the source's identity: two rows stay two articles), so
    readers will see two items: said, not merged."""
    key = article.source_key
    said = ", ".join(named(k) for k in others)
    return Warned(
        line,
        f"source_key {named(key)} is the same text in another Unicode form "
        f"as {said} in the source table: stored as another article, so feeds and alerts show "
        "both; if they are one story, give it one key",
    )


def dropped_warnings(line: int, article: Article) -> list[Warned]:
    """What ``import`` says of a stored line whose URL fields held a user name or password."""
    return [
        Warned(line, f"{name} {DROPPED} {article.url if name == 'url' else article.image_url}")
        for name in article.credentials_dropped
    ]


@dataclass
class ImportReport:
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    rejected: list[Rejected] = field(default_factory=list)
    #: stored lines with a warning (a URL's user name and password dropped), in line order
    warned: list[Warned] = field(default_factory=list)
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
    """Ctrl-C (SIGINT), or SIGTERM in the CLI, stopped the import; ``report`` says what was
    committed, through line ``report.committed_through`` (a signal during a commit waits for
    it: :class:`SignalHold`); ``interrupt`` is the KeyboardInterrupt raised (which signal)."""

    def __init__(self, report: ImportReport, interrupt: KeyboardInterrupt) -> None:
        self.report = report
        self.interrupt = interrupt
        super().__init__("interrupted")


Batch = list[tuple[int, Article]]


def import_articles(
    db: Database,
    items: Iterable[tuple[int, Article | Rejected | Pause]],
    *,
    now: Callable[[], datetime],
    on_reject: Callable[[Rejected], None] = lambda r: None,
    on_warning: Callable[[Warned], None] = lambda w: None,
) -> ImportReport:
    """Store ``items`` (from :func:`feedsvc.jsonlines.read_jsonl`) in batches of :data:`BATCH`.

    A batch is stored when it holds :data:`BATCH` lines or its first line was read
    :data:`BATCH_SECONDS` ago (checked as each line arrives), at a :class:`Pause` (the reader
    of a pipe: a line has waited that long and none came after it), and on Ctrl-C or SIGTERM
    while lines are read: lines taken from a pipe cannot be read again (a tester's: ``import
    -`` dropped up to 2,000 lines it had read, and said to run it again).

    A stored line whose URL held a user name or password is said (``on_warning``, in line
    order with the rejections), stored without it.

    Returns the report; raises :class:`ImportAborted` when the database stops accepting writes,
    :class:`ImportInterrupted` on Ctrl-C or the CLI's SIGTERM (both carry what was committed).
    """
    report = ImportReport()
    batch: Batch = []
    first_read = 0.0  # time.monotonic() of the batch's first line
    storing = False  # a signal inside a store rolled it back: not stored again
    since = now()  # a row written from now on is this import's: a later line replaces it
    # Rejections are said in line order: those of lines read while a batch is pending wait for
    # its verdicts (a takedown not applied is known only once it is stored), then all in order.
    pending: list[Rejected | Warned] = []

    def reject(line: int, error: ArticleError) -> None:
        pending.append(Rejected(line, error))
        if not batch:  # no earlier line waits for a verdict
            say()

    def say() -> None:
        pending.sort(key=lambda r: r.line)  # stable: a line's rejection before its warning
        for said in pending:
            if isinstance(said, Rejected):
                report.rejected.append(said)
                on_reject(said)
            else:
                report.warned.append(said)
                on_warning(said)
        pending.clear()

    def flush() -> None:
        nonlocal storing
        if not batch:
            return
        hold = SignalHold()
        try:
            try:
                storing = True
                counts = _store(db, batch, now(), reject, hold.hold, since)
                storing = False
            except Exception as exc:  # row errors were handled inside: the database's
                raise ImportAborted(report, batch[0][0], describe(exc), is_disk_full(exc)) from exc
            for skipped in counts.not_applied:  # said, not counted "unchanged"
                line, article = batch[skipped.index]
                reject(line, not_applied_error(article, skipped, batch, now()))
            refused = {r.line for r in pending if isinstance(r, Rejected)}
            pending.extend(
                w
                for line, article in batch
                if article.credentials_dropped and line not in refused
                for w in dropped_warnings(line, article)
            )
            pending.extend(
                lookalike_warning(*batch[alike.index], alike.others)
                for alike in counts.lookalikes
                if batch[alike.index][0] not in refused
            )
            counts.not_applied, counts.lookalikes = [], []
            report.counts.add(counts)  # only once committed
            report.committed_through = batch[-1][0]
            batch.clear()
        finally:
            say()  # this batch's and the lines' between (also when the batch was not stored)
            hold.release()  # a Ctrl-C during the commit is raised here, the batch counted

    try:
        for line, item in items:
            if isinstance(item, Pause):
                flush()
                continue
            if isinstance(item, Rejected):
                reject(item.line, item.error)
                continue
            if not batch:
                first_read = time.monotonic()
            batch.append((line, item))
            if len(batch) >= BATCH or time.monotonic() - first_read >= BATCH_SECONDS:
                flush()
        flush()
    except KeyboardInterrupt as exc:
        if batch and not storing:  # stopped while reading: store what was read
            with contextlib.suppress(KeyboardInterrupt):  # a second signal: as it is
                flush()
        say()  # the lines rejected before the batch Ctrl-C stopped
        raise ImportInterrupted(report, exc) from None
    return report


def _store(
    db: Database,
    batch: Batch,
    now: datetime,
    reject: Callable[[int, ArticleError], None],
    before_commit: Callable[[], None],
    since: datetime | None = None,
) -> UpsertCounts:
    """One transaction for the batch; if a line's data fails it, one savepoint per key.
    ``before_commit`` runs once the rows are written, just before the COMMIT; ``since``: when
    the import began (a row it wrote is replaced by a later line of the same version)."""
    try:
        with db.write() as conn:
            counts = upsert_source_articles(conn, [a for _, a in batch], now, since)
            before_commit()
            return counts
    except Exception as exc:
        if not is_row_error(exc):
            raise
    with db.write() as conn:
        counts = _line_by_line(conn, batch, now, reject, since)
        before_commit()
        return counts


def _line_by_line(
    conn: Connection,
    batch: Batch,
    now: datetime,
    reject: Callable[[int, ArticleError], None],
    since: datetime | None = None,
) -> UpsertCounts:
    """Each key's lines in a savepoint of their own (counted as the batch path counts them).
    Raises the last error when no key of several stores alone: a systematic failure (the
    transaction is rolled back and the import stops) rather than every line's fault."""
    keys: dict[str, list[int]] = {}
    for i, (_, a) in enumerate(batch):
        keys.setdefault(a.source_key, []).append(i)
    # the line named when the database refuses a key: the one that wins (latest_per_key)
    latest, _ = latest_per_key([a for _, a in batch], now)
    counts = UpsertCounts()
    refused: list[tuple[int, Exception]] = []
    for key, indices in sorted(keys.items(), key=lambda kv: latest[kv[0]]):
        try:
            with conn.begin_nested():
                alone = upsert_source_articles(conn, [batch[i][1] for i in indices], now, since)
        except Exception as exc:
            if not is_row_error(exc):
                raise
            refused.append((batch[latest[key]][0], exc))
            counts.unchanged += len(indices) - 1  # as before: the winner alone is named
            continue
        counts.not_applied.extend(
            replace(
                n,
                index=indices[n.index],
                winner_index=None if n.winner_index is None else indices[n.winner_index],
            )
            for n in alone.not_applied
        )
        counts.lookalikes.extend(replace(n, index=indices[n.index]) for n in alone.lookalikes)
        alone.not_applied, alone.lookalikes = [], []
        counts.add(alone)
    if len(keys) > 1 and len(refused) == len(keys):
        raise refused[-1][1]
    for line, error in refused:
        reject(line, ArticleError(None, f"refused by the database: {describe(error)}"))
    return counts
