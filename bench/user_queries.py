"""Thousands of maximum-size chat queries vs everyone else (issue #12 §2).

The real service (``feedsvc run --no-http``, SQLite, 1 s poll, the bot polling and alerts sent to
the fake Bot API from tests/fakebot.py, loopback only) with ``--subs`` (3,000) own-query
subscriptions of 500 characters each, in as many chats, every one ``@slug``-expanded to about the
200-term cap (two 90-alias place topics plus phrases; half AND-shaped, half OR-shaped). Then,
``--rounds`` times, at the same instant:

* a new user sends ``/sub <another such 500-character query>`` through the real bot, timed until
  its reply reaches the fake Bot API;
* a new article for an unrelated chat's topic is committed to the source, timed until its alert
  reaches the fake Bot API.

Goals: every ``/sub`` answered within 1 s, every alert within poll + 2 s (3 s). Also printed: time
from start until the service is idle with every query compiled, the service's RSS.
``--code DIR`` runs another checkout's feedsvc (e.g. main before the fix: ``git worktree add
/tmp/oldmain 594dcb3``).

    python bench/user_queries.py [--subs 3000] [--rounds 5] [--code DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT / "tests"))
from common import machine  # noqa: E402
from fakebot import FakeBotAPI  # noqa: E402

from feedsvc.articles import Article  # noqa: E402
from feedsvc.db import Database  # noqa: E402

ALERT_CHAT = 777
PLACES = 8  # topics of 90 aliases each ("xã k n"), referenced two at a time
POLL = 1.0


def big_query(i: int) -> str:
    """500 characters, two @references (180 terms) and phrases up to the 200-term cap."""
    a, b = i % PLACES, (i + 3) % PLACES
    phrases: list[str] = []
    head = f"(@xa{a} OR @xa{b})" if i % 2 else f"@xa{a} OR @xa{b}"
    joiner = " " if i % 2 else " OR "
    n = 0
    while True:
        phrase = f'"chuyên mục thời sự {i} {n}"'
        candidate = head + joiner + joiner.join([*phrases, phrase])
        if len(candidate) > 500 or len(phrases) >= 20:
            break
        phrases.append(phrase)
        n += 1
    return head + joiner + joiner.join(phrases)


def stamp(at: datetime) -> str:
    """How SQLAlchemy stores a UTC instant in SQLite (naive text): raw SQL binds it so."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def prepare(work: Path, subs: int, code: Path) -> str:
    """State DB (schema by the code under test), topics, the alert chat, ``subs`` queries."""
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
    now = stamp(datetime.now(UTC))
    with db.engine.connect() as conn:
        chat_columns = {c["name"] for c in inspect(conn).get_columns("chats")}
    with db.write() as conn:
        topics = [
            (f"xa{k}", " OR ".join(f'"xã {k} {n}"' for n in range(1, 91))) for k in range(PLACES)
        ]
        topics.append(("bench-alert", '"tin khẩn"'))
        for slug, query in topics:
            conn.execute(
                text(
                    "INSERT INTO topics (slug, title, description, query, enabled, origin,"
                    " created_at, updated_at) VALUES (:s, :s, '', :q, true, 'cli', :t, :t)"
                ),
                {"s": slug, "q": query, "t": now},
            )
        with_address = "address" in chat_columns
        chat_sql = (
            "INSERT INTO chats (chat_id, type, paused, failures, link_preview,"
            " created_at" + (", address" if with_address else "") + ")"
            " VALUES (:c, 'private', false, 0, false, :t" + (", :a" if with_address else "") + ")"
        )
        chats = [{"c": ALERT_CHAT, "t": now, "a": str(ALERT_CHAT)}]
        chats += [{"c": 10_000 + i, "t": now, "a": str(10_000 + i)} for i in range(subs)]
        conn.execute(text(chat_sql), chats)
        conn.execute(
            text(
                "INSERT INTO subscriptions (chat_id, topic_id, created_at)"
                " SELECT :c, id, :t FROM topics WHERE slug = 'bench-alert'"
            ),
            {"c": ALERT_CHAT, "t": now},
        )
        conn.execute(
            text("INSERT INTO subscriptions (chat_id, query, created_at) VALUES (:c, :q, :t)"),
            [{"c": 10_000 + i, "q": big_query(i), "t": now} for i in range(subs)],
        )
    db.dispose()
    return url


