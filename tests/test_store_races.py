"""Create-if-missing and insert counts under concurrency (issue #18 §5), on SQLite and PostgreSQL.

Two writers create the same row at once: the first holds its transaction open after the insert,
the second runs while it is open and must block on that insert, then carry on when the first
commits — never fail with a duplicate key (replicas starting together on a fresh DB did, creating
the shared rate bucket). On SQLite the writer lock serialises the two (``BEGIN IMMEDIATE``), so
the race exists only on PostgreSQL; both run, both must pass. And a count of inserted rows comes
from what was inserted, never from ``rowcount`` (psycopg: -1 for an ``executemany``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from factories import VN, article, builtin_ingestor
from sqlalchemy import Connection, select, text

from feedsvc.db import Database
from feedsvc.db.schema import deliveries
from feedsvc.db.schema_ingest import source_cursors
from feedsvc.db.schema_service import rate_buckets
from feedsvc.outbox import Outbox
from feedsvc.store import cursors, leases, rate
from feedsvc.store import subscriptions as subs
from feedsvc.store.deliveries import enqueue
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec, get_topic, save_topic

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def _waiting_on_a_lock(db: Database) -> bool:
    with db.engine.connect() as conn:
        found = conn.execute(
            # the row's transaction (an insert racing an insert), or the topics' advisory lock
            # (``store.topics.serialize``, which every topic write takes first)
            text(
                "SELECT count(*) FROM pg_locks WHERE NOT granted"
                " AND locktype IN ('transactionid', 'advisory')"
            )
        ).scalar_one()
    return bool(found)


def race(db: Database, create: Callable[[Connection], object]) -> list[object]:
    """Run ``create`` in two transactions that overlap as described above; their results."""
    results: list[object] = []
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with db.write() as conn:
                results.append(create(conn))
        except BaseException as exc:  # reported by the caller's assertion
            errors.append(exc)

    with db.write() as conn:
        results.append(create(conn))
        thread = threading.Thread(target=second)
        thread.start()
        if db.dialect == "postgresql":  # let the second writer reach the insert and block on it
            deadline = time.monotonic() + 10
            while not _waiting_on_a_lock(db):
                assert time.monotonic() < deadline, "the second writer never blocked"
                time.sleep(0.01)
    thread.join(20)
    assert not thread.is_alive()
    assert errors == [], errors
    return results


def test_rate_bucket_created_once(db: Database) -> None:
    def create(conn: Connection) -> object:
        return rate.reserve(conn, "telegram-global", 25.0, 1.0, 1, NOW, 0.25)

    race(db, create)
    with db.read() as conn:
        assert len(conn.execute(select(rate_buckets)).all()) == 1


def test_cursor_created_once(db: Database) -> None:
    race(db, lambda conn: cursors.record_failure(conn, "builtin", "boom", NOW))
    with db.read() as conn:
        assert len(conn.execute(select(source_cursors)).all()) == 1


def test_lease_created_once_and_held_by_one(db: Database) -> None:
    holders = iter(["a", "b"])

    def create(conn: Connection) -> object:
        return leases.acquire(conn, "bot-poller", next(holders), timedelta(seconds=30), NOW)

    assert race(db, create) == [True, False]


def test_chat_and_subscription_created_once(db: Database) -> None:
    def create(conn: Connection) -> object:
        subs.ensure_chat(conn, 42, "private", "U", NOW)
        return subs.subscribe(conn, 42, topic_id=None, query="công an", now=NOW)

    assert race(db, create) == [True, False]
    with db.read() as conn:
        assert [s.query for s in subs.list_subscriptions(conn, 42)] == ["công an"]


def test_topic_imported_by_two_replicas(db: Database) -> None:
    spec = TopicSpec("an-ninh", "An ninh", '"an ninh"')
    assert race(db, lambda conn: save_topic(conn, spec, "file", NOW)) == ["created", "unchanged"]


def test_enqueue_counts_what_it_inserted(db: Database) -> None:
    with db.write() as conn:
        upsert_source_articles(conn, [article(1), article(2)], NOW)
    builtin_ingestor(db).tick()
    with db.write() as conn:
        subs.ensure_chat(conn, 1, "private", None, NOW)
        subs.ensure_chat(conn, 2, "private", None, NOW)
        ids = conn.execute(select(text("id")).select_from(text("articles"))).scalars().all()
        row = {"topics": ["x"], "state": "pending", "due_at": NOW, "created_at": NOW}
        first = [{"chat_id": 1, "article_id": a, **row} for a in ids]
        assert enqueue(conn, first) == 2
        again = [*first, {"chat_id": 2, "article_id": ids[0], **row}]
        assert enqueue(conn, again) == 1  # two already queued: skipped, not counted
        assert enqueue(conn, []) == 0
        assert len(conn.execute(select(deliveries)).all()) == 3


def test_outbox_logs_the_real_count(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="feedsvc.outbox")
    with db.write() as conn:
        save_topic(conn, TopicSpec("an-ninh", "An ninh", '"công an"'), "cli", NOW)
        topic = get_topic(conn, "an-ninh")
        assert topic is not None
        for chat in (1, 2, 3):
            subs.ensure_chat(conn, chat, "private", None, NOW)
            subs.subscribe(conn, chat, topic_id=topic.id, query=None, now=NOW)
        upsert_source_articles(conn, [article(1, published_at=datetime.now(VN))], NOW)
    ingestor = builtin_ingestor(db)
    ingestor.hooks.append(Outbox(timedelta(hours=48)))
    assert ingestor.tick().new == 1
    assert "outbox: 3 alert(s) queued for 1 article(s)" in caplog.text
    assert "-1" not in caplog.text
