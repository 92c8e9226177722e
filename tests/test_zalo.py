"""Zalo end to end against the fake Zalo Bot API over real HTTP (issue 14 §2): alerts and their
outcomes through the outbox, the bot's commands by webhook and by long polling (one poller across
replicas), forged webhook calls refused.

SQLite only (``backend_cases.on_sqlite``) but for the one poller across replicas, which keeps
PostgreSQL (a lease two pollers contend for): the rest is about the Zalo channel's calls,
replies and words; their SQL is the outbox's, the dispatcher's, the subscriptions' and the
digests' own, run on PostgreSQL by ``test_dispatch.py`` (the outbox through faults, a chat
disabled after three refusals), ``test_digest_dispatch.py``, ``test_digest_zalo.py`` and the
Telegram bot's tests (``test_bot.py``, ``test_bot_limits.py``: the same commands' statements).
The bot's command budgets are in memory (``feedsvc.bot.gate``), no row."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from backend_cases import on_sqlite
from factories import VN, article, builtin_ingestor, clock_start
from fakeserver import PATIENCE
from fakezalo import FakeZaloAPI, Fault
from patience import PATIENT_READ_TIMEOUT
from sqlalchemy import select

from feedsvc.app import Roles, Service, create_app
from feedsvc.channels.zalo import ZaloBotAPI, ZaloChannel
from feedsvc.channels.zalo.bot import ZaloBot
from feedsvc.channels.zalo.service import ZaloPoller
from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.db.schema import chats, deliveries
from feedsvc.dispatch import Dispatcher, DispatchSettings
from feedsvc.outbox import Outbox
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.subscriptions import ensure_recipient, find_recipient, subscribe
from feedsvc.store.topics import TopicSpec, get_topic, save_topic

SECRET = "webhook-secret-for-tests-0123456789"


@pytest.fixture
def fake() -> Iterator[FakeZaloAPI]:
    with FakeZaloAPI() as server:
        yield server


def add_topic(db: Database) -> None:
    with db.write() as conn:
        save_topic(conn, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "cli",
                   datetime.now(UTC))  # fmt: skip


def zalo_subscriber(db: Database, address: str) -> int:
    now = datetime.now(UTC)
    with db.write() as conn:
        chat = ensure_recipient(conn, "zalo", address, "private", "Lan", now)
        topic = get_topic(conn, "kien-thuy")
        assert topic is not None
        subscribe(conn, chat.chat_id, topic_id=topic.id, query=None, now=now)
    return chat.chat_id


def states(db: Database) -> list[str]:
    with db.read() as conn:
        return list(conn.execute(select(deliveries.c.state).order_by(deliveries.c.id)).scalars())


def ambiguous_by_address(db: Database) -> dict[str, int]:
    """How many times each recipient's delivery was re-sent after an ambiguous outcome."""
    query = select(chats.c.address, deliveries.c.ambiguous).join(
        chats, chats.c.chat_id == deliveries.c.chat_id
    )
    with db.read() as conn:
        return {address: n for address, n in conn.execute(query).tuples()}


async def dispatch_until_done(
    db: Database, fake: FakeZaloAPI, timeout: float = 60, read_timeout: float = PATIENT_READ_TIMEOUT
) -> None:
    """Dispatch until nothing is pending. The default read timeout is one load cannot reach
    (:mod:`patience`); a test that scripts a late answer passes a short one and counts the
    re-sends the deliveries record."""
    api = ZaloBotAPI(
        fake.token, fake.base_url, read_timeout=read_timeout, connect_timeout=read_timeout
    )
    channel = ZaloChannel(api, VN, global_rate=50)
    settings = DispatchSettings(backoff_base=0.05, poll_seconds=0.5)
    d = Dispatcher(db, channel, VN, settings)
    await channel.start()
    task = asyncio.create_task(d.run())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while any(s in ("pending", "sending") for s in states(db)):
            assert loop.time() < deadline, states(db)
            await asyncio.sleep(0.05)
    finally:
        d.stop()
        await task
        await channel.close()


