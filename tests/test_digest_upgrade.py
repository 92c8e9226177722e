"""Migration 0013 (delivery options) on a state DB that holds data, SQLite and PostgreSQL:
chats, their subscriptions and their queue survive (a table rebuild on SQLite would have let
ON DELETE CASCADE empty them), and every chat starts instant, loud and thread-less."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from upgrades import database_at, queued_for_followers, telegram_chat

from feedsvc.db import upgrade
from feedsvc.db.schema import deliveries, subscriptions
from feedsvc.digest import ChatSettings
from feedsvc.store import deliveries as q
from feedsvc.store import digests as held

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def test_upgrade_from_0012_with_data(db_url: str) -> None:
    db = database_at(db_url, "0012")
    with db.write() as conn:
        queued_for_followers(
            conn, (1001, -1001234567890),
            telegram_chat(conn, NOW, recipient=False),
            NOW,
        )  # fmt: skip
    upgrade(db)
    with db.write() as conn:
        assert conn.execute(select(subscriptions.c.chat_id, subscriptions.c.thread_id)).all() \
            == [(1001, None), (-1001234567890, None)]  # fmt: skip
        assert held.get_settings(conn, 1001) == ChatSettings()
        assert held.get_settings(conn, -1001234567890) == ChatSettings()
        rows = conn.execute(select(deliveries.c.state, deliveries.c.digest, deliveries.c.notice))
        assert rows.all() == [("pending", False, None)] * 2
        claimed = q.claim(conn, "me", NOW, 10, timedelta(seconds=60))
        assert sorted(c.chat_id for c in claimed) == [-1001234567890, 1001]
    db.dispose()
