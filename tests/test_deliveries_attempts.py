"""``attempts`` counts sends handed to the channel; an alert never sent shows 0.

An alert the chat unsubscribed from before its send (``unsubscribed``, :mod:`feedsvc.wanted`),
or whose article was withdrawn or hidden first (``withdrawn``, SPEC §10), showed "attempts: 1"
in ``GET /api/deliveries`` and the admin's delivery log although nothing ever reached Telegram:
the dispatcher's check at send time ended the row through the same call as a send's outcome,
which counts one. It counts none now (nor does an article moved into the future, waiting for
its time), for instant alerts and digests; a real send, failed or not, still counts, and a
lease that runs out (a crash mid-send) still counts as an unknown outcome (``ambiguous``).
SQLite and PostgreSQL; Telegram is the fake Bot API over real HTTP.

How the alert's reason ended (unsubscribed, chat disabled or deleted, article hidden or
withdrawn) is given one state DB backend per case, rotating (``backend_cases.on_backends``,
the start varied so a deleted chat's cascade runs on each backend in some test): the ending is
recorded with no attempt by the same statements whichever reason it was.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from backend_cases import on_backends
from factories import article
from fakebot import Fault
from sqlalchemy import select, update
from test_digest_dispatch import CHAT, Env, digest_env, subscribe_chat

from feedsvc import operations as ops
from feedsvc.app import Roles, Service, create_app
from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.db.schema import articles, deliveries
from feedsvc.digest import ChatSettings, DigestSchedule
from feedsvc.digest.record import Policy
from feedsvc.lifecycle.editors import hide_article
from feedsvc.notify import SendOutcome
from feedsvc.send_record import record_alert
from feedsvc.store import deliveries as q
from feedsvc.store import subscriptions as sub_store
from feedsvc.store.source_articles import upsert_source_articles

with warnings.catch_warnings():  # starlette 1.x prefers httpx2; the test extra ships httpx
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

TOKEN = "admin-test-token-0123456789abcdef"


@pytest.fixture
async def env(db: Database) -> AsyncIterator[Env]:
    async with digest_env(db) as e:
        yield e


def rows(env: Env) -> list[tuple[str, int, int]]:
    """(state, attempts, ambiguous) of the chat's deliveries, oldest first."""
    with env.db.read() as conn:
        stmt = (
            select(deliveries.c.state, deliveries.c.attempts, deliveries.c.ambiguous)
            .where(deliveries.c.chat_id == CHAT)
            .order_by(deliveries.c.id)
        )
        return [tuple(r) for r in conn.execute(stmt)]  # type: ignore[misc]


async def settle(env: Env, steps: int = 4) -> None:
    for _ in range(steps):
        await env.step()
        env.clock.at += timedelta(seconds=5)


def _unsubscribe(env: Env) -> None:
    with env.db.read() as conn:
        subs = sub_store.list_subscriptions(conn, CHAT)
    [sub] = [s for s in subs if s.topic_slug == "an-ninh"]
    ops.remove_subscription(env.db, sub.id)


def _disable(env: Env) -> None:
    ops.set_topic_enabled(env.db, "an-ninh", False)


def _delete(env: Env) -> None:
    ops.delete_topic(env.db, "an-ninh", with_subscriptions=True)


def _hide(env: Env) -> None:
    hide_article(env.db, "TEST-00001", "pháp lý", "cli")


def _withdraw(env: Env) -> None:
    """The CMS takes the article down (``withdrawn: true``, a newer ``updated_at``)."""
    with env.db.read() as conn:
        published = conn.execute(
            select(articles.c.published_at).where(articles.c.source_key == "TEST-00001")
        ).scalar_one()
    gone = article(1, title="Công an phường tuần tra", summary=None, body=None, tags=(),
                   section=None, published_at=published, updated_at=datetime.now(UTC),
                   withdrawn=True)  # fmt: skip
    with env.db.write() as conn:
        upsert_source_articles(conn, [gone], datetime.now(UTC))
    assert env.ingestor.tick().error is None


UNSUBSCRIBED = [_unsubscribe, _disable, _delete]
WITHDRAWN = [_hide, _withdraw]


