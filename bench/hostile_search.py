"""Hostile search traffic vs everyone else (issue #12 §1).

The real service (``feedsvc run --no-bot``, SQLite, 1 s poll, alerts to the fake Bot API from
tests/fakebot.py) over a 20,000-article archive. Two phases, measured the same way:

* idle: topic-feed pollers (4 threads, plain and conditional GETs) and an alert probe (a new
  matching article committed to the source every 3 s, timed until the fake Bot API has it);
* attack: the same, while a separate process keeps 40 concurrent *distinct, uncached* search
  requests in flight for ``--seconds`` (each from its own client address, sent through
  ``X-Forwarded-For`` with 127.0.0.1 as the trusted proxy, so the per-client rate limit does not
  make the attack trivially cheap). Queries mix the issue's ``?q=zz1, zz2…``, a broad phrase
  (``"an ninh" -zzN``) and a phrase whose syllables are in nearly every article but never in
  that order (``"phòng hải" -zzN``: every index candidate fails the re-check, the worst case).

Goals: polls never fail, poll p99 under attack <= 3x idle p99, alerts within poll + 2 s, no 500,
service RSS < 400 MB. ``--code DIR`` runs another checkout's feedsvc (e.g. main before the fix).

    python bench/hostile_search.py [--articles 20000] [--seconds 60] [--code DIR]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT / "tests"))
from common import machine  # noqa: E402
from fakebot import FakeBotAPI  # noqa: E402

from feedsvc.articles import Article  # noqa: E402
from feedsvc.db import Database  # noqa: E402
from feedsvc.demo import ArticleGenerator  # noqa: E402
from feedsvc.store.source_articles import upsert_source_articles  # noqa: E402
from feedsvc.store.subscriptions import ensure_chat, subscribe  # noqa: E402
from feedsvc.store.topics import TopicSpec, get_topic, save_topic  # noqa: E402

CHAT = 777
TOPICS = [
    ("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'),
    ("an-ninh", "An ninh", '"an ninh"'),
    ("giao-thong", "Giao thông", '"giao thông"'),
    ("bench-alert", "Tin khẩn", '"tin khẩn"'),
]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def prepare(work: Path, count: int, code: Path) -> str:
    """State DB with ``count`` archive articles (~2.5 KB bodies), topics and one subscriber;
    its schema is created by the feedsvc under test (``code``), whose migrations may differ."""
    url = f"sqlite:///{work / 'state.db'}"
    env = {
        **os.environ,
        "FEEDSVC_DATABASE__URL": url,
        "FEEDSVC_CONFIG": "/dev/null",
        "PYTHONPATH": str(code),
    }
    subprocess.run(
        [sys.executable, "-m", "feedsvc", "db", "upgrade"],
        env=env,
        cwd=work,
        check=True,
        capture_output=True,
    )
    db = Database(url)
    gen = ArticleGenerator(seed=7, prefix="HOSTILE")
    end = datetime.now(UTC) - timedelta(minutes=5)
    # committed "an hour ago": outside ingest's overlap window, as an archive is, so idle ticks
    # do not re-check 20,000 rows every second
    committed = datetime.now(UTC) - timedelta(hours=1)
    batch: list[Article] = []
    for i in range(count):
        at = end - timedelta(seconds=i * 60 * 24 * 60 / max(count, 1))  # ~60 days
        batch.append(gen.make(at, paragraphs=12))
        if len(batch) == 2000:
            with db.write() as conn:
                upsert_source_articles(conn, batch, committed)
            batch = []
    if batch:
        with db.write() as conn:
            upsert_source_articles(conn, batch, committed)
    now = datetime.now(UTC)
    with db.write() as conn:
        for slug, title, query in TOPICS:
            save_topic(conn, TopicSpec(slug, title, query), "cli", now)
        topic = get_topic(conn, "bench-alert")
        assert topic is not None
        ensure_chat(conn, CHAT, "private", None, now)
        subscribe(conn, CHAT, topic_id=topic.id, query=None, now=now)
    db.dispose()
    return url


def start(url: str, fake: FakeBotAPI, work: Path, port: int, code: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FEEDSVC_DATABASE__URL": url,
        "FEEDSVC_CONFIG": "/dev/null",
        "FEEDSVC_TELEGRAM__TOKEN": fake.token,
        "FEEDSVC_TELEGRAM__BASE_URL": fake.base_url,
        "FEEDSVC_SOURCE__POLL_SECONDS": "1",
        "FEEDSVC_TOPICS__IMPORT_ON_START": "false",
        "FEEDSVC_LOG__LEVEL": "WARNING",
        "FEEDSVC_HTTP__PORT": str(port),
        "FEEDSVC_SOURCE__BATCH_SIZE": "2000",
        "PYTHONPATH": str(code),
    }
    config = code / "feedsvc" / "config.py"  # a package (config/models.py) since the split
    if not config.is_file():
        config = code / "feedsvc" / "config" / "models.py"
    if "trusted_proxies" in config.read_text():
        env["FEEDSVC_HTTP__TRUSTED_PROXIES"] = '["127.0.0.1"]'
    return subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "run", "--no-bot"],
        env=env,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=open(work / "log", "wb"),
    )


def wait_ready(base: str, url: str, count: int, proc: subprocess.Popen[bytes]) -> None:
    db = Database(url)
    deadline = time.monotonic() + 900
    from sqlalchemy import text

    while time.monotonic() < deadline:
        assert proc.poll() is None, "the service exited during start-up"
        try:
            with db.read() as conn:
                stored = conn.execute(text("SELECT count(*) FROM articles")).scalar_one()
            ok = httpx.get(f"{base}/feeds/an-ninh.rss", timeout=5).status_code == 200
        except Exception:
            stored, ok = 0, False
        if ok and stored >= count:
            db.dispose()
            settle(proc.pid)
            return
        time.sleep(1)
    raise SystemExit("the archive was not ingested in 15 minutes")


def settle(pid: int, quiet: float = 0.1, timeout: float = 300) -> None:
    """Wait until the service uses under ``quiet`` cores over 3 s (renders and the outbox
    after the archive ingest are done), so the idle phase is idle."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(3)
        if (cpu_seconds(pid) - before) / 3 < quiet:
            return
    print("warning: the service never went quiet")


