"""A channel that is not configured is off, visibly, and its alerts do not pile up (defects §6).

A Zalo subscription made while no Zalo token is set stayed queued forever (alerts piled up as
``pending``/``held``, nothing said why). Now: the service ends that channel's queued alerts as
``failed`` with the reason (a dead letter, re-sendable once configured); ``feedsvc subs add``
warns, the API marks the subscription ``channel_off``, the admin's subscriptions page says so;
``feedsvc status``, ``/api/status`` and ``/readyz`` (with the admin token) show the channel off.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from factories import followed
from migrated import premigrated
from sqlalchemy import insert, select
from starlette.testclient import TestClient
from test_admin import login

from feedsvc.app import Roles, Service, create_app
from feedsvc.channels.fleet import Dispatchers, build_channels
from feedsvc.cli import cli
from feedsvc.config import load_config
from feedsvc.db.schema import articles, deliveries
from feedsvc.store.subscriptions import ensure_recipient

TOKEN = "admin-test-token-0123456789abcdef"  # test_admin.TOKEN
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def make_service(tmp_path: Path, **zalo: Any) -> Service:
    url = premigrated(f"sqlite:///{tmp_path / 's.db'}")
    settings = load_config(None, {"database": {"url": url},
                                  "topics": {"import_on_start": False},
                                  "zalo": {"base_url": "http://127.0.0.1:9", **zalo}})  # fmt: skip
    service = Service(settings, Roles(scheduler=False, bot=False))
    service.prepare()
    return service


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    monkeypatch.delenv("FEEDSVC_ZALO__TOKEN", raising=False)
    service = make_service(tmp_path)
    yield service
    service.close()


def queue_zalo(
    service: Service, states: tuple[str, ...], first: int = 0, *, wanted: bool = False
) -> int:
    """Alerts for the Zalo chat "z-lan" in ``states``; ``wanted``: the chat follows a topic
    each article matches, in the same transaction (a worker's send-time check would end an
    unwanted one ``unsubscribed``)."""
    now = datetime.now(UTC)
    with service.db.write() as conn:
        chat = ensure_recipient(conn, "zalo", "z-lan", "private", None, now).chat_id
        for n, state in enumerate(states, start=first):
            article_id = conn.execute(insert(articles).values(
                source_key=f"K{n}", version=now, url=f"https://example.vn/{n}.html",
                title=f"Tin {n}", tags=[], published_at=now, search_text="", source_cursor=now,
                first_seen_at=now, last_changed_at=now,
            ).returning(articles.c.id)).scalar_one()  # fmt: skip
            conn.execute(insert(deliveries).values(
                chat_id=chat, article_id=article_id, topics=["Tin"], state=state,
                digest=state == "held", attempts=0, ambiguous=0, plain_text=False,
                due_at=now + timedelta(hours=1 if state == "held" else 0), created_at=now,
            ))  # fmt: skip
            if wanted:
                followed(conn, [{"chat_id": chat, "article_id": article_id}], now)
    return chat


def rows(service: Service, chat: int) -> list[tuple[str, str | None]]:
    with service.db.read() as conn:
        stmt = select(deliveries.c.state, deliveries.c.error).where(deliveries.c.chat_id == chat)
        return [tuple(r) for r in conn.execute(stmt.order_by(deliveries.c.id))]  # type: ignore[misc]


async def test_queued_alerts_of_an_off_channel_end_with_the_reason(service: Service) -> None:
    chat = queue_zalo(service, ("pending", "pending", "held"))
    fleet = Dispatchers(service.db, service.settings, build_channels(service.settings))
    assert [o.channel for o in fleet.off] == ["zalo"]
    fleet.off[0].poll_seconds = 0.05
    await fleet.start()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30  # patience for a loaded host, not a claim
    try:
        while any(state != "failed" for state, _ in rows(service, chat)):
            assert loop.time() < deadline, rows(service, chat)
            await asyncio.sleep(0.05)
        fleet.off[0].poll_seconds = 60  # a later alert (the outbox) ends too, on its wake-up
        queue_zalo(service, ("pending",), first=3)
        fleet.wake()
        while any(state != "failed" for state, _ in rows(service, chat)):
            assert loop.time() < deadline, rows(service, chat)
            await asyncio.sleep(0.05)
    finally:
        await fleet.stop(timeout=5)
    found = rows(service, chat)
    assert len(found) == 4
    for _, error in found:
        assert error is not None and "zalo.token is not set" in error


def test_a_configured_channel_is_not_closed(tmp_path: Path) -> None:
    service = make_service(tmp_path, token="123:zalo-token-for-tests")
    try:
        fleet = Dispatchers(service.db, service.settings, build_channels(service.settings))
        assert fleet.off == [] and fleet.by_channel("zalo") is not None
    finally:
        service.close()


def test_cli_warns_and_status_shows_the_channel_off(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    runner = CliRunner()
    added = runner.invoke(cli, ["subs", "add", "--channel", "zalo", "--to", "z-lan", "--query",
                                "an ninh"], env=env)  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "warning: channel zalo is not configured (zalo.token is not set)" in added.stderr
    with_token = runner.invoke(cli, ["subs", "add", "--channel", "zalo", "--to", "z-mai",
                                     "--query", "an ninh"],
                               env=env | {"FEEDSVC_ZALO__TOKEN": "123:zalo"})  # fmt: skip
    assert with_token.exit_code == 0 and "warning" not in with_token.stderr
    telegram = runner.invoke(cli, ["subs", "add", "42", "--type", "private", "--query", "x"],
                             env=env)  # fmt: skip
    assert telegram.exit_code == 0 and "warning" not in telegram.stderr
    status = runner.invoke(cli, ["status"], env=env)
    line = next(x for x in status.output.splitlines() if x.startswith("channels"))
    assert "telegram console (no token set (telegram.token)" in line, line
    assert "zalo off (no token set (zalo.token)" in line and "apprise on" in line
    as_json = runner.invoke(cli, ["status", "--json"], env=env)
    assert '"zalo": "off"' in as_json.output


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def test_api_and_readyz_show_the_channel_off(client: httpx.AsyncClient) -> None:
    zalo = await client.post("/api/subscriptions", headers=AUTH, json={
        "channel": "zalo", "address": "z-lan", "query": "an ninh"})  # fmt: skip
    assert zalo.status_code == 201 and zalo.json()["channel_off"] is True
    telegram = await client.post("/api/subscriptions", headers=AUTH, json={
        "chat_id": 42, "chat_type": "private", "query": "an ninh"})  # fmt: skip
    assert telegram.status_code == 201 and telegram.json()["channel_off"] is False
    listed = (await client.get("/api/subscriptions", headers=AUTH)).json()["subscriptions"]
    assert {s["channel"]: s["channel_off"] for s in listed} == {"zalo": True, "telegram": False}
    status = (await client.get("/api/status", headers=AUTH)).json()
    assert status["channels"] == {"telegram": "console", "zalo": "off", "apprise": "on"}
    ready = await client.get("/readyz", headers=AUTH)
    assert ready.json()["channels"]["zalo"] == "off"
    public = await client.get("/readyz")
    assert "channels" not in public.json()  # public answers stay ready / not ready


def test_admin_pages_say_the_channel_is_off(service: Service) -> None:
    queue_zalo(service, ())
    with service.db.write() as conn:
        from feedsvc.store.subscriptions import subscribe

        chat = ensure_recipient(conn, "zalo", "z-lan", "private", None, datetime.now(UTC))
        subscribe(conn, chat.chat_id, topic_id=None, query="an ninh", now=datetime.now(UTC))
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        login(client)
        subs = client.get("/admin/subscriptions")
        assert "Kênh Zalo chưa được cấu hình (zalo.token chưa đặt)" in subs.text
        telegram_only = client.get("/admin/subscriptions", params={"channel": "telegram"})
        assert "chưa được cấu hình" not in telegram_only.text
        status = client.get("/admin/status")
        assert 'Zalo: <span class="channel off">tắt: chưa cấu hình' in status.text


async def test_a_db_failure_is_logged_with_the_databases_words(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A state DB that refuses writes (here: no such table) said only "OperationalError"."""
    from feedsvc.channels.off import OffChannel
    from feedsvc.db import Database

    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()  # an SQLite file never migrated: no deliveries table
    db = Database(f"sqlite:///{empty}")
    off = OffChannel(db, "zalo", poll_seconds=60)
    task = asyncio.create_task(off.run())
    try:
        for _ in range(3000):  # the first pass runs at once; poll its log line, 30 s at most
            if any("cannot end its queued alerts" in r.getMessage() for r in caplog.records):
                break
            await asyncio.sleep(0.01)
    finally:
        off.stop()
        off.wake.set()
        await asyncio.wait_for(task, 30)
        db.dispose()
    [line] = [r.getMessage() for r in caplog.records if "channel zalo (off)" in r.getMessage()]
    assert "OperationalError" in line and "no such table: " in line, line