@on_sqlite
async def test_alerts_reach_zalo_once_through_faults(db: Database, fake: FakeZaloAPI) -> None:
    add_topic(db)
    ing = builtin_ingestor(db)
    ing.hooks.append(Outbox(timedelta(hours=48)))
    zalo_subscriber(db, "z-ok")
    zalo_subscriber(db, "z-flaky")
    fake.script("z-flaky", Fault.server_error(), Fault.flood(1), Fault.late(4.0))
    long = "Lực lượng công an huyện Kiến Thụy " * 160  # a 5,000+ character summary
    with db.write() as conn:
        upsert_source_articles(conn, [article(1, published_at=datetime.now(VN), summary=long)],
                               datetime.now(UTC))  # fmt: skip
    assert ing.tick().error is None
    await dispatch_until_done(db, fake, read_timeout=2.0)
    assert states(db) == ["sent", "sent"]
    # 500 → retried; 429 → paused, retried; a late answer (read timeout) → one re-send: at most
    # one duplicate, recorded as ambiguous. A loaded machine's slow answer can make any send
    # here ambiguous too (re-sent by design), so each recipient gets exactly one message plus
    # the re-sends its delivery records; the scripted late answer is exactly one of z-flaky's.
    resent = ambiguous_by_address(db)
    assert resent["z-flaky"] == 1
    ok = fake.messages("z-ok")
    assert len(ok) == 1 + resent["z-ok"] and all(len(m.text) <= 2000 for m in ok)
    assert all("https://example.vn/tin/1.html" in m.text for m in ok)
    assert len(fake.messages("z-flaky")) == 1 + resent["z-flaky"]
    assert fake.violations == []


@on_sqlite
async def test_three_refusals_in_a_row_disable_the_recipient(
    db: Database, fake: FakeZaloAPI
) -> None:
    add_topic(db)
    ing = builtin_ingestor(db)
    ing.hooks.append(Outbox(timedelta(hours=48)))
    chat_id = zalo_subscriber(db, "z-gone")
    fake.block("z-gone")
    with db.write() as conn:
        items = [article(n, published_at=datetime.now(VN)) for n in range(1, 6)]
        upsert_source_articles(conn, items, datetime.now(UTC))
    assert ing.tick().error is None
    await dispatch_until_done(db, fake)
    assert states(db) == ["blocked"] * 3 + ["disabled"] * 2
    with db.read() as conn:
        reason = conn.execute(select(chats.c.disabled_reason).where(chats.c.chat_id == chat_id))
        assert "blocked" in (reason.scalar() or "")


def zalo_settings(tmp_path: Path, db_url: str, fake: FakeZaloAPI, **zalo: object) -> object:
    topics = tmp_path / "topics.toml"
    topics.write_text('[[topic]]\nslug = "kien-thuy"\ntitle = "Kiến Thụy"\n'
                      'query = \'"Kiến Thụy"\'\n', encoding="utf-8")  # fmt: skip
    return load_config(None, {
        "database": {"url": db_url},
        "source": {"poll_seconds": 0.3},
        "telegram": {"lease_seconds": 6},
        "zalo": {"base_url": fake.base_url, "token": fake.token, **zalo},
        "topics": {"file": str(topics)},
        "http": {"public_url": "https://tin.example.vn"},
    })  # fmt: skip


@pytest.fixture
async def webhook_service(
    tmp_path: Path, db_url: str, fake: FakeZaloAPI
) -> AsyncIterator[tuple[Service, httpx.AsyncClient]]:
    settings = zalo_settings(tmp_path, db_url, fake, webhook_secret=SECRET)
    service = Service(settings, Roles(http=False))  # type: ignore[arg-type]
    await service.start()
    transport = httpx.ASGITransport(app=create_app(service))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://feedsvc") as client:
            yield service, client
    finally:
        await service.stop()


