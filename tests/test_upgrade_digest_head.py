"""Migration 0040 (``deliveries.digest_head``) on a state DB holding sent alerts and their
follow-ups, SQLite and PostgreSQL: every existing row gets NULL (a message of theirs is laid out
again as a digest of its own, as before), the rows and the follow-ups' history survive an
upgrade and a downgrade (a rebuilt ``deliveries`` on SQLite would cascade into
``alert_followups``), and a digest's parts are found by it after the upgrade."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, update
from upgrades import database_at, downgrade, queued_for_followers, run_sql, telegram_chat

from feedsvc.db import upgrade
from feedsvc.db.schema import alert_followups, deliveries
from feedsvc.store import digest_parts, digests

NOW = datetime(2026, 12, 12, 6, 0, tzinfo=UTC)
PRIVATE, SUPER = 1001, -1001234567890


def test_upgrade_from_0039_keeps_sent_rows_and_finds_parts_after(db_url: str) -> None:
    db = database_at(db_url, "0039")
    with db.write() as conn:
        article_id = queued_for_followers(
            conn, (PRIVATE, SUPER, -77),
            telegram_chat(conn, NOW),
            NOW,
        )  # fmt: skip
    run_sql(
        db,
        "UPDATE deliveries SET state = 'sent', message_id = 3, sent_chat_id = chat_id,"
        " digest = :yes, finished_at = :t WHERE chat_id IN (:a, :b)",
        "INSERT INTO alert_followups (delivery_id, kind, state, due_at, attempts, outcome,"
        " created_at) SELECT id, 'correct', 'done', :t, 1, 'edited', :t FROM deliveries"
        " WHERE chat_id = :a",
        t=NOW.replace(tzinfo=None), a=PRIVATE, b=SUPER, yes=True,
    )  # fmt: skip
    upgrade(db)
    with db.read() as conn:
        got = conn.execute(select(deliveries.c.chat_id, deliveries.c.state,
                                  deliveries.c.digest_head)).all()  # fmt: skip
        assert sorted(got) == [(SUPER, "sent", None), (-77, "pending", None),
                               (PRIVATE, "sent", None)]  # fmt: skip
        assert digest_parts.digest_rows(conn, PRIVATE, 3) == []  # sent before: no place
        assert digests.message_articles(conn, PRIVATE, 3) == {article_id: ["Kiến Thụy"]}
    downgrade(db, "0039")
    upgrade(db)
    with db.write() as conn:
        count = select(func.count()).select_from(alert_followups)
        assert conn.execute(count).scalar_one() == 1  # the history survived both ways
        assert conn.execute(select(func.count()).select_from(deliveries)).scalar_one() == 3
        conn.execute(update(deliveries).where(deliveries.c.message_id == 3)
                     .values(digest_head=3))  # fmt: skip
        for chat in (PRIVATE, SUPER):
            rows = digest_parts.digest_rows(conn, chat, 3)
            assert [(r.message, r.article_id) for r in rows] == [((chat, 3), article_id)]
        assert digest_parts.digest_rows(conn, PRIVATE, 4) == []
    db.dispose()
