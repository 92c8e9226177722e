"""Rows the state DB refused, fixed at once in the CMS: ticks until all are in, the longest write.

A CMS table of ``--rows`` rows, 3 in 4 refused by an operator's trigger/CHECK on the state DB
(no title containing 'CẤM'), ingested; then every refused row is fixed in the CMS and the
10-minute re-check comes due once. Reported per tick, with no clock moved (the 10-minute
check is not due again): rows ingested, the tick's wall time and its longest write
transaction (SQLite: the database's writer lock; PostgreSQL: the rows' locks), which is what
the dispatchers' claims wait for. Run it with another checkout's ``feedsvc`` on
``PYTHONPATH`` (e.g. main before a change, from ``git archive``) to compare.

    python bench/recheck_store.py [--rows 1600] [--ticks 5] [--pg URL]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).parent))
from common import PG_ADMIN, machine, postgres_or_skip, state_db
from ingest import TimedDatabase

from feedsvc.config import SourceColumns
from feedsvc.ingest import Ingestor, unordered
from feedsvc.source import external_source
from feedsvc.topic_index import TopicIndex

VN = ZoneInfo("Asia/Ho_Chi_Minh")
T = datetime(2026, 11, 2, 8, 0)
COLUMNS = SourceColumns(
    cursor="modified", source_key="slug", url="link", title="title", body="body",
    published_at="created", updated_at="modified",
)  # fmt: skip


def refuse_word(db: TimedDatabase) -> None:
    with db.write() as conn:
        if db.dialect == "postgresql":
            conn.execute(
                text("ALTER TABLE articles ADD CONSTRAINT no_cam CHECK (title NOT LIKE '%CẤM%')")
            )
        else:
            conn.execute(text(
                "CREATE TRIGGER no_cam BEFORE INSERT ON articles WHEN new.title LIKE '%CẤM%' "
                "BEGIN SELECT RAISE(ABORT, 'no_cam'); END"
            ))  # fmt: skip


def cms(path: Path, rows: int) -> str:
    url = f"sqlite:///{path}"
    with create_engine(url).begin() as conn:
        conn.execute(text(
            "CREATE TABLE posts (id INTEGER PRIMARY KEY, slug TEXT, link TEXT, title TEXT, "
            "body TEXT, created TIMESTAMP, modified TEXT)"
        ))  # fmt: skip
        conn.execute(
            text("INSERT INTO posts VALUES (:n, :s, :l, :t, 'Giá vàng tăng', :at, :at)"),
            [
                {"n": n, "s": f"p-{n}", "l": f"https://baohaiphong.vn/{n}.html",
                 "t": f"Tin {'CẤM ' if n % 4 else ''}số {n}", "at": T + timedelta(minutes=n)}
                for n in range(1, rows + 1)
            ],
        )  # fmt: skip
    return url


def run(kind: str, tmp: Path, pg: str, rows: int, ticks: int) -> None:
    url = cms(tmp / f"cms-{kind}.db", rows)
    with state_db(kind, tmp, "recheck", pg, TimedDatabase) as db:
        refuse_word(db)
        ing = Ingestor(
            db, external_source(url, "posts", COLUMNS, VN), TopicIndex(), tz=VN,
            poll_seconds=1, overlap_seconds=3600, batch_size=100,
        )  # fmt: skip
        while ing.tick().read:
            pass
        with create_engine(url).begin() as conn:
            conn.execute(text("UPDATE posts SET title = 'Tin số ' || id"))
        ing.unordered_every = 0
        total = 0
        for n in range(ticks + 1):
            db.longest = 0.0
            t0 = time.perf_counter()
            result = ing.tick()
            wall = time.perf_counter() - t0
            total += result.new
            print(
                f"  {kind} tick {n}: {result.new:4d} ingested ({total} of {rows * 3 // 4}), "
                f"tick {wall * 1000:6.0f} ms, longest write {db.longest * 1000:5.0f} ms"
            )
            ing.unordered_every = unordered.CHECK_EVERY  # due once, as after 10 minutes
        ing.source.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1600, help="CMS rows (3 in 4 refused)")
    parser.add_argument("--ticks", type=int, default=4, help="ticks after the check")
    parser.add_argument("--pg", default=PG_ADMIN, help="PostgreSQL URL ('' to skip)")
    args = parser.parse_args()
    import feedsvc

    logging.disable(logging.WARNING)  # every refused row is one warning line

    print(f"machine: {machine()}; feedsvc from {Path(feedsvc.__file__).parent}")
    pg = postgres_or_skip(args.pg)
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("sqlite", "postgresql") if pg else ("sqlite",):
            run(kind, Path(tmp), pg, args.rows, args.ticks)


if __name__ == "__main__":
    main()
