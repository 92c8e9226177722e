"""Idle ingest tick with an imported archive inside the overlap window: before / after.

``feedsvc import`` of N articles into the built-in source stamps them all with the import's
time, so once ingest has caught up every one of them sits in the overlap window behind the
cursor (``source.overlap_seconds``) until newer rows move the cursor on. Before the window's
fingerprint (``feedsvc.source.digest``) each idle tick compared that window row by row, reading
every position on both sides; now it reads one fingerprint row and compares row by row only
after a change. Both are measured in one run on the same state DB, ingestor and rows: "row by
row" is the same ingestor with the fingerprint switched off (``window_digest`` answering None:
the previous code's path, and today's for a dialect without a fingerprint).

    python bench/idle_window.py [--count 20000] [--ticks 30] [--pg URL | --pg '']

Per tick: CPU of this process (``time.process_time``; on PostgreSQL the server's own CPU is not
in it), wall time, statements run (BEGINs aside) and window positions read into Python.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).parent))
from common import PG_ADMIN, machine, postgres_or_skip, state_db

from feedsvc.db import Database
from feedsvc.demo import ArticleGenerator
from feedsvc.importer import import_articles
from feedsvc.ingest import Ingestor
from feedsvc.source import builtin_source
from feedsvc.store import articles as article_store
from feedsvc.topic_index import TopicIndex


def imported(db: Database, count: int) -> None:
    """``count`` demo articles through ``feedsvc import``'s store, published over 60 days."""
    gen = ArticleGenerator(seed=7, prefix="BENCH")
    end = datetime.now(UTC) - timedelta(days=1)
    lines = enumerate(gen.archive(count, end, timedelta(days=60)), start=1)
    report = import_articles(db, lines, now=lambda: datetime.now(UTC))
    assert report.counts.inserted == count, report.counts


class Counters:
    """Statements on the engine and window positions read (``SqlSource.window`` and ours)."""

    def __init__(self, db: Database, ing: Ingestor) -> None:
        self.statements = self.positions = 0

        def statement(*args: Any) -> None:
            self.statements += not args[2].startswith("BEGIN")

        event.listen(db.engine, "before_cursor_execute", statement)
        source, ours = ing.source.window, article_store.window_positions
        ing.source.window = self._counted(source)  # type: ignore[method-assign]
        article_store.window_positions = self._counted(ours)

    def _counted(self, read: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
        def counted(*args: Any) -> list[Any]:
            got = read(*args)
            self.positions += len(got)
            return got

        return counted


def measure(ing: Ingestor, counters: Counters, ticks: int) -> dict[str, float]:
    """Median/p95 CPU and wall ms per idle tick, statements and positions per tick."""
    ing.tick()  # after a switch: the one row-by-row comparison that fingerprints the window
    cpu, wall = [], []
    statements, positions = counters.statements, counters.positions
    for _ in range(ticks):
        c0, w0 = time.process_time(), time.perf_counter()
        result = ing.tick()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
        assert result.read == 0 and result.error is None, (result.read, result.error)
    cpu.sort()
    return {
        "cpu": statistics.median(cpu),
        "cpu95": cpu[int(0.95 * (ticks - 1))],
        "wall": statistics.median(wall),
        "statements": (counters.statements - statements) / ticks,
        "positions": (counters.positions - positions) / ticks,
    }


def run(db: Database, count: int, ticks: int) -> dict[str, dict[str, float]]:
    imported(db, count)
    ing = Ingestor(
        db, builtin_source(db.engine), TopicIndex(), tz=UTC, poll_seconds=30,
        overlap_seconds=300, batch_size=500,
    )  # fmt: skip
    caught = ing.tick()  # the catch-up a running service does after the import
    assert caught.new == count and caught.error is None, caught
    counters = Counters(db, ing)
    out = {}
    for mode in ("row by row", "fingerprint", "row by row ", "fingerprint "):  # alternated
        if mode.startswith("row"):
            ing.source.window_digest = lambda *args: None  # type: ignore[method-assign]
        else:
            del ing.source.window_digest  # the class's method again
        out[mode] = measure(ing, counters, ticks)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=20_000, help="articles imported")
    parser.add_argument("--ticks", type=int, default=30, help="idle ticks measured per mode")
    parser.add_argument("--pg", default=PG_ADMIN, help="PostgreSQL URL ('' to skip)")
    args = parser.parse_args()
    pg = postgres_or_skip(args.pg)
    print(f"machine: {machine()}")
    print(f"{args.count} imported articles in the window, {args.ticks} idle ticks per mode\n")
    print("| state DB | window check | CPU ms/tick median (p95) | wall ms | statements |", end="")
    print(" positions read |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("sqlite", "postgresql"):
            if kind == "postgresql" and not pg:
                continue
            with state_db(kind, Path(tmp), "idlewin", pg, Database) as db:
                for mode, m in run(db, args.count, args.ticks).items():
                    print(
                        f"| {kind} | {mode.strip()} | {m['cpu']:.1f} ({m['cpu95']:.1f}) | "
                        f"{m['wall']:.1f} | {m['statements']:.0f} | {m['positions']:.0f} |"
                    )


if __name__ == "__main__":
    main()