class Phase:
    """What the pollers, the alert probe and the RSS sampler saw during one phase."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.poll_failures: Counter[str] = Counter()
        self.alerts: list[float] = []
        self.rss: list[float] = []
        self.cpu = 0.0  # service CPU seconds per wall second
        self.stop = threading.Event()


def poller(base: str, phase: Phase, slug: str) -> None:
    etag = None
    with httpx.Client(base_url=base, timeout=30) as client:
        n = 0
        while not phase.stop.is_set():
            headers = {"If-None-Match": etag} if etag and n % 2 else {}
            t0 = time.perf_counter()
            try:
                r = client.get(f"/feeds/{slug}.rss", headers=headers)
                status = r.status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            phase.latencies.append(time.perf_counter() - t0)
            if status == 200:
                etag = r.headers.get("etag")
            elif status != 304:
                phase.poll_failures[str(status)] += 1
            n += 1
            time.sleep(0.02)


def alert_probe(url: str, fake: FakeBotAPI, phase: Phase, start_n: int) -> None:
    db = Database(url)
    n = start_n
    while not phase.stop.is_set():
        n += 1
        title = f"Tin khẩn số {n}: sự cố giao thông"
        a = Article(
            source_key=f"PROBE-{n}",
            url=f"https://example.vn/khan/{n}.html",
            title=title,
            published_at=datetime.now(UTC),
            summary="Tin thử độ trễ cảnh báo.",
        )
        with db.write() as conn:
            upsert_source_articles(conn, [a], datetime.now(UTC))
        t0 = time.monotonic()
        while time.monotonic() - t0 < 30:
            if any(m.text and f"số {n}:" in m.text for m in fake.messages(CHAT)):
                phase.alerts.append(time.monotonic() - t0)
                break
            time.sleep(0.02)
        else:
            phase.alerts.append(float("inf"))
        phase.stop.wait(3)
    db.dispose()


def sampler(pid: int, phase: Phase) -> None:
    while not phase.stop.is_set():
        phase.rss.append(rss_mb(pid))
        phase.stop.wait(0.5)


def attacker(base: str, seconds: float, workers: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """Runs in its own process: ``workers`` keep-alive connections, one search in flight on
    each. Raw HTTP/1.1 over asyncio streams, so the load generator itself stays light (it
    shares the machine's cores with the service)."""
    import asyncio
    from urllib.parse import quote, urlsplit

    host, port = urlsplit(base).hostname, urlsplit(base).port
    statuses: Counter[str] = Counter()
    counter = iter(range(10**9))

    async def one(w: int, deadline: float) -> None:
        ip = f"10.{w // 250}.{w % 250}.{random.randint(1, 250)}"
        reader, writer = await asyncio.open_connection(host, port)
        while time.monotonic() < deadline:
            n = next(counter)
            q = (f"zz{n}", f'"an ninh" -zz{n}', f'"phòng hải" -zz{n}')[n % 3]
            writer.write(
                f"GET /feeds/search.rss?q={quote(q)}&limit=200 HTTP/1.1\r\nHost: x\r\n"
                f"X-Forwarded-For: {ip}\r\n\r\n".encode()
            )
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                statuses[type(exc).__name__] += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            status = head.split(b" ", 2)[1].decode()
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            statuses[status] += 1
        writer.close()

    async def main() -> None:
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(one(w, deadline) for w in range(workers)))

    asyncio.run(main())
    out.put(dict(statuses))


