"""The stand-ins and the record of a token, while a service runs (a tester's findings on
``channel_tokens``):

- a replica started without the token before any process had sent with it ran the console for
  its whole life, logging real chats' alerts as sent while another replica had the token: the
  console (and Zalo's off worker) now stand down once a token is recorded;
- a token the channel never accepted (a placeholder, a typo) marked the DB for good: only an
  alert delivered (or the bot's getMe) records it;
- a worker whose sends all failed (a wrong ``telegram.base_url``) logged nothing: one WARNING
  per run of failures;
- ``feedsvc db forget-token`` is the way out for a channel dropped for good.
Real dispatchers against the fake Bot API; both state DBs."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from backend_cases import module_on_sqlite
from click.testing import CliRunner
from fakebot import FakeBotAPI
from fakeserver import await_until
from sqlalchemy import func, select
from test_channel_off import queue_zalo, rows
from test_dispatch_fair import add_articles, queue

from feedsvc.app import Roles, Service
from feedsvc.channels.failures import SendFailures
from feedsvc.channels.fleet import Dispatchers, build_channels
from feedsvc.channels.off import OffChannel
from feedsvc.cli import cli
from feedsvc.config import Settings, load_config
from feedsvc.db import Database
from feedsvc.db.schema import deliveries
from feedsvc.db.schema_service import channel_tokens
from feedsvc.notify.outcome import SendOutcome
from feedsvc.store.channel_tokens import note_tokens, tokens_seen

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

WRONG = "123456789:AAFwrongTOKENwrongTOKENwrong_-0"


def settings_on(db: Database, **telegram: str) -> Settings:
    return load_config(None, {"database": {"url": db.url}, "topics": {"import_on_start": False},
                              "telegram": telegram})  # fmt: skip


def states(db: Database) -> list[str]:
    with db.read() as conn:
        return list(conn.execute(select(deliveries.c.state).order_by(deliveries.c.id)).scalars())


async def test_the_console_stands_down_once_a_token_is_recorded(
    db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("FEEDSVC_TELEGRAM__TOKEN", raising=False)
    settings = settings_on(db)
    fleet = Dispatchers(db, settings, build_channels(settings))  # the console: no token here
    console = fleet.telegram
    queue(db, [7300], add_articles(db, range(1, 2)), datetime.now(UTC))
    await console.step()  # a first install's console: it takes the alert, as before
    await console.drain()
    assert states(db) == ["sent"]
    with db.write() as conn:  # a replica with the token delivered an alert meanwhile
        note_tokens(conn, ["telegram"], datetime.now(UTC))
    queue(db, [7301], add_articles(db, range(2, 3)), datetime.now(UTC))
    caplog.set_level(logging.ERROR, logger="feedsvc")
    await console.step()
    await console.step()
    await console.drain()
    assert states(db) == ["sent", "pending"]  # it waits for the replica with the token
    said = [r.getMessage() for r in caplog.records if "another process has sent" in r.getMessage()]
    assert len(said) == 1 and "telegram.token" in said[0]


async def test_the_off_worker_stands_down_too(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    from test_channel_off import make_service

    monkeypatch.delenv("FEEDSVC_ZALO__TOKEN", raising=False)
    service = make_service(Path(str(tmp_path)))
    try:
        chat = queue_zalo(service, ("pending",))
        with service.db.write() as conn:
            note_tokens(conn, ["zalo"], datetime.now(UTC))
        assert OffChannel(service.db, "zalo").close_queued() == 0
        assert rows(service, chat) == [("pending", None)]
    finally:
        service.close()


async def test_only_an_accepted_token_is_recorded(db: Database) -> None:
    """A refused token (401) marks nothing however often it is tried; the right one is
    recorded with the first alert delivered."""
    with FakeBotAPI() as fake:
        for n, (token, sent) in enumerate(((WRONG, "pending"), (fake.token, "sent"))):
            settings = settings_on(db, token=token, base_url=fake.base_url)
            fleet = Dispatchers(db, settings, build_channels(settings))
            queue(db, [7400 + n], add_articles(db, range(10 + n, 11 + n)), datetime.now(UTC))
            await fleet.telegram.channel.start()
            try:
                await fleet.telegram.step()
                await fleet.telegram.drain()
            finally:
                await fleet.telegram.channel.close()
            assert sent in states(db)
            with db.read() as conn:
                seen = tokens_seen(conn)
            assert ("telegram" in seen) is (sent == "sent"), (token == WRONG, seen)


async def test_the_bot_records_a_token_getme_accepted(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeBotAPI() as fake:
        monkeypatch.setenv("FEEDSVC_TELEGRAM__TOKEN", fake.token)
        settings = load_config(None, {"database": {"url": db.url},
                                      "topics": {"import_on_start": False},
                                      "telegram": {"base_url": fake.base_url}})  # fmt: skip
        service = Service(settings, Roles(http=False, scheduler=False))
        await service.start()
        try:

            def recorded() -> bool:
                with db.read() as conn:
                    return "telegram" in tokens_seen(conn)

            await await_until(recorded)
        finally:
            await service.stop()


def test_one_warning_per_run_of_failures(caplog: pytest.LogCaptureFixture) -> None:
    log = SendFailures("telegram")
    caplog.set_level(logging.INFO, logger="feedsvc")
    foreign = SendOutcome.transient("HTTP 401 answer of 53 bytes: not a Bot API answer")
    for outcome in (foreign, foreign, SendOutcome.ambiguous("timed out"), SendOutcome.sent(5),
                    SendOutcome.sent(6), foreign, SendOutcome.blocked("blocked")):  # fmt: skip
        log(1, outcome)
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert [level for level, _ in lines] == ["WARNING", "INFO", "WARNING"], lines
    assert "not a Bot API answer" in lines[0][1] and "after 3 failed send(s)" in lines[1][1]


def test_forget_token_gives_a_first_installs_modes_back(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FEEDSVC_TELEGRAM__TOKEN", raising=False)
    with db.write() as conn:  # an hour ago: no process sends with it now
        note_tokens(conn, ["telegram"], datetime.now(UTC) - timedelta(hours=1))
    env = {"FEEDSVC_DATABASE__URL": db.url, "FEEDSVC_CONFIG": "/dev/null"}
    runner = CliRunner()
    before = runner.invoke(cli, ["status"], env=env)
    assert "telegram waiting" in before.output
    done = runner.invoke(cli, ["db", "forget-token", "telegram"], env=env)
    assert done.exit_code == 0 and "telegram: forgotten" in done.output, done.output
    assert "telegram console" in runner.invoke(cli, ["status"], env=env).output
    again = runner.invoke(cli, ["db", "forget-token", "telegram"], env=env)
    assert again.exit_code == 0 and "nothing to forget" in again.output
    wrong = runner.invoke(cli, ["db", "forget-token", "apprise"], env=env)
    assert wrong.exit_code == 2
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(channel_tokens)).scalar() == 0


def test_a_web_replica_says_nothing_of_a_channel_it_does_not_send_on(
    db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("FEEDSVC_TELEGRAM__TOKEN", raising=False)
    with db.write() as conn:
        note_tokens(conn, ["telegram"], datetime.now(UTC))
    caplog.set_level(logging.ERROR, logger="feedsvc")
    for roles, errors in ((Roles(scheduler=False, bot=False), 0), (Roles(bot=False), 1)):
        service = Service(settings_on(db), roles)
        service.prepare()
        said = [r for r in caplog.records if "telegram.token is not set" in r.getMessage()]
        assert len(said) == errors, roles


async def test_a_worker_records_its_token_at_start(db: Database) -> None:
    """A worker replica (no bot) with the token: getMe at its start records it, before any
    alert, so a replica without it stands down at once (a verifier's: a burst queued before
    the worker's first delivery went to the other replica's console). A refused token marks
    nothing."""
    with FakeBotAPI() as fake:
        for token, recorded in ((WRONG, False), (fake.token, True)):
            settings = settings_on(db, token=token, base_url=fake.base_url)
            fleet = Dispatchers(db, settings, build_channels(settings))
            await fleet.start()
            try:
                await asyncio.wait_for(fleet.tokens_confirmed(), 30)
            finally:
                await fleet.stop(timeout=5)
            with db.read() as conn:
                assert ("telegram" in tokens_seen(conn)) is recorded, token == WRONG


def test_a_token_forgotten_while_it_works_is_recorded_again(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``db forget-token`` while a replica sends with the token: it was never recorded again by
    that replica (a verifier's N3): at most a minute later it is."""
    from feedsvc.channels import tokens
    from feedsvc.channels.tokens import TokenWatch
    from feedsvc.store.channel_tokens import forget_token

    def seen() -> bool:
        with db.read() as conn:
            return "telegram" in tokens_seen(conn)

    watch = TokenWatch("telegram", stand_in=False)
    with db.write() as conn:
        watch.accepted(conn, datetime.now(UTC))
    assert seen()
    with db.write() as conn:
        assert forget_token(conn, "telegram")
        watch.accepted(conn, datetime.now(UTC))  # the same minute: one UPDATE a minute at most
    assert not seen()
    monkeypatch.setattr(tokens, "NOTE_SECONDS", 0.0)  # the minute passed
    with db.write() as conn:
        watch.accepted(conn, datetime.now(UTC))
    assert seen()
