"""Follow-ups on alerts of a group that became a supergroup (a tester's report, confidence high).

Telegram gives the supergroup a new chat id (the ``migrate_to_chat_id`` service message) and
deactivates the old group: its messages stay there, and a call naming its id answers 400 "group
chat was upgraded to a supergroup chat" with ``migrate_to_chat_id`` (FIELD-NOTES; the fake does
the same for sends, edits and deletes). The group's rows follow the chat to the new id, but a
sent alert's ``message_id`` is the OLD group's: message ids are per chat. The follow-up worker
edited and deleted ``(supergroup, old id)`` — a /help reply that happened to get the same id —
and counted an old-group alert as sharing a supergroup message. Now a follow-up names the chat
the message went to (``deliveries.sent_chat_id``), and one whose message is in a migrated-away
group ends ``unreachable`` without a call. End to end against the fake Bot API, both backends.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fakebot import FakeBotAPI
from fakeserver import PATIENCE
from sqlalchemy import select, update
from test_bot import make_bot
from test_retraction import Env, fresh, retraction_env, subscribe_chat

from feedsvc.bot import actions
from feedsvc.catalogue import Translator
from feedsvc.db import Database
from feedsvc.db.schema import alert_followups, articles, chats, deliveries
from feedsvc.lifecycle.editors import hide_article
from feedsvc.store.delivery_log import list_deliveries

OLD, SUPER = -600, -1009999999999
HELP = "Các lệnh: /sub, /unsub, /topics"
CHANGES = ("editmessagetext", "editmessagecaption", "deletemessage", "editmessagereplymarkup")


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


@pytest.fixture
async def env(db: Database, fake: FakeBotAPI) -> AsyncIterator[Env]:
    async with retraction_env(db, fake) as e:
        e.fake.add_chat(OLD, "group", "Nhóm cũ", admins=[7])
        yield e


def message_of(env: Env, key: str, chat_id: int | None = None) -> int:
    """The message id recorded for article ``key``'s sent alert (to ``chat_id``, if given)."""
    stmt = (
        select(deliveries.c.message_id)
        .join(articles, articles.c.id == deliveries.c.article_id)
        .where(articles.c.source_key == key, deliveries.c.state == "sent")
    )
    if chat_id is not None:
        stmt = stmt.where(deliveries.c.chat_id == chat_id)
    with env.db.read() as conn:
        return int(conn.execute(stmt).scalar_one())


def followups_of(env: Env, key: str) -> list[tuple[str, str | None]]:
    """(kind, outcome) of the follow-ups on article ``key``'s alerts, by kind."""
    stmt = (
        select(alert_followups.c.kind, alert_followups.c.outcome)
        .join(deliveries, deliveries.c.id == alert_followups.c.delivery_id)
        .join(articles, articles.c.id == deliveries.c.article_id)
        .where(articles.c.source_key == key)
        .order_by(alert_followups.c.kind, deliveries.c.chat_id)
    )
    with env.db.read() as conn:
        return [(str(k), o) for k, o in conn.execute(stmt).tuples()]


def next_message_is(fake: FakeBotAPI, chat_id: int, message_id: int) -> None:
    """The chat's next message gets ``message_id`` (ids are per chat: collisions are normal)."""
    fake.chat(chat_id).last_message_id = message_id - 1


def bot_says(fake: FakeBotAPI, chat_id: int, text: str) -> int:
    """A message of the bot's own in ``chat_id`` (a command's reply), through the Bot API."""
    answer = httpx.post(f"{fake.base_url}{fake.token}/sendMessage",
                        json={"chat_id": chat_id, "text": text}, timeout=PATIENCE)  # fmt: skip
    assert answer.status_code == 200, answer.text
    return int(answer.json()["result"]["message_id"])


def changes(fake: FakeBotAPI) -> list[tuple[str, int | None]]:
    """Every edit and delete the fake was asked for: (method, chat)."""
    return [(c.method, c.chat_id) for c in fake.calls if c.method in CHANGES]


def untouched(fake: FakeBotAPI, chat_id: int, message_id: int, text: str) -> bool:
    live = fake.live(chat_id, message_id)
    return live.alive and not live.edits and live.visible == text


def correct(env: Env, item: Any, title: str) -> Any:
    fixed = replace(item, title=title, updated_at=datetime.now(UTC))
    env.publish(fixed)
    return fixed


def migrate(env: Env) -> None:
    """The group becomes a supergroup the bot did not know: what the service message does."""
    env.fake.migrate_chat(OLD, SUPER)
    actions.follow_migration(env.db, OLD, SUPER)


