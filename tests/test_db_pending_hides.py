"""Migration 0023 (``pending_hides``) on a state DB that holds data: the articles, their
hides and queued alerts stay as they were, the new table starts empty and takes a hide of a
key ingest has not read yet; the downgrade drops it and keeps the rest. SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect, select
from upgrades import OLD_ARTICLE, database_at, downgrade, run_sql

from feedsvc.db import upgrade
from feedsvc.db.schema import articles, pending_hides
from feedsvc.store import pending_hides as store


def test_upgrade_to_0023_keeps_the_articles_and_starts_with_no_pending_hide(db_url: str) -> None:
    db = database_at(db_url, "0022")
    try:
        run_sql(db, OLD_ARTICLE, t="2026-11-01 08:00:00")
        run_sql(
            db,
            "INSERT INTO articles (source_key, version, url, title, tags, published_at,"
            " search_text, source_cursor, first_seen_at, last_changed_at, hidden_at,"
            " hidden_reason, hidden_by, hidden_unpublic)"
            " VALUES ('a-2', :t, 'https://x.vn/2', 'Tin ẩn', '[]', :t, '', :t, :t, :t, :t,"
            " 'pháp lý', 'cli', :u)",
            t="2026-11-01 09:00:00", u=True,
        )  # fmt: skip
        upgrade(db)
        with db.engine.connect() as conn:
            rows = conn.execute(
                select(articles.c.source_key, articles.c.hidden_reason, articles.c.hidden_by)
                .order_by(articles.c.source_key)
            ).tuples().all()  # fmt: skip
            assert rows == [("a-1", None, None), ("a-2", "pháp lý", "cli")]
            assert conn.execute(select(pending_hides)).all() == []
        now = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
        with db.write() as conn:
            store.record(conn, "a-3", now, "chờ nạp", "api")
        with db.read() as conn:
            waiting = store.pending_hide(conn, "a-3")
        assert waiting == store.PendingHide("a-3", "chờ nạp", "api", now)
        downgrade(db, "0022")
        assert "pending_hides" not in inspect(db.engine).get_table_names()
        with db.engine.connect() as conn:
            assert len(conn.execute(select(articles.c.id)).all()) == 2
    finally:
        db.dispose()
