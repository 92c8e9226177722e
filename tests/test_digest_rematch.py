"""An alert that ended ``unsubscribed`` because its article stopped matching the chat (a
correction's typo) is owed again when an edit makes it match again (SPEC §10: an edit that makes
a fresh article match a topic for the first time alerts that topic's subscribers once; this
chat never had it) — through ingest, the outbox and the real dispatcher, on SQLite and
PostgreSQL.

A tester's report: a digest chat held A; a correction ("Cong an", no diacritics) made A stop
matching; the digest went without it and the row ended ``unsubscribed`` for good; the title
fixed, an instant chat's alert was edited back, but the digest chat never got A (only rows
ended ``withdrawn`` were queued again). Now a row ended without a message, ``withdrawn`` or
``unsubscribed``, is queued again, and a digest chat's goes in its next digest, never alone
outside its schedule because the digest it missed has gone.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from test_digest_dispatch import CHAT, Env, local_hhmm, subscribe_chat
from test_digest_dispatch import env as env  # the fixture

from feedsvc.articles import Article
from feedsvc.db.schema import deliveries
from feedsvc.digest import ChatSettings, DigestSchedule, QuietWindow
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.subscriptions import subscribe

TYPO = "Cong an Kien Thuy (loi go)"  # no longer '"an ninh" OR "công an"', nor the query


def _edit(env: Env, a: Article, title: str) -> Article:
    """A correction of ``a`` (a newer ``updated_at``), read by an ingest tick."""
    edited = replace(a, title=title, updated_at=datetime.now(UTC) + timedelta(seconds=env.n))
    env.n += 1
    with env.db.write() as conn:
        upsert_source_articles(conn, [edited], datetime.now(UTC))
    assert env.ingestor.tick().error is None
    return edited


def _row(env: Env, article_id: int = 1) -> tuple[str, datetime | None]:
    with env.db.read() as conn:
        state, due = conn.execute(
            select(deliveries.c.state, deliveries.c.due_at).where(
                deliveries.c.chat_id == CHAT, deliveries.c.article_id == article_id
            )
        ).one()
    return str(state), due


def _digest_went_an_hour_ago(env: Env) -> None:
    """The rows' digest time an hour behind the real clock, which dates the outbox's work:
    the test's dispatcher clock runs ahead of it (``factories.clock_start``), so a digest
    reached by moving that clock lies in the outbox's future."""
    with env.db.write() as conn:
        conn.execute(update(deliveries).values(due_at=datetime.now(UTC) - timedelta(hours=1)))


def _follow(env: Env, how: str) -> None:
    if how == "topic":
        subscribe_chat(env.db, CHAT, "private", "an-ninh")
    else:  # the chat's own query
        subscribe_chat(env.db, CHAT, "private")
        with env.db.write() as conn:
            subscribe(conn, CHAT, topic_id=None, query='"công an"', now=datetime.now(UTC))


@pytest.mark.parametrize("how", ["topic", "query"])
async def test_a_digest_chat_gets_an_article_that_matches_again_in_its_next_digest(
    env: Env, how: str
) -> None:
    _follow(env, how)
    due = local_hhmm(env.clock.at + timedelta(minutes=1))
    env.settings(CHAT, ChatSettings(digest=DigestSchedule(times=(due,))))
    a, _b = env.publish("Công an Kiến Thụy: vụ A", "Công an Kiến Thụy: vụ B")
    await env.step()
    assert env.states() == ["held", "held"]
    a = _edit(env, a, TYPO)
    env.clock.at += timedelta(minutes=1, seconds=1)
    await env.step()
    [digest] = env.fake.messages(CHAT)
    assert "vụ B" in digest.visible and "vụ A" not in digest.visible
    assert env.states() == ["unsubscribed", "sent"]
    _digest_went_an_hour_ago(env)
    _edit(env, a, "Công an Kiến Thụy: vụ A (đã sửa)")
    env.clock.at += timedelta(seconds=5)  # the chat's pacing slot, booked by the digest
    await env.step()
    state, held_until = _row(env)
    assert state == "held" and held_until is not None  # its next digest, not now, alone
    assert held_until.replace(tzinfo=UTC) > env.clock.at
    assert len(env.fake.messages(CHAT)) == 1
    env.clock.at = held_until.replace(tzinfo=UTC) + timedelta(seconds=1)
    await env.step()
    second = env.fake.messages(CHAT)[-1]
    assert len(env.fake.messages(CHAT)) == 2 and "vụ A (đã sửa)" in second.visible
    assert env.states() == ["sent", "sent"]


async def test_an_instant_chat_gets_an_alert_that_ended_unsubscribed_once_it_matches_again(
    env: Env,
) -> None:
    _follow(env, "topic")
    [a] = env.publish("Công an Kiến Thụy: vụ A")
    a = _edit(env, a, TYPO)  # corrected before its send: the check at send time ends it
    await env.step()
    assert env.states() == ["unsubscribed"] and env.fake.messages(CHAT) == []
    _edit(env, a, "Công an Kiến Thụy: vụ A (đã sửa)")
    env.clock.at += timedelta(seconds=5)  # the chat's pacing slot, booked by the claim
    await env.step()
    [alert] = env.fake.messages(CHAT)
    assert "vụ A (đã sửa)" in alert.visible and env.states() == ["sent"]
    _edit(env, a, TYPO)  # once sent, never again: one alert per (chat, article)
    _edit(env, a, "Công an Kiến Thụy: vụ A (sửa lần hai)")
    env.clock.at += timedelta(seconds=5)
    await env.step()
    assert len(env.fake.messages(CHAT)) == 1


async def test_a_quiet_chat_gets_it_when_its_window_has_ended(env: Env) -> None:
    """Quiet hours, not a digest: the window it was held for has ended, so it goes now."""
    _follow(env, "topic")
    start = local_hhmm(env.clock.at - timedelta(minutes=5))
    end = local_hhmm(env.clock.at + timedelta(minutes=1))
    env.settings(CHAT, ChatSettings(quiet=QuietWindow(start, end)))
    [a] = env.publish("Công an Kiến Thụy: vụ A")
    await env.step()
    assert env.states() == ["held"]
    a = _edit(env, a, TYPO)
    env.clock.at += timedelta(minutes=1, seconds=1)
    await env.step()
    assert env.states() == ["unsubscribed"]
    _edit(env, a, "Công an Kiến Thụy: vụ A (đã sửa)")
    env.clock.at += timedelta(seconds=5)  # the chat's pacing slot, booked by the claim
    await env.step()
    [alert] = env.fake.messages(CHAT)
    assert "vụ A (đã sửa)" in alert.visible and env.states() == ["sent"]