def _service_message(chat: dict[str, Any], **fields: Any) -> dict[str, Any]:
    sender = {"id": 7, "is_bot": False, "first_name": "A"}
    return {"message": {"message_id": 99, "date": int(time.time()), "chat": chat,
                        "from": sender, **fields}}  # fmt: skip


async def test_the_testers_repro_correction_and_takedown_leave_the_supergroup_alone(
    env: Env,
) -> None:
    """G1 alerted as message 3 in -600; the group migrates (the real bot reads the service
    message); the bot answers /help in the supergroup as message 3; G1 is corrected, then
    hidden. Before: the /help reply was edited to G1's text, then deleted."""
    g1 = fresh(1)
    next_message_is(env.fake, OLD, 3)
    subscribe_chat(env.db, OLD, "group", "kien-thuy")
    env.publish(g1)
    await env.dispatch()
    assert message_of(env, "TEST-00001") == 3
    alert = env.fake.live(OLD, 3).visible
    bot = make_bot(env.db, env.fake.base_url, env.fake.token)
    await bot.start()
    try:
        await env.fake.await_for(lambda: bot.polling)
        env.fake.migrate_chat(OLD, SUPER)
        env.fake.inject_update(_service_message(
            {"id": OLD, "type": "group", "title": "Nhóm cũ"}, migrate_to_chat_id=SUPER,
        ))  # fmt: skip

        def moved() -> bool:
            with env.db.read() as conn:
                return conn.execute(select(chats.c.chat_id)).scalars().all() == [SUPER]

        await env.fake.await_for(moved)
        next_message_is(env.fake, SUPER, 2)  # the user's /help is 2, the bot's reply 3
        env.fake.user_sends(SUPER, 7, "/help")
        replies = await env.fake.await_for(
            lambda: [m for m in env.fake.messages(SUPER) if m.message_id == 3]
        )
    finally:
        await bot.stop()
    help_text = replies[0].visible
    correct(env, g1, "Công an Kiến Thụy: tin đã sửa")
    await env.follow_up()
    hide_article(env.db, "TEST-00001", "Yêu cầu pháp lý", "cli")
    await env.follow_up()
    assert untouched(env.fake, SUPER, 3, help_text)  # the /help reply: never edited or deleted
    assert untouched(env.fake, OLD, 3, alert)  # the old group's alert: out of reach
    assert changes(env.fake) == []  # no edit or delete was even tried
    assert followups_of(env, "TEST-00001") == [("correct", "unreachable"),
                                               ("retract", "unreachable")]  # fmt: skip
    with env.db.read() as conn:  # the delivery log says so, in the catalogue's words
        (row,), _ = list_deliveries(conn)
    assert (row.chat_id, row.retraction, row.correction) == (SUPER, "unreachable", "unreachable")
    assert "old group" in Translator("en")("followup.unreachable")


async def test_an_old_digest_message_never_takes_a_supergroup_message_with_its_id(
    env: Env,
) -> None:
    """The group's digest (one message, G1 and G2) and, after the migration, the supergroup's
    alert of G3 under the same message id. Before: G3's takedown was "kept (digest message: 2
    other article(s) still public)", and the old digest's follow-ups reached G3's message."""
    g1, g2 = fresh(1), fresh(2, title="Kiến Thụy: tin hai")
    subscribe_chat(env.db, OLD, "group", "kien-thuy")
    env.publish(g1, g2)
    await env.dispatch()
    mid = min(m.message_id for m in env.fake.messages(OLD))
    with env.db.write() as conn:  # as the digest sender records one message for both
        conn.execute(update(deliveries).where(deliveries.c.chat_id == OLD).values(message_id=mid))
    migrate(env)
    next_message_is(env.fake, SUPER, mid)
    g3 = fresh(3, title="Kiến Thụy: tin ba")
    env.publish(g3)
    await env.dispatch()
    assert message_of(env, "TEST-00003") == mid
    g3_alert = env.fake.live(SUPER, mid).visible
    correct(env, g2, "Kiến Thụy: tin hai đã sửa")
    hide_article(env.db, "TEST-00001", None, "cli")
    await env.follow_up()
    assert untouched(env.fake, SUPER, mid, g3_alert)
    assert followups_of(env, "TEST-00001") == [("retract", "unreachable")]
    assert followups_of(env, "TEST-00002") == [("correct", "unreachable")]
    hide_article(env.db, "TEST-00003", None, "cli")  # G3's message carries G3 alone
    await env.follow_up()
    assert env.fake.live(SUPER, mid).deleted
    assert followups_of(env, "TEST-00003") == [("retract", "deleted")]
    assert changes(env.fake) == [("deletemessage", SUPER)]


