"""Reconciliation (deleted source rows, issue #13 §2): one pass over a 7-day window with
100,000 and 1,000,000 source rows, on SQLite and PostgreSQL.

Goal: one pass well under a second, and constant in the table size. Both tables (the built-in
source and feedsvc's articles) hold N rows, of which WINDOW were published in the last 7 days
(the rest over the years before); a few window rows are deleted from the source first. The
first pass must withdraw exactly those; then passes are timed (median and p95 of 20).

    python bench/reconcile.py [--sizes 100000,1000000] [--window 3500] [--pg URL]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))
from common import PG_ADMIN, machine, postgres_or_skip, state_db, timed

from feedsvc.db import Database
from feedsvc.lifecycle.reconcile import Reconciler
from feedsvc.source import builtin_source

DELETED = 5
STEP_SECONDS = 150  # window rows: one every 2.5 minutes (3,500 rows ≈ 6 days)

# n: 1..N; rows n <= :window are in the last 7 days, the others 8 days and more ago
_AGE = "CASE WHEN n <= :window THEN n * :step ELSE 691200 + n * 60 END"
FILL = {
    "postgresql": [
        f"""INSERT INTO source_articles (id, source_key, url, title, published_at, changed_at,
            withdrawn)
            SELECT n, 'K' || n, 'https://e.vn/' || n, 'Tin ' || n,
                   :now - make_interval(secs => {_AGE}), :now, false
            FROM generate_series(1, :total) AS n""",
        f"""INSERT INTO articles (source_key, version, url, title, tags, published_at,
            search_text, source_cursor, source_id, first_seen_at, last_changed_at)
            SELECT 'K' || n, :now, 'https://e.vn/' || n, 'Tin ' || n, '[]',
                   :now - make_interval(secs => {_AGE}), '', :now, n::text, :now, :now
            FROM generate_series(1, :total) AS n""",
    ],
    "sqlite": [
        f"""WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :total)
            INSERT INTO source_articles (id, source_key, url, title, published_at, changed_at,
            withdrawn)
            SELECT n, 'K' || n, 'https://e.vn/' || n, 'Tin ' || n,
                   strftime('%Y-%m-%d %H:%M:%S', :now, '-' || ({_AGE}) || ' seconds')
                   || '.000000', :now, 0
            FROM seq""",
        f"""WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :total)
            INSERT INTO articles (source_key, version, url, title, tags, published_at,
            search_text, source_cursor, source_id, first_seen_at, last_changed_at)
            SELECT 'K' || n, :now, 'https://e.vn/' || n, 'Tin ' || n, '[]',
                   strftime('%Y-%m-%d %H:%M:%S', :now, '-' || ({_AGE}) || ' seconds')
                   || '.000000', '', :now, CAST(n AS TEXT), :now, :now
            FROM seq""",
    ],
}


def one(kind: str, total: int, window: int, tmp: Path, pg: str) -> None:
    with state_db(kind, tmp, f"rec{total}", pg, Database) as db:
        now = datetime.now(UTC).replace(microsecond=0)
        stamp: object = now if kind == "postgresql" else now.strftime("%Y-%m-%d %H:%M:%S.000000")
        t0 = time.perf_counter()
        with db.engine.begin() as conn:
            for sql in FILL[kind]:
                params = {"now": stamp, "total": total, "window": window, "step": STEP_SECONDS}
                conn.execute(text(sql), params)
            if kind == "postgresql":
                conn.execute(text("ANALYZE source_articles"))
                conn.execute(text("ANALYZE articles"))
            else:
                conn.execute(text("ANALYZE"))
            gone = [str(n) for n in range(10, 10 + DELETED)]
            conn.execute(text(f"DELETE FROM source_articles WHERE id IN ({','.join(gone)})"))
        fill = time.perf_counter() - t0
        rec = Reconciler(db, builtin_source(db.engine), days=7, clock=lambda: now)
        t1 = time.perf_counter()
        first = rec.run()
        first_ms = (time.perf_counter() - t1) * 1000
        assert len(first.withdrawn) == DELETED and first.refused is None, first
        assert first.held == window, first
        median, p95 = timed(rec.run, repeat=20)
        print(
            f"{kind:10} {total:>9,} rows  window {first.held:,} held / {first.seen:,} in source"
            f"  first pass {first_ms:6.1f} ms (withdrew {len(first.withdrawn)})"
            f"  pass median {median:6.1f} ms  p95 {p95:6.1f} ms  (fill {fill:.0f} s)",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--window", type=int, default=3500, help="rows in the last 7 days")
    parser.add_argument("--pg", default=PG_ADMIN, help="PostgreSQL URL ('' to skip)")
    args = parser.parse_args()
    print(machine())
    args.pg = postgres_or_skip(args.pg)
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("sqlite", "postgresql") if args.pg else ("sqlite",):
            for total in sizes:
                one(kind, total, args.window, Path(tmp), args.pg)


if __name__ == "__main__":
    main()
