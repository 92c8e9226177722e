"""Ingest: idle tick vs source size, and first-sync throughput against import.

Goals: idle tick with 1,000,000 source rows within 2x of 10,000 rows and < 20 ms (issue #2;
since issue 18 §2 the tick compares the overlap window row by row, measured here);
import >= 5,000 articles/s into SQLite (issue #2); a first sync at 5,000 topics at least as fast
as ``feedsvc import`` of the same file, on SQLite and PostgreSQL, side by side with ingest at
100 topics and a bare ``executemany`` of the same rows as the floor, plus the longest write
transaction during the sync, and the normaliser alone (search text, no topics, no database) as
the floor of the matching leg (issue 17 §2).

    python bench/ingest.py [--big 1000000] [--count 20000] [--pg URL] [--only idle|throughput]
                           [--baseline /path/to/other/checkout]

Throughput is reported as wall time and as CPU time of this process (all its threads:
``time.process_time``), which a shared machine's load distorts less; on PostgreSQL the server's
own CPU is not in the CPU figure (for import and ingest alike). ``--baseline`` runs the same
throughput measurements with another checkout's ``feedsvc`` (e.g. main before a change, from
``git archive``) in a child process, alternating with this one, so both are measured in one run.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, insert, text

sys.path.insert(0, str(Path(__file__).parent))
from common import PG_ADMIN, machine, postgres_or_skip, state_db, timed
from matching import Generator

from feedsvc.articles import DEFAULT_TZ, Article
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import articles, source_articles
from feedsvc.importer import import_articles
from feedsvc.ingest import Ingestor
from feedsvc.jsonlines import read_jsonl
from feedsvc.matching.worker import match_text
from feedsvc.outbox import Outbox
from feedsvc.source import builtin_source
from feedsvc.store.cursors import record_success
from feedsvc.store.topics import TopicSpec, save_topic
from feedsvc.topic_index import TopicIndex, article_text


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


# -- throughput: import vs ingest vs a bare executemany (issue 17 §2) ---------------------------
class TimedDatabase(Database):
    """Records how long each write transaction held the lock (SQLite: the database's write lock;
    PostgreSQL: the rows' locks), to report the longest one during a first sync."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.longest = 0.0

    @contextmanager
    def write(self) -> Iterator[Connection]:
        t0 = time.perf_counter()
        with super().write() as conn:
            yield conn
        self.longest = max(self.longest, time.perf_counter() - t0)


def articles_file(path: Path, count: int) -> None:
    """``count`` generated ~2 KB Vietnamese articles (bench/matching.py's generator) as JSONL."""
    gen = Generator(seed=17)
    start = datetime.now(UTC) - timedelta(days=90)  # older than alert_max_age: no alerts
    with path.open("w", encoding="utf-8") as fh:
        for i in range(count):
            record = gen.article() | {
                "source_key": f"BENCH-{i:07d}",
                "url": f"https://baohaiphong.vn/tin/{i}.html",
                "published_at": (start + timedelta(seconds=60 * i)).isoformat(),
            }
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")


Clock = tuple[float, float]  # (wall, CPU of this process) seconds


def clock() -> Clock:
    return time.perf_counter(), time.process_time()


def since(start: Clock) -> Clock:
    wall, cpu = clock()
    return wall - start[0], cpu - start[1]


def import_file(db: Database, path: Path) -> Clock:
    """``feedsvc import FILE``'s work in-process (read, validate, upsert); (wall, CPU) s."""
    t0 = clock()
    with path.open(encoding="utf-8") as fh:
        report = import_articles(db, read_jsonl(fh, DEFAULT_TZ), now=lambda: datetime.now(UTC))
    assert not report.rejected, report.rejected[:3]
    return since(t0)


def workers_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by the running processes ``pids`` (Linux)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / os.sysconf("SC_CLK_TCK")


def first_sync(
    db: TimedDatabase, topics: dict[str, str], batch_size: int, workers: int | None = None
) -> tuple[Clock, str]:
    """Ingest everything in the built-in table from an empty cursor, as the service does (the
    outbox hook included); (wall, CPU) seconds and a note. ``workers``: match processes (None:
    a checkout without the match pool). CPU includes the match workers' CPU; their start-up
    (spawn, matcher build) is untimed like the index build, and given in the note."""
    now = datetime.now(UTC)
    with db.write() as conn:
        for slug, query in topics.items():
            save_topic(conn, TopicSpec(slug, slug, query), "cli", now)
    pool = {} if workers is None else {"match_workers": workers}
    ing = Ingestor(
        db,
        builtin_source(db.engine),
        TopicIndex(),
        tz=UTC,
        poll_seconds=1,
        overlap_seconds=300,
        batch_size=batch_size,
        **pool,
    )
    ing.hooks.append(Outbox(timedelta(hours=48)))
    with db.read() as conn:
        ing.index.refresh(conn)  # the matcher build is start-up work, not ingest
    note, pids = "", []
    if workers:
        t = time.perf_counter()
        ing.matching.warm()
        pids = ing.matching.pool.pids()
        note = f"{workers} match worker(s), start-up {time.perf_counter() - t:.2f} s untimed; "
    db.longest = 0.0
    t0, w0 = clock(), workers_cpu(pids)
    result = ing.tick()
    count = result.read
    wall, cpu = since(t0)
    worker_cpu = workers_cpu(pids) - w0
    if pids:
        note += f"CPU µs/article: this process {cpu / count * 1e6:.0f}, workers "
        note += f"{worker_cpu / count * 1e6:.0f}; "
    cpu += worker_cpu
    assert result.error is None and result.rejected == 0, (result.error, result.rejected)
    if pids:
        assert pids == ing.matching.pool.pids(), "a match worker was replaced during the run"
    if workers is not None:
        ing.close()
    return (wall, cpu), note


def floor(db: Database, path: Path) -> Clock:
    """A bare ``executemany`` of the rows ingest writes into ``articles`` (search text computed
    beforehand), plus, on SQLite, their search index rows (written by ingest since migration
    0010; before it, by the insert trigger): what the state DB itself costs; (wall, CPU) s."""
    index = TopicIndex()
    with path.open(encoding="utf-8") as fh:
        items = [a for _, a in read_jsonl(fh, DEFAULT_TZ) if isinstance(a, Article)]
    now = datetime.now(UTC)
    rows = [
        {
            "source_key": a.source_key,
            "version": a.version,
            "url": a.url,
            "title": a.title,
            "summary": a.summary,
            "body": a.body,
            "author": a.author,
            "section": a.section,
            "tags": list(a.tags),
            "image_url": a.image_url,
            "published_at": a.published_at,
            "updated_at": a.updated_at,
            "search_text": index.match(a).search_text,
            "source_cursor": now,
            "source_id": str(i),
            "first_seen_at": now,
            "last_changed_at": now,
        }
        for i, a in enumerate(items)
    ]
    t0 = clock()
    for start in range(0, len(rows), 500):
        with db.write() as conn:
            conn.execute(insert(articles), rows[start : start + 500])
            if db.dialect == "sqlite" and not _fts_trigger(conn):
                conn.execute(
                    text(
                        "INSERT INTO articles_search(rowid, search_text) SELECT id, search_text "
                        "FROM articles WHERE id > (SELECT coalesce(max(rowid), 0) "
                        "FROM articles_search)"
                    )
                )
    return since(t0)


def normaliser_alone(path: Path) -> Clock:
    """Only the search text of every article, in this process (no topics, no database, the
    file parsed beforehand): what the Python normaliser costs per article, a lower bound on a
    first sync's matching leg whatever the topics (issue 17 §2). Run twice, the second timed,
    so its per-chunk cache is as warm as a long sync's; (wall, CPU) s."""
    with path.open(encoding="utf-8") as fh:
        texts = [article_text(a) for _, a in read_jsonl(fh, DEFAULT_TZ) if isinstance(a, Article)]
    for item in texts:
        match_text(None, item)
    t0 = clock()
    for item in texts:
        match_text(None, item)
    return since(t0)


def _fts_trigger(conn: Connection) -> bool:
    """Whether this schema still indexes by trigger (a baseline before migration 0010)."""
    found = conn.execute(
        text("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'articles_search_ai'")
    ).first()
    return found is not None


Figures = list[tuple[str, float, float, str]]  # label, wall s, CPU s, note
IMPORT = "feedsvc import"  # the row every other is compared with


def throughput(kind: str, count: int, tmp: Path, pg: str) -> Figures:
    path = tmp / "articles.jsonl"
    if not path.exists():
        articles_file(path, count)
    gen = Generator(seed=3)
    figures: Figures = []
    with state_db(kind, tmp, "floor", pg, TimedDatabase) as db:
        figures.append(("bare executemany into articles (floor)", *floor(db, path), ""))
    if kind == "postgresql":  # what the archive search index (GIN, migration 0002) costs of it
        with state_db(kind, tmp, "floornogin", pg, TimedDatabase) as db:
            with db.write() as conn:
                conn.execute(text("DROP INDEX IF EXISTS ix_articles_search_text_tsv"))
            figures.append(("the floor without the search index", *floor(db, path), ""))
    with state_db(kind, tmp, "import", pg, TimedDatabase) as db:
        figures.append((f"{IMPORT} (read, validate, upsert)", *import_file(db, path), ""))
    if kind == "sqlite":  # no database in it: once per run
        note = "search text only, warm chunk cache, one process"
        figures.append(("the normaliser alone (no DB, no topics)", *normaliser_alone(path), note))
    auto = None  # a baseline checkout without the match pool
    if "match_workers" in inspect.signature(Ingestor).parameters:
        from feedsvc.config import match_processes

        auto = match_processes("auto")
    runs = [(100, auto), (5000, auto)] + ([(5000, 0)] if auto else [])
    for n, workers in runs:
        topics = gen.topics(n)
        with state_db(kind, tmp, f"ingest{n}_{workers}", pg, TimedDatabase) as db:
            import_file(db, path)
            (wall, cpu), note = first_sync(db, topics, 500, workers)
            note += f"longest write transaction {db.longest * 1000:.0f} ms"
            label = f"ingest, first sync, {n:,} topics" + (", in-process" if workers == 0 else "")
            figures.append((label, wall, cpu, note))
    return figures


def report(title: str, count: int, figures: Figures) -> None:
    (base_wall, base_cpu) = next((w, c) for label, w, c, _ in figures if label.startswith(IMPORT))
    print(f"{title}, {count:,} articles of ~2 KB (x import: same code, same run):")
    print(f"  {'':<42} {'wall art/s':>10} {'x import':>8} {'CPU art/s':>10} {'x import':>8}")
    for label, wall, cpu, extra in figures:
        print(
            f"  {label:<42} {count / wall:>10,.0f} {base_wall / wall:>8.2f} "
            f"{count / cpu:>10,.0f} {base_cpu / cpu:>8.2f}  {extra}"
        )


def baseline_throughput(checkout: Path, kind: str, count: int, pg: str) -> Figures:
    """The same measurements with ``checkout``'s feedsvc (this script, its code first on the
    path), in a child process."""
    env = {**os.environ, "PYTHONPATH": str(checkout.resolve())}
    argv = [sys.executable, __file__, "--child", kind, "--count", str(count), "--pg", pg]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"baseline failed: {done.stderr[-2000:]}")
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert str(checkout.resolve()) in loaded["code"], loaded["code"]
    return [tuple(f) for f in loaded["figures"]]  # type: ignore[misc]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--count", type=int, default=20_000, help="articles for throughput")
    parser.add_argument("--pg", default=PG_ADMIN, help="PostgreSQL URL ('' to skip)")
    parser.add_argument("--only", choices=("idle", "throughput"))
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="another checkout whose throughput to measure alongside",
    )
    parser.add_argument("--child", choices=("sqlite", "postgresql"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # a --baseline run: figures as JSON
        import feedsvc

        with tempfile.TemporaryDirectory() as tmp:
            figures = throughput(args.child, args.count, Path(tmp), args.pg)
        print(json.dumps({"code": feedsvc.__file__, "figures": figures}))
        return
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}")
    args.pg = postgres_or_skip(args.pg) if args.only != "idle" else args.pg
    with tempfile.TemporaryDirectory() as tmp:
        if args.only != "throughput":
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
        if args.only != "idle":
            for kind in ("sqlite", "postgresql") if args.pg else ("sqlite",):
                if args.baseline is not None:
                    old = baseline_throughput(args.baseline, kind, args.count, args.pg)
                    report(f"baseline {args.baseline}: {kind}", args.count, old)
                figures = throughput(kind, args.count, Path(tmp), args.pg)
                report(f"this checkout: {kind}", args.count, figures)
        print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
