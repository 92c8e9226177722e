"""A forum topic closed by the chat's admins (Bot API ``Bad Request: TOPIC_CLOSED``).

Before: the classifier read "topic" as a part of the message, so every alert to a closed topic
ended ``bad_content`` — a dead letter per alert, reason "Bad Request: TOPIC_CLOSED" — and kept
doing so after the admins reopened it. A closed topic may be reopened: now the alert waits
(``retry_kind`` ``topic_closed``, no attempt spent, tried again every 10 minutes), worded by
the catalogue with what the admin should do, one WARNING per try naming the chat, and goes out
once the topic is reopened; ``telegram.alert_max_age_hours`` ends it if it never is. Real
dispatcher, fake Bot API over HTTP, both state DBs; time is the dispatcher's moved clock.

A thread or the General topic is given one state DB backend per case
(``backend_cases.on_backends``): it picks what the fake answers and where the alert goes, while
the wait and the retry are recorded by the same statements."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from backend_cases import module_on_sqlite, on_backends
from sqlalchemy import select
from test_digest_dispatch import GROUP, Env, subscribe_chat
from test_digest_dispatch import env as env  # the fixture

from feedsvc.catalogue import CATALOGUE, Translator
from feedsvc.db.schema import deliveries
from feedsvc.digest import ChatSettings, DigestSchedule
from feedsvc.notify.outcome import OutcomeKind
from feedsvc.notify.refusals import classify_refusal

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)


def rows(env: Env) -> list[tuple[str, str | None, int]]:
    with env.db.read() as conn:
        stmt = select(deliveries.c.state, deliveries.c.retry_kind, deliveries.c.attempts)
        return [tuple(r) for r in conn.execute(stmt.order_by(deliveries.c.id))]  # type: ignore[misc]


@pytest.mark.parametrize(
    ("db_url", "thread"),
    on_backends([77, None], label=lambda t: "general" if t is None else "topic"),
    indirect=["db_url"],
)
async def test_a_closed_topic_waits_and_goes_once_reopened(
    env: Env, thread: int | None, caplog: pytest.LogCaptureFixture
) -> None:
    env.fake.add_chat(GROUP, "supergroup", "Tòa soạn").is_forum = True
    subscribe_chat(env.db, GROUP, "supergroup", "an-ninh", thread=thread)
    env.fake.close_thread(GROUP, thread)
    caplog.set_level(logging.INFO, logger="feedsvc")
    env.publish("Công an tuần tra")
    await env.step()
    assert env.fake.messages(GROUP) == []
    assert rows(env) == [("pending", "topic_closed", 0)]  # no dead letter, no attempt spent
    said = [r.getMessage() for r in caplog.records if "is closed" in r.getMessage()]
    assert len(said) == 1 and f"chat {GROUP}" in said[0] and "reopen the topic" in said[0]
    tries = len(env.fake.calls)
    env.clock.at += timedelta(minutes=5)
    await env.step()
    assert len(env.fake.calls) == tries  # not tried again before its 10 minutes
    env.fake.close_thread(GROUP, thread, closed=False)  # the admins reopen it
    env.clock.at += timedelta(minutes=6)
    await env.step()
    [sent] = env.fake.messages(GROUP)
    assert sent.thread_id == thread and "Công an tuần tra" in sent.visible
    assert [s for s, _, _ in rows(env)] == ["sent"]


async def test_a_digest_to_a_closed_topic_waits_too(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    env.fake.add_chat(GROUP, "supergroup", "Tòa soạn").is_forum = True
    subscribe_chat(env.db, GROUP, "supergroup", "an-ninh", thread=77)
    env.settings(GROUP, ChatSettings(digest=DigestSchedule(hourly=True)))
    env.publish("Công an tuần tra", "An ninh khu phố")
    await env.step()
    env.fake.close_thread(GROUP, 77)
    caplog.set_level(logging.WARNING, logger="feedsvc")
    env.clock.at += timedelta(hours=1, minutes=1)
    await env.step()
    assert env.fake.messages(GROUP) == []
    assert rows(env) == [("held", "topic_closed", 0)] * 2  # not two dead letters
    assert any(f"chat {GROUP}: the forum topic" in r.getMessage() for r in caplog.records)
    env.fake.close_thread(GROUP, 77, closed=False)
    env.clock.at += timedelta(minutes=11)
    await env.step()
    [digest] = env.fake.messages(GROUP)
    assert digest.thread_id == 77 and "Công an tuần tra" in digest.visible
    assert [s for s, _, _ in rows(env)] == ["sent", "sent"]


def test_the_wait_is_worded_in_both_languages() -> None:
    for index, language in enumerate(("vi", "en")):
        shown = Translator(language).delivery_error("pending", "telegram", "topic_closed")
        assert shown == CATALOGUE["delivery_error.retrying.topic_closed"][index]
    assert "reopen the topic" in CATALOGUE["delivery_error.retrying.topic_closed"][1]


@pytest.mark.parametrize(
    ("said", "forbidden"),
    [
        ("Bad Request: TOPIC_CLOSED", False),
        ("Forbidden: TOPIC_CLOSED", True),
        ("Bad Request: topic is closed", False),
        ("Bad Request: the topic was closed", False),
    ],
)
def test_the_classifier_reads_every_wording(said: str, forbidden: bool) -> None:
    assert classify_refusal(said, forbidden=forbidden).kind is OutcomeKind.TOPIC_CLOSED


@pytest.mark.parametrize(
    "said",
    ["Bad Request: message thread not found", "Bad Request: TOPIC_DELETED",
     "Bad Request: not enough rights to send text messages to the topic"],
)  # fmt: skip
def test_other_topic_answers_keep_their_outcome(said: str) -> None:
    assert classify_refusal(said).kind is not OutcomeKind.TOPIC_CLOSED
