"""A bot token lost on a restart makes its channel wait, never lose the alerts (a tester's:
with ``FEEDSVC_TELEGRAM__TOKEN`` left unset on a production state DB, the console stood in and
logged the newsroom's real chats' alerts as ``sent``; a Zalo token so lost ended every Zalo
alert as failed).

A start with a token records the channel (``channel_tokens``, migration 0036); a start without
it on that DB is ``waiting``: one ERROR, nothing sent, logged or ended, status says so, and the
next start with the token sends each alert once. A DB that never had the token keeps the
console (the demo, SPEC §6) and Zalo off. Real service, real PTB against the fake Bot API; both
state DBs."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from backend_cases import module_on_sqlite
from click.testing import CliRunner
from factories import VN, article
from fakebot import FakeBotAPI
from sqlalchemy import func, insert, select, update
from upgrades import database_at, downgrade, run_sql

from feedsvc.app import Roles, Service
from feedsvc.channel_modes import channel_modes, shown_modes
from feedsvc.channels.fleet import Dispatchers, build_channels
from feedsvc.cli import cli
from feedsvc.config import Settings, load_config
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import deliveries
from feedsvc.db.schema_service import channel_tokens
from feedsvc.store.channel_tokens import note_refusal, note_tokens
from feedsvc.store.leases import this_process
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.subscriptions import ensure_chat

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

USER = 4242


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


def settings_for(tmp_path: Path, db_url: str, fake: FakeBotAPI) -> Settings:
    topics = tmp_path / "topics.toml"
    topics.write_text(
        '[[topic]]\nslug = "an-ninh"\ntitle = "An ninh"\nquery = \'"công an"\'\n', encoding="utf-8"
    )
    return load_config(None, {
        "database": {"url": db_url}, "source": {"poll_seconds": 0.3},
        "telegram": {"base_url": fake.base_url}, "topics": {"file": str(topics)},
        "zalo": {"base_url": "http://127.0.0.1:9"},
    })  # fmt: skip


def alert_rows(db: Database) -> list[tuple[str, int]]:
    with db.read() as conn:
        stmt = select(deliveries.c.state, deliveries.c.attempts).where(deliveries.c.chat_id == USER)
        return [(s, a) for s, a in conn.execute(stmt.order_by(deliveries.c.id))]


async def until(predicate: object, timeout: float = 60.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.05)


async def test_a_token_lost_on_restart_keeps_the_alerts(
    tmp_path: Path,
    db_url: str,
    fake: FakeBotAPI,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("FEEDSVC_TELEGRAM__TOKEN", fake.token)  # read with the settings
    service = Service(settings_for(tmp_path, db_url, fake), Roles(http=False))
    await service.start()  # with the token: a reader subscribes in Telegram
    try:
        assert service.channel_modes["telegram"] == "on"
        fake.user_sends(USER, USER, "/sub an-ninh")
        await fake.await_for(lambda: fake.messages(USER))
    finally:
        await service.stop()
    replies = len(fake.messages(USER))

    monkeypatch.delenv("FEEDSVC_TELEGRAM__TOKEN")  # restarted without it
    caplog.set_level(logging.INFO, logger="feedsvc")
    service = Service(settings_for(tmp_path, db_url, fake), Roles(http=False))
    await service.start()
    try:
        assert service.channel_modes["telegram"] == "waiting"
        with service.db.write() as conn:
            upsert_source_articles(conn, [article(1, published_at=datetime.now(VN))],
                                   datetime.now(UTC))  # fmt: skip
        await until(lambda: alert_rows(service.db))
        await service.dispatcher.step()  # anything claimable would be claimed and sent now
    finally:
        await service.stop()
    assert alert_rows(service.db) == [("pending", 0)]
    assert "alert to telegram chat" not in caplog.text  # the console logged it as sent before
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any("telegram.token is not set" in e for e in errors), errors
    assert fake.token not in caplog.text

    with service.db.write() as conn:  # read minutes later: no process has sent with it since
        old = datetime.now(UTC) - timedelta(minutes=10)
        conn.execute(update(channel_tokens).values(last_at=old))
    env = {"FEEDSVC_DATABASE__URL": db_url, "FEEDSVC_CONFIG": "/dev/null"}
    shown = CliRunner().invoke(cli, ["status", "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["channels"]["telegram"] == "waiting"

    monkeypatch.setenv("FEEDSVC_TELEGRAM__TOKEN", fake.token)  # the token is back
    service = Service(settings_for(tmp_path, db_url, fake), Roles(http=False))
    await service.start()
    try:
        await fake.await_for(lambda: len(fake.messages(USER)) == replies + 1)
        await until(lambda: alert_rows(service.db) == [("sent", 1)])
    finally:
        await service.stop()
    assert "Công an Kiến Thụy" in fake.messages(USER)[-1].body


def test_a_db_that_never_had_the_token_keeps_the_console_and_zalo_off(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's way (SPEC §6) and a first install's: unchanged."""
    monkeypatch.delenv("FEEDSVC_TELEGRAM__TOKEN", raising=False)
    monkeypatch.delenv("FEEDSVC_ZALO__TOKEN", raising=False)
    settings = load_config(None, {"database": {"url": db.url},
                                  "topics": {"import_on_start": False}})  # fmt: skip
    service = Service(settings, Roles(scheduler=False, bot=False))
    try:
        service.prepare()
        assert service.channel_modes == {"telegram": "console", "zalo": "off", "apprise": "on"}
        with db.read() as conn:
            assert conn.execute(select(func.count()).select_from(channel_tokens)).scalar() == 0
    finally:
        service.close()


