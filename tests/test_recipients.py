"""One recipient model (issue 14 §1): migration 0009 on a populated DB, recipient ids for other
channels, and claims that stay within one channel (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError
from upgrades import database_at, queued_for_followers

from feedsvc.db import Database, upgrade
from feedsvc.db.schema import NON_TELEGRAM_IDS, articles, chats, deliveries
from feedsvc.store import deliveries as q
from feedsvc.store.subscriptions import (
    ensure_chat,
    ensure_recipient,
    find_recipient,
    get_chat,
    list_subscriptions,
    subscribe,
)

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
# a private chat, a basic group, a supergroup (Telegram's -100… ids), the largest private id
OLD_CHATS = {1001: "private", -2001: "group", -1001234567890: "supergroup", 2**52 - 1: "private"}
# a chat row as 0008 knew it (schema.chats now has more columns)
OLD_CHAT = text(
    "INSERT INTO chats (chat_id, type, title, paused, failures, link_preview, created_at)"
    " VALUES (:id, :type, 'old chat', false, 0, false, :at)"
)
OLD_NOW = "2026-11-30 06:00:00.000000"


def _article(conn: object, n: int) -> int:
    from sqlalchemy import Connection

    assert isinstance(conn, Connection)
    return int(
        conn.execute(
            insert(articles)
            .values(
                source_key=f"K{n}", version=NOW, url=f"https://example.vn/{n}.html",
                title=f"Tin {n}", tags=[], published_at=NOW, search_text="",
                source_cursor=NOW, first_seen_at=NOW, last_changed_at=NOW,
            )
            .returning(articles.c.id)
        ).scalar_one()
    )  # fmt: skip


def test_upgrade_from_0008_keeps_every_telegram_chat_in_place(db_url: str) -> None:
    db = database_at(db_url, "0008")
    with db.write() as conn:  # what 0008 held: chats, their subscriptions and queue
        queued_for_followers(
            conn, OLD_CHATS,
            lambda chat_id: conn.execute(
                OLD_CHAT, {"id": chat_id, "type": OLD_CHATS[chat_id], "at": OLD_NOW}
            ),
            NOW,
        )  # fmt: skip
    upgrade(db)
    with db.write() as conn:
        rows = conn.execute(select(chats.c.chat_id, chats.c.channel, chats.c.address)).all()
        assert {(r.chat_id, r.channel, r.address) for r in rows} == {
            (c, "telegram", str(c)) for c in OLD_CHATS
        }
        assert len(list_subscriptions(conn)) == len(OLD_CHATS)
        claimed = q.claim(conn, "me", NOW, 10, timedelta(seconds=60))
        assert {(c.chat_id, c.channel, c.address) for c in claimed} == {
            (c, "telegram", str(c)) for c in OLD_CHATS
        }
        zalo = ensure_recipient(conn, "zalo", "1001", "private", "Lan", NOW)  # same text, other
        assert zalo.chat_id == NON_TELEGRAM_IDS  # channel: a recipient of its own
    with pytest.raises(IntegrityError), db.write() as conn:  # (channel, address) is unique
        conn.execute(insert(chats).values(
            chat_id=5, channel="telegram", address="1001", type="private", paused=False,
            failures=0, link_preview=False, created_at=NOW,
        ))  # fmt: skip
    db.dispose()


def test_other_channels_get_ids_telegram_never_uses(db: Database) -> None:
    with db.write() as conn:
        tg = ensure_chat(conn, -1001234567890, "supergroup", "Nhóm", NOW)
        assert (tg.channel, tg.address) == ("telegram", "-1001234567890")
        zalo = ensure_recipient(conn, "zalo", "a1b2c3", "private", "Lan", NOW)
        hook = ensure_recipient(conn, "apprise", "json://127.0.0.1:9/x", "destination", None, NOW)
        again = ensure_recipient(conn, "zalo", "a1b2c3", "private", "Lan Anh", NOW)
    assert zalo.chat_id == NON_TELEGRAM_IDS and hook.chat_id == NON_TELEGRAM_IDS + 1
    assert again.chat_id == zalo.chat_id and again.title == "Lan Anh"
    with db.read() as conn:
        found = find_recipient(conn, "apprise", "json://127.0.0.1:9/x")
        assert found is not None and found.chat_id == hook.chat_id
        assert find_recipient(conn, "zalo", "json://127.0.0.1:9/x") is None
        assert get_chat(conn, zalo.chat_id) == again
    with pytest.raises(ValueError), db.write() as conn:
        ensure_recipient(conn, "telegram", "1001", "private", None, NOW)


def test_concurrent_recipients_never_share_an_id(db: Database) -> None:
    """Eight writers adding recipients at once (PostgreSQL: truly concurrent transactions):
    every address gets one id, no writer fails, the same address twice is one recipient."""
    got: dict[str, int] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def add(worker: int) -> None:
        try:
            start.wait(timeout=10)
            for i in range(6):
                address = f"zalo-{(worker * 6 + i) % 40}"  # some addresses added twice
                with db.write() as conn:
                    chat = ensure_recipient(conn, "zalo", address, "private", None, NOW)
                got.setdefault(address, chat.chat_id)
                assert got[address] == chat.chat_id
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with db.read() as conn:
        rows = conn.execute(select(chats.c.chat_id, chats.c.address)).all()
    assert len(rows) == len(got) == 40
    assert {r.address: r.chat_id for r in rows} == got
    assert min(got.values()) >= NON_TELEGRAM_IDS


def test_claims_stay_within_their_channel(db: Database) -> None:
    with db.write() as conn:
        a = _article(conn, 1)
        tg = ensure_chat(conn, 1001, "private", None, NOW)
        zalo = ensure_recipient(conn, "zalo", "z1", "private", None, NOW)
        hook = ensure_recipient(conn, "apprise", "json://127.0.0.1:9/", "destination", None, NOW)
        for chat in (tg, zalo, hook):
            subscribe(conn, chat.chat_id, topic_id=None, query="tin", now=NOW)
        rows = [
            {"chat_id": c.chat_id, "article_id": a, "topics": ["Tin"], "state": "pending",
             "due_at": NOW, "created_at": NOW}
            for c in (tg, zalo, hook)
        ]  # fmt: skip
        assert q.enqueue(conn, rows) == 3
        assert q.next_claimable(conn, "apprise") == NOW
        got = q.claim(conn, "me", NOW, 10, timedelta(seconds=60), channel="zalo")
        assert [(c.chat_id, c.channel, c.address) for c in got] == [(zalo.chat_id, "zalo", "z1")]
        assert q.next_claimable(conn, "zalo") is None  # its only delivery is leased
        got = q.claim(conn, "me", NOW, 10, timedelta(seconds=60))  # telegram by default
        assert [c.chat_id for c in got] == [1001]
        assert q.next_claimable(conn, "apprise") == NOW  # untouched by the other claims


def test_a_dispatcher_recovers_only_its_own_channel(db: Database) -> None:
    """At start on SQLite every dispatcher takes back all leases of *its* channel: the others'
    dispatchers in the same process may be sending right now (taking theirs back duplicated
    Zalo alerts in the crash test)."""
    with db.write() as conn:
        a = _article(conn, 1)
        tg = ensure_chat(conn, 1001, "private", None, NOW)
        zalo = ensure_recipient(conn, "zalo", "z1", "private", None, NOW)
        q.enqueue(conn, [
            {"chat_id": c.chat_id, "article_id": a, "topics": ["Tin"], "state": "pending",
             "due_at": NOW, "created_at": NOW}
            for c in (tg, zalo)
        ])  # fmt: skip
        assert len(q.claim(conn, "tg", NOW, 5, timedelta(seconds=60))) == 1
        assert len(q.claim(conn, "z", NOW, 5, timedelta(seconds=60), channel="zalo")) == 1
        far = NOW + timedelta(days=2)
        assert q.recover_expired(conn, far, "zalo") == 1
        states = dict(conn.execute(select(deliveries.c.chat_id, deliveries.c.state)).tuples().all())
    assert states == {1001: "sending", zalo.chat_id: "pending"}


def test_an_unknown_topic_s_hint_is_worded_in_the_admin_s_language(
    db: Database, tmp_path: Path
) -> None:
    """The API and the admin word ``topic_unknown`` from the catalogue: the topics file's hint
    too (``subs add``'s English is tests/test_cli_subs.py's)."""
    from feedsvc import operations as ops
    from feedsvc.catalogue import Translator
    from feedsvc.config import TopicsSettings

    listed = tmp_path / "topics.toml"
    listed.write_text('[[topic]]\nslug = "an-ninh"\ntitle = "An ninh"\nquery = "an"\n')
    with pytest.raises(ops.OperationError) as caught:
        ops.add_subscription(
            db, None, None, topic="an-ninh", query=None, channel="apprise",
            address="json://127.0.0.1:9/x", topics_config=TopicsSettings(file=listed,
                                                                         import_on_start=False),
        )  # fmt: skip
    assert caught.value.code == "topic_unknown"
    assert Translator("vi").operation_error(caught.value) == (
        f"Không có chủ đề 'an-ninh'. Chủ đề này có trong tệp chủ đề {listed} nhưng chưa được "
        "nhập vào cơ sở dữ liệu trạng thái: chạy `feedsvc topics import`."
    )
