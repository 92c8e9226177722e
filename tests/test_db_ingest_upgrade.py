"""Migrations 0003, 0005, 0006 (source ids, quarantine, catch-up progress) on a state DB that holds
data: rows survive, the new columns start empty, and ingest carries on from the old cursor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from factories import article, builtin_ingestor, insert_old_source_row, tick_changes
from sqlalchemy import insert, select
from upgrades import database_at

from feedsvc.db import upgrade
from feedsvc.db.schema import articles, source_articles
from feedsvc.store import quarantine
from feedsvc.store.cursors import get_cursor, record_success
from feedsvc.store.source_articles import upsert_source_articles


def test_upgrade_from_0002_with_data(db_url: str) -> None:
    db = database_at(db_url, "0002")
    now = datetime.now(UTC)
    changed = now - timedelta(minutes=2)
    first = article(1)
    with db.write() as conn:  # what 0002's ingest left: an article without source_id, a cursor
        insert_old_source_row(conn, first, changed)
        row_id = conn.execute(select(source_articles.c.id)).scalar_one()
        conn.execute(
            insert(articles).values(
                source_key=first.source_key,
                version=first.version,
                url=first.url,
                title=first.title,
                tags=[],
                published_at=first.published_at,
                search_text="",
                source_cursor=changed,
                first_seen_at=now,
                last_changed_at=now,
            )
        )
        record_success(conn, "builtin", changed, str(row_id), now)
    upgrade(db)
    ing = builtin_ingestor(db)
    assert ing.tick().read == 0  # the held article counts as seen: nothing re-read
    with db.write() as conn:
        upsert_source_articles(conn, [article(2)], now - timedelta(minutes=1))
    assert [c.article.source_key for c in tick_changes(ing)[1]] == ["TEST-00002"]
    with db.read() as conn:
        ids = dict(conn.execute(select(articles.c.source_key, articles.c.source_id)).tuples().all())
        assert ids["TEST-00001"] is None and ids["TEST-00002"] is not None
        assert quarantine.count(conn) == 0
        assert get_cursor(conn, "builtin").backlog == 0
    db.dispose()
