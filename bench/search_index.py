"""SQLite archive search index: what FTS5 ``detail=none`` (migration 0014) saves on the write side.

The same generated ~2 KB articles (``bench/ingest.py``'s file) are stored through
``feedsvc.store.articles.insert_articles`` — the ``articles`` insert plus its FTS5 index rows, as
ingest writes them — in batches of ``--batch`` (one write transaction each), into three state
DBs: one at the head migration (``detail=none``), one downgraded to 0013 (the default
``detail``, positions kept), and a floor whose ``articles_search`` is a plain table (the same
statements, no FTS5 work). Rounds alternate between the three so a shared machine's load hits
them alike; the figure is the median over rounds of this process's CPU time per article
(``time.process_time``; the range over rounds, and the wall time, beside it). Then the DB
size (WAL checkpointed; the index's own pages from ``dbstat``) and the median time of a few
``candidate_ids`` lookups on the filled archive; last, how long migration 0014 takes on the
filled 0013 DB.

    python bench/search_index.py [--count 4000] [--batch 100] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, timed
from ingest import articles_file

from feedsvc.articles import DEFAULT_TZ, Article
from feedsvc.db import Database, upgrade
from feedsvc.jsonlines import read_jsonl
from feedsvc.matching import candidate_key_sets, document_from_article, parse_query, search_keys
from feedsvc.store.article_search import candidate_ids
from feedsvc.store.articles import SourcePosition, insert_articles

QUERIES = ('"Kiến Thụy"', '"Đồ Sơn" OR "Cát Bà"', '"công an" AND "giao thông"', "~kien AND ~an")
Rows = list[tuple[Article, str, SourcePosition]]


def state_db(path: Path, revision: str | None) -> Database:
    """A fresh state DB at head, or downgraded to ``revision`` (its search index as it was)."""
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    if revision is not None:
        from alembic import command

        from feedsvc.db.engine import alembic_config

        cfg = alembic_config(db)
        with db.engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)
            conn.commit()
    return db


def definition(db: Database) -> str:
    with db.read() as conn:
        sql = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'articles_search'"
        ).scalar_one()
    return " ".join(str(sql).split())


def store(db: Database, rows: Rows, batch: int) -> tuple[float, float]:
    """All ``rows`` in batches, one write transaction each; (wall, CPU) seconds."""
    now = datetime.now(UTC)
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(rows), batch):
        with db.write() as conn:
            insert_articles(conn, rows[start : start + batch], now)
    return time.perf_counter() - wall, time.process_time() - cpu


def size_mb(db: Database, path: Path) -> tuple[float, float]:
    """The DB file (WAL checkpointed) and the index's own pages (its shadow tables), MB."""
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cur.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'articles_search%'")
        index = cur.fetchone()[0] or 0
    finally:
        raw.close()
    return path.stat().st_size / 1e6, index / 1e6


def lookups_ms(db: Database) -> float:
    """Median ms of the :data:`QUERIES` lookups together (no limit: every candidate)."""
    sets = [candidate_key_sets(parse_query(q)) for q in QUERIES]

    def run() -> None:
        with db.read() as conn:
            for key_sets in sets:
                assert candidate_ids(conn, key_sets, None)

    return timed(run, repeat=20)[0]


#: name → (revision to downgrade to, or None for head; the index replaced by a plain table)
VARIANTS = {
    "no index (plain table, floor)": (None, True),
    "default detail (0013)": ("0013", False),
    "detail=none (0014, head)": (None, False),
}


def without_index(db: Database) -> None:
    """The floor: ``articles_search`` a plain rowid table taking the same rows (no FTS5)."""
    with db.write() as conn:
        for statement in (
            "DROP TRIGGER articles_search_ad",
            "DROP TRIGGER articles_search_au",
            "DROP TABLE articles_search",
            "CREATE TABLE articles_search (search_text TEXT)",
        ):
            conn.exec_driver_sql(statement)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "articles.jsonl"
        articles_file(source, args.count)
        with source.open(encoding="utf-8") as fh:
            items = [a for _, a in read_jsonl(fh, DEFAULT_TZ) if isinstance(a, Article)]
        rows: Rows = [
            (a, search_keys(document_from_article(a)), SourcePosition(a.published_at, str(i)))
            for i, a in enumerate(items)
        ]
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in VARIANTS}
        last: dict[str, tuple[Database, Path]] = {}
        for r in range(args.rounds):  # alternating, so load changes hit every variant alike
            for v, (name, (revision, floor)) in enumerate(VARIANTS.items()):
                if name in last:
                    last.pop(name)[0].dispose()
                path = Path(tmp) / f"{r}-{v}.db"
                db = state_db(path, revision)
                if floor:
                    without_index(db)
                times[name].append(store(db, rows, args.batch))
                last[name] = (db, path)
        n = len(rows)
        print(f"{n:,} articles of ~2 KB, batches of {args.batch}, {args.rounds} rounds:")
        for name, (db, path) in last.items():
            cpus = [c / n * 1e6 for _, c in times[name]]
            wall = statistics.median(w for w, _ in times[name]) / n * 1e6
            size, index = size_mb(db, path)
            floor = VARIANTS[name][1]
            lookups = "" if floor else f", {len(QUERIES)} lookups {lookups_ms(db):5.1f} ms"
            print(
                f"  {name:30} CPU {statistics.median(cpus):4.0f} µs/article "
                f"({min(cpus):.0f}–{max(cpus):.0f}; wall {wall:4.0f}), "
                f"DB {size:5.1f} MB (index {index:4.1f}){lookups}"
            )
            if not floor:
                print(f"    {definition(db)}")
        old, _ = last["default detail (0013)"]
        t0 = time.perf_counter()
        upgrade(old)  # 0014 on a filled archive: the index dropped, created and rebuilt
        took = time.perf_counter() - t0
        print(f"  upgrade 0013 → 0014 of the filled 0013 DB: {took:.2f} s wall")
        for db, _ in last.values():
            db.dispose()
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