def start(url: str, fake: FakeBotAPI, work: Path, code: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FEEDSVC_DATABASE__URL": url,
        "FEEDSVC_CONFIG": "/dev/null",
        "FEEDSVC_TELEGRAM__TOKEN": fake.token,
        "FEEDSVC_TELEGRAM__BASE_URL": fake.base_url,
        "FEEDSVC_SOURCE__POLL_SECONDS": str(POLL),
        "FEEDSVC_TOPICS__IMPORT_ON_START": "false",
        "FEEDSVC_LOG__LEVEL": "INFO",
        "PYTHONPATH": str(code),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "run", "--no-http"],
        env=env,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=open(work / "log", "wb"),
    )


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def settle(pid: int, timeout: float, quiet: float = 0.15) -> bool:
    """Wait until the service uses under ``quiet`` cores over 2 s (start-up work done)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(2)
        if (cpu_seconds(pid) - before) / 2 < quiet:
            return True
    return False


def publish(db: Database, n: int) -> str:
    """A new source row for the alert chat's topic; plain SQL on the columns every schema
    version has (``--code`` may run a checkout whose source table predates some)."""
    url = f"https://example.vn/khan/{n}.html"
    now = stamp(datetime.now(UTC))
    with db.write() as conn:
        conn.execute(
            text(
                "INSERT INTO source_articles (source_key, url, title, summary, tags, published_at,"
                " changed_at) VALUES (:k, :u, :t, :s, '[]', :p, :c)"
            ),
            {
                "k": f"USERQ-{n}",
                "u": url,
                "t": f"Tin khẩn số {n}: sự cố điện",
                "s": "Tin thử đo độ trễ cảnh báo.",
                "p": now,
                "c": now,
            },
        )
    return url


def one_round(fake: FakeBotAPI, db: Database, n: int, timeout: float) -> tuple[float, float]:
    """(seconds to the /sub reply, seconds to the unrelated alert); ``inf`` past ``timeout``."""
    user = 500_000 + n
    fake.add_chat(user, "private", f"user {n}")
    alerts_before = len(fake.messages(ALERT_CHAT))
    t0 = time.monotonic()
    fake.user_sends(user, user, f"/sub {big_query(90_000 + n)}")
    publish(db, n)
    reply = alert = float("inf")
    deadline = t0 + timeout
    while time.monotonic() < deadline and (reply == float("inf") or alert == float("inf")):
        got = fake.messages(user)
        if got and reply == float("inf"):
            reply = got[0].at - t0
        fresh = fake.messages(ALERT_CHAT)[alerts_before:]
        if fresh and alert == float("inf"):
            alert = fresh[0].at - t0
        time.sleep(0.01)
    return reply, alert


def pure(subs: int) -> None:
    """In-process figures for the matcher alone (this checkout's code): the old way (one
    TopicMatcher rebuilt over every query) against the incremental QuerySet."""
    from feedsvc.matching import TopicMatcher, document_from_article, parse_chat_query
    from feedsvc.matching.queryset import QuerySet

    refs = {f"xa{k}": " OR ".join(f'"xã {k} {n}"' for n in range(1, 91)) for k in range(PLACES)}
    texts = {i: big_query(i) for i in range(subs)}
    t0 = time.perf_counter()
    TopicMatcher.build({f"q{i}": q for i, q in texts.items()}, refs=refs)
    rebuild = time.perf_counter() - t0
    qs: QuerySet[int] = QuerySet()
    t0 = time.perf_counter()
    for i, q in texts.items():
        qs.add(i, parse_chat_query(q, refs.get))
    initial = time.perf_counter() - t0
    t0 = time.perf_counter()
    for n in range(20):
        qs.add(subs + n, parse_chat_query(big_query(subs + n), refs.get))
    one = (time.perf_counter() - t0) / 20
    docs = [
        document_from_article(
            Article(
                source_key=f"D{n}",
                url=f"https://example.vn/{n}.html",
                title=f"Tin khẩn số {n}",
                published_at=datetime.now(UTC),
                summary="Người dân xã 3 17 và chuyên mục thời sự 5 2.",
                body="<p>"
                + " ".join(f"Đoạn {k} nói về giao thông, điện, nước." for k in range(40))
                + "</p>",
            )
        )
        for n in range(50)
    ]
    t0 = time.perf_counter()
    hits = sum(len(qs.match(d)) for d in docs)
    per_doc = (time.perf_counter() - t0) / len(docs)
    t0 = time.perf_counter()
    for d in docs:
        qs.match_keys(d)
    keys_only = (time.perf_counter() - t0) / len(docs)
    print(
        f"matcher alone, {subs} queries: one TopicMatcher over all (the old rebuild, per "
        f"change) {rebuild:.1f} s; QuerySet from empty {initial:.1f} s, add one "
        f"{one * 1000:.1f} ms, match one ~1,800-char article {per_doc * 1000:.2f} ms with "
        f"labels, {keys_only * 1000:.2f} ms keys only, as the outbox asks "
        f"({hits / len(docs):.0f} queries matched per article)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subs", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=120, help="per round, seconds")
    parser.add_argument("--code", type=Path, default=ROOT, help="feedsvc checkout to run")
    parser.add_argument("--pure-only", action="store_true", help="only the in-process figures")
    args = parser.parse_args()
    code = args.code.resolve()
    print(f"machine: {machine()}; load average {os.getloadavg()}")
    print(f"code: {code}")
    if code == ROOT:
        pure(args.subs)
    if args.pure_only:
        return
    sample = big_query(1)
    print(f"{args.subs} subscriptions like ({len(sample)} chars): {sample[:90]}…")
    with tempfile.TemporaryDirectory() as tmp, FakeBotAPI() as fake:
        work = Path(tmp)
        url = prepare(work, args.subs, code)
        fake.add_chat(ALERT_CHAT, "private", "alerts")
        t0 = time.monotonic()
        proc = start(url, fake, work, code)
        db = Database(url)
        try:
            fake.add_chat(499_999, "private", "warm-up")
            fake.user_sends(499_999, 499_999, "/help")
            fake.wait_for(lambda: fake.messages(499_999), timeout=120)
            quiet = settle(proc.pid, timeout=600)
            print(
                f"start-up until idle (queries compiled): {time.monotonic() - t0:.1f} s"
                + ("" if quiet else " (never went quiet)")
            )
            results = []
            for n in range(args.rounds):
                results.append(one_round(fake, db, n, args.timeout))
                reply, alert = results[-1]
                print(
                    f"round {n + 1}: /sub answered in {reply:.2f} s, "
                    f"unrelated alert in {alert:.2f} s"
                )
                settle(proc.pid, timeout=args.timeout)
            rss = rss_mb(proc.pid)
            alive = proc.poll() is None
        finally:
            proc.terminate()
            proc.wait(30)
            db.dispose()
        log = (work / "log").read_text(errors="replace")
    replies, alerts = [r for r, _ in results], [a for _, a in results]
    print(
        f"/sub reply: max {max(replies):.2f} s (goal <= 1 s): "
        f"{'MET' if max(replies) <= 1 else 'NOT MET'}"
    )
    print(
        f"unrelated alert: max {max(alerts):.2f} s (goal <= poll + 2 = {POLL + 2:.0f} s): "
        f"{'MET' if max(alerts) <= POLL + 2 else 'NOT MET'}"
    )
    print(f"service RSS at the end: {rss:.0f} MB; still running: {alive}")
    locked = log.count("database is locked")
    lease = sum(line.count("poller lease") for line in log.splitlines())
    print(f"log: {locked} 'database is locked', {lease} poller-lease warnings")


if __name__ == "__main__":
    main()
