"""Migration 0025 (tester F9): recipients of other channels renumbered from 2**53 up to 2**52 up,
in ``chats`` and every table holding a chat id, on a state DB holding data (SQLite and
PostgreSQL; through feedsvc's engine and through a plain one, where SQLite cascades nothing).

Why: 2**53 and 2**53 + 1 are one IEEE double, so a JSON client reading numbers as doubles (jq
1.6, JavaScript) took two Zalo/Apprise recipients for one; Telegram ids have at most 52
significant bits (Bot API ``Chat.id``), so [2**52, 2**53) is free and exact.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, insert, inspect, select, text
from upgrades import database_at, held_columns

from feedsvc.db import Database
from feedsvc.db.engine import alembic_config, current_revision
from feedsvc.db.revision import SchemaError
from feedsvc.db.schema import (
    alert_followups,
    articles,
    chats,
    deliveries,
    metadata,
    subscriptions,
    topics,
)
from feedsvc.store.subscriptions import ensure_recipient, list_subscriptions

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
# Telegram chats, never moved: the largest private id, negative boundaries the old check let in
TELEGRAM = {
    1001: "private", -2001: "group", -1001234567890: "supergroup", 2**52 - 1: "private",
    -(2**52 - 1): "supergroup", -(2**52): "supergroup", -(2**53 - 1): "channel",
}  # fmt: skip
# other channels' recipients as 0009-0024 numbered them: the tester's pair 2**53 / 2**53 + 1
# (one double), then a gap (a deleted recipient) kept as it is
OTHERS = {
    2**53: ("zalo", "z-lan", "private"),
    2**53 + 1: ("zalo", "z-nhom", "group"),
    2**53 + 2: ("apprise", "json://127.0.0.1:9/a", "destination"),
    2**53 + 7: ("apprise", "json://127.0.0.1:9/b", "destination"),
}
# the tables holding a chats.chat_id (0025's list, checked against the schema below)
HOLDING = ("chats", "subscriptions", "deliveries")


def new_id(chat_id: int) -> int:
    return chat_id - 2**52 if chat_id >= 2**53 else chat_id


def fill(conn: Connection) -> None:
    """What a 0024 service held: chats of every channel with settings, subscriptions (topic and
    own query, a forum thread), their queue and history (pending, sent, held for a digest,
    failed) and follow-ups owed on sent alerts."""
    conn.execute(insert(topics).values(
        id=1, slug="kien-thuy", title="Kiến Thụy", description="", query='"Kiến Thụy"',
        enabled=True, origin="cli", created_at=NOW, updated_at=NOW,
    ))  # fmt: skip
    ids = [
        int(conn.execute(insert(articles).values(
            source_key=f"K{n}", version=NOW, url=f"https://example.vn/{n}.html", title=f"Tin {n}",
            tags=[], published_at=NOW, search_text="", source_cursor=NOW, first_seen_at=NOW,
            last_changed_at=NOW,
        ).returning(articles.c.id)).scalar_one())
        for n in (1, 2)
    ]  # fmt: skip
    every = {c: ("telegram", str(c), kind) for c, kind in TELEGRAM.items()} | OTHERS
    for n, (chat_id, (channel, address, kind)) in enumerate(sorted(every.items())):
        conn.execute(insert(chats).values(
            chat_id=chat_id, channel=channel, address=address, type=kind, title=f"chat {n}",
            paused=n % 3 == 0, failures=n % 2, link_preview=False, created_at=NOW,
            digest="hourly" if n % 4 == 1 else None, quiet="22:00-06:00" if n % 5 == 2 else None,
            blocked_until=NOW + timedelta(minutes=n) if n % 2 else None,
            disabled_reason="blocked" if n == 3 else None,
        ))  # fmt: skip
        conn.execute(insert(subscriptions).values(
            chat_id=chat_id, topic_id=1, created_at=NOW, created_by=f"{channel}:u{n}",
            thread_id=77 if kind == "supergroup" else None,
        ))  # fmt: skip
        conn.execute(insert(subscriptions).values(chat_id=chat_id, query="công an", created_at=NOW))
        conn.execute(insert(deliveries).values(
            chat_id=chat_id, article_id=ids[0], topics=["Kiến Thụy"], state="pending", attempts=0,
            ambiguous=0, plain_text=False, due_at=NOW, created_at=NOW,
        ))  # fmt: skip
        state = ("sent", "held", "failed")[n % 3]
        done = state == "sent"
        delivery = conn.execute(insert(deliveries).values(
            chat_id=chat_id, article_id=ids[1], topics=["Kiến Thụy", "“công an”"], state=state,
            attempts=1, ambiguous=0, plain_text=False, due_at=NOW, created_at=NOW,
            message_id=500 + n if done else None, finished_at=NOW if state != "held" else None,
            digest=state == "held", error="HTTP 500" if state == "failed" else None,
        ).returning(deliveries.c.id)).scalar_one()  # fmt: skip
        if done:
            conn.execute(insert(alert_followups).values(
                delivery_id=delivery, kind="retract", state="pending", due_at=NOW, attempts=0,
                created_at=NOW,
            ))  # fmt: skip


def _cell(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, list | dict) else value


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every feedsvc table, as comparable tuples in a stable order (the tables of
    later revisions, e.g. 0026's ``zalo_updates``, are not there yet)."""
    present = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        return {
            t.name: sorted(
                (tuple(_cell(v) for v in row) for row in conn.execute(held_columns(engine, t))),
                key=repr,
            )
            for t in metadata.sorted_tables
            if t.name in present
        }


