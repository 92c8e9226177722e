"""A subscription's id never goes to another subscription (migration 0027).

SQLite gave a new row ``max(rowid) + 1``: the newest subscription removed, the next one made
took its id, so a retried ``DELETE /api/subscriptions/20`` or ``subs remove 20`` typed from an
old listing removed another chat's subscription (three times in a row in a newcomer's try)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError
from upgrades import database_at

from feedsvc import operations as ops
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import chats, subscriptions, topics
from feedsvc.store.records import TopicSpec

NOW = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)


def _removed_ids_stay_unused(db: Database, rounds: int = 3) -> list[int]:
    """Subscribe chat 1000+i, remove it, ``rounds`` times: the ids given."""
    ids = []
    for i in range(rounds):
        sub, _ = ops.add_subscription(db, 1000 + i, "private", topic="kt", query=None)
        ids.append(sub.id)
        ops.remove_subscription(db, sub.id)
    return ids


def test_a_removed_subscriptions_id_is_never_given_again(db: Database) -> None:
    ops.save_topic(db, TopicSpec("kt", "Kiến Thụy", '"Kiến Thụy"'), "cli")
    kept, _ = ops.add_subscription(db, 999, "private", topic="kt", query=None)
    ids = _removed_ids_stay_unused(db)
    assert len({kept.id, *ids}) == 4 and ids == sorted(ids) and ids[0] > kept.id


def test_upgrade_from_0026_keeps_every_subscription(db_url: str) -> None:
    db = database_at(db_url, "0026")
    with db.write() as conn:
        conn.execute(insert(topics).values(
            id=1, slug="kt", title="Kiến Thụy", description="", query='"Kiến Thụy"',
            enabled=True, origin="cli", created_at=NOW, updated_at=NOW,
        ))  # fmt: skip
        for chat_id in (11, 12, 13):
            conn.execute(insert(chats).values(
                chat_id=chat_id, type="private", title="c", paused=False, failures=0,
                link_preview=False, created_at=NOW,
            ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO subscriptions (id, chat_id, topic_id, query, created_at, created_by,"
            " thread_id) VALUES (1, 11, 1, NULL, :t, 'telegram:5', NULL),"
            " (2, 12, NULL, 'an ninh', :t, NULL, 7), (3, 13, 1, NULL, :t, NULL, NULL)"
        ), {"t": NOW.replace(tzinfo=None)})  # fmt: skip
        conn.execute(text("DELETE FROM subscriptions WHERE id = 3"))
        if conn.dialect.name == "postgresql":  # as the sequence would stand after 3 inserts
            conn.execute(text("SELECT setval(pg_get_serial_sequence('subscriptions', 'id'), 3)"))
    before = _rows(db)
    upgrade(db)
    assert _rows(db) == before
    ids = _removed_ids_stay_unused(db)
    assert 2 not in ids and ids == sorted(set(ids)) and len(ids) == 3, ids
    with pytest.raises(IntegrityError), db.write() as conn:  # its unique constraints kept
        conn.execute(insert(subscriptions).values(chat_id=12, query="an ninh", created_at=NOW))
    assert len(_rows(db)) == 2
    ops.delete_topic(db, "kt", with_subscriptions=True)  # ON DELETE CASCADE still there
    assert [r[0] for r in _rows(db)] == [2]
    db.dispose()


def _rows(db: Database) -> list[tuple[object, ...]]:
    with db.read() as conn:
        stmt = select(
            subscriptions.c.id, subscriptions.c.chat_id, subscriptions.c.topic_id,
            subscriptions.c.query, subscriptions.c.created_by, subscriptions.c.thread_id,
        ).order_by(subscriptions.c.id)  # fmt: skip
        return [tuple(r) for r in conn.execute(stmt)]


@pytest.mark.parametrize("sub_id", [2**31, 2**31 + 5, -(2**31) - 1, 2**53, 2**63 - 1, -(2**63) + 1])
def test_an_id_past_the_columns_range_is_unknown(db: Database, sub_id: int) -> None:
    """``subscriptions.id`` is an int4 on PostgreSQL: an id past it was bound as it was and
    refused ("integer out of range"): ``DELETE /api/subscriptions/2147483648`` a 500 with a
    traceback, ``subs remove`` a "database error". It names no subscription, and nothing is
    removed."""
    from feedsvc.store import subscriptions as sub_store

    ops.save_topic(db, TopicSpec("kt", "Kiến Thụy", '"Kiến Thụy"'), "cli")
    kept, _ = ops.add_subscription(db, 999, "private", topic="kt", query=None)
    with pytest.raises(ops.OperationError) as caught:
        ops.remove_subscription(db, sub_id)
    assert caught.value.code == "subscription_not_found"
    with db.write() as conn:
        assert sub_store.get_subscription(conn, sub_id) is None
        assert sub_store.delete_subscription(conn, sub_id) is False
        assert sub_store.unsubscribe_id(conn, 999, sub_id) == 0
    with db.read() as conn:
        assert conn.execute(select(subscriptions.c.id)).scalars().all() == [kept.id]
