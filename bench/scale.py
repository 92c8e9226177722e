"""Scale: 1,000,000 stored articles in PostgreSQL (issue 7, "Large archives").

Measures, on a state DB holding 1,000,000 articles (and 1,000,000 built-in source rows):
idle ingest tick (with the replica lease, as in production), topic feed render (RSS/Atom/JSON,
50 items), topic preview over the whole archive (candidates from the search index of migration
0002, the newest ``scan`` re-checked by the matcher), the SQL candidate scan it would need without
an index, and the RSS memory of one ``feedsvc run`` replica after serving feeds.

The rows are generated inside PostgreSQL (``generate_series``) from eight Vietnamese templates
whose ``search_text`` comes from the real normaliser; a second run reuses the database
(``--rebuild`` to regenerate).

Usage: .venv/bin/python bench/scale.py [--rows N] [--rebuild] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, timed

from feedsvc.articles import Article
from feedsvc.config import load_config
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import article_topics, articles
from feedsvc.ingest import IngestLease, Ingestor
from feedsvc.operations import backfill_topic
from feedsvc.preview import preview
from feedsvc.publish import FeedPublisher
from feedsvc.source import builtin_source
from feedsvc.store import cursors
from feedsvc.store.topics import TopicSpec, get_topic, save_topic
from feedsvc.topic_index import TopicIndex

ADMIN = os.environ.get("FEEDSVC_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DB_NAME = "feedsvc_bench_scale"
QUERY = '"công an" AND ("Kiến Thụy" OR "Lê Chân")'
BROAD = '"công an" AND "Kiến Thụy"'
T0 = datetime(2024, 1, 1, tzinfo=UTC)
STEP = 30  # seconds between generated articles
TEMPLATES = [
    ("Công an Kiến Thụy bắt đối tượng trộm cắp", "An ninh - Trật tự"),
    ("Mưa lớn kéo dài, nhiều tuyến phố ngập sâu", "Thời sự"),
    ("Cảng biển đón tàu container trọng tải lớn", "Kinh tế"),
    ("Điều chỉnh lộ trình các tuyến xe buýt", "Giao thông"),
    ("Công an quận Lê Chân triệt phá đường dây lừa đảo", "An ninh - Trật tự"),
    ("Giá rau xanh tăng mạnh sau đợt mưa bão", "Kinh tế"),
    ("Trường học chuẩn bị cho năm học mới", "Giáo dục"),
    ("Lễ hội hoa phượng đỏ thu hút du khách", "Văn hóa"),
]
SUMMARY = "Lực lượng chức năng nhanh chóng có mặt, người dân phản ánh sự việc từ sáng sớm."
BODY = "<p>" + SUMMARY + " Cơ quan chức năng đang tiếp tục làm rõ.</p>"


def sql_array(values: list[str]) -> str:
    return "(ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "])"


def generate(db: Database, rows: int) -> None:
    index = TopicIndex()
    searches = [
        index.match(
            Article(
                source_key="x",
                url="https://e.vn/x",
                title=t,
                published_at=T0,
                summary=SUMMARY,
                body=BODY,
                section=s,
                tags=("Hải Phòng",),
            )
        ).search_text
        for t, s in TEMPLATES
    ]
    titles = sql_array([t for t, _ in TEMPLATES])
    sections = sql_array([s for _, s in TEMPLATES])
    search = sql_array(searches)
    at = f"CAST(:t0 AS timestamptz) + n * interval '{STEP} seconds'"
    common = f"""
        'SC-' || lpad(n::text, 8, '0'), 'https://example.vn/tin/' || n || '.html',
        {titles}[1 + n % 8] || ' số ' || n, :summary, :body, 'Phóng viên',
        {sections}[1 + n % 8], '["Hải Phòng"]'::json, NULL,
        CAST(:t0 AS timestamptz) + n * interval '{STEP} seconds', NULL"""
    with db.engine.begin() as conn:
        params = {"summary": SUMMARY, "body": BODY, "t0": T0}
        t = time.perf_counter()
        conn.execute(
            text(
                "INSERT INTO source_articles (source_key, url, title, summary, body, author, "
                "section, tags, image_url, published_at, updated_at, changed_at) "
                f"SELECT {common}, CAST(:t0 AS timestamptz) + n * interval '{STEP} seconds' "
                f"FROM generate_series(1, {rows}) n"
            ),
            params,
        )
        conn.execute(
            text(
                "INSERT INTO articles (source_key, url, title, summary, body, author, section, "
                "tags, image_url, published_at, updated_at, version, search_text, "
                "source_cursor, first_seen_at, last_changed_at) "
                f"SELECT {common}, {at}, {search}[1 + n % 8], t, t, t "
                f"FROM (SELECT n, {at} AS t FROM generate_series(1, {rows}) n) g"
            ),
            params,
        )
        print(f"generated {rows} + {rows} rows in {time.perf_counter() - t:.0f} s")
        now = datetime.now(UTC)
        save_topic(conn, TopicSpec("an-ninh", "An ninh", QUERY), "bench", now)
        topic = get_topic(conn, "an-ninh")
        assert topic is not None
        conn.execute(
            text(
                "INSERT INTO article_topics (article_id, topic_id, terms, matched_at) "
                "SELECT id, :tid, '[]'::json, :now FROM articles "
                "WHERE title LIKE 'Công an Kiến Thụy%' OR title LIKE 'Công an quận Lê Chân%'"
            ),
            {"tid": topic.id, "now": now},
        )
        last = conn.execute(text("SELECT max(id) FROM source_articles")).scalar_one()
        end = T0 + timedelta(seconds=STEP * rows)
        codec = builtin_source(db.engine).codec
        cursors.record_success(conn, "builtin", end, codec.encode(end, last), now)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def ensure_db(rebuild: bool, rows: int, name: str = DB_NAME) -> str:
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
        if exists and rebuild:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
            exists = None
        if not exists:
            conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    db = Database(url)
    upgrade(db)
    with db.read() as conn:
        have = conn.execute(select(func.count()).select_from(articles)).scalar_one()
    if have != rows:
        if have:
            raise SystemExit(f"{name} holds {have} articles, not {rows}: use --rebuild")
        generate(db, rows)
    db.dispose()
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def replica_rss(url: str, tmp: Path) -> tuple[float, float]:
    """Start one replica (HTTP, scheduler, no bot), serve the topic's feeds, read VmRSS (MB)."""
    port = free_port()
    env = {
        **os.environ,
        "FEEDSVC_DATABASE__URL": url,
        "FEEDSVC_HTTP__PORT": str(port),
        "FEEDSVC_HTTP__PUBLIC_URL": f"http://127.0.0.1:{port}",
        "FEEDSVC_TOPICS__IMPORT_ON_START": "false",
        "FEEDSVC_SOURCE__POLL_SECONDS": "1",
        "FEEDSVC_CONFIG": "/dev/null",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "run", "--no-bot"],
        env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/readyz", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("replica did not become ready") from None
                time.sleep(0.2)
        t = time.perf_counter()
        for _ in range(20):
            for fmt in ("rss", "atom", "json"):
                urllib.request.urlopen(f"{base}/feeds/an-ninh.{fmt}", timeout=10).read()
        per_request = (time.perf_counter() - t) * 1000 / 60
        status = Path(f"/proc/{proc.pid}/status").read_text()
        rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
        return rss / 1024, per_request
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--db", default=DB_NAME, help="database name (created if missing)")
    args = parser.parse_args()
    url = ensure_db(args.rebuild, args.rows, args.db)
    db = Database(url)
    settings = load_config(None, {"database": {"url": url}})
    ingestor = Ingestor(
        db, builtin_source(db.engine), TopicIndex(), tz=settings.source_tz, poll_seconds=1,
        overlap_seconds=300, batch_size=500, lease=IngestLease("bench", poll_seconds=1),
    )  # fmt: skip
    assert ingestor.tick().read == 0, "the generated cursor should be at the end"
    results: list[tuple[str, str, str, str]] = []

    def row(name: str, ms: tuple[float, float], goal: str) -> None:
        results.append((name, f"{ms[0]:.1f}", f"{ms[1]:.1f}", goal))
        print(f"{name:<58} median {ms[0]:9.1f} ms  p95 {ms[1]:9.1f} ms  ({goal})")

    row("idle ingest tick (lease + window check + keyset read)", timed(ingestor.tick), "< 50 ms")
    publisher = FeedPublisher(db, settings)
    with db.read() as conn:
        topic = get_topic(conn, "an-ninh")
    assert topic is not None
    row(
        "topic feed render, 50 items, rss+atom+json",
        timed(lambda: publisher._render_topic(topic, 50)),
        "< 100 ms",
    )
    for scan in (2000, 20_000):
        result = preview(db, QUERY, scan=scan)
        assert result.indexed, "the bench query has key sets: preview must use the index"
        row(
            f"topic preview, whole archive via search index, {scan:,} candidates checked",
            timed(partial(preview, db, QUERY, scan=scan), 3),
            "< 1 s" if scan == 2000 else "-",
        )
    rare = '"Kiến Thụy" AND "Lê Chân"'  # no article has both: the index answers alone
    row(
        "topic preview, whole archive, query with no match",
        timed(lambda: preview(db, rare), 3),
        "< 1 s",
    )

    def like_scan() -> None:
        with db.read() as conn:
            conn.execute(
                select(func.count()).where(articles.c.search_text.like("%công an%kiên1 thuy5%"))
            ).scalar_one()

    row("SQL candidate scan over search_text (no index, seq scan)", timed(like_scan, 3), "-")
    slug = "bench-backfill"  # a broad topic: one article in eight matches
    with db.write() as conn:
        save_topic(conn, TopicSpec(slug, "Công an Kiến Thụy", BROAD), "bench", db.now())
        topic_id = conn.execute(text("SELECT id FROM topics WHERE slug = :s"), {"s": slug}).scalar()
        conn.execute(article_topics.delete().where(article_topics.c.topic_id == topic_id))
    for label in ("empty topic: every match added", "again: every match already there"):
        t0 = time.perf_counter()
        done = backfill_topic(db, slug, days=None)
        seconds = time.perf_counter() - t0
        name = f"backfill of {BROAD}, whole archive, {label} ({done.added:,} added)"
        results.append((name, f"{seconds * 1000:.0f}", "-", "-"))
        print(f"{name:<58} {seconds:9.1f} s  ({done.checked:,} checked, {done.matched:,} match)")
    mb, per_request = replica_rss(url, Path("/tmp"))
    results.append(
        ("one replica: RSS after serving 60 feed requests (MB)", f"{mb:.0f}", "-", "< 300 MB")
    )
    results.append(("one replica: feed request (ms, sequential)", f"{per_request:.1f}", "-", "-"))
    print(f"replica RSS {mb:.0f} MB; {per_request:.1f} ms per feed request")
    db.dispose()
    if args.markdown:
        lines = [
            "| measurement | median | p95 | goal |",
            "| --- | ---: | ---: | --- |",
            *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in results),
        ]
        args.markdown.write_text(
            f"Machine: {machine()}; PostgreSQL, {args.rows:,} articles.\n\n"
            + "\n".join(lines)
            + "\n",
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
