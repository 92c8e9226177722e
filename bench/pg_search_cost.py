"""PostgreSQL archive search index: what it costs per article, part by part (issue 17 §2).

Ingest on PostgreSQL runs at ~0.1x of ``feedsvc import`` (``bench/ingest.py``), and the
floor — a bare insert of the article rows — already runs at ~0.2x because of the GIN index of
migration 0002 on ``to_tsvector('simple', search_text)``. This script splits that cost: the
search texts of ``--count`` generated articles (``bench/ingest.py``'s generator, as the
matcher writes them: ~300 distinct exact and folded keys each) are inserted by psycopg
``executemany``, ``--batch`` rows a transaction, into a bare table in a schema of their own,
with no index, with the schema's expression index, with the index built once afterwards, and
with a ``tsvector`` column; and the text search parser's own cost is timed by a ``SELECT``
over the stored texts. Wall time per row, the server's work included (it runs on the same
machine).

    python bench/pg_search_cost.py [--count 6000] [--batch 500] [--pg URL]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy import make_url

sys.path.insert(0, str(Path(__file__).parent))
from common import PG_ADMIN, machine, postgres_or_skip
from matching import Generator

from feedsvc.articles import parse_article
from feedsvc.topic_index import TopicIndex

EXPR = "to_tsvector('simple'::regconfig, s)"  # the index expression of migration 0002


def search_texts(count: int) -> list[str]:
    """The search text ingest stores for ``count`` generated articles (no topics)."""
    gen, index = Generator(seed=17), TopicIndex()
    texts = []
    for i in range(count):
        record = gen.article() | {
            "source_key": f"B{i}",
            "url": f"https://baohaiphong.vn/tin/{i}.html",
            "published_at": "2026-09-01T00:00:00+00:00",
        }
        texts.append(index.match(parse_article(record)).search_text)
    return texts


class Run:
    """One scratch schema on the server; each case recreates table ``t`` in it."""

    def __init__(self, url: str, batch: int) -> None:
        u = make_url(url)
        self.conn = psycopg.connect(
            host=u.host or "127.0.0.1", port=u.port or 5432, user=u.username or "postgres",
            password=u.password, dbname=u.database, autocommit=True,
        )  # fmt: skip
        self.schema = f"bench_pgsearch_{os.getpid()}"
        self.batch = batch
        self.conn.execute(f"CREATE SCHEMA {self.schema}")
        self.conn.execute(f"SET search_path = {self.schema}")

    def insert(self, setup: str, sql: str, rows: list[tuple[str, ...]], after: str = "") -> float:
        """Seconds to insert ``rows`` into a fresh ``t`` made by ``setup`` (then run ``after``)."""
        self.conn.execute("DROP TABLE IF EXISTS t")
        self.conn.execute(setup)
        t0 = time.perf_counter()
        with self.conn.cursor() as cur:
            for start in range(0, len(rows), self.batch):
                with self.conn.transaction():
                    cur.executemany(sql, rows[start : start + self.batch])
        if after:
            self.conn.execute(after)
        return time.perf_counter() - t0

    def select(self, expr: str) -> float:
        """Seconds to compute ``expr`` over every stored row of ``t``."""
        t0 = time.perf_counter()
        self.conn.execute(f"SELECT sum(length({expr})) FROM t").fetchone()
        return time.perf_counter() - t0

    def close(self) -> None:
        self.conn.execute(f"DROP SCHEMA {self.schema} CASCADE")
        self.conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--pg", default=PG_ADMIN)
    args = ap.parse_args()
    url = postgres_or_skip(args.pg)
    if not url:
        sys.exit(1)
    texts = search_texts(args.count)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}")
    keys = sum(len(t.split()) for t in texts) / len(texts)
    print(f"{len(texts):,} search texts: {sum(map(len, texts)) / len(texts):,.0f} characters, "
          f"{keys:.0f} keys each; µs per row, wall")  # fmt: skip
    run = Run(url, args.batch)
    plain = "CREATE TABLE t (id serial PRIMARY KEY, s text)"
    gin = f"{plain}; CREATE INDEX ON t USING gin ({EXPR})"
    rows = [(t,) for t in texts]
    into = "INSERT INTO t (s) VALUES (%s)"
    cases: list[tuple[str, Callable[[], float]]] = [
        ("insert, no index", lambda: run.insert(plain, into, rows)),
        ("insert, the schema's GIN expression index", lambda: run.insert(gin, into, rows)),
        ("insert, no index, then CREATE INDEX once",
         lambda: run.insert(plain, into, rows, f"CREATE INDEX ON t USING gin ({EXPR})")),
        ("to_tsvector('simple', s) alone (SELECT)", lambda: run.select(EXPR)),
        ("s::tsvector alone (SELECT, no parser)", lambda: run.select("s::tsvector")),
        ("insert into a tsvector column (cast) with GIN",
         lambda: run.insert("CREATE TABLE t (id serial PRIMARY KEY, s text, v tsvector); "
                            "CREATE INDEX ON t USING gin (v)",
                            "INSERT INTO t (s, v) VALUES (%s, %s::tsvector)",
                            [(t, t) for t in texts])),
    ]  # fmt: skip
    try:
        for label, case in cases:
            print(f"  {label:<52} {case() / len(texts) * 1e6:8,.0f}", flush=True)
    finally:
        run.close()
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
