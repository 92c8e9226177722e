"""Soak: the real service for a long while under steady load; is memory flat, are fds and
threads flat? (issue #18 §5: a slow drift 115 → 134 MB over 10 minutes.)

Runs ``feedsvc run`` (all roles: HTTP, scheduler, bot polling the fake Bot API from tests/) on
SQLite in a temp dir, with:

* an archive of ``--seed`` articles stored first (too old to alert), so that the caches whose
  size follows the archive (the search scan, the rendered-item cache) start full instead of
  filling during the measurement;
* steady ingest: one new source article every ``--article-every`` seconds, rotating through
  the topics, plus an update of an older article now and then (feeds re-render, no alert);
* feed polls: a few reader threads polling every topic feed in all formats, half of them
  conditional (ETag), gzip or not, plus OPML, the index, search feeds and /metrics;
* alerts: every topic has private chats subscribed, sent to the fake Bot API (Telegram pacing
  enforced, so a 429 would show).

Every ``--sample`` seconds it reads the service's RSS, open fds and threads from /proc and prints
one line; at the end the curve (per-minute) and a summary: RSS after warm-up vs at the end.

    python bench/soak.py [--minutes 45] [--sample 15] [--warmup 10] [--article-every 0.25]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT / "tests"))
from common import machine  # noqa: E402
from fakebot import FakeBotAPI  # noqa: E402
from processes import free_port, wait_until  # noqa: E402

from feedsvc.articles import Article  # noqa: E402
from feedsvc.db import Database, upgrade  # noqa: E402
from feedsvc.store.source_articles import upsert_source_articles  # noqa: E402
from feedsvc.store.subscriptions import ensure_chat, subscribe  # noqa: E402
from feedsvc.store.topics import TopicSpec, get_topic, save_topic  # noqa: E402

TOPICS = {
    "kien-thuy": ("Kiến Thụy", '"Kiến Thụy"'),
    "an-ninh": ("An ninh", '"an ninh" OR "công an"'),
    "giao-thong": ("Giao thông", '"giao thông" OR "tai nạn"'),
    "thoi-tiet": ("Thời tiết", '"mưa lớn" OR bão'),
    "do-son": ("Đồ Sơn", '"Đồ Sơn"'),
}
PHRASES = [
    "Công an huyện Kiến Thụy triệt phá đường dây cờ bạc",
    "Bảo đảm an ninh trật tự dịp lễ tại phường Lạch Tray",
    "Tai nạn giao thông trên quốc lộ 10 đoạn qua An Lão",
    "Mưa lớn gây ngập nhiều tuyến phố, bão số 3 đang tới gần",
    "Lễ hội chọi trâu Đồ Sơn thu hút du khách",
]
CHATS_PER_TOPIC = 3


@dataclass
class Sample:
    t: float  # seconds since the service answered /readyz
    rss_mb: float
    fds: int
    threads: int


def proc_sample(pid: int, t0: float) -> Sample:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = {k: v.strip() for k, _, v in (line.partition(":") for line in status)}
    rss_kb = int(fields["VmRSS"].split()[0])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return Sample(time.monotonic() - t0, rss_kb / 1024, fds, int(fields["Threads"]))


def make_article(n: int, published_at: datetime | None = None) -> Article:
    phrase = PHRASES[n % len(PHRASES)]
    return Article(
        source_key=f"SOAK-{n:+08d}",
        url=f"https://example.vn/tin/soak-{n}.html",
        title=f"{phrase} (tin số {n})",
        summary=f"<p>{phrase}. Thông tin chi tiết đang được cập nhật.</p>",
        body="<p>" + " ".join([phrase] * 20) + "</p>",
        author="Phóng viên",
        section="Thời sự",
        tags=("Hải Phòng",),
        published_at=published_at or datetime.now(UTC),
    )


def prepare(db: Database, seed: int) -> None:
    """Topics, subscribed chats, and an archive of ``seed`` articles (too old to alert)."""
    upgrade(db)
    now = datetime.now(UTC)
    for start in range(0, seed, 1000):
        batch = [
            make_article(-1 - n, now - timedelta(days=3, minutes=n))
            for n in range(start, min(seed, start + 1000))
        ]
        with db.write() as conn:
            upsert_source_articles(conn, batch, now)
    chat = 5000
    with db.write() as conn:
        for slug, (title, query) in TOPICS.items():
            save_topic(conn, TopicSpec(slug, title, query), "cli", now)
            topic = get_topic(conn, slug)
            assert topic is not None
            for _ in range(CHATS_PER_TOPIC):
                chat += 1
                ensure_chat(conn, chat, "private", None, now)
                subscribe(conn, chat, topic_id=topic.id, query=None, now=now)


def ingest_loop(db: Database, every: float, stop: threading.Event, count: list[int]) -> None:
    n = 0
    while not stop.wait(every):
        n += 1
        items = [make_article(n)]
        if n % 10 == 0 and n > 20:  # a correction of an older article: re-render, no alert
            old = make_article(n - 15)
            items.append(
                replace(
                    old,
                    title=old.title + " (cập nhật)",
                    updated_at=datetime.now(UTC) + timedelta(seconds=1),
                )
            )
        try:
            with db.write() as conn:
                upsert_source_articles(conn, items, datetime.now(UTC))
        except Exception as exc:  # e.g. "database is locked" while the first sync runs
            print(f"source write failed, retried next time: {exc!r}"[:200], flush=True)
            continue
        count[0] = n


def poll_loop(base: str, seed: int, stop: threading.Event, counts: dict[str, int]) -> None:
    rng = random.Random(seed)
    etags: dict[str, str] = {}
    paths = [f"/feeds/{s}.{f}" for s in TOPICS for f in ("rss", "atom", "json")]
    extra = ["/feeds.opml", "/", "/metrics", "/readyz", "/healthz"]
    searches = ['"công an"', "Kiến Thụy", "bão OR mưa", '~"do son"', "giao thông -quốc"]
    with httpx.Client(base_url=base, timeout=10) as client:
        while not stop.wait(0.05):
            roll = rng.random()
            if roll < 0.8:
                path = rng.choice(paths)
            elif roll < 0.95:
                path = rng.choice(extra)
            else:
                path = f"/feeds/search.{rng.choice(['rss', 'atom', 'json'])}"
            headers = {"accept-encoding": "gzip"} if rng.random() < 0.5 else {}
            if path in etags and rng.random() < 0.5:
                headers["if-none-match"] = etags[path]
            params = {"q": rng.choice(searches)} if "search" in path else None
            try:
                r = client.get(path, headers=headers, params=params)
            except httpx.HTTPError as exc:
                key = f"error {type(exc).__name__}"
                counts[key] = counts.get(key, 0) + 1
                continue
            counts[str(r.status_code)] = counts.get(str(r.status_code), 0) + 1
            if "etag" in r.headers:
                etags[path] = r.headers["etag"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=45)
    parser.add_argument("--sample", type=float, default=15, help="seconds between samples")
    parser.add_argument("--warmup", type=float, default=10, help="minutes of warm-up")
    parser.add_argument("--article-every", type=float, default=0.25)
    parser.add_argument("--pollers", type=int, default=3)
    parser.add_argument(
        "--seed",
        type=int,
        default=5000,
        help="archive articles stored before the start (search scans the "
        "newest 5,000, the rendered-item cache holds 2,048: start full)",
    )
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"load at start: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp, FakeBotAPI(enforce_pacing=True) as fake:
        work = Path(tmp)
        url = f"sqlite:///{work / 'soak.db'}"
        db = Database(url)
        prepare(db, args.seed)
        port = free_port()
        env = {
            **os.environ,
            "FEEDSVC_DATABASE__URL": url,
            "FEEDSVC_CONFIG": "/dev/null",
            "FEEDSVC_TELEGRAM__TOKEN": fake.token,
            "FEEDSVC_TELEGRAM__BASE_URL": fake.base_url,
            "FEEDSVC_SOURCE__POLL_SECONDS": "2",
            "FEEDSVC_HTTP__PORT": str(port),
            "FEEDSVC_HTTP__PUBLIC_URL": f"http://127.0.0.1:{port}",
            "FEEDSVC_TOPICS__IMPORT_ON_START": "false",
            "FEEDSVC_LOG__LEVEL": "WARNING",
        }
        log = (work / "service.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "run"],
            env=env,
            cwd=work,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        stop = threading.Event()
        threads: list[threading.Thread] = []
        counts: dict[str, int] = {}
        ingested = [0]
        samples: list[Sample] = []
        try:
            wait_until(lambda: _ready(base), 300, "the service to answer /readyz")
            t0 = time.monotonic()
            threads.append(
                threading.Thread(target=ingest_loop, args=(db, args.article_every, stop, ingested))
            )
            threads += [
                threading.Thread(target=poll_loop, args=(base, i, stop, counts))
                for i in range(args.pollers)
            ]
            for t in threads:
                t.start()
            end = t0 + args.minutes * 60
            print(
                f"{'t (s)':>7} {'RSS MB':>8} {'fds':>5} {'threads':>7} {'articles':>8} "
                f"{'alerts':>6} {'requests':>8}"
            )
            while time.monotonic() < end:
                assert proc.poll() is None, f"service exited with {proc.returncode}"
                s = proc_sample(proc.pid, t0)
                samples.append(s)
                print(
                    f"{s.t:7.0f} {s.rss_mb:8.1f} {s.fds:5d} {s.threads:7d} {ingested[0]:8d} "
                    f"{len(fake.all_messages):6d} {sum(counts.values()):8d}",
                    flush=True,
                )
                time.sleep(max(0.0, min(args.sample, end - time.monotonic())))
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=15)
            proc.terminate()
            code = proc.wait(timeout=30)
            log.close()
        too_many = sum(c.status == 429 for c in fake.calls)
        report(samples, args.warmup * 60, counts, ingested[0], len(fake.all_messages), too_many)
        print(f"service exit code after SIGTERM: {code}")
        errors = [
            line
            for line in (work / "service.log").read_text("utf-8", "replace").splitlines()
            if " ERROR " in line or "Traceback" in line
        ]
        print(f"service log: {len(errors)} error line(s)")
        for line in errors[:10]:
            print(f"  {line}")
        print(f"load at end: {os.getloadavg()}")


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def report(
    samples: list[Sample],
    warmup: float,
    counts: dict[str, int],
    articles: int,
    alerts: int,
    too_many: int,
) -> None:
    print("\ncurve (per minute: median RSS MB / max fds / max threads):")
    by_minute: dict[int, list[Sample]] = {}
    for s in samples:
        by_minute.setdefault(int(s.t // 60), []).append(s)
    for minute, group in sorted(by_minute.items()):
        rss = statistics.median(x.rss_mb for x in group)
        print(
            f"  min {minute:3d}: {rss:7.1f} MB  fds {max(x.fds for x in group):4d}  "
            f"threads {max(x.threads for x in group):3d}  " + "#" * int(rss / 4)
        )
    after = [s for s in samples if s.t >= warmup]
    if len(after) >= 4:
        quarter = max(1, len(after) // 4)
        first = statistics.median(s.rss_mb for s in after[:quarter])
        last = statistics.median(s.rss_mb for s in after[-quarter:])
        span = (after[-1].t - after[0].t) / 60
        print(
            f"\nafter warm-up ({warmup / 60:g} min): RSS {first:.1f} MB (first quarter median)"
            f" → {last:.1f} MB (last quarter median) over {span:.0f} min: "
            f"{last - first:+.1f} MB ({(last - first) / max(span, 1e-9) * 60:+.2f} MB/h); "
            f"max {max(s.rss_mb for s in after):.1f} MB"
        )
        print(
            f"fds {min(s.fds for s in after)}..{max(s.fds for s in after)}, "
            f"threads {min(s.threads for s in after)}..{max(s.threads for s in after)}"
        )
    print(
        f"load: {articles} articles ingested, {alerts} alerts sent ({too_many} x 429), "
        f"HTTP answers {dict(sorted(counts.items()))}"
    )


if __name__ == "__main__":
    main()
