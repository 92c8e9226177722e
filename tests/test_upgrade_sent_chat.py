"""Migration 0028 (``deliveries.sent_chat_id``) on a state DB holding sent alerts, SQLite and
PostgreSQL: each sent row gets the chat it is recorded for (where its message went, as far as
anything stored tells), unsent rows none; follow-ups and their history survive an upgrade and a
downgrade (a rebuilt ``deliveries`` on SQLite would cascade into ``alert_followups``); a
follow-up claimed after the upgrade addresses the row's chat as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from upgrades import database_at, downgrade, queued_for_followers, run_sql, telegram_chat

from feedsvc.db import upgrade
from feedsvc.db.schema import alert_followups, deliveries
from feedsvc.store import followup_queue, followups

NOW = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
PRIVATE, SUPER = 1001, -1001234567890


def test_upgrade_from_0027_gives_sent_rows_their_chat(db_url: str) -> None:
    db = database_at(db_url, "0027")
    with db.write() as conn:
        article_id = queued_for_followers(
            conn, (PRIVATE, SUPER, -77),
            telegram_chat(conn, NOW),
            NOW,
        )  # fmt: skip
    # two alerts sent (message 3 in each chat), one still queued; a retraction done on one
    run_sql(
        db,
        "UPDATE deliveries SET state = 'sent', message_id = 3, finished_at = :t"
        " WHERE chat_id IN (:a, :b)",
        "INSERT INTO alert_followups (delivery_id, kind, state, due_at, attempts, outcome,"
        " created_at) SELECT id, 'correct', 'done', :t, 1, 'edited', :t FROM deliveries"
        " WHERE chat_id = :a",
        t=NOW.replace(tzinfo=None), a=PRIVATE, b=SUPER,
    )  # fmt: skip
    upgrade(db)
    with db.read() as conn:
        got = dict(conn.execute(select(deliveries.c.chat_id, deliveries.c.sent_chat_id)).all())
    assert got == {PRIVATE: PRIVATE, SUPER: SUPER, -77: None}
    downgrade(db, "0027")
    upgrade(db)
    with db.write() as conn:
        got = dict(conn.execute(select(deliveries.c.chat_id, deliveries.c.sent_chat_id)).all())
        assert got == {PRIVATE: PRIVATE, SUPER: SUPER, -77: None}
        count = select(func.count()).select_from(alert_followups)
        assert conn.execute(count).scalar_one() == 1  # the history survived both ways
        now = datetime.now(UTC)
        assert followup_queue.queue_retractions(conn, [article_id], now) == 2
        claimed = followups.claim(conn, "me", now + timedelta(seconds=1), 10,
                                  timedelta(seconds=60))  # fmt: skip
    assert sorted((c.chat_id, c.message_chat, c.migrated_away) for c in claimed) == [
        (SUPER, SUPER, False), (PRIVATE, PRIVATE, False),
    ]  # fmt: skip
    db.dispose()
