"""Each Zalo update acts at most once (tester4 G1), against the fake Zalo Bot API over real HTTP.

Why: Zalo redelivers (a webhook retry after a timeout or a 5xx, a replayed POST, the same update
through long polling, a copy at each replica behind one URL) and every copy ran its command
again: a replayed ``/unsub 1`` removed the next subscription, which the user never named, and
every command answered twice. An update days old acted as well. The state DB now decides
(``zalo_updates``), so it holds across restarts and replicas.

Copies at once, at one replica and at two, keep SQLite and PostgreSQL: they race for the one
``zalo_updates`` row. The other tests send their copies one after another and run on SQLite
only (``backend_cases.on_sqlite``): the row they meet is written by the same statement
(``store.zalo_updates.first_delivery``), run on PostgreSQL by the racing test and by
``test_db_zalo_updates.py``; the age of an update is read in Python.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from backend_cases import on_sqlite
from fakezalo import FakeZaloAPI
from migrated import premigrated
from patience import PATIENT_READ_TIMEOUT

from feedsvc.app import Roles, Service, create_app
from feedsvc.channels.zalo import ZaloBotAPI
from feedsvc.channels.zalo.bot import ZaloBot
from feedsvc.channels.zalo.service import ZaloPoller
from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.store.subscriptions import find_recipient, list_subscriptions

SECRET = "webhook-secret-for-replay-tests-0123"
OK = {"X-Bot-Api-Secret-Token": SECRET}
TOPICS = (("kien-thuy", "Kiến Thụy"), ("giao-thong", "An toàn giao thông"),
          ("phap-luat", "Pháp luật"))  # fmt: skip


@pytest.fixture
def fake() -> Iterator[FakeZaloAPI]:
    with FakeZaloAPI() as server:
        yield server


def settings_for(tmp_path: Path, db_url: str, fake: FakeZaloAPI) -> Any:
    topics = tmp_path / "topics.toml"
    topics.write_text("".join(f'[[topic]]\nslug = "{slug}"\ntitle = "{title}"\n'
                              f"query = '\"{title}\"'\n\n" for slug, title in TOPICS),
                      encoding="utf-8")  # fmt: skip
    return load_config(None, {
        "database": {"url": premigrated(db_url)},
        "source": {"poll_seconds": 30},
        "zalo": {"base_url": fake.base_url, "token": fake.token, "webhook_secret": SECRET},
        "topics": {"file": str(topics)},
        "http": {"public_url": "https://tin.example.vn"},
    })  # fmt: skip


@asynccontextmanager
async def replica(settings: Any) -> AsyncIterator[tuple[Service, httpx.AsyncClient]]:
    """One feedsvc process in Zalo webhook mode and an HTTP client to its app."""
    service = Service(settings, Roles(http=False))
    await service.start()
    transport = httpx.ASGITransport(app=create_app(service))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://feedsvc") as client:
            yield service, client
    finally:
        await service.stop()


async def post(service: Service, client: httpx.AsyncClient, update: dict[str, Any]) -> None:
    """POST ``update`` as Zalo does and wait until the bot has done with it (no reply is a
    possible outcome, so the bot's tasks are awaited rather than a reply)."""
    response = await client.post("/zalo/webhook", json={"ok": True, "result": update}, headers=OK)
    assert response.status_code == 200
    assert service.zalo is not None
    await service.zalo.bot.drain()


def slugs(db: Database, chat: str) -> list[str | None]:
    with db.read() as conn:
        recipient = find_recipient(conn, "zalo", chat)
        assert recipient is not None
        return [s.topic_slug for s in list_subscriptions(conn, recipient.chat_id)]


def texts(fake: FakeZaloAPI, chat: str) -> list[str]:
    return [m.text for m in fake.messages(chat)]


async def subscribed_to_three(service: Service, client: httpx.AsyncClient,
                              fake: FakeZaloAPI, chat: str) -> None:  # fmt: skip
    for slug, _ in TOPICS:
        await post(service, client, fake.update(chat, f"/sub {slug}"))
    assert slugs(service.db, chat) == [slug for slug, _ in TOPICS]


@on_sqlite
async def test_a_replayed_unsub_1_removes_one_subscription_and_answers_once(
    tmp_path: Path, db_url: str, fake: FakeZaloAPI
) -> None:
    """The tester's reproduction: the identical ``/unsub 1`` POSTed twice."""
    async with replica(settings_for(tmp_path, db_url, fake)) as (service, client):
        await subscribed_to_three(service, client, fake, "zr1")
        unsub = fake.update("zr1", "/unsub 1")
        await post(service, client, unsub)
        await post(service, client, copy.deepcopy(unsub))
        assert slugs(service.db, "zr1") == ["giao-thong", "phap-luat"]
        replies = texts(fake, "zr1")[3:]
        assert len(replies) == 1 and "Kiến Thụy" in replies[0]


@on_sqlite
async def test_the_same_update_by_polling_after_the_webhook_acts_once(
    tmp_path: Path, db_url: str, fake: FakeZaloAPI
) -> None:
    async with replica(settings_for(tmp_path, db_url, fake)) as (service, client):
        await subscribed_to_three(service, client, fake, "zp1")
        unsub = fake.update("zp1", "/unsub 1")
        await post(service, client, unsub)
        api = ZaloBotAPI(fake.token, fake.base_url, read_timeout=PATIENT_READ_TIMEOUT)
        bot = ZaloBot(service.db, api)
        poller = ZaloPoller(service.db, api, bot, lease_seconds=3, poll_timeout=0.5,
                            standby_seconds=0.1, holder="other")  # fmt: skip
        fake.redeliver(copy.deepcopy(unsub))
        poller.start()
        try:
            await fake.await_for(lambda: fake.pending_updates == 0 and poller.polls > 0)
            fake.user_says("zp1", "/list")  # a new update still acts (and ends the check)
            await fake.await_for(lambda: len(texts(fake, "zp1")) == 5)
        finally:
            await poller.stop()
            await bot.drain()
            await api.close()
        assert slugs(service.db, "zp1") == ["giao-thong", "phap-luat"]
        unsubscribed = [t for t in texts(fake, "zp1") if "huỷ đăng ký" in t]
        assert len(unsubscribed) == 1 and "Kiến Thụy" in unsubscribed[0]
        assert "1. An toàn giao thông" in texts(fake, "zp1")[-1]


async def test_concurrent_copies_at_one_replica_and_at_two_act_once(
    tmp_path: Path, db_url: str, fake: FakeZaloAPI
) -> None:
    settings = settings_for(tmp_path, db_url, fake)
    async with replica(settings) as (one, c1), replica(settings) as (two, c2):
        await subscribed_to_three(one, c1, fake, "zc1")
        first = fake.update("zc1", "/unsub 1")
        await asyncio.gather(*(post(one, c1, copy.deepcopy(first)) for _ in range(2)))
        second = fake.update("zc1", "/unsub 1")
        await asyncio.gather(post(one, c1, second), post(two, c2, copy.deepcopy(second)))
        assert slugs(one.db, "zc1") == ["phap-luat"]
        replies = texts(fake, "zc1")[3:]
        assert len(replies) == 2, replies
        assert "Kiến Thụy" in replies[0] + replies[1]
        assert "An toàn giao thông" in replies[0] + replies[1]


@on_sqlite
async def test_a_copy_after_a_restart_does_not_act(
    tmp_path: Path, db_url: str, fake: FakeZaloAPI
) -> None:
    settings = settings_for(tmp_path, db_url, fake)
    async with replica(settings) as (service, client):
        await subscribed_to_three(service, client, fake, "zs1")
        unsub = fake.update("zs1", "/unsub 1")
        await post(service, client, unsub)
    async with replica(settings) as (service, client):
        await post(service, client, copy.deepcopy(unsub))
        assert slugs(service.db, "zs1") == ["giao-thong", "phap-luat"]
    assert len(texts(fake, "zs1")) == 4


@on_sqlite
async def test_a_stale_update_does_nothing_and_is_logged_once(
    tmp_path: Path, db_url: str, fake: FakeZaloAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="feedsvc.zalo")
    async with replica(settings_for(tmp_path, db_url, fake)) as (service, client):
        await post(service, client, fake.update("zt1", "/sub kien-thuy"))
        old = fake.update("zt1", "/unsub kien-thuy")
        old["message"]["date"] = int((time.time() - 3 * 86400) * 1000)  # three days ago
        await post(service, client, old)
        assert slugs(service.db, "zt1") == ["kien-thuy"]
        assert len(texts(fake, "zt1")) == 1
        stale = [r for r in caplog.records if "older than" in r.getMessage()]
        assert len(stale) == 1 and stale[0].levelno == logging.INFO
        recent = fake.update("zt1", "/unsub kien-thuy")
        recent["message"]["date"] = int((time.time() - 3600) * 1000)  # an hour old: still acts
        await post(service, client, recent)
        assert slugs(service.db, "zt1") == []


@on_sqlite
async def test_distinct_updates_all_act_even_with_the_same_text(
    tmp_path: Path, db_url: str, fake: FakeZaloAPI
) -> None:
    async with replica(settings_for(tmp_path, db_url, fake)) as (service, client):
        updates = [fake.update("zd1", "/list") for _ in range(4)]
        updates += [fake.update("zd2", "/list")]
        updates[-1]["message"]["message_id"] = updates[0]["message"]["message_id"]  # other chat
        for update in updates:
            await post(service, client, update)
        assert len(texts(fake, "zd1")) == 4 and len(texts(fake, "zd2")) == 1


def test_an_update_s_identity_without_a_message_id() -> None:
    """No ``message_id``: the sender, ``date`` and text identify it (a copy has all three); with
    no ``date`` either nothing tells copies apart and it acts (key None)."""
    from feedsvc.channels.zalo.updates import parse_update

    with FakeZaloAPI() as server:
        update = server.update("zk1", "/list")
    message = update["message"]
    assert (parsed := parse_update(update)) is not None and parsed.key == message["message_id"]
    del message["message_id"]
    keyed = parse_update(update)
    assert keyed is not None and keyed.key and keyed.key == parse_update(copy.deepcopy(update)).key
    message["date"] += 1
    assert parse_update(update).key != keyed.key  # type: ignore[union-attr]
    for date in (None, True, "soon", 10**30):
        message["date"] = date
        parsed = parse_update(update)
        assert parsed is not None and parsed.sent_at is None
    del message["date"]
    assert parse_update(update).key is None  # type: ignore[union-attr]
