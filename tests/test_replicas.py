"""Several replicas on one PostgreSQL state DB: the ingest lease, its fencing, NOTIFY wake-ups,
and (slow) three real ``feedsvc run`` processes sharing the work, the bot poller and the budget.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from factories import VN, article
from fakebot import FakeBotAPI, Limit
from sqlalchemy import func, select, update

from feedsvc.db import Database, upgrade
from feedsvc.db.schema import deliveries
from feedsvc.db.schema_service import leases
from feedsvc.ingest import WAKE_CHANNEL, IngestLease, Ingestor, notify_new_deliveries
from feedsvc.outbox import Outbox
from feedsvc.source import builtin_source
from feedsvc.store import leases as lease_store
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.subscriptions import ensure_chat, subscribe
from feedsvc.store.topics import TopicSpec, get_topic, save_topic
from feedsvc.topic_index import TopicIndex
from feedsvc.wakeups import WakeListener

pytestmark = pytest.mark.postgres
T = TypeVar("T")


def poll(predicate: Callable[[], T], timeout: float, step: float = 0.1) -> T:
    """Wait for a truthy value with a deadline (no sleeps as synchronisation)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(step)


@pytest.fixture
def pg(pg_url: str) -> Iterator[Database]:
    db = Database(pg_url)
    upgrade(db)
    yield db
    db.dispose()


def setup_alerts(db: Database, chats: list[int]) -> None:
    now = datetime.now(UTC)
    with db.write() as conn:
        save_topic(conn, TopicSpec("an-ninh", "An ninh", '"công an"'), "cli", now)
        topic = get_topic(conn, "an-ninh")
        assert topic is not None
        for chat in chats:
            ensure_chat(conn, chat, "private", None, now)
            subscribe(conn, chat, topic_id=topic.id, query=None, now=now)


def add_articles(db: Database, numbers: range) -> None:
    with db.write() as conn:
        items = [article(i, published_at=datetime.now(VN)) for i in numbers]
        upsert_source_articles(conn, items, datetime.now(UTC))


def ingestor(db: Database, holder: str) -> Ingestor:
    ing = Ingestor(
        db,
        builtin_source(db.engine),
        TopicIndex(),
        tz=VN,
        poll_seconds=1,
        overlap_seconds=60,
        batch_size=100,
        lease=IngestLease(holder, poll_seconds=1),
    )
    ing.hooks += [Outbox(timedelta(hours=48)), notify_new_deliveries]
    return ing


def expire(db: Database, name: str) -> None:
    with db.write() as conn:
        conn.execute(
            update(leases)
            .where(leases.c.name == name)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )


def holder_of(db: Database, name: str) -> str | None:
    with db.read() as conn:
        lease = lease_store.get(conn, name)
    return lease.holder if lease is not None else None


def test_one_ingest_leader_and_failover(pg: Database) -> None:
    a, b = ingestor(pg, "replica-a"), ingestor(pg, "replica-b")
    add_articles(pg, range(1, 4))
    assert a.tick().new == 3
    standby = b.tick()
    assert standby.skipped and standby.standby and standby.read == 0
    assert holder_of(pg, "ingest") == "replica-a"
    expire(pg, "ingest")  # replica-a died: its lease lapses
    add_articles(pg, range(4, 6))
    assert b.tick().new == 2
    assert holder_of(pg, "ingest") == "replica-b"
    assert a.tick().standby
    a.lease.release(pg)  # type: ignore[union-attr]  # not the holder: a no-op
    assert holder_of(pg, "ingest") == "replica-b"
    b.lease.release(pg)  # type: ignore[union-attr]  # clean stop: free at once
    assert holder_of(pg, "ingest") is None


def test_stalled_leader_cannot_commit_over_its_successor(pg: Database) -> None:
    a, b = ingestor(pg, "replica-a"), ingestor(pg, "replica-b")
    add_articles(pg, range(1, 3))
    original = a.source.after

    def stall_then_read(*args: object, **kwargs: object) -> object:
        rows = original(*args, **kwargs)  # type: ignore[arg-type]
        expire(pg, "ingest")  # a's lease lapses while it is mid-tick ...
        assert b.tick().new == 2  # ... and b takes over and ingests
        return rows

    a.source.after = stall_then_read  # type: ignore[method-assign]
    result = a.tick()
    assert result.standby and result.new == 0 and result.error is None  # rolled back
    with pg.read() as conn:
        assert conn.execute(select(func.count()).select_from(deliveries)).scalar_one() == 0


def test_notify_wakes_listeners_on_new_deliveries(pg: Database) -> None:
    setup_alerts(pg, [5001, 5002])
    woken = threading.Event()
    listener = WakeListener(pg.url, WAKE_CHANNEL, woken.set)
    listener.start()
    try:
        poll(woken.is_set, 10)  # woken once on connect: LISTEN is in place from here on
        woken.clear()
        a = ingestor(pg, "replica-a")
        add_articles(pg, range(1, 2))
        assert a.tick().new == 1
        poll(lambda: listener.received >= 1, 5)
        received = listener.received
        add_articles(pg, range(1, 2))  # unchanged re-import: no new deliveries, no NOTIFY
        assert a.tick().new == 0
        assert listener.received == received
    finally:
        listener.stop()