def run_phase(
    base: str, url: str, fake: FakeBotAPI, pid: int, seconds: float, attack: int, probe_from: int
) -> tuple[Phase, dict[str, int]]:
    phase = Phase()
    threads = [
        threading.Thread(target=poller, args=(base, phase, slug))
        for slug in ("kien-thuy", "an-ninh", "giao-thong", "kien-thuy")
    ]
    threads.append(threading.Thread(target=alert_probe, args=(url, fake, phase, probe_from)))
    threads.append(threading.Thread(target=sampler, args=(pid, phase)))
    attack_result: dict[str, int] = {}
    proc = None
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    if attack:
        proc = multiprocessing.Process(target=attacker, args=(base, seconds, attack, queue))
        proc.start()
    cpu0, wall0 = cpu_seconds(pid), time.monotonic()
    for t in threads:
        t.start()
    time.sleep(seconds)
    phase.cpu = (cpu_seconds(pid) - cpu0) / (time.monotonic() - wall0)
    if proc is not None:
        attack_result = queue.get(timeout=120)
        proc.join()
    phase.stop.set()
    for t in threads:
        t.join()
    return phase, attack_result


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--idle-seconds", type=float, default=30)
    parser.add_argument("--attackers", type=int, default=40)
    parser.add_argument("--code", type=Path, default=ROOT, help="feedsvc checkout to run")
    args = parser.parse_args()
    print(f"machine: {machine()}; load average {os.getloadavg()}")
    print(f"code: {args.code.resolve()}")
    with tempfile.TemporaryDirectory() as tmp, FakeBotAPI() as fake:
        work = Path(tmp)
        t0 = time.monotonic()
        url = prepare(work, args.articles, args.code.resolve())
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start(url, fake, work, port, args.code.resolve())
        try:
            wait_ready(base, url, args.articles, proc)
            print(f"archive of {args.articles} ready in {time.monotonic() - t0:.0f} s")
            idle, _ = run_phase(base, url, fake, proc.pid, args.idle_seconds, 0, 0)
            hostile, statuses = run_phase(
                base, url, fake, proc.pid, args.seconds, args.attackers, 10_000
            )
            alive = proc.poll() is None
        finally:
            proc.terminate()
            proc.wait(30)
        log = (work / "log").read_text(errors="replace")
    report(idle, hostile, statuses, alive, log)


def report(idle: Phase, hostile: Phase, statuses: dict[str, int], alive: bool, log: str) -> None:
    def ms(v: float) -> str:
        return f"{v * 1000:.1f} ms"

    def s(v: float) -> str:
        return f"{v:.2f} s"

    rows = [
        ("topic-feed polls", str(len(idle.latencies)), str(len(hostile.latencies))),
        (
            "poll failures",
            json.dumps(dict(idle.poll_failures)),
            json.dumps(dict(hostile.poll_failures)),
        ),
        (
            "poll p50",
            ms(statistics.median(idle.latencies)),
            ms(statistics.median(hostile.latencies)),
        ),
        ("poll p99", ms(pct(idle.latencies, 0.99)), ms(pct(hostile.latencies, 0.99))),
        ("poll max", ms(max(idle.latencies)), ms(max(hostile.latencies))),
        ("alerts (commit → fake Bot API)", str(len(idle.alerts)), str(len(hostile.alerts))),
        ("alert latency max", s(max(idle.alerts, default=0)), s(max(hostile.alerts, default=0))),
        ("service RSS max", f"{max(idle.rss):.0f} MB", f"{max(hostile.rss):.0f} MB"),
        ("service CPU (cores busy)", f"{idle.cpu:.2f}", f"{hostile.cpu:.2f}"),
    ]
    print("\n| measure | idle | under attack |\n| --- | ---: | ---: |")
    for name, a, b in rows:
        print(f"| {name} | {a} | {b} |")
    ratio = pct(hostile.latencies, 0.99) / pct(idle.latencies, 0.99)
    total = sum(statuses.values())
    print(f"\nattack requests: {total}, statuses {statuses}")
    print(f"poll p99 ratio attack/idle: {ratio:.2f} (goal <= 3)")
    print(f"service alive at the end: {alive}; log lines: {len(log.splitlines())}")
    kinds = Counter(" ".join(line.split()[1:4]) for line in log.splitlines() if line[:2].isdigit())
    for kind, n in kinds.most_common(5):
        print(f"  {n:5d} × {kind}")
    goals = {
        "polls never fail": not hostile.poll_failures,
        "poll p99 <= 3x idle": ratio <= 3,
        "alerts within poll + 2 s": max(hostile.alerts, default=99) <= 3.0,
        "no 500": "500" not in statuses,
        "RSS < 400 MB": max(hostile.rss) < 400,
    }
    for goal, ok in goals.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {goal}")


if __name__ == "__main__":
    main()
