"""A refused token reads ``refused`` on every surface of every process on the state DB.

A verifier's (report items 4 and 5): ``run`` with a wrong Telegram token, nothing queued, logged
``InvalidToken`` every few seconds while ``/readyz``, ``feedsvc_channel_mode`` and ``feedsvc
status`` said ``on``: ``refused`` was read only from an alert waiting with ``retry_kind``
``token_refused``, and went back to ``on`` once that alert ended. A web-only replica without the
token said ``waiting`` beside it, an operator's shell on a DB that never had a token
``console``. Now the channel's word is recorded (``channel_refusals``, migration 0038, by the
dispatcher's ``TokenWatch``: getMe at start and every ``NOTE_SECONDS``, a send refused) and
read everywhere for :data:`~feedsvc.channel_modes.REFUSED_FRESH_SECONDS`; an acceptance ends
it. Real dispatchers against the fake Bot APIs (Telegram, Zalo), the real web app and CLI; both
state DBs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from backend_cases import module_on_sqlite
from fakebot import FakeBotAPI
from fakezalo import FakeZaloAPI
from sqlalchemy import select, update
from starlette.testclient import TestClient
from test_channel_off import AUTH
from test_channel_reading import BOT_TOKEN, cli_status, queue_refused_alert, surfaces, web_replica
from test_dispatch_fair import add_articles, queue
from test_token_refused import dispatching
from upgrades import database_at, downgrade, run_sql

from feedsvc.app import Service, create_app
from feedsvc.channels import tokens
from feedsvc.channels.fleet import Dispatchers, build_channels
from feedsvc.channels.tokens import TokenWatch
from feedsvc.config import load_config
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import deliveries
from feedsvc.db.schema_service import channel_tokens
from feedsvc.store.channel_tokens import forget_token, note_tokens, tokens_seen

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

EVERYWHERE = ("api", "readyz", "metric", "admin")
ZALO_WRONG = "1234567890:zalo-wrong-token-abcdefgh"
# (the names migration 0038 brought are imported where used: this module runs on the code of
# before too, where its tests fail rather than the module not loading)


@pytest.fixture
def admin_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    from test_channel_off import TOKEN

    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    monkeypatch.delenv("FEEDSVC_TELEGRAM__TOKEN", raising=False)
    monkeypatch.delenv("FEEDSVC_ZALO__TOKEN", raising=False)
    yield monkeypatch


def _refused_at(db: Database, channel: str = "telegram") -> datetime | None:
    from feedsvc.store.channel_tokens import refusals

    with db.read() as conn:
        return refusals(conn).get(channel)


@asynccontextmanager
async def _fleet(url: str, settings_extra: dict[str, object]) -> AsyncIterator[None]:
    """A dispatcher fleet (``run``'s) with the environment's token, running once its getMe at
    start has been answered and recorded; stopped when the block ends (an orderly stop
    withdraws its refusal since migration 0039's per-process records: the token is no longer
    held; before, the refusal outlived the process for 3 minutes)."""
    db = Database(url)
    settings = load_config(None, {"database": {"url": url}, **settings_extra})
    fleet = Dispatchers(db, settings, build_channels(settings))
    await fleet.start()
    try:
        await fleet.tokens_confirmed()
        yield
    finally:
        await fleet.stop(timeout=5)
        db.dispose()


async def test_a_quiet_channel_with_a_refused_token_reads_refused_everywhere(
    state_url: str, admin_env: pytest.MonkeyPatch
) -> None:
    """Nothing queued, the token refused at getMe: the process with the token, a web-only
    replica without it and a shell (either way) say ``refused``; no alert is involved."""
    admin_env.setenv("FEEDSVC_TELEGRAM__TOKEN", BOT_TOKEN)
    with FakeBotAPI() as fake:
        async with _fleet(state_url, {"telegram": {"base_url": fake.base_url}}):
            with_token = web_replica(state_url)  # its mode: on
            try:
                assert with_token.channel_modes["telegram"] == "on"
                assert surfaces(with_token) == dict.fromkeys(EVERYWHERE, "refused")
                assert cli_status(state_url)[0] == "refused"
            finally:
                with_token.close()
            admin_env.delenv("FEEDSVC_TELEGRAM__TOKEN")
            without = web_replica(state_url)  # never accepted here: its mode is console
            try:
                assert without.channel_modes["telegram"] == "console"
                assert surfaces(without) == dict.fromkeys(EVERYWHERE, "refused")
                mode, line = cli_status(state_url)
                assert mode == "refused" and "telegram refused" in line
                assert _refused_at(without.db) is not None
            finally:
                without.close()
    assert cli_status(state_url)[0] == "console"  # stopped: no process holds the token


async def test_refused_stays_after_the_refused_alert_ends(
    db: Database, admin_env: pytest.MonkeyPatch
) -> None:
    """A send refused for the token records the refusal (the dispatcher's transaction); the
    alert ending (stale, unsubscribed) changes nothing: it read ``on`` again."""
    admin_env.setenv("FEEDSVC_TELEGRAM__TOKEN", BOT_TOKEN)
    with FakeBotAPI() as fake:
        queue(db, [7100], add_articles(db, range(1, 2)), datetime.now(UTC))
        async with dispatching(db, fake, BOT_TOKEN) as d:
            d.tokens = TokenWatch("telegram", stand_in=False)  # as the fleet sets it
            await fake.await_for(lambda: _retry_kind(db) == "token_refused")
    with db.write() as conn:  # the alert ends
        conn.execute(update(deliveries).values(state="failed", retry_kind=None))
    service = web_replica(db.url)
    try:
        assert surfaces(service) == dict.fromkeys(EVERYWHERE, "refused")
        assert cli_status(db.url)[0] == "refused"
    finally:
        service.close()


def _retry_kind(db: Database) -> str | None:
    with db.read() as conn:
        return conn.execute(select(deliveries.c.retry_kind)).scalar()


async def test_a_replica_without_the_token_reads_refused_beside_a_refused_sender(
    state_url: str, admin_env: pytest.MonkeyPatch
) -> None:
    """Item 5: the token accepted once (the replica without it is ``waiting``), now refused
    (another replica's getMe) with an alert queued for it: the replica and the shell say
    ``refused``, not ``waiting``; accepted again: ``sent_elsewhere``; the last refusal older
    than the bound and the acceptance too (every process stopped): ``waiting``."""
    seed = Database(state_url)
    with seed.write() as conn:
        note_tokens(conn, ["telegram"], datetime.now(UTC) - timedelta(minutes=30))
    queue_refused_alert(seed)
    seed.dispose()
    admin_env.setenv("FEEDSVC_TELEGRAM__TOKEN", BOT_TOKEN)
    with FakeBotAPI() as fake:
        async with _fleet(state_url, {"telegram": {"base_url": fake.base_url}}):
            admin_env.delenv("FEEDSVC_TELEGRAM__TOKEN")
            service = web_replica(state_url)
            assert service.channel_modes["telegram"] == "waiting"
            assert surfaces(service) == dict.fromkeys(EVERYWHERE, "refused")
            assert cli_status(state_url)[0] == "refused"
            with service.db.write() as conn:  # the token fixed (this process's record)
                note_tokens(conn, ["telegram"], datetime.now(UTC))
    try:
        assert surfaces(service) == dict.fromkeys(EVERYWHERE, "sent_elsewhere")
        from feedsvc.store.channel_tokens import note_refusal

        with service.db.write() as conn:  # refused 181 s ago, accepted before: all stopped
            now = datetime.now(UTC)
            note_refusal(conn, "telegram", now - timedelta(seconds=181))
            conn.execute(update(channel_tokens).values(last_at=now - timedelta(minutes=10)))
        assert surfaces(service) == dict.fromkeys(EVERYWHERE, "waiting")
        assert cli_status(state_url)[0] == "waiting"
    finally:
        service.close()


async def test_a_refused_zalo_token_reads_refused_everywhere(
    state_url: str, admin_env: pytest.MonkeyPatch
) -> None:
    """Zalo has the same shape: its getMe refused (401) with nothing queued reads ``refused``
    in the process with the token and in a replica without it (``off`` before)."""
    admin_env.setenv("FEEDSVC_ZALO__TOKEN", ZALO_WRONG)
    with FakeZaloAPI() as fake:
        async with _fleet(state_url, {"zalo": {"base_url": fake.base_url}}):
            for token in (ZALO_WRONG, None):
                if token is None:
                    admin_env.delenv("FEEDSVC_ZALO__TOKEN")
                service = web_replica(state_url)
                try:
                    assert service.channel_modes["zalo"] == ("on" if token else "off")
                    everywhere = dict.fromkeys(("api", "readyz", "metric"), "refused")
                    assert _zalo_surfaces(service) == everywhere
                finally:
                    service.close()


def _zalo_surfaces(service: Service) -> dict[str, str]:
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        api = client.get("/api/status", headers=AUTH).json()["channels"]["zalo"]
        ready = client.get("/readyz", headers=AUTH).json()["channels"]["zalo"]
        metrics = client.get("/metrics").text
    sample = 'feedsvc_channel_mode{{channel="zalo",mode="{}"}} 1.0'
    metric = [m for m in ("on", "off", "refused", "waiting") if sample.format(m) in metrics]
    return {"api": api, "readyz": ready, "metric": ",".join(metric)}


async def test_the_keeper_keeps_a_refusal_fresh_and_an_acceptance_ends_it(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """getMe refused every round: the refusal's time moves on (a replica keeps reading it);
    the token accepted at the next getMe: the refusal is gone at once, the token recorded."""
    monkeypatch.setattr(tokens, "NOTE_SECONDS", 0.2)
    refused = (401, b'{"ok": false, "error_code": 401, "description": "Unauthorized"}')
    with FakeBotAPI() as fake:
        fake.script_raw("getme", *[refused] * 1000)  # refused until the test says
        monkeypatch.setenv("FEEDSVC_TELEGRAM__TOKEN", fake.token)
        settings = load_config(None, {"database": {"url": db.url},
                                      "telegram": {"base_url": fake.base_url}})  # fmt: skip
        fleet = Dispatchers(db, settings, build_channels(settings))
        await fleet.start()
        try:
            await fleet.tokens_confirmed()
            first = _refused_at(db)
            assert first is not None
            await fake.await_for(lambda: (_refused_at(db) or first) > first)
            # accepted from the next getMe on (three refusals scripted left a 0.2 s window to
            # see the refusal move in, which a stalled loop missed in CI)
            fake.unscript_raw("getme")
            await fake.await_for(lambda: _refused_at(db) is None)
        finally:
            await fleet.stop(timeout=5)
    with db.read() as conn:
        assert "telegram" in tokens_seen(conn)


def test_the_refusal_rule() -> None:
    """The pure rule at its edges: a refusal exactly at the bound is fresh, a second past is
    not; every mode reads a fresh refusal, an acceptance newer than it too (another
    process's token: a process's own acceptance deletes its own refusal, and before 0039 this
    case flipped every surface between ``refused`` and ``on``, ``test_channel_replicas``)."""
    from feedsvc.channel_modes import REFUSED_FRESH_SECONDS, shown_modes

    assert REFUSED_FRESH_SECONDS == 180  # the bound README states
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    edge = now - timedelta(seconds=REFUSED_FRESH_SECONDS)
    past = edge - timedelta(seconds=1)
    modes = {"telegram": "console", "zalo": "off", "apprise": "on"}
    assert shown_modes(modes, {"telegram": edge, "zalo": edge}, {}, now) == {
        "telegram": "refused", "zalo": "refused", "apprise": "on"}  # fmt: skip
    assert shown_modes(modes, {"telegram": past, "zalo": past}, {}, now) == modes
    assert shown_modes({"telegram": "on"}, {"telegram": edge}, {"telegram": now}, now) == {
        "telegram": "refused"}  # fmt: skip
    assert shown_modes({"telegram": "waiting"}, {"telegram": now}, {"telegram": edge}, now) == {
        "telegram": "refused"}  # fmt: skip
    assert shown_modes({"telegram": "on"}, {"telegram": past}, {}, now) == {"telegram": "on"}


def test_forget_token_forgets_the_refusal_too(db: Database) -> None:
    from feedsvc.store.channel_tokens import note_refusal, refusals

    now = datetime.now(UTC)
    with db.write() as conn:
        note_tokens(conn, ["zalo"], now)
        note_refusal(conn, "zalo", now)
        assert forget_token(conn, "zalo")
        assert refusals(conn) == {} and tokens_seen(conn) == {}


def test_upgrade_0038_keeps_the_token_records(db_url: str) -> None:
    """A DB at 0037 holding token records: after the upgrade the records
    are as they were, no refusal is invented (the next getMe records one), a refusal can be
    written and read; the downgrade drops the table and keeps the tokens."""
    from feedsvc.store.channel_tokens import note_refusal, refusals

    db = database_at(db_url, "0037")
    try:
        at = "2026-12-05 10:00:00"
        run_sql(db, "INSERT INTO channel_tokens (channel, first_at, last_at)"
                    " VALUES ('telegram', :t, :t), ('zalo', :t, :t)", t=at)  # fmt: skip
        upgrade(db)
        with db.write() as conn:
            assert set(tokens_seen(conn)) == {"telegram", "zalo"}
            assert refusals(conn) == {}
            now = datetime.now(UTC).replace(microsecond=0)
            note_refusal(conn, "telegram", now)
        with db.read() as conn:
            assert refusals(conn) == {"telegram": now}
        downgrade(db, "0037")
        with db.read() as conn:
            assert set(tokens_seen(conn)) == {"telegram", "zalo"}
    finally:
        db.dispose()