@pytest.mark.parametrize(("db_url", "end"), on_backends(UNSUBSCRIBED), indirect=["db_url"])
async def test_an_unsubscribed_alert_shows_no_attempt(env: Env, end: Callable[[Env], None]) -> None:
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    env.publish("Công an phường tuần tra", "An ninh trật tự đêm qua")
    end(env)
    await settle(env)
    assert env.fake.messages(CHAT) == []
    assert rows(env) == [("unsubscribed", 0, 0), ("unsubscribed", 0, 0)]


@pytest.mark.parametrize(("db_url", "end"), on_backends(WITHDRAWN, start=1), indirect=["db_url"])
async def test_a_withdrawn_alert_shows_no_attempt(env: Env, end: Callable[[Env], None]) -> None:
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    env.publish("Công an phường tuần tra")
    end(env)
    await settle(env)
    assert env.fake.messages(CHAT) == []
    assert rows(env) == [("withdrawn", 0, 0)]


async def claim_then(env: Env, action: Callable[[Env], None]) -> None:
    """One dispatcher step whose claim is followed at once by ``action`` (the alert leased,
    its send not started: the dispatcher's check at send time sees the change)."""
    real = env.dispatcher._claim

    def claim(room: int) -> Any:
        found = real(room)
        if found[0]:
            action(env)
        return found

    env.dispatcher._claim = claim  # type: ignore[method-assign]
    try:
        await env.step()
    finally:
        env.dispatcher._claim = real  # type: ignore[method-assign]


@pytest.mark.parametrize(
    ("db_url", "end"), on_backends(UNSUBSCRIBED + WITHDRAWN, start=1), indirect=["db_url"]
)
async def test_an_alert_ended_at_send_time_shows_no_attempt(
    env: Env, end: Callable[[Env], None]
) -> None:
    """Claimed, then the chat unsubscribes or the article is taken down: the dispatcher's
    check at send time ends it (a queued row is ended where the change is made, and never
    counted one)."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    env.publish("Công an phường tuần tra")
    await claim_then(env, end)
    await settle(env)
    assert env.fake.messages(CHAT) == []
    left_out = "unsubscribed" if end in UNSUBSCRIBED else "withdrawn"
    assert rows(env) == [(left_out, 0, 0)]


@pytest.mark.parametrize(
    ("db_url", "end"), on_backends(UNSUBSCRIBED + WITHDRAWN), indirect=["db_url"]
)
async def test_a_digest_row_left_out_shows_no_attempt(env: Env, end: Callable[[Env], None]) -> None:
    """The digest's own path (``digest.record.set_aside``); the digest sent counts one."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh", "the-thao")
    env.settings(CHAT, ChatSettings(digest=DigestSchedule(hourly=True)))
    env.publish("Công an phường tuần tra", "Bóng đá: trận cầu đêm qua")
    await env.step()
    assert env.states() == ["held", "held"]
    end(env)
    env.clock.at += timedelta(hours=1, minutes=1)
    await env.step()
    assert len(env.fake.messages(CHAT)) == 1
    left_out = "unsubscribed" if end in UNSUBSCRIBED else "withdrawn"
    assert rows(env) == [(left_out, 0, 0), ("sent", 1, 0)]


async def test_a_wait_for_a_rescheduled_article_counts_no_attempt(env: Env) -> None:
    """Moved into the future after it was queued: back in the queue until its time, with no
    attempt counted (each one brought the alert nearer ``max_attempts``)."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    env.publish("Công an phường tuần tra")
    with env.db.write() as conn:
        conn.execute(update(articles).values(published_at=datetime.now(UTC) + timedelta(hours=2)))
    await settle(env)
    assert env.fake.messages(CHAT) == []
    assert rows(env) == [("pending", 0, 0)]


async def test_real_sends_still_count(env: Env) -> None:
    """A send, a failed send and its retry, a chat-level refusal: each counts."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    env.fake.script(CHAT, Fault.server_error(500))
    env.publish("Công an phường tuần tra")
    await env.step()
    assert rows(env) == [("pending", 1, 0)]  # the 500, backing off
    env.clock.at += timedelta(minutes=5)
    await settle(env)
    assert rows(env) == [("sent", 2, 0)]
    env.fake.script(CHAT, Fault.chat_not_found())
    env.publish("An ninh trật tự đêm qua")
    await settle(env)
    assert rows(env) == [("sent", 2, 0), ("chat_not_found", 1, 0)]