# --- three real processes ------------------------------------------------------------------------

CHATS = list(range(8001, 8021))  # 20 private chats
#: → 100 alerts, 5 s at the budget: five 1 s windows of three replicas sending at the global
#: rate (a replica with a budget of its own breaks it in the first). 25 (500 alerts) took 15 s
#: more and checked the same windows, as 10 (200 alerts, ten windows) did: five windows of
#: three processes starting and sending is where a shared budget holds or breaks.
ARTICLES = 5
LATER = 1  # an article added after the kills → 20 more alerts: ingest went on elsewhere
GLOBAL_RATE = 20


def delivered(db: Database) -> int:
    with db.read() as conn:
        stmt = select(func.count()).where(deliveries.c.state == "sent")
        return int(conn.execute(stmt).scalar_one())


def pid_of(holder: str | None) -> int | None:
    return int(holder.rsplit(":", 2)[1]) if holder else None


@pytest.mark.slow
def test_three_replicas_share_work_and_fail_over(pg_url: str, tmp_path: Path) -> None:
    db = Database(pg_url)
    upgrade(db)
    setup_alerts(db, CHATS)
    add_articles(db, range(ARTICLES))
    fake = FakeBotAPI(global_limit=Limit(GLOBAL_RATE, 1.0)).start()
    env = {
        **os.environ,
        "FEEDSVC_DATABASE__URL": pg_url,
        "FEEDSVC_TELEGRAM__TOKEN": fake.token,
        "FEEDSVC_TELEGRAM__BASE_URL": fake.base_url,
        "FEEDSVC_TELEGRAM__GLOBAL_RATE": str(GLOBAL_RATE),
        "FEEDSVC_TELEGRAM__LEASE_SECONDS": "5",
        "FEEDSVC_SOURCE__POLL_SECONDS": "0.5",
        "FEEDSVC_TOPICS__IMPORT_ON_START": "false",
        "FEEDSVC_CONFIG": "/dev/null",
    }
    procs: dict[int, subprocess.Popen[bytes]] = {}
    try:
        for i in range(3):
            log = (tmp_path / f"replica-{i}.log").open("wb")
            proc = subprocess.Popen(
                [sys.executable, "-m", "feedsvc", "run", "--no-http"],
                env=env,
                cwd=tmp_path,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            procs[proc.pid] = proc
        total = len(CHATS) * ARTICLES
        # 100 alerts at 20/s take 5 s; the deadline leaves room for a loaded machine (three
        # replicas starting): what this test asserts is the budget, the takeover and once-only
        fake.wait_for(lambda: len(fake.all_messages) >= total, timeout=120)
        poll(lambda: delivered(db) == total, 10)

        # kill whoever holds the ingest lease and the bot poller lease
        ingest_pid = poll(lambda: pid_of(holder_of(db, "ingest")), 5)
        bot_pid = poll(lambda: pid_of(holder_of(db, "bot-poller")), 10)
        assert ingest_pid in procs and bot_pid in procs
        killed_at = time.monotonic()
        for pid in {ingest_pid, bot_pid}:
            procs[pid].send_signal(signal.SIGKILL)
            procs.pop(pid).wait()
        add_articles(db, range(ARTICLES, ARTICLES + LATER))  # ingest must go on elsewhere
        takeover: dict[str, float] = {}

        def taken_over() -> bool:
            for name in ("ingest", "bot-poller"):
                if name not in takeover and pid_of(holder_of(db, name)) in procs:
                    takeover[name] = time.monotonic() - killed_at
            return len(takeover) == 2

        poll(taken_over, 15, step=0.05)
        ingest_takeover, bot_takeover = takeover["ingest"], takeover["bot-poller"]
        more = total + len(CHATS) * LATER
        fake.wait_for(lambda: len(fake.all_messages) >= more, timeout=30)
        poll(lambda: delivered(db) == more, 10)
        print(
            f"killed {ingest_pid} (ingest), {bot_pid} (bot poller); takeover after SIGKILL: "
            f"ingest {ingest_takeover:.1f} s, bot {bot_takeover:.1f} s"
        )
        # lease TTL is max(3 × poll, 10 s): expiry plus one standby poll
        assert ingest_takeover < 10, ingest_takeover
        assert bot_takeover < 10, bot_takeover
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            assert proc.wait(timeout=20) == 0
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        fake.stop()
        db.dispose()
    copies = Counter(
        (m.chat_id, re.search(r"/tin/(\d+)\.html", m.body).group(1))  # type: ignore[union-attr]
        for m in fake.all_messages
    )
    expected = {(c, str(i)) for c in CHATS for i in range(ARTICLES + LATER)}
    assert set(copies) == expected
    assert max(copies.values()) == 1, "an alert was delivered twice"
    assert fake.violations == [], fake.violations[:5]
