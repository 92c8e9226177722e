"""A topic saved while a batch waits for the write lock applies to that batch (verifier P1).

A batch is matched before its write: ahead of it in a catch-up, or just before it takes the
lock. A topic saved in between (SQLite: its transaction holding the lock the batch waits for)
was missed by that batch for good: its articles never matched the new topic, although SPEC §2
says a topic created applies to articles ingested after that moment. The batch's write now
checks the topics under the lock and matches the batch again when they moved.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from factories import article, builtin_ingestor
from processes import wait_until
from sqlalchemy import event, select, text

from feedsvc import operations as ops
from feedsvc.db import Database
from feedsvc.db.schema import article_topics, articles, topics
from feedsvc.ingest import TickResult
from feedsvc.ingest.ahead import Prepared
from feedsvc.ingest.isolate import read_batch
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec, delete_topic, save_topic


def matched(db: Database, slug: str) -> set[str]:
    """The source keys of the articles matched to ``slug``."""
    with db.read() as conn:
        stmt = (
            select(articles.c.source_key)
            .join(article_topics, article_topics.c.article_id == articles.c.id)
            .join(topics, topics.c.id == article_topics.c.topic_id)
            .where(topics.c.slug == slug)
        )
        return set(conn.execute(stmt).scalars())


def ready_batch(db: Database, titles: list[str]) -> tuple[Any, list[str]]:
    """An ingestor with one topic, and a batch of these titles read and matched, not written."""
    with db.write() as conn:
        save_topic(conn, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "cli", db.now())
    ing = builtin_ingestor(db, batch_size=50)
    plain = {"summary": "Tin trong ngày.", "section": "Thời sự", "tags": ()}
    rows = [article(n, title=t, **plain) for n, t in enumerate(titles, 1)]
    with db.write() as conn:
        upsert_source_articles(conn, rows, datetime.now(UTC))
        ing.index.refresh(conn)
    return ing, [r.source_key for r in rows]


def matched_ahead(ing: Any) -> Prepared:
    """The whole source read, parsed and matched with the topics as they are now."""
    return ing._prepare(read_batch(ing.source, None, None, 50).rows)


@pytest.mark.parametrize(
    "saved",
    [
        TopicSpec("an-ninh", "An ninh", '"công an" OR "an ninh"'),  # created
        TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy" OR "công an"'),  # edited
    ],
)
def test_a_topic_saved_after_the_match_applies_to_the_batch_written(
    db: Database, saved: TopicSpec
) -> None:
    titles = ["Kiến Thụy: tin số 1", "Công an Hải Phòng điều tra", "An ninh trật tự", "Thời tiết"]
    ing, keys = ready_batch(db, titles)
    batch = matched_ahead(ing)  # read and matched with the topics as they were
    with db.write() as conn:  # saved between the match and the write
        save_topic(conn, saved, "cli", db.now())
    ing._store(batch, TickResult(), None)
    expected = {keys[1], keys[2]} if saved.slug == "an-ninh" else {keys[0], keys[1]}
    assert matched(db, saved.slug) == expected


def test_a_topic_deleted_after_the_match_gets_no_rows(db: Database) -> None:
    ing, keys = ready_batch(db, ["Kiến Thụy: tin số 1", "Kiến Thụy: tin số 2"])
    with db.write() as conn:
        save_topic(conn, TopicSpec("do-son", "Đồ Sơn", '"Kiến Thụy"'), "cli", db.now())
        ing.index.refresh(conn)
    batch = matched_ahead(ing)
    with db.write() as conn:
        delete_topic(conn, "do-son", db.now())
    ing._store(batch, TickResult(), None)  # no match row for a topic gone (a foreign key)
    assert matched(db, "kien-thuy") == set(keys) and matched(db, "do-son") == set()


def _create(db: Database) -> None:
    ops.save_topic(db, TopicSpec("an-ninh", "An ninh", '"công an" OR "an ninh"'), "api")


def _edit(db: Database) -> None:
    ops.save_topic(db, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy" OR "công an"'), "api")


def _enable(db: Database) -> None:
    ops.set_topic_enabled(db, "an-ninh", True)


def _delete(db: Database) -> None:
    ops.delete_topic(db, "an-ninh", with_subscriptions=True)


def _waiting(db: Database, pids: list[int]) -> bool:
    """Some backend of ``pids`` waits for a lock (PostgreSQL's own view, ``pg_locks``)."""
    with db.read() as conn:
        stmt = text("SELECT count(*) FROM pg_locks WHERE NOT granted AND pid = ANY(:pids)")
        return bool(conn.execute(stmt, {"pids": pids}).scalar_one())


@pytest.mark.postgres
@pytest.mark.parametrize("change", [_create, _edit, _enable, _delete])
def test_a_topic_change_waits_for_the_batch_being_committed(
    pg_db: Database, change: Callable[[Database], None]
) -> None:
    """PostgreSQL: a topic change committed between a batch's topics check and its commit left
    the batch's articles, ingested after the change, matched with the old topics (a deleted
    topic: match rows for no topic). The change now waits for the batch's commit."""
    db = pg_db
    titles = ["Kiến Thụy: tin số 1", "Công an Hải Phòng điều tra", "An ninh trật tự", "Thời tiết"]
    ing, keys = ready_batch(db, titles)
    if change in (_enable, _delete):
        with db.write() as conn:
            spec = TopicSpec("an-ninh", "An ninh", '"an ninh"', enabled=change is _delete)
            save_topic(conn, spec, "cli", db.now())
    with db.read() as conn:
        ing.index.refresh(conn)
    batch = matched_ahead(ing)
    admin = Database(db.url)  # the admin's connections, each backend's pid known
    pids: list[int] = []
    event.listen(admin.engine, "connect", lambda dbapi, _r: pids.append(dbapi.info.backend_pid))
    # whether the batch's rows were committed when the change had committed, read by the
    # change's thread before it says it is done: the batch cannot commit before that while its
    # hook waits (an "after the write returned" mark raced the change's thread under load)
    after_the_batch: list[bool] = []
    done = threading.Event()

    def save() -> None:
        change(admin)
        after_the_batch.append({*keys} <= stored(admin))
        done.set()

    saver = threading.Thread(target=save)

    def change_during_the_write(conn: Any, changes: Any, now: Any) -> None:
        saver.start()
        wait_until(lambda: done.is_set() or (pids and _waiting(db, pids)), 30, "the change")

    ing.hooks.append(change_during_the_write)
    try:
        ing._store(batch, TickResult(), None)
        saver.join(30)
    finally:
        admin.dispose()
    assert after_the_batch == [True]  # the topics' change waited for the batch's commit
    assert len(matched(db, "kien-thuy")) == 1 and {*keys} <= stored(db)
    # the change applies to what is ingested after it
    rows = [article(9, title="Công an và an ninh", summary="", section="Thời sự", tags=())]
    with db.write() as conn:
        upsert_source_articles(conn, rows, datetime.now(UTC))
    ing.hooks.clear()
    ing.tick()
    later = {"_create": "an-ninh", "_edit": "kien-thuy", "_enable": "an-ninh"}
    if (slug := later.get(change.__name__)) is not None:
        assert rows[0].source_key in matched(db, slug)
    else:
        assert matched(db, "an-ninh") == set()


def stored(db: Database) -> set[str]:
    with db.read() as conn:
        return set(conn.execute(select(articles.c.source_key)).scalars())
