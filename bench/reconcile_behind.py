"""What finding rows written behind the cursor costs a reconciliation pass (a newsroom
tester's M4): the pass of ``bench/reconcile.py`` with and without ``recover``, on SQLite and
PostgreSQL.

Both tables hold N rows, WINDOW of them published in the last 7 days; UNHELD of the window's
articles are drafts (held withdrawn: the window ids a pass hands to ``recover``, which looks
them up in the state DB). Passes are timed without ``recover`` (the pass before M4), with it
(steady state: nothing to find, no source row re-read), then one row is written behind the
cursor and the next pass must find exactly it (the rows re-read that pass).

    python bench/reconcile_behind.py [--sizes 100000] [--window 3500] [--unheld 0,350,3500]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))
from common import PG_ADMIN, machine, postgres_or_skip, state_db, timed
from reconcile import FILL, STEP_SECONDS

from feedsvc.db import Database
from feedsvc.ingest import Ingestor
from feedsvc.lifecycle.reconcile import Reconciler
from feedsvc.source import builtin_source
from feedsvc.store.cursors import record_success
from feedsvc.topic_index import TopicIndex


def one(kind: str, total: int, window: int, unheld: int, tmp: Path, pg: str) -> None:
    with state_db(kind, tmp, f"beh{total}_{unheld}", pg, Database) as db:
        now = datetime.now(UTC).replace(microsecond=0)
        stamp: object = now if kind == "postgresql" else now.strftime("%Y-%m-%d %H:%M:%S.000000")
        with db.engine.begin() as conn:
            for sql in FILL[kind]:
                params = {"now": stamp, "total": total, "window": window, "step": STEP_SECONDS}
                conn.execute(text(sql), params)
            conn.execute(
                text("UPDATE articles SET withdrawn_at = :now, withdrawn_reason = 'draft' "
                     "WHERE CAST(source_id AS INTEGER) <= :u"),
                {"now": stamp, "u": unheld},
            )  # fmt: skip
            conn.execute(text("ANALYZE"))
        source = builtin_source(db.engine)
        ing = Ingestor(db, source, TopicIndex(), tz=UTC, poll_seconds=1, overlap_seconds=300,
                       batch_size=100)  # fmt: skip
        ing.clock = lambda: now
        with db.write() as conn:
            record_success(conn, source.name, now, None, now)
        before = Reconciler(db, source, days=7, clock=lambda: now)
        after = Reconciler(db, source, days=7, clock=lambda: now, recover=ing.recover)
        assert before.run().withdrawn == () and after.run().found == 0
        old_median, old_p95 = timed(before.run, repeat=20)
        median, p95 = timed(after.run, repeat=20)
        steady = after.run()
        lost = now - timedelta(hours=1)
        with db.engine.begin() as conn:  # written behind the cursor (a slow clock)
            conn.execute(
                text("INSERT INTO source_articles (id, source_key, url, title, published_at, "
                     "changed_at, withdrawn) VALUES (:n, 'LOST', 'https://e.vn/lost', 'Tin', "
                     ":at, :at, false)"),
                {"n": total + 1, "at": lost if kind == "postgresql"
                 else lost.strftime("%Y-%m-%d %H:%M:%S.000000")},
            )  # fmt: skip
        t0 = time.perf_counter()
        found = after.run()
        found_ms = (time.perf_counter() - t0) * 1000
        assert found.found == 1, found
        print(
            f"{kind:10} {total:>9,} rows  window {window:,}, {steady.unheld:,} unheld  "
            f"pass before M4 {old_median:6.1f} ms (p95 {old_p95:6.1f})  with recover "
            f"{median:6.1f} ms (p95 {p95:6.1f}), rows re-read {steady.found}  "
            f"pass finding 1 row {found_ms:6.1f} ms, rows re-read {found.found}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--window", type=int, default=3500, help="rows in the last 7 days")
    parser.add_argument("--unheld", default="0,350,3500", help="window drafts, comma-separated")
    parser.add_argument("--pg", default=PG_ADMIN, help="PostgreSQL URL ('' to skip)")
    args = parser.parse_args()
    print(machine())
    args.pg = postgres_or_skip(args.pg)
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("sqlite", "postgresql") if args.pg else ("sqlite",):
            for total in (int(s) for s in args.sizes.split(",")):
                for unheld in (int(u) for u in args.unheld.split(",")):
                    one(kind, total, args.window, unheld, Path(tmp), args.pg)


if __name__ == "__main__":
    main()