async def test_an_attempt_made_before_the_unsubscription_still_counts(env: Env) -> None:
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    env.fake.script(CHAT, Fault.server_error(502))
    env.publish("Công an phường tuần tra")
    await env.step()
    assert rows(env) == [("pending", 1, 0)]
    _unsubscribe(env)
    env.clock.at += timedelta(minutes=5)
    await settle(env)
    assert rows(env) == [("unsubscribed", 1, 0)]


async def test_a_lease_that_runs_out_still_counts_as_a_possible_send(env: Env) -> None:
    """A crash mid-send (the lease runs out, nothing recorded) is an unknown outcome: counted
    in ``ambiguous``, as before; the send that follows counts its attempt."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    env.publish("Công an phường tuần tra")
    now = datetime.now(UTC)
    with env.db.write() as conn:
        [claimed] = q.claim(conn, "crashed", now, 1, timedelta(seconds=30))
        assert claimed.attempts == 0
    with env.db.write() as conn:  # the crashed sender's lease runs out
        assert q.recover_expired(conn, now + timedelta(minutes=1)) == 1
    assert rows(env) == [("pending", 0, 1)]
    env.clock.at += timedelta(minutes=1)
    await settle(env)
    assert rows(env) == [("sent", 1, 1)]


async def test_an_article_no_longer_stored_counts_no_attempt(env: Env) -> None:
    """The dispatcher's own refusal (``SendOutcome.bad_content(..., attempted=False)``): a
    dead letter, nothing handed to the channel; a channel's ``bad_content`` counts one."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    env.publish("Công an phường tuần tra", "An ninh trật tự đêm qua")
    policy = Policy(3, 25, 1, lambda attempts: timedelta(seconds=1))
    outcomes = [
        SendOutcome.bad_content("article no longer stored", attempted=False),
        SendOutcome.bad_content("Bad Request: message is too long"),
    ]
    now = datetime.now(UTC)
    for outcome in outcomes:
        now += timedelta(minutes=1)  # past the chat's pacing
        with env.db.write() as conn:
            [claimed] = q.claim(conn, "me", now, 1, timedelta(seconds=30))
            record_alert(conn, now, "me", claimed, outcome, None, policy)
    assert rows(env) == [("bad_content", 0, 0), ("bad_content", 1, 0)]


@pytest.fixture
def service(env: Env, monkeypatch: pytest.MonkeyPatch) -> Service:
    """A service on the test's state DB, for what the API and the admin show."""
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    settings = load_config(None, {"database": {"url": env.db.url},
                                  "topics": {"import_on_start": False},
                                  "admin": {"language": "en"}})  # fmt: skip
    return Service(settings, Roles(scheduler=False, bot=False))


async def test_the_api_and_the_admin_show_no_attempt(env: Env, service: Service) -> None:
    subscribe_chat(env.db, CHAT, "private", "an-ninh", "the-thao")
    env.publish("Công an phường tuần tra", "Bóng đá: trận cầu đêm qua", "An ninh đêm qua")
    _hide(env)
    ops.set_topic_enabled(env.db, "the-thao", False)
    await settle(env)
    assert rows(env) == [("withdrawn", 0, 0), ("unsubscribed", 0, 0), ("sent", 1, 0)]
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        answer = client.get("/api/deliveries", headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 200, answer.text
        shown = {(d["state"], d["attempts"]) for d in answer.json()["items"]}
        assert shown == {("withdrawn", 0), ("unsubscribed", 0), ("sent", 1)}
        page = client.get("/admin/login")
        csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        client.post("/admin/login", data={"token": TOKEN, "csrf": csrf})
        for state in ("withdrawn", "unsubscribed"):
            listed = client.get(f"/admin/deliveries?state={state}")
            assert listed.status_code == 200
            assert listed.text.count("Attempts: 0") == 1, listed.text
            assert "Attempts: 1" not in listed.text
