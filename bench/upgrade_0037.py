"""What migration 0037 (the archive search keys of articles holding ``ʼ`` and kin, made again)
costs an operator's `feedsvc db upgrade` — or `run`'s start, which migrates too — on an archive
of N articles of which M hold such a letter, on SQLite and PostgreSQL.

The articles are written at 0036 in raw SQL with the old keys (and, on SQLite, their index
rows, as ingest wrote them); the upgrade to 0037 alone is timed (wall seconds).

    python bench/upgrade_0037.py [--count 100000] [--marked 100] [--pg URL | --pg '']
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
from common import PG_ADMIN, machine, postgres_or_skip

from feedsvc.db import Database, upgrade

INSERT = text(
    "INSERT INTO articles (source_key, version, url, title, body, tags, published_at,"
    " search_text, source_cursor, first_seen_at, last_changed_at) VALUES (:k, :t, :u, :title,"
    " :body, '[]', :t, 'kiênʼ1 kiênʼ thuy5 thuy', :t, :t, :t)"
)
BODY = "<p>Công an huyện Kiến Thụy điều tra vụ việc.</p>" * 60  # ~2.8 kB, a short article


def upgrade_seconds(url: str, count: int, marked: int) -> float:
    db = Database(url)
    try:
        upgrade(db, "0036")
        t = datetime(2026, 11, 1, tzinfo=UTC)
        every = max(1, count // max(marked, 1))
        rows = [
            {"k": f"a-{i}", "t": t, "u": f"https://x.vn/{i}", "body": BODY,
             "title": f"Kiếnʼ Thụy, tin {i}" if marked and i % every == 0 else f"Tin số {i}"}
            for i in range(count)
        ]  # fmt: skip
        with db.engine.begin() as conn:
            conn.execute(INSERT, rows)
            if conn.dialect.name == "sqlite":  # the index rows ingest wrote beside them
                conn.execute(text("INSERT INTO articles_search(rowid, search_text)"
                                  " SELECT id, search_text FROM articles"))  # fmt: skip
        started = time.perf_counter()
        upgrade(db, "0037")
        return time.perf_counter() - started
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--marked", type=int, default=100)
    parser.add_argument("--pg", default=PG_ADMIN.rsplit("/", 1)[0] + "/feedsvc_bench_0037")
    args = parser.parse_args()
    print(f"machine: {machine()}; {args.count} articles, {args.marked} holding ʼ")
    with tempfile.TemporaryDirectory() as tmp:
        took = upgrade_seconds(f"sqlite:///{tmp}/state.db", args.count, args.marked)
        print(f"SQLite      0036 → 0037: {took:6.2f} s")
    pg = postgres_or_skip(args.pg)
    if pg:
        db = Database(pg)
        with db.engine.begin() as conn:  # a fresh schema: the previous run's tables dropped
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.dispose()
        print(f"PostgreSQL  0036 → 0037: {upgrade_seconds(pg, args.count, args.marked):6.2f} s")


if __name__ == "__main__":
    main()