async def test_a_zalo_token_lost_keeps_its_alerts_queued(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Zalo without its token on a DB that has sent with it: no off worker ends its alerts."""
    monkeypatch.delenv("FEEDSVC_TELEGRAM__TOKEN", raising=False)
    base = {"database": {"url": db.url}, "topics": {"import_on_start": False},
            "zalo": {"base_url": "http://127.0.0.1:9"}}  # fmt: skip
    with db.write() as conn:  # a Zalo alert was delivered with the token (TokenWatch)
        note_tokens(conn, ["zalo"], datetime.now(UTC))
    monkeypatch.delenv("FEEDSVC_ZALO__TOKEN", raising=False)  # the token lost
    settings = load_config(None, base)
    service = Service(settings, Roles(scheduler=False, bot=False))
    try:
        service.prepare()
        assert service.channel_modes["zalo"] == "waiting"
        assert service.channel_modes["telegram"] == "console"  # never had a Telegram token
        fleet = Dispatchers(service.db, settings, build_channels(settings))
        await fleet.start(["zalo"])
        try:
            assert fleet.off == []  # nothing ends the Zalo alerts as failed
        finally:
            await fleet.stop(timeout=5)
        env = {"FEEDSVC_DATABASE__URL": db.url, "FEEDSVC_CONFIG": "/dev/null"}
        added = CliRunner().invoke(cli, ["subs", "add", "--channel", "zalo", "--to", "z-lan",
                                         "--query", "an ninh"], env=env)  # fmt: skip
        assert added.exit_code == 0, added.output
        assert "zalo.token is not set, but this state DB ran with it" in added.stderr
        assert "end as failed" not in added.stderr
    finally:
        service.close()


def test_status_shows_a_refused_token(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """A token set but refused by the channel: ``on`` read as "sending" while every alert
    waited (a tester's); status shows ``refused`` while the channel's last word on the token
    is a refusal, whether an alert waits or not (``test_channel_refusals``)."""
    monkeypatch.setenv("FEEDSVC_TELEGRAM__TOKEN", "123456789:AAFwrongTOKENwrongTOKENwrong_-0")
    now = datetime.now(UTC)
    with db.write() as conn:
        chat = 7100
        ensure_chat(conn, chat, "private", None, now)
        conn.execute(insert(deliveries).values(
            chat_id=chat, article_id=_an_article(conn, now), topics=["Tin"], state="pending",
            attempts=0, ambiguous=0, plain_text=False, due_at=now, created_at=now,
            retry_kind="token_refused",
        ))  # fmt: skip
        note_refusal(conn, "telegram", now)  # as the dispatcher's TokenWatch records it
    env = {"FEEDSVC_DATABASE__URL": db.url, "FEEDSVC_CONFIG": "/dev/null"}
    shown = CliRunner().invoke(cli, ["status"], env=env)
    assert shown.exit_code == 0, shown.output
    # the refusing process named (this one: the record is this test's), its token unknown
    line = next(x for x in shown.output.splitlines() if x.startswith("channels"))
    assert f"telegram refused (token ? refused in {this_process()} at " in line, line
    assert "), zalo off (no token set (zalo.token)" in line, line
    assert line.endswith("), apprise on"), line
    with db.write() as conn:  # the token fixed: the channel accepts it, the alert is sent
        conn.execute(update(deliveries).values(state="sent", retry_kind=None))
        note_tokens(conn, ["telegram"], datetime.now(UTC))
    shown = CliRunner().invoke(cli, ["status", "--json"], env=env)
    assert json.loads(shown.output)["channels"]["telegram"] == "on"


def _an_article(conn: object, now: datetime) -> int:
    from feedsvc.db.schema import articles

    return int(conn.execute(insert(articles).values(  # type: ignore[attr-defined]
        source_key="K1", version=now, url="https://example.vn/1.html", title="Tin 1", tags=[],
        published_at=now, search_text="", source_cursor=now, first_seen_at=now,
        last_changed_at=now,
    ).returning(articles.c.id)).scalar_one())  # fmt: skip


def test_modes_rule() -> None:
    """The pure rule: a token wins; without one, a channel seen is ``waiting``."""
    with_both = load_config(None, {"telegram": {"token": "1:" + "a" * 35}})
    bare = load_config(None, {})
    assert channel_modes(bare)["telegram"] == "console"
    assert channel_modes(bare, ["telegram", "zalo"]) == {
        "telegram": "waiting", "zalo": "waiting", "apprise": "on"}  # fmt: skip
    assert channel_modes(with_both, ["telegram"])["telegram"] == "on"
    now = datetime.now(UTC)
    assert shown_modes({"telegram": "on", "zalo": "off"}, {"telegram": now}, {}, now) == {
        "telegram": "refused", "zalo": "off"}  # fmt: skip


def test_upgrade_to_0036_marks_channels_a_bot_sent_on(db_url: str) -> None:
    """A DB at 0035: a Zalo alert sent, a Telegram alert sent by the Bot API (message 57) to a
    real chat, and one by the console (the clock in ms) to the demo's chat. Zalo and Telegram
    are marked; on a second DB where only the console sent, nothing is."""
    db = database_at(db_url, "0035")
    t = "2026-11-30 10:00:00"
    try:
        run_sql(
            db,
            "INSERT INTO articles (id, source_key, version, url, title, tags, "
            "published_at, search_text, source_cursor, first_seen_at, last_changed_at) "
            "VALUES (1, 'K', :t, 'https://e.vn/1', 'T', '[]', :t, '', :t, :t, :t)",
            t=t,
        )
        chat = ("INSERT INTO chats (chat_id, type, channel, address, paused, failures, "
                "link_preview, created_at, silent) VALUES (:id, 'private', :ch, :addr, false, 0, "
                "false, :t, false)")  # fmt: skip
        run_sql(db, chat, id=1, ch="telegram", addr="1", t=t)
        sent = ("INSERT INTO deliveries (chat_id, article_id, topics, state, attempts, ambiguous,"
                " plain_text, due_at, created_at, finished_at, message_id, digest) VALUES (:chat,"
                " 1, '[]', 'sent', 1, 0, false, :t, :t, :t, :mid, false)")  # fmt: skip
        run_sql(db, sent, chat=1, mid=1764597340123, t=t)
        upgrade(db)
        with db.read() as conn:
            assert conn.execute(select(channel_tokens.c.channel)).scalars().all() == []
        downgrade(db, "0035")
        run_sql(db, chat, id=4242, ch="telegram", addr="4242", t=t)
        run_sql(db, chat, id=2**52 + 5, ch="zalo", addr="z-lan", t=t)
        run_sql(db, sent, chat=4242, mid=57, t="2026-12-01 08:00:00")
        run_sql(db, sent, chat=2**52 + 5, mid=9, t=t)
        upgrade(db)
        with db.read() as conn:
            got = dict(
                conn.execute(select(channel_tokens.c.channel, channel_tokens.c.last_at))
                .tuples()
                .all()
            )
        assert sorted(got) == ["telegram", "zalo"]
        assert got["telegram"] == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
        downgrade(db, "0035")
    finally:
        db.dispose()


def test_the_api_the_metrics_and_the_admin_show_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A state DB that ran with a Telegram token, started without it: every surface an
    operator looks at says ``waiting`` (and the re-send of a Telegram alert is not refused as
    for a channel off: it waits with the rest)."""
    from test_admin import TestClient, login
    from test_channel_off import AUTH, TOKEN, make_service

    from feedsvc.app import create_app

    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    monkeypatch.delenv("FEEDSVC_TELEGRAM__TOKEN", raising=False)
    monkeypatch.delenv("FEEDSVC_ZALO__TOKEN", raising=False)
    first = make_service(tmp_path)
    with first.db.write() as conn:  # an hour ago: no process sends with it now
        note_tokens(conn, ["telegram"], datetime.now(UTC) - timedelta(hours=1))
    first.close()
    service = make_service(tmp_path)  # prepared: its modes settled against the DB
    try:
        assert service.channel_modes["telegram"] == "waiting"
        with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
            status = client.get("/api/status", headers=AUTH).json()
            assert status["channels"] == {"telegram": "waiting", "zalo": "off", "apprise": "on"}
            assert client.get("/readyz", headers=AUTH).json()["channels"]["telegram"] == "waiting"
            metrics = client.get("/metrics").text
            assert 'feedsvc_channel_mode{channel="telegram",mode="waiting"} 1.0' in metrics
            assert 'feedsvc_channel_mode{channel="telegram",mode="console"} 0.0' in metrics
            login(client)
            page = client.get("/admin/status").text
            assert 'Telegram: <span class="channel waiting">chờ token' in page
    finally:
        service.close()
