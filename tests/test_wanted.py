"""An alert queued for a chat that no longer wants it is never sent (``feedsvc.wanted``).

A newcomer removed a subscription (CLI, API), disabled a topic, or deleted it with its
subscriptions while alerts for it waited (pacing, a backlog, a digest): they all went out
afterwards, a deleted topic's under its name. The dispatcher and the digest now check at send
time; such an alert ends ``unsubscribed``. Telegram is the fake Bot API over real HTTP.

The endings are given one state DB backend each, rotating (``backend_cases.on_backends``; the
other way round in the digest's test, so each ending meets both backends): each is an
operation whose SQL its own tests run on both backends, and the send-time check that follows
reads the rows the same way whichever ended the subscription."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from backend_cases import on_backends
from test_digest_dispatch import CHAT, Env, digest_env, subscribe_chat

from feedsvc import operations as ops
from feedsvc.db import Database
from feedsvc.digest import ChatSettings, DigestSchedule
from feedsvc.store import subscriptions as sub_store


@pytest.fixture
async def env(db: Database) -> AsyncIterator[Env]:
    async with digest_env(db) as e:
        yield e


def _subscription(env: Env, slug: str) -> int:
    with env.db.read() as conn:
        subs = sub_store.list_subscriptions(conn, CHAT)
    [sub] = [s for s in subs if s.topic_slug == slug]
    return sub.id


def _remove(env: Env) -> None:
    ops.remove_subscription(env.db, _subscription(env, "an-ninh"))


def _unsub_by_bot(env: Env) -> None:  # the bot's /unsub and mute button, Zalo's too
    with env.db.write() as conn:
        topic = ops.get_topic(env.db, "an-ninh")
        assert sub_store.unsubscribe(conn, CHAT, topic_id=topic.id, query=None) == 1


def _disable(env: Env) -> None:
    ops.set_topic_enabled(env.db, "an-ninh", False)


def _delete(env: Env) -> None:
    ops.delete_topic(env.db, "an-ninh", with_subscriptions=True)


ENDINGS = [_remove, _unsub_by_bot, _disable, _delete]


def _ending(end: Callable[[Env], None]) -> str:
    return end.__name__.lstrip("_")


async def settle(env: Env, steps: int = 4) -> None:
    """Dispatcher steps, the clock past each chat's pacing between them."""
    for _ in range(steps):
        await env.step()
        env.clock.at += timedelta(seconds=5)


@pytest.mark.parametrize(
    ("db_url", "end"), on_backends(ENDINGS, label=_ending), indirect=["db_url"]
)
async def test_a_queued_alert_is_not_sent_once_the_chat_unsubscribed(
    env: Env, end: Callable[[Env], None]
) -> None:
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    env.publish("Công an phường tuần tra", "An ninh trật tự đêm qua")
    assert env.states() == ["pending", "pending"]
    end(env)
    await settle(env)
    assert env.fake.messages(CHAT) == []
    assert env.states() == ["unsubscribed", "unsubscribed"]
    env.publish("Công an bắt giữ")  # and nothing new is queued
    await settle(env)
    assert env.fake.messages(CHAT) == [] and len(env.states()) == 2


@pytest.mark.parametrize(
    ("db_url", "end"), on_backends(ENDINGS, start=1, label=_ending), indirect=["db_url"]
)
async def test_a_held_alert_is_left_out_of_the_digest(env: Env, end: Callable[[Env], None]) -> None:
    subscribe_chat(env.db, CHAT, "private", "an-ninh", "the-thao")
    env.settings(CHAT, ChatSettings(digest=DigestSchedule(hourly=True)))
    env.publish("Công an phường tuần tra", "Bóng đá: trận cầu đêm qua")
    await env.step()
    assert env.states() == ["held", "held"]
    end(env)
    env.clock.at += timedelta(hours=1, minutes=1)
    await env.step()
    [digest] = env.fake.messages(CHAT)
    assert "Bóng đá" in digest.visible and "Công an" not in digest.visible
    assert env.states() == ["unsubscribed", "sent"]


async def test_an_alert_another_subscription_wants_is_sent(env: Env) -> None:
    """Still wanted: by another topic the chat follows, or by one of its own queries."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh", "the-thao")
    ops.add_subscription(env.db, CHAT, "private", topic=None, query='"tuần tra"')
    env.publish("Công an phường tuần tra", "Công an: bóng đá phong trào", "An ninh đêm qua")
    _remove(env)  # an-ninh: the first has the query, the second the-thao, the third nothing
    await settle(env)
    sent = [m.visible for m in env.fake.messages(CHAT)]
    assert len(sent) == 2 and "tuần tra" in sent[0] and "bóng đá" in sent[1]
    assert env.states() == ["sent", "sent", "unsubscribed"]


async def test_an_unsubscribed_alert_is_no_dead_letter(env: Env) -> None:
    """Not offered for a re-send, and listed under its own state."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    env.publish("Công an phường tuần tra")
    _remove(env)
    await settle(env)
    [row], _ = ops.list_deliveries(env.db, state="unsubscribed")
    assert ops.list_deliveries(env.db, state="dead") == ([], 0)
    with pytest.raises(ops.OperationError) as refused:
        ops.resend_delivery(env.db, row.id)
    assert refused.value.kind == "conflict"


async def test_unsubscribed_alerts_are_no_recent_errors(env: Env) -> None:
    """A ``topics remove --force`` with hundreds queued pushed the real failures out of the
    ten recent errors of ``status`` and the admin's status page."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    env.publish("Công an phường tuần tra", "An ninh trật tự đêm qua")
    _remove(env)
    await settle(env)
    assert env.states() == ["unsubscribed", "unsubscribed"]
    assert ops.status_details(env.db).recent_errors == []