def renumbered(before: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """``before`` as 0025 must leave it: chat ids of other channels moved, nothing else."""
    out = dict(before)
    for name in HOLDING:
        at = [c.name for c in metadata.tables[name].columns].index("chat_id")
        out[name] = sorted(
            ((*row[:at], new_id(row[at]), *row[at + 1 :]) for row in before[name]), key=repr
        )
    return out


def migrate(db: Database, engine: Engine, action: str, revision: str) -> None:
    """Alembic's ``action`` to ``revision`` on a connection of ``engine``."""
    from alembic import command

    cfg = alembic_config(db)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite" and engine is not db.engine:
            # the plain alembic command's engine: SQLite enforces (and cascades) nothing
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 0
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, revision)
        conn.commit()


@pytest.fixture(params=["feedsvc", "plain"])
def at_0024(request: pytest.FixtureRequest, db_url: str) -> Iterator[tuple[Database, Engine]]:
    """A 0024 state DB holding :func:`fill`'s data, and the engine to migrate it with."""
    db = database_at(db_url, "0024")
    with db.write() as conn:
        fill(conn)
    engine = db.engine if request.param == "feedsvc" else create_engine(db_url)
    yield db, engine
    engine.dispose()
    db.dispose()


def test_the_migration_names_every_table_holding_a_chat_id() -> None:
    holding = {
        t.name for t in metadata.sorted_tables
        if "chat_id" in t.columns or any(fk.column.table.name == "chats" for fk in t.foreign_keys)
    }  # fmt: skip
    assert holding == set(HOLDING)


def test_upgrade_moves_every_row_of_other_channels_and_nothing_else(
    at_0024: tuple[Database, Engine],
) -> None:
    db, engine = at_0024
    before = snapshot(engine)
    assert len(before["deliveries"]) == 2 * (len(TELEGRAM) + len(OTHERS))
    migrate(db, engine, "upgrade", "0025")
    after = snapshot(engine)
    assert after == renumbered(before)
    with engine.connect() as conn:
        got = dict(conn.execute(select(chats.c.chat_id, chats.c.address)).tuples().all())
        if engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
    assert {got[new_id(c)] for c in OTHERS} == {address for _, address, _ in OTHERS.values()}
    moved = sorted(new_id(c) for c in OTHERS)
    assert moved == [2**52, 2**52 + 1, 2**52 + 2, 2**52 + 7]  # order and gaps kept
    as_doubles = json.loads(json.dumps(moved), parse_int=float)
    assert len(set(as_doubles)) == len(moved) and all(float(x) == x for x in moved)
    with db.read() as conn:  # the service reads them under their new ids
        listed = {(s.chat_id, s.channel, s.address) for s in list_subscriptions(conn)}
    assert listed >= {(new_id(c), ch, a) for c, (ch, a, _) in OTHERS.items()}


def test_downgrade_puts_every_row_back(at_0024: tuple[Database, Engine]) -> None:
    db, engine = at_0024
    before = snapshot(engine)
    migrate(db, engine, "upgrade", "0025")
    migrate(db, engine, "downgrade", "0024")
    assert snapshot(engine) == before
    assert current_revision(db) == "0024"
    migrate(db, engine, "upgrade", "0025")  # and up again: the next recipient after the last
    with db.write() as conn:
        fresh = ensure_recipient(conn, "zalo", "z-moi", "private", None, NOW)
    assert fresh.chat_id == 2**52 + 8


@pytest.mark.parametrize(
    "stray",
    [
        2**52,  # an admin's typo the old check let in: where 2**53 would move
        2**52 + 5,  # in the new range, where nothing would move
        2**53 + 3,  # among the old ids of other channels (before 0009's check)
    ],
)
def test_a_telegram_row_in_the_way_stops_the_upgrade_unchanged(db_url: str, stray: int) -> None:
    db = database_at(db_url, "0024")
    try:
        with db.write() as conn:
            fill(conn)
            conn.execute(insert(chats).values(
                chat_id=stray, channel="telegram", address=str(stray), type="private",
                paused=False, failures=0, link_preview=False, created_at=NOW,
            ))  # fmt: skip
        before = snapshot(db.engine)
        with pytest.raises(SchemaError, match=rf"chat ids {stray} \(telegram\)"):
            migrate(db, db.engine, "upgrade", "0025")
        assert current_revision(db) == "0024"
        assert snapshot(db.engine) == before
    finally:
        db.dispose()
