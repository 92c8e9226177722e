"""``feedsvc import``: JSON Lines of SPEC §3 articles into the built-in source table.

Each batch commits on its own, so a bad line (or a crash) never costs the good lines before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from feedsvc.articles import Article, Rejected
from feedsvc.db import Database
from feedsvc.store.source_articles import UpsertCounts, upsert_source_articles

BATCH = 2000


@dataclass
class ImportReport:
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    rejected: list[Rejected] = field(default_factory=list)

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


def import_articles(
    db: Database,
    items: Iterable[tuple[int, Article | Rejected]],
    *,
    now: Callable[[], datetime],
    on_reject: Callable[[Rejected], None] = lambda r: None,
) -> ImportReport:
    report = ImportReport()
    batch: list[Article] = []

    def flush() -> None:
        if batch:
            with db.write() as conn:
                report.counts.add(upsert_source_articles(conn, batch, now()))
            batch.clear()

    for _line, item in items:
        if isinstance(item, Rejected):
            report.rejected.append(item)
            on_reject(item)
            continue
        batch.append(item)
        if len(batch) >= BATCH:
            flush()
    flush()
    return report