async def test_migration_into_a_supergroup_already_known(env: Env) -> None:
    """The supergroup had its own chat row and alerts: G1 reached both chats as message 3,
    G2 only the group, as message 4; the bot's /help reply is the supergroup's message 4. The
    group's row of G1 stays behind and goes with the old chat; its G2 row moves. Corrections
    and takedowns: the supergroup's own G1 alert is edited, then deleted; G2's ends
    ``unreachable`` and the /help reply is never touched (before: edited, then deleted)."""
    env.fake.add_chat(SUPER, "supergroup", "Siêu nhóm", admins=[7])
    subscribe_chat(env.db, OLD, "group", "kien-thuy")
    subscribe_chat(env.db, SUPER, "supergroup", "an-ninh")
    next_message_is(env.fake, OLD, 3)
    next_message_is(env.fake, SUPER, 3)
    g1 = fresh(1)
    env.publish(g1)
    await env.dispatch()
    g2 = fresh(2, title="Kiến Thụy: tin hai", summary="Tin xã Đoàn Xá.", section="Xã hội",
               tags=("Xã hội",))  # fmt: skip
    env.publish(g2)
    await env.dispatch()
    assert (message_of(env, "TEST-00001", OLD), message_of(env, "TEST-00001", SUPER)) == (3, 3)
    assert message_of(env, "TEST-00002", OLD) == 4
    assert bot_says(env.fake, SUPER, HELP) == 4
    env.fake.chat(OLD).migrated_to = SUPER  # the supergroup keeps its chat and messages
    actions.follow_migration(env.db, OLD, SUPER)
    correct(env, g1, "Công an Kiến Thụy: tin một đã sửa")
    correct(env, g2, "Kiến Thụy: tin hai đã sửa")
    await env.follow_up()
    assert "tin một đã sửa" in env.fake.live(SUPER, 3).visible
    assert untouched(env.fake, SUPER, 4, HELP)
    assert followups_of(env, "TEST-00001") == [("correct", "edited")]
    assert followups_of(env, "TEST-00002") == [("correct", "unreachable")]
    hide_article(env.db, "TEST-00001", None, "cli")
    hide_article(env.db, "TEST-00002", None, "cli")
    await env.follow_up()
    assert env.fake.live(SUPER, 3).deleted
    assert untouched(env.fake, SUPER, 4, HELP)
    assert followups_of(env, "TEST-00002") == [("correct", "unreachable"),
                                               ("retract", "unreachable")]  # fmt: skip
    assert sorted(changes(env.fake)) == [("deletemessage", SUPER), ("editmessagetext", SUPER)]


async def test_alerts_sent_after_the_migration_are_followed_up_as_usual(env: Env) -> None:
    """G2 alerted in the supergroup after the migration, under the id G1's alert has in the
    old group. Before: G1's moved row counted as sharing G2's message, so G2's correction and
    takedown were "kept" as if it were a digest."""
    g1, g2 = fresh(1), fresh(2, title="Kiến Thụy: tin hai")
    subscribe_chat(env.db, OLD, "group", "kien-thuy")
    next_message_is(env.fake, OLD, 3)
    env.publish(g1)
    await env.dispatch()
    migrate(env)
    next_message_is(env.fake, SUPER, 3)
    env.publish(g2)
    await env.dispatch()
    assert message_of(env, "TEST-00002") == 3
    correct(env, g2, "Kiến Thụy: tin hai đã sửa")
    await env.follow_up()
    assert "tin hai đã sửa" in env.fake.live(SUPER, 3).visible
    assert followups_of(env, "TEST-00002") == [("correct", "edited")]
    hide_article(env.db, "TEST-00002", None, "cli")
    await env.follow_up()
    assert env.fake.live(SUPER, 3).deleted
    assert followups_of(env, "TEST-00002") == [("correct", "edited"), ("retract", "deleted")]
    assert env.fake.live(OLD, 3).alive and not env.fake.live(OLD, 3).edits


async def test_a_migration_learnt_from_the_follow_up_itself_is_unreachable(env: Env) -> None:
    """The service never heard of the migration (no service message, no send since): the row
    still names the old group, and Telegram answers the delete with ``migrate_to_chat_id``.
    That ends ``unreachable`` at once (before: ``failed``, like a blocked chat), no retries."""
    subscribe_chat(env.db, OLD, "group", "kien-thuy")
    env.publish(fresh(1))
    await env.dispatch()
    mid = message_of(env, "TEST-00001")
    env.fake.migrate_chat(OLD, SUPER)
    hide_article(env.db, "TEST-00001", None, "cli")
    await env.follow_up()
    assert followups_of(env, "TEST-00001") == [("retract", "unreachable")]
    assert env.fake.live(OLD, mid).alive
    assert changes(env.fake) == [("deletemessage", OLD)]  # one call, answered "migrated"
