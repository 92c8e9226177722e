"""A topic saved while a batch waits for the write lock applies to that batch (verifier P1).

A batch is matched before its write: ahead of it in a catch-up, or just before it takes the
lock. A topic saved in between (SQLite: its transaction holding the lock the batch waits for)
was missed by that batch for good: its articles never matched the new topic, although SPEC §2
says a topic created applies to articles ingested after that moment. The batch's write now
checks the topics under the lock and matches the batch again when they moved.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from factories import article, builtin_ingestor
from sqlalchemy import select

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
        delete_topic(conn, "do-son")
    ing._store(batch, TickResult(), None)  # no match row for a topic gone (a foreign key)
    assert matched(db, "kien-thuy") == set(keys) and matched(db, "do-son") == set()
