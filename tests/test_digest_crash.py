"""SIGKILL the real service around a digest (issue 15 acceptance): killed just before the digest
reaches Telegram, it is sent once after the restart; killed just after Telegram took it (before
it was recorded), it is sent at most once more. Never lost, never in pieces. SQLite and
PostgreSQL, real subprocesses, the fake Bot API over HTTP.

The two moments are given one state DB backend each (``backend_cases.on_backends``): the moment
only changes what the fake Bot API does with the request; the state DB is the same at the kill
in both (every row ``sending``, asserted) and the restart recovers it by the same SQL."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from backend_cases import on_backends
from crashes import follow_topic, private_chats, reap, service_env, start_service, stop_service
from factories import VN, article, builtin_ingestor
from fakebot import FakeBotAPI, Fault
from sqlalchemy import select, update

from feedsvc.db import Database, upgrade
from feedsvc.db.schema import deliveries
from feedsvc.outbox import Outbox
from feedsvc.store.source_articles import upsert_source_articles

CHAT = 8001
TITLES = [f"Công an Kiến Thụy tin số {n}" for n in range(5)]


def held_digest(db_url: str) -> Database:
    """A chat whose five alerts are held for a digest that is due now."""
    db = Database(db_url)
    upgrade(db)
    now = datetime.now(UTC)
    with db.write() as conn:
        follow_topic(conn, private_chats(conn, [CHAT], now, "Lan"), now)
        items = [article(n, title=t, published_at=datetime.now(VN) - timedelta(minutes=9 - n))
                 for n, t in enumerate(TITLES)]  # fmt: skip
        upsert_source_articles(conn, items, now)
    ingest = builtin_ingestor(db)
    ingest.hooks.append(Outbox(timedelta(hours=48)))
    assert ingest.tick().error is None
    with db.write() as conn:
        conn.execute(update(deliveries).values(state="held", digest=True,
                                               due_at=now - timedelta(seconds=1)))  # fmt: skip
    return db


def states(db: Database) -> list[str]:
    with db.read() as conn:
        return list(conn.execute(select(deliveries.c.state).order_by(deliveries.c.id)).scalars())


def until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("db_url", "moment"), on_backends(["before", "after"]), indirect=["db_url"]
)
def test_sigkill_around_a_digest(db_url: str, tmp_path: Path, moment: str) -> None:
    db = held_digest(db_url)
    with FakeBotAPI() as fake:
        if moment == "before":  # the request hangs and is never delivered (then a 503)
            fake.script(CHAT, Fault(503, "Service Unavailable", delay=60))
        else:  # delivered, then the answer hangs: Telegram has it, feedsvc never hears
            fake.script(CHAT, Fault.late(60))
        env = service_env(db_url, fake, FEEDSVC_TELEGRAM__LEASE_SECONDS="5")
        proc = start_service(env, tmp_path)
        try:
            until(lambda: fake.in_flight == 1, 60, "the digest's request")
            until(lambda: states(db) == ["sending"] * len(TITLES), 30, "the digest's lease")
            assert len(fake.messages(CHAT)) == (0 if moment == "before" else 1)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            proc = start_service(env, tmp_path)
            until(lambda: states(db) == ["sent"] * len(TITLES), 60, "the digest after restart")
            assert stop_service(proc) == 0
        finally:
            reap(proc)
        digests = fake.messages(CHAT)
    # one digest with every article (no loss, never split into alerts); after: one copy more
    assert len(digests) == (1 if moment == "before" else 2)
    for message in digests:
        assert message.visible.startswith(f"Tin tổng hợp · {len(TITLES)} tin")
        assert all(title in message.visible for title in TITLES)
    with db.read() as conn:
        ids = set(conn.execute(select(deliveries.c.message_id)).scalars())
        ambiguous = set(conn.execute(select(deliveries.c.ambiguous)).scalars())
    assert ids == {digests[-1].message_id}  # recorded with the copy that was answered
    assert ambiguous == {1}  # the kill is counted: a second one would not be re-sent blindly
    db.dispose()