@on_sqlite
async def test_webhook_commands_and_forged_calls(
    webhook_service: tuple[Service, httpx.AsyncClient], fake: FakeZaloAPI,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    service, client = webhook_service
    caplog.set_level(logging.DEBUG)
    assert fake.webhook == {"url": "https://tin.example.vn/zalo/webhook", "secret_token": SECRET}
    update = fake.update("z-user", "/sub kien-thuy")
    for headers in ({}, {"X-Bot-Api-Secret-Token": "wrong"},
                    {"X-Bot-Api-Secret-Token": SECRET[:-1]}):  # fmt: skip
        forged = await client.post("/zalo/webhook", json=update, headers=headers)
        assert forged.status_code == 401
    assert fake.messages("z-user") == []
    ok = {"X-Bot-Api-Secret-Token": SECRET}
    assert (await client.post("/zalo/webhook", content=b"{", headers=ok)).status_code == 400
    for junk in (b"[" * 60_000, b'{"a":' * 10_000, b"\xff\xfe"):  # too deep, not UTF-8
        assert (await client.post("/zalo/webhook", content=junk, headers=ok)).status_code == 400
    big = b'{"x": "' + b"a" * 70_000 + b'"}'
    assert (await client.post("/zalo/webhook", content=big, headers=ok)).status_code == 413
    response = await client.post("/zalo/webhook", json={"result": update}, headers=ok)
    assert response.status_code == 200
    reply = (await fake.await_for(lambda: fake.messages("z-user")))[0].text
    assert "Kiến Thụy" in reply and "<" not in reply
    # an alert follows, in plain text, within the limit
    with service.db.write() as conn:
        upsert_source_articles(conn, [article(1, published_at=datetime.now(VN))],
                               datetime.now(UTC))  # fmt: skip
    await fake.await_for(lambda: len(fake.messages("z-user")) == 2)
    assert "https://example.vn/tin/1.html" in fake.messages("z-user")[1].text
    # deliveries labelled by channel; counted once the outcome is recorded, just after the fake
    # has the message: poll until then
    sent = 'feedsvc_deliveries_total{channel="zalo",outcome="sent"}'
    deadline = time.monotonic() + 30
    while sent not in (metrics := (await client.get("/metrics")).text):
        assert time.monotonic() < deadline, "no zalo delivery counted within 30 s"
        await asyncio.sleep(0.02)
    assert sent in metrics
    await client.post("/zalo/webhook", json=fake.update("z-user", "/unsub kien-thuy"), headers=ok)
    await fake.await_for(lambda: len(fake.messages("z-user")) == 3)
    with service.db.write() as conn:
        upsert_source_articles(conn, [article(2, published_at=datetime.now(VN))],
                               datetime.now(UTC))  # fmt: skip
    await asyncio.to_thread(service.ingest_tick)
    await service.dispatchers.by_channel("zalo").step()  # type: ignore[union-attr]
    assert len(fake.messages("z-user")) == 3  # nothing after /unsub
    # group chats: read-only commands only
    await client.post("/zalo/webhook", json=fake.update("g1", "/sub kien-thuy",
                                                        chat_type="GROUP"), headers=ok)  # fmt: skip
    text = (await fake.await_for(lambda: fake.messages("g1")))[0].text
    assert "/topics" in text
    assert fake.token not in caplog.text and SECRET not in caplog.text


async def test_one_poller_across_replicas(db: Database, fake: FakeZaloAPI) -> None:
    """Two replicas poll with one lease: updates are answered once; when the holder stops, the
    standby takes over."""
    add_topic(db)
    apis = [
        ZaloBotAPI(fake.token, fake.base_url, read_timeout=PATIENT_READ_TIMEOUT) for _ in range(2)
    ]
    pollers = [
        ZaloPoller(db, api, ZaloBot(db, api), lease_seconds=3, poll_timeout=0.5,
                   standby_seconds=0.2, holder=f"r{i}")
        for i, api in enumerate(apis)
    ]  # fmt: skip
    for p in pollers:
        p.start()
    try:
        fake.user_says("z-poll", "/sub kien-thuy")
        await fake.await_for(lambda: fake.messages("z-poll"))
        assert sum(p.polling for p in pollers) == 1
        holder = next(p for p in pollers if p.polling)
        standby = next(p for p in pollers if p is not holder)
        await holder.stop()  # releases the lease: the standby takes over within its look
        fake.user_says("z-poll", "/list")
        await fake.await_for(lambda: len(fake.messages("z-poll")) == 2)
        assert standby.polling
        assert "Kiến Thụy" in fake.messages("z-poll")[1].text
    finally:
        for p in pollers:
            await p.stop()
            await p.bot.drain()
        for api in apis:
            await api.close()


@pytest.mark.parametrize("polls", [1, 10])
def test_a_poll_whose_client_closed_with_its_request_takes_no_update(
    fake: FakeZaloAPI, polls: int
) -> None:
    """A poller stopped under load sends its getUpdates and closes before the fake reads
    either: the fake must leave the update queued (as ``ZaloPoller.stop`` assumes of Zalo),
    or the standby never sees the next command (test_one_poller_across_replicas, CI)."""
    url = httpx.URL(fake.base_url)
    body = b'{"timeout": 0}'
    head = (f"POST {url.path.rstrip('/')}/bot{fake.token}/getUpdates HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")  # fmt: skip
    for i in range(polls):
        fake.user_says("z-gone", f"/list {i}")
        with socket.create_connection((url.host, url.port)) as sock:
            sock.sendall(head.encode() + body)
        fake.wait_for(lambda n=i + 1: len(fake.calls) == n and not fake.in_flight)
        assert fake.calls[-1] == ("getUpdates", 499)
        assert fake.pending_updates == i + 1  # still queued, in order
    taken = [httpx.post(f"{fake.base_url}/bot{fake.token}/getUpdates", json={"timeout": 0},
                         timeout=PATIENCE)
             .json()["result"]["message"]["text"] for _ in range(polls)]  # fmt: skip
    assert taken == [f"/list {i}" for i in range(polls)]  # a client still there gets them


@on_sqlite
def test_the_command_limits_of_the_telegram_bot_hold_on_zalo(db: Database) -> None:
    """One policy for both bots (bot/actions): per-user command budget, then one reply and
    silence; the per-user subscription cap counts Zalo users too."""
    from feedsvc.bot.gate import Limits
    from feedsvc.channels.zalo.updates import Incoming

    add_topic(db)
    limits = Limits(user_command_burst=3, user_commands_per_minute=0.001,
                    max_subscriptions_per_user=1)  # fmt: skip
    bot = ZaloBot(db, ZaloBotAPI("1:unused", "http://127.0.0.1:9"), limits)
    said = [bot.answer(Incoming("z-busy", "private", "Lan", "/topics", "u1")) for _ in range(5)]
    assert all(s and "kien-thuy" in s for s in said[:3])
    assert said[3] and said[3] != said[0]  # told once when to try again…
    assert said[4] is None  # …then silence
    other = ZaloBot(db, ZaloBotAPI("1:unused", "http://127.0.0.1:9"), Limits(
        max_subscriptions_per_user=1))  # fmt: skip
    first = other.answer(Incoming("z-a", "private", "An", "/sub kien-thuy", "u2"))
    second = other.answer(Incoming("z-b", "private", "An", '/sub "công an"', "u2"))
    assert first and "Kiến Thụy" in first
    assert second and "1" in second and second != first  # the same user, another chat: capped
    assert other.answer(Incoming("z-b", "private", "An", "hello", "u2")) is None


@on_sqlite
async def test_a_zalo_digest_is_one_plain_message_within_the_limit(
    db: Database, fake: FakeZaloAPI
) -> None:
    """Issue 15's digests on Zalo: held alerts go out as one plain-text message (split only at
    Zalo's 2,000 characters), not one by one."""
    from datetime import time as wall

    from feedsvc.digest import ChatSettings, DigestSchedule
    from feedsvc.digest.edge import DigestEdge
    from feedsvc.store import digests as held

    add_topic(db)
    chat_id = zalo_subscriber(db, "z-digest")
    at = [clock_start()]
    due = (at[0] + timedelta(minutes=1)).astimezone(VN)
    with db.write() as conn:
        held.save_settings(conn, chat_id, ChatSettings(
            digest=DigestSchedule(times=(wall(due.hour, due.minute),))))  # fmt: skip
    ing = builtin_ingestor(db)
    ing.hooks.append(Outbox(timedelta(hours=48)))
    long = "Lực lượng công an huyện Kiến Thụy " * 160
    with db.write() as conn:
        items = [article(n, published_at=datetime.now(VN), summary=long) for n in range(1, 41)]
        upsert_source_articles(conn, items, datetime.now(UTC))
    assert ing.tick().error is None
    api = ZaloBotAPI(fake.token, fake.base_url, read_timeout=PATIENT_READ_TIMEOUT)
    channel = ZaloChannel(api, VN, global_rate=50)
    d = Dispatcher(db, channel, VN, DispatchSettings(backoff_base=0.05, poll_seconds=0.05),
                   digests=DigestEdge(VN, public_url="https://tin.example", limit=2000,
                                      buttons=False),
                   clock=lambda: at[0])  # fmt: skip
    async with api:
        await d.step()
        await d.drain()
        assert fake.messages("z-digest") == [] and set(states(db)) == {"held"}
        at[0] = due.replace(second=0, microsecond=0).astimezone(UTC) + timedelta(seconds=1)
        for _ in range(10):
            await d.step()
            await d.drain()
            if set(states(db)) == {"sent"}:
                break
    parts = fake.messages("z-digest")
    assert set(states(db)) == {"sent"} and 2 <= len(parts) < 40  # 40 articles, a few messages
    assert all(len(p.text) <= 2000 and "<" not in p.text for p in parts)
    assert "https://tin.example/topics/kien-thuy" in parts[-1].text


@on_sqlite
def test_zalo_chats_set_their_digest_and_quiet_hours(db: Database) -> None:
    """Issue 15's settings from a Zalo chat, through the same code as on Telegram."""
    from feedsvc.channels.zalo.updates import Incoming
    from feedsvc.store import digests as held

    add_topic(db)
    bot = ZaloBot(db, ZaloBotAPI("1:unused", "http://127.0.0.1:9"), tz=VN)

    def say(text: str, chat_type: str = "private") -> str:
        reply = bot.answer(Incoming("z-set", chat_type, "Lan", text, "u-set"))
        assert reply is not None
        return reply

    say("/sub kien-thuy")
    say("/digest 07:30")
    say("/quiet 22:00-06:00")
    with db.read() as conn:
        chat = find_recipient(conn, "zalo", "z-set")
        assert chat is not None
        settings = held.get_settings(conn, chat.chat_id)
    assert settings is not None and settings.digest.times and settings.quiet is not None
    assert "07:30" in say("/settings") and "22:00" in say("/settings")
    assert "25:99" in say("/digest 25:99")  # refused, saying what was wrong
    assert say("/digest off", "group") == say("/quiet off", "group")  # groups: read-only
