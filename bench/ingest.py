"""Idle ingest tick vs source size, and import throughput into SQLite.

Goals (issue #2): idle tick with 1,000,000 source rows within 2x of 10,000 rows and < 20 ms;
import >= 5,000 articles/s into SQLite.

    python bench/ingest.py [--big 1000000] [--import-count 20000] [--pg URL]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, timed

from feedsvc.db import Database, upgrade
from feedsvc.db.schema import source_articles
from feedsvc.demo import ArticleGenerator
from feedsvc.importer import import_articles
from feedsvc.ingest import Ingestor
from feedsvc.source import builtin_source
from feedsvc.store.cursors import record_success
from feedsvc.topic_index import TopicIndex


def fill(db: Database, rows: int) -> None:
    """Bulk rows (small bodies) committed hours ago, then a cursor at the end: an idle source."""
    start = datetime.now(UTC) - timedelta(days=30)
    chunk = 20_000
    for base in range(0, rows, chunk):
        batch = [
            {
                "source_key": f"BULK-{i:08d}",
                "url": f"https://example.vn/{i}",
                "title": f"Tin số {i}",
                "tags": [],
                "published_at": start + timedelta(seconds=i),
                "changed_at": start + timedelta(seconds=i),
            }
            for i in range(base, min(rows, base + chunk))
        ]
        with db.write() as conn:
            conn.execute(insert(source_articles), batch)
    with db.write() as conn:
        last = start + timedelta(seconds=rows - 1)
        record_success(conn, "builtin", last, str(rows), datetime.now(UTC))


def idle_tick(url: str, rows: int) -> tuple[float, float]:
    db = Database(url)
    upgrade(db)
    fill(db, rows)
    with db.write() as conn:  # steady state: statistics fresh, WAL checkpointed
        conn.execute(text("ANALYZE"))
    if db.dialect == "sqlite":
        raw = db.engine.raw_connection()
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw.close()
    ing = Ingestor(
        db,
        builtin_source(db.engine),
        TopicIndex(),
        tz=UTC,
        poll_seconds=30,
        overlap_seconds=300,
        batch_size=500,
    )

    ing.tick()  # catch up on the rows inside the overlap window, as a running service would

    def tick() -> None:
        result = ing.tick()
        assert result.read == 0 and result.error is None, (result.read, result.error)

    return timed(tick, repeat=200)


def import_rate(url: str, count: int) -> float:
    db = Database(url)
    upgrade(db)
    gen = ArticleGenerator(seed=7, prefix="IMP")
    archive = gen.archive(count, datetime.now(UTC), timedelta(days=60))
    items = list(enumerate(archive))
    t0 = time.perf_counter()
    report = import_articles(db, items, now=lambda: datetime.now(UTC))
    elapsed = time.perf_counter() - t0
    assert report.counts.inserted == count
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--import-count", type=int, default=20_000)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for rows in (args.small, args.big):
            t0 = time.perf_counter()
            med, p95 = idle_tick(f"sqlite:///{tmp}/idle-{rows}.db", rows)
            results[rows] = med
            print(
                f"idle tick, SQLite, {rows:>9,} source rows: median {med:6.2f} ms, "
                f"p95 {p95:6.2f} ms   (setup {time.perf_counter() - t0:.0f} s)"
            )
        ratio = results[args.big] / results[args.small]
        print(f"idle tick ratio {args.big:,} / {args.small:,} rows: {ratio:.2f}x (goal <= 2x)")
        rate = import_rate(f"sqlite:///{tmp}/import.db", args.import_count)
        print(
            f"import into SQLite: {rate:,.0f} articles/s over {args.import_count:,} "
            "articles of ~2 KB (goal >= 5,000/s)"
        )


if __name__ == "__main__":
    main()
