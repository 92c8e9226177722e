"""Migration 0026 (tester4 G1): the ``zalo_updates`` table of Zalo updates acted on, added to a
state DB holding data (the recipient-id migration test's chats of every channel, subscriptions,
deliveries, follow-ups) without touching a row, and removed again by the downgrade. SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import Engine, inspect
from test_db_recipient_ids import NOW, fill, migrate
from upgrades import database_at, held_columns

from feedsvc.db.engine import current_revision
from feedsvc.db.schema import metadata
from feedsvc.store.zalo_updates import KEEP, first_delivery, prune


def rows(engine: Engine) -> dict[str, list[str]]:
    """Every row of every feedsvc table the DB has, comparable."""
    present = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        return {
            t.name: sorted(
                json.dumps(list(r), default=str) for r in conn.execute(held_columns(engine, t))
            )
            for t in metadata.sorted_tables
            if t.name in present
        }


def test_upgrade_to_0026_keeps_every_row_and_records_updates_once(db_url: str) -> None:
    db = database_at(db_url, "0024")
    try:
        with db.write() as conn:
            fill(conn)
        migrate(db, db.engine, "upgrade", "0025")
        before = rows(db.engine)
        assert "zalo_updates" not in before
        assert sum(map(len, before.values())) > 40  # chats, subscriptions, deliveries, …
        migrate(db, db.engine, "upgrade", "0026")
        assert current_revision(db) == "0026"
        after = rows(db.engine)
        assert after.pop("zalo_updates") == []
        assert after == before
        with db.write() as conn:
            assert first_delivery(conn, "z1", "m5", NOW)
            assert not first_delivery(conn, "z1", "m5", NOW + timedelta(hours=1))
            assert first_delivery(conn, "z2", "m5", NOW)  # another chat: another update
            assert first_delivery(conn, "z1", "m6", NOW - KEEP - timedelta(seconds=1))
            assert prune(conn, NOW) == 1  # only the key older than KEEP goes
            assert first_delivery(conn, "z1", "m6", NOW)  # …and may be recorded again
        migrate(db, db.engine, "downgrade", "0025")
        assert current_revision(db) == "0025"
        assert rows(db.engine) == before
    finally:
        db.dispose()
