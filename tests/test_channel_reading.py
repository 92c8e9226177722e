"""Every surface reads a channel's mode in one place (``channel_modes.shown_modes``).

A tester's: with a Telegram token the channel refuses, ``feedsvc status`` said ``refused``
while ``/readyz``, the ``feedsvc_channel_mode`` metric and the admin's status page said ``on``;
a web-only replica (``feedsvc run --no-scheduler --no-bot``) without the token, and an
operator's shell without it, said ``waiting`` while another replica sent every alert. Now the
token's last acceptance (``channel_tokens.last_at``, kept fresh by the dispatcher's getMe while
idle, ``TokenWatch.keep_fresh``) within 3 minutes reads ``sent_elsewhere`` everywhere, and
older ``waiting``. Real service and web app, the real CLI; both state DBs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from backend_cases import module_on_sqlite
from click.testing import CliRunner
from fakebot import FakeBotAPI
from fleets import telegram_fleet
from sqlalchemy import insert, select, update
from starlette.testclient import TestClient
from test_admin import login
from test_channel_off import AUTH, TOKEN

from feedsvc.app import Roles, Service, create_app
from feedsvc.channels import tokens
from feedsvc.cli import cli
from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.db.schema import articles, deliveries
from feedsvc.db.schema_service import channel_tokens
from feedsvc.store.channel_tokens import note_tokens
from feedsvc.store.subscriptions import ensure_chat

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

BOT_TOKEN = "123456789:AAFwrongTOKENwrongTOKENwrong_-0"  # shaped as @BotFather's; refused
DEAD_BOT_API = "http://127.0.0.1:9/bot"  # loopback, nothing listens: no host is reached


def web_replica(url: str) -> Service:
    """A web-only replica (``feedsvc run --no-scheduler --no-bot``), prepared."""
    settings = load_config(None, {
        "database": {"url": url}, "topics": {"import_on_start": False},
        "telegram": {"base_url": DEAD_BOT_API}, "zalo": {"base_url": "http://127.0.0.1:9"},
    })  # fmt: skip
    service = Service(settings, Roles(scheduler=False, bot=False))
    service.prepare()
    return service


def surfaces(service: Service) -> dict[str, str]:
    """What each surface an operator or a monitor reads says of Telegram."""
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        api = client.get("/api/status", headers=AUTH).json()["channels"]["telegram"]
        ready = client.get("/readyz", headers=AUTH).json()["channels"]["telegram"]
        metrics = client.get("/metrics").text
        login(client)
        page = client.get("/admin/status").text
    sample = 'feedsvc_channel_mode{{channel="telegram",mode="{}"}} 1.0'
    metric = [m for m in ("on", "refused", "waiting", "sent_elsewhere", "console")
              if sample.format(m) in metrics]  # fmt: skip
    admin = page.split('Telegram: <span class="channel ', 1)[1].split('"', 1)[0]
    return {"api": api, "readyz": ready, "metric": ",".join(metric), "admin": admin}


def cli_status(url: str) -> tuple[str, str]:
    """``feedsvc status --json``'s Telegram mode and ``feedsvc status``'s channels line, from
    a shell with this process's environment."""
    env = {"FEEDSVC_DATABASE__URL": url, "FEEDSVC_CONFIG": "/dev/null"}
    shown = CliRunner().invoke(cli, ["status", "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    text = CliRunner().invoke(cli, ["status"], env=env)
    assert text.exit_code == 0, text.output
    line = next(x for x in text.output.splitlines() if x.startswith("channels"))
    return json.loads(shown.output)["channels"]["telegram"], line


@pytest.fixture
def admin_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    monkeypatch.delenv("FEEDSVC_TELEGRAM__TOKEN", raising=False)
    monkeypatch.delenv("FEEDSVC_ZALO__TOKEN", raising=False)
    yield monkeypatch


def queue_refused(db: Database) -> None:
    """An alert waiting because Telegram refused the token (as ``send_record`` leaves it), and
    the refusal recorded (as the dispatcher's ``TokenWatch`` does in the same transaction)."""
    from feedsvc.store.channel_tokens import note_refusal  # migration 0038's

    queue_refused_alert(db)
    with db.write() as conn:
        note_refusal(conn, "telegram", datetime.now(UTC))


def queue_refused_alert(db: Database) -> None:
    """An alert waiting because Telegram refused the token (as ``send_record`` leaves it)."""
    now = datetime.now(UTC)
    with db.write() as conn:
        ensure_chat(conn, 7100, "private", None, now)
        article_id = conn.execute(insert(articles).values(
            source_key="K1", version=now, url="https://example.vn/1.html", title="Tin 1",
            tags=[], published_at=now, search_text="", source_cursor=now, first_seen_at=now,
            last_changed_at=now,
        ).returning(articles.c.id)).scalar_one()  # fmt: skip
        conn.execute(insert(deliveries).values(
            chat_id=7100, article_id=article_id, topics=["Tin"], state="pending", attempts=0,
            ambiguous=0, plain_text=False, due_at=now, created_at=now, retry_kind="token_refused",
        ))  # fmt: skip


def test_a_refused_token_reads_refused_on_every_surface(
    state_url: str, admin_env: pytest.MonkeyPatch
) -> None:
    admin_env.setenv("FEEDSVC_TELEGRAM__TOKEN", BOT_TOKEN)
    service = web_replica(state_url)
    try:
        queue_refused(service.db)
        assert service.channel_modes["telegram"] == "on"  # the process's own mode
        assert surfaces(service) == dict.fromkeys(("api", "readyz", "metric", "admin"), "refused")
        assert cli_status(state_url)[0] == "refused"
    finally:
        service.close()


def test_a_replica_without_the_token_while_another_sends(
    state_url: str, admin_env: pytest.MonkeyPatch
) -> None:
    """The token accepted a minute ago (another replica's TokenWatch): ``sent_elsewhere`` on
    the web-only replica's surfaces and in an operator's shell, its note worded; accepted 10
    minutes ago and not since: ``waiting`` (no process sends now)."""
    seed = web_replica(state_url)
    with seed.db.write() as conn:
        note_tokens(conn, ["telegram"], datetime.now(UTC) - timedelta(minutes=1))
    seed.close()
    service = web_replica(state_url)  # its own configuration lacks the token: waiting
    try:
        assert service.channel_modes["telegram"] == "waiting"
        everywhere = dict.fromkeys(("api", "readyz", "metric", "admin"), "sent_elsewhere")
        assert surfaces(service) == everywhere
        mode, line = cli_status(state_url)
        assert mode == "sent_elsewhere"
        assert "telegram sent_elsewhere (sent by a running service; this shell has no token)" in (
            line
        )
        with service.db.write() as conn:
            old = datetime.now(UTC) - timedelta(minutes=10)
            conn.execute(update(channel_tokens).values(last_at=old))
        assert surfaces(service) == dict.fromkeys(("api", "readyz", "metric", "admin"), "waiting")
        assert cli_status(state_url)[0] == "waiting"
    finally:
        service.close()


def test_the_reading_rule() -> None:
    """The pure rule, at its edges: a record exactly at the bound is fresh, a second past is
    not; a console or off stand-in whose channel has an old record waits (it stood down); a
    refused record does not make an ``on`` channel ``sent_elsewhere`` (refusals:
    ``test_channel_refusals``)."""
    from feedsvc.channel_modes import ACCEPTED_FRESH_SECONDS, shown_modes  # new: failed before

    assert ACCEPTED_FRESH_SECONDS == 180  # the bound README states
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    edge = now - timedelta(seconds=ACCEPTED_FRESH_SECONDS)
    past = edge - timedelta(seconds=1)
    stand_ins = {"telegram": "console", "zalo": "off", "apprise": "on"}
    assert shown_modes(stand_ins, {}, {}, now) == stand_ins  # the demo, a first install
    assert shown_modes(stand_ins, {}, {"telegram": edge, "zalo": edge}, now) == {
        "telegram": "sent_elsewhere", "zalo": "sent_elsewhere", "apprise": "on"}  # fmt: skip
    assert shown_modes(stand_ins, {}, {"telegram": past, "zalo": past}, now) == {
        "telegram": "waiting", "zalo": "waiting", "apprise": "on"}  # fmt: skip
    assert shown_modes({"telegram": "on"}, {"telegram": now}, {"telegram": past}, now) == {
        "telegram": "refused"}  # fmt: skip
    assert shown_modes({"telegram": "on"}, {}, {"telegram": past}, now) == {"telegram": "on"}


async def test_an_idle_dispatcher_keeps_its_token_record_fresh(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No alert to send: the dispatcher's getMe records the token again every
    ``NOTE_SECONDS`` (shortened here), so a replica without it keeps reading
    ``sent_elsewhere`` through a quiet hour; a refused token records nothing."""
    monkeypatch.setattr(tokens, "NOTE_SECONDS", 0.3)
    with FakeBotAPI() as fake:
        async with telegram_fleet(db, fake, monkeypatch) as fleet:
            await fleet.tokens_confirmed()
            first = _last_at(db)
            assert first is not None
            await fake.await_for(lambda: (_last_at(db) or first) > first)


def _last_at(db: Database) -> datetime | None:
    with db.read() as conn:
        stmt = select(channel_tokens.c.last_at).where(channel_tokens.c.channel == "telegram")
        return conn.execute(stmt).scalar()


async def test_a_refused_token_is_never_recorded_as_fresh(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each getMe refused (401): three rounds of the keeper record no acceptance (only the
    refusals, ``test_channel_refusals``), so no replica reads ``sent_elsewhere`` from a token
    that does not work."""
    monkeypatch.setattr(tokens, "NOTE_SECONDS", 0.2)
    refused = (401, b'{"ok": false, "error_code": 401, "description": "Unauthorized"}')
    with FakeBotAPI() as fake:
        fake.script_raw("getme", *[refused] * 10)
        async with telegram_fleet(db, fake, monkeypatch):
            await fake.await_for(lambda: sum(c.method == "getme" for c in fake.calls) >= 3)
    assert _last_at(db) is None
