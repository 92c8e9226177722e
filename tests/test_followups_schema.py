"""Migration 0012 (alert follow-ups) upgrades a database that already holds sent alerts, and
those alerts can then be retracted (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect, select, update
from upgrades import OLD_ARTICLE, database_at, downgrade, run_sql

from feedsvc.db import Database, upgrade
from feedsvc.db.schema import alert_followups, articles, deliveries
from feedsvc.store import followup_queue

_T = "2026-11-29 08:00:00"


def _fill_at_0011(db_url: str) -> Database:
    db = database_at(db_url, "0011")
    run_sql(
        db,
        OLD_ARTICLE,
        "INSERT INTO chats (chat_id, channel, address, type, paused, failures,"
        " link_preview, created_at) VALUES (1001, 'telegram', '1001', 'private',"
        " false, 0, false, :t)",
        "INSERT INTO deliveries (chat_id, article_id, topics, state, attempts, ambiguous,"
        " plain_text, due_at, message_id, created_at, finished_at)"
        " VALUES (1001, 1, '[\"An ninh\"]', 'sent', 1, 0, false, :t, 77, :t, :t)",
        t=_T,
    )
    return db


def test_upgrade_with_sent_alerts_then_retract_them(db_url: str) -> None:
    db = _fill_at_0011(db_url)
    upgrade(db)
    inspector = inspect(db.engine)
    assert "ix_deliveries_article_id" in {i["name"] for i in inspector.get_indexes("deliveries")}
    names = {i["name"] for i in inspector.get_indexes("articles")}
    assert {"ix_articles_withdrawn_at", "ix_articles_hidden_at"} <= names
    now = datetime.now(UTC)
    with db.write() as conn:
        assert conn.execute(select(alert_followups.c.id)).first() is None
        conn.execute(update(articles).values(hidden_at=now))
        assert followup_queue.sweep_retired(conn, now - timedelta(seconds=5), now) == 1
        assert followup_queue.sweep_retired(conn, now - timedelta(seconds=5), now) == 0  # again
        row = conn.execute(select(alert_followups.c.kind, alert_followups.c.state)).one()
        assert tuple(row) == ("retract", "pending")
        assert conn.execute(select(deliveries.c.message_id)).scalar_one() == 77
    db.dispose()


def test_downgrade_to_0011_and_back(db_url: str) -> None:
    db = _fill_at_0011(db_url)
    upgrade(db)
    downgrade(db, "0011")
    assert "alert_followups" not in inspect(db.engine).get_table_names()
    upgrade(db)
    with db.engine.connect() as conn:
        assert conn.execute(select(deliveries.c.state)).scalars().all() == ["sent"]
    db.dispose()
