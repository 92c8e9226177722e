"""Chats' own queries: compiled incrementally, never under the ingest write lock (#12 §2).

SQLite and PostgreSQL (the ``db`` fixture). The structural check: every query parse is recorded
with whether a *write* transaction was open on that thread at the time; ingest with thousands of
queries must show compilations, none of them inside a write transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from factories import VN, article, builtin_ingestor
from sqlalchemy import event, select

from feedsvc.chat_queries import ChatQueryIndex
from feedsvc.db import Database
from feedsvc.db.schema import deliveries
from feedsvc.matching import parser
from feedsvc.outbox import Outbox
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.subscriptions import (
    ensure_chat,
    set_paused,
    subscribe,
    unsubscribe,
)
from feedsvc.store.topics import TopicSpec, save_topic

# a long alias list, as place-name topics have (the @slug expansion the issue measured)
ALIASES = [" OR ".join(f'"xã {k} {n}"' for n in range(1, 91)) for k in range(4)]


class WriteWatch:
    """Records, per query parse, whether this thread had a write transaction open."""

    def __init__(self, db: Database) -> None:
        self.local = threading.local()
        self.parses: list[bool] = []
        engine = db.engine

        @event.listens_for(engine, "begin")
        def begin(conn: Any) -> None:
            if conn.get_execution_options().get("write"):
                self.local.depth = getattr(self.local, "depth", 0) + 1

        @event.listens_for(engine, "commit")
        @event.listens_for(engine, "rollback")
        def end(conn: Any) -> None:
            if conn.get_execution_options().get("write"):
                self.local.depth = max(0, getattr(self.local, "depth", 0) - 1)

    def in_write(self) -> bool:
        return getattr(self.local, "depth", 0) > 0


@pytest.fixture
def watch(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[WriteWatch]:
    w = WriteWatch(db)
    real = parser._Parser.parse

    def parse(self: Any) -> Any:
        w.parses.append(w.in_write())
        return real(self)

    monkeypatch.setattr(parser._Parser, "parse", parse)
    yield w


def _topics(db: Database) -> None:
    now = datetime.now(UTC)
    with db.write() as conn:
        for k, aliases in enumerate(ALIASES):
            save_topic(conn, TopicSpec(f"xa{k}", "Các xã", aliases), "cli", now)
        save_topic(conn, TopicSpec("xa", "Các xã", "@xa0 OR @xa1 OR @xa2 OR @xa3"), "cli", now)
        save_topic(conn, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "cli", now)


def _sub(db: Database, chat_id: int, query: str) -> None:
    with db.write() as conn:
        now = datetime.now(UTC)
        ensure_chat(conn, chat_id, "private", f"chat {chat_id}", now)
        subscribe(conn, chat_id, topic_id=None, query=query, now=now)


def _publish(db: Database, ing: Any, n: int, **over: Any) -> None:
    with db.write() as conn:
        upsert_source_articles(
            conn, [article(n, published_at=datetime.now(VN), **over)], datetime.now(UTC)
        )
    assert ing.tick().error is None


def _alerted(db: Database) -> set[int]:
    with db.read() as conn:
        return set(conn.execute(select(deliveries.c.chat_id)).scalars())


def test_ingest_compiles_chat_queries_outside_the_write_transaction(
    db: Database, watch: WriteWatch
) -> None:
    _topics(db)
    ing = builtin_ingestor(db)
    ing.hooks.append(Outbox(timedelta(hours=48)))
    _publish(db, ing, 1)  # the index is built (empty of queries) and topics compiled
    for i in range(40):
        _sub(db, 5000 + i, f'(@xa "số {i}") OR "trộm cắp số {i}"')
    watch.parses.clear()
    _publish(db, ing, 2, title="Công an Kiến Thụy bắt đối tượng trộm cắp số 2")
    assert len(watch.parses) >= 40  # the new subscriptions were compiled …
    assert not any(watch.parses)  # … none of them while a write transaction was open
    assert _alerted(db) == {5002}
    # a subscription added later is compiled for the next batch, again outside the lock
    watch.parses.clear()
    _sub(db, 6000, '"đối tượng trộm cắp số 3"')
    _publish(db, ing, 3)
    assert watch.parses and not any(watch.parses)
    assert 6000 in _alerted(db) and 5003 in _alerted(db)


def test_refresh_is_incremental(db: Database) -> None:
    _topics(db)
    for i in range(30):
        _sub(db, 7000 + i, f'@xa "trộm {i}"')
    _sub(db, 7100, '@kien-thuy "trộm cắp"')
    index = ChatQueryIndex()
    first = index.refresh(db)
    assert (first.compiled, len(index)) == (31, 31)
    assert index.refresh(db).compiled == 0  # nothing changed: stamp only
    _sub(db, 7200, '"công an" "trộm"')
    assert (index.refresh(db).compiled, len(index)) == (1, 32)
    with db.write() as conn:
        assert unsubscribe(conn, 7003, topic_id=None, query='@xa "trộm 3"')
    step = index.refresh(db)
    assert (step.compiled, step.removed, len(index)) == (0, 1, 31)
    with db.write() as conn:  # only the one query that references the topic is recompiled
        save_topic(
            conn,
            TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy" OR "Núi Đối"'),
            "cli",
            datetime.now(UTC),
        )
    assert index.refresh(db).compiled == 1


def test_a_referenced_topic_edit_reaches_chat_queries(db: Database) -> None:
    _topics(db)
    ing = builtin_ingestor(db)
    ing.hooks.append(Outbox(timedelta(hours=48)))
    _sub(db, 8001, "@kien-thuy")
    _publish(db, ing, 1, title="Tin Núi Đối", summary="", body="<p>Mưa lớn ở Núi Đối</p>")
    assert _alerted(db) == set()
    with db.write() as conn:
        save_topic(
            conn,
            TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy" OR "Núi Đối"'),
            "cli",
            datetime.now(UTC),
        )
    _publish(db, ing, 2, title="Tin Núi Đối", summary="", body="<p>Mưa lớn ở Núi Đối</p>")
    assert _alerted(db) == {8001}


def _fresh_change(db: Database, n: int, title: str) -> Any:
    from feedsvc.ingest import Change

    return Change(n, article(n, title=title, published_at=datetime.now(VN)), True, frozenset())


def test_removed_or_paused_subscriptions_are_not_alerted_from_a_stale_index(db: Database) -> None:
    """Between the refresh and the write transaction a chat may /unsub or /pause: the
    transaction reads what is live, whatever the compiled index still holds."""
    _topics(db)
    ing = builtin_ingestor(db)
    outbox = Outbox(timedelta(hours=48))
    ing.hooks.append(outbox)
    _publish(db, ing, 1)  # article 1 exists (deliveries reference it)
    for chat in (9001, 9002, 9003):
        _sub(db, chat, '"mưa đá"')
    outbox.prepare(db)
    with db.write() as conn:
        unsubscribe(conn, 9001, topic_id=None, query='"mưa đá"')
        set_paused(conn, 9002, True)
    with db.read() as conn:
        article_id = conn.execute(select(deliveries.c.article_id)).scalar() or 1
    with db.write() as conn:
        outbox(conn, [_fresh_change(db, article_id, "Mưa đá ở Kiến Thụy")], datetime.now(UTC))
    assert _alerted(db) == {9003}
