"""Processes that disagree about a channel's token (the lead's brief, faults 1-3).

1. Two replicas with different Telegram tokens (one rotated on one host only: one accepted,
   one refused) made every surface flip between ``refused`` and ``on`` about every minute:
   the acceptance deleted the one refusal row, the next refusal made it again. Now each
   process keeps its own record (migration 0039): ``refused`` holds while the refused token is
   held, status names the process and its token's fingerprint (never the token), and it
   clears when that process stops (its record withdrawn; after a crash it ages out).
2. A bot-only process (``run --no-scheduler``) with a refused token recorded nothing: every
   other surface read ``on``/``sent_elsewhere``. It records as a dispatcher does now.
3. A console (or Zalo's off worker) on a replica without the token kept logging alerts as
   sent (ending them as failed) while another replica's token read refused: it stands down.

Real ``feedsvc run`` processes (their getMe timer shortened: ``channels.tokens.NOTE_SECONDS``)
against the fake Bot APIs, the real CLI and web app; both state DBs. The parametrised tests
run each case on one backend, rotating (``backend_cases.on_backends``), so each keeps a
PostgreSQL case: the roles, the order of the replicas and the channel pick which process
records and reads what, in the same SQL on either backend (``store.channel_tokens``, run on
both by ``test_upgrade_0039_carries_each_refusal_over`` and the PostgreSQL-only crash test).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from backend_cases import on_backends
from click.testing import CliRunner
from fakebot import FakeBotAPI
from fakezalo import FakeZaloAPI
from sqlalchemy import select, text
from starlette.testclient import TestClient
from test_admin import login
from test_channel_off import AUTH, TOKEN, queue_zalo
from test_channel_reading import surfaces, web_replica
from test_dispatch_fair import add_articles, queue
from test_replicas import poll

from feedsvc.app import Roles, Service, create_app
from feedsvc.cli import cli
from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.db.schema import deliveries
from feedsvc.db.schema_service import channel_tokens

WRONG = "123456789:AAFwrongTOKENwrongTOKENwrong_-0"  # shaped as @BotFather's; refused
ZALO_WRONG = "1234567890:zalo-wrong-token-abcdefgh"
#: a process run as ``feedsvc`` with ``channels.tokens.NOTE_SECONDS`` set to its first argument
RUN = (
    "import sys\n"
    "from feedsvc.channels import tokens\n"
    "tokens.NOTE_SECONDS = float(sys.argv.pop(1))\n"
    "sys.argv[0] = 'feedsvc'\n"
    "from feedsvc.entry import main\n"
    "main()\n"
)
WORKER = ("--no-http", "--no-bot")  # ingest and alerts
BOT_ONLY = ("--no-http", "--no-scheduler")  # the bots' chats, no alerts


def role(value: Any) -> str:
    """A case's id for a value: the roles by name."""
    return {WORKER: "worker", BOT_ONLY: "bot-only"}.get(value, str(value))


def fingerprint(token: str) -> str:
    """What README tells an operator to run: ``printf %s "$TOKEN" | sha256sum | cut -c1-8``."""
    return hashlib.sha256(token.encode()).hexdigest()[:8]


@pytest.fixture
def shell_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This test process: an operator's shell and a web-only replica without any token."""
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    for name in ("FEEDSVC_TELEGRAM__TOKEN", "FEEDSVC_ZALO__TOKEN"):
        monkeypatch.delenv(name, raising=False)
    yield


@contextmanager
def replica(
    url: str, logs: Path, roles: tuple[str, ...], note: float, **env: str
) -> Iterator[subprocess.Popen[bytes]]:
    """``feedsvc run`` with ``roles`` on ``url`` and ``env`` (tokens, Bot API URLs), its getMe
    every ``note`` seconds; stopped by SIGTERM (killed if it hangs) when the block ends."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")} | {
        "FEEDSVC_DATABASE__URL": url, "FEEDSVC_CONFIG": "/dev/null",
        "FEEDSVC_TOPICS__IMPORT_ON_START": "false", "FEEDSVC_TELEGRAM__LEASE_SECONDS": "5",
        "FEEDSVC_SOURCE__POLL_SECONDS": "1", **env,
    }  # fmt: skip
    with (logs / f"run-{len(list(logs.iterdir()))}.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", RUN, str(note), "run", *roles],
            env=full, cwd=logs, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def telegram(fake: FakeBotAPI, token: str) -> dict[str, str]:
    return {"FEEDSVC_TELEGRAM__TOKEN": token, "FEEDSVC_TELEGRAM__BASE_URL": fake.base_url}


def wrong_token(channel: str, fake: FakeBotAPI, zalo: FakeZaloAPI) -> dict[str, str]:
    """A process's environment with a token ``channel`` refuses, at the fake's address."""
    if channel == "telegram":
        return telegram(fake, WRONG)
    return {"FEEDSVC_ZALO__TOKEN": ZALO_WRONG, "FEEDSVC_ZALO__BASE_URL": zalo.base_url}


def refusals(db: Database, channel: str = "telegram") -> list[tuple[str, str | None]]:
    """Each process's refusal record of ``channel``: (holder, token fingerprint); read as
    ``("", None)`` on the code of before (one row per channel, no process: this module's tests
    run there too, and fail on what they assert)."""
    with db.read() as conn:
        rows = conn.execute(
            text("SELECT * FROM channel_refusals WHERE channel = :c"), {"c": channel}
        )
        found = [r._mapping for r in rows]
    return sorted((r.get("holder", ""), r.get("token")) for r in found)


def accepted_at(db: Database) -> datetime | None:
    with db.read() as conn:
        stmt = select(channel_tokens.c.last_at).where(channel_tokens.c.channel == "telegram")
        return conn.execute(stmt).scalar()


def of(proc: subprocess.Popen[bytes]) -> Callable[[tuple[str, str | None]], bool]:
    """Whether a refusal record is ``proc``'s (holder ``host:pid:nonce``; any before 0039)."""
    return lambda record: record[0] == "" or record[0].split(":")[1] == str(proc.pid)


def shell(url: str, channel: str = "telegram") -> tuple[str, list[dict[str, Any]], str]:
    """An operator's shell without a token: ``status --json``'s mode of ``channel`` and its
    ``channel_refusals``, and ``status``' channels line."""
    env = {"FEEDSVC_DATABASE__URL": url, "FEEDSVC_CONFIG": "/dev/null"}
    shown = CliRunner().invoke(cli, ["status", "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    facts = json.loads(shown.output)
    lines = CliRunner().invoke(cli, ["status"], env=env)
    assert lines.exit_code == 0, lines.output
    line = next(x for x in lines.output.splitlines() if x.startswith("channels"))
    for out in (shown.output, lines.output):  # never the token, nor a part of it
        assert WRONG.split(":")[1][:6] not in out and WRONG.split(":")[0] not in out
    return facts["channels"][channel], facts.get("channel_refusals", {}).get(channel, []), line


def after_next_acceptance(db: Database, since: datetime | None) -> datetime:
    """Until the replica with the good token has recorded its acceptance again (the moment
    its record overwrote the other's before): its time."""
    return poll(lambda: (at := accepted_at(db)) is not None and at != since and at, 30)


@pytest.mark.parametrize(
    ("db_url", "good", "wrong"),
    on_backends([(WORKER, BOT_ONLY), (BOT_ONLY, WORKER)], label=role),
    indirect=["db_url"],
)
def test_a_token_refused_on_one_replica_reads_refused_steadily(
    state_url: str, tmp_path: Path, shell_env: None, good: tuple[str, ...],
    wrong: tuple[str, ...],
) -> None:  # fmt: skip
    """The token accepted on one replica, refused on another (a worker and a bot-only process,
    either way round: one SQLite state DB takes one scheduler): every surface says
    ``refused`` after each of the good replica's records, names the refused process and
    its token's fingerprint; the refused replica stopped, ``sent_elsewhere`` at once."""
    db = Database(state_url)
    with (
        FakeBotAPI() as fake,
        replica(state_url, tmp_path, good, 0.2, **telegram(fake, fake.token)),
        replica(state_url, tmp_path, wrong, 1.5, **telegram(fake, WRONG)) as refused,
    ):
        poll(lambda: any(map(of(refused), refusals(db))), 60)
        at = after_next_acceptance(db, None)
        for _ in range(5):  # the good replica's next records: the answer stays
            at = after_next_acceptance(db, at)
            mode, whose, line = shell(state_url)
            assert mode == "refused", (mode, whose)
            assert [(w["process"].split(":")[1], w["token"]) for w in whose] == [
                (str(refused.pid), fingerprint(WRONG))]  # fmt: skip
            assert f"token {fingerprint(WRONG)} refused in {whose[0]['process']}" in line
        _web_names_it(state_url, whose[0]["process"])
        refused.send_signal(signal.SIGTERM)
        assert refused.wait(timeout=20) == 0
        assert refusals(db) == []  # withdrawn by its orderly stop
        for _ in range(3):
            at = after_next_acceptance(db, at)
            assert shell(state_url)[:2] == ("sent_elsewhere", [])
    db.dispose()


def _web_names_it(url: str, holder: str) -> None:
    """A web-only replica without the token: every surface says ``refused``; the API and the
    admin's status page name the process and the fingerprint."""
    service = web_replica(url)
    try:
        assert surfaces(service) == dict.fromkeys(("api", "readyz", "metric", "admin"), "refused")
        with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
            api = client.get("/api/status", headers=AUTH).json()
            login(client)
            page = client.get("/admin/status").text
        assert [r["token"] for r in api["channel_refusals"]["telegram"]] == [fingerprint(WRONG)]
        assert f"token {fingerprint(WRONG)} bị từ chối ở tiến trình {holder}" in page  # vi
        assert WRONG.split(":")[1][:6] not in page + json.dumps(api)
    finally:
        service.close()


def test_two_workers_with_different_tokens_and_a_crash(
    pg_url: str, tmp_path: Path, shell_env: None
) -> None:
    """PostgreSQL: two schedulers, one token each. The refused one killed (no orderly stop):
    its record stands while fresh, then ages out (moved back past the bound here) and the
    good replica's records never bring it back."""
    from feedsvc.db import upgrade

    db = Database(pg_url)
    upgrade(db)
    with (
        FakeBotAPI() as fake,
        replica(pg_url, tmp_path, WORKER, 0.2, **telegram(fake, fake.token)),
        replica(pg_url, tmp_path, WORKER, 1.5, **telegram(fake, WRONG)) as refused,
    ):
        poll(lambda: any(map(of(refused), refusals(db))), 60)
        at = after_next_acceptance(db, None)
        for _ in range(3):
            at = after_next_acceptance(db, at)
            assert shell(pg_url)[0] == "refused"
        refused.send_signal(signal.SIGKILL)
        refused.wait()
        at = after_next_acceptance(db, at)
        assert shell(pg_url)[0] == "refused"  # killed a moment ago: not known yet
        with db.write() as conn:  # 181 s on: past REFUSED_FRESH_SECONDS
            conn.execute(text("UPDATE channel_refusals SET last_at = :t"),
                         {"t": datetime.now(UTC) - timedelta(seconds=181)})  # fmt: skip
        for _ in range(3):
            at = after_next_acceptance(db, at)
            assert shell(pg_url)[:2] == ("sent_elsewhere", [])
    db.dispose()


@pytest.mark.parametrize(
    ("db_url", "channel"), on_backends(["telegram", "zalo"]), indirect=["db_url"]
)
def test_a_bot_only_process_records_its_refused_token(
    state_url: str, tmp_path: Path, shell_env: None, channel: str
) -> None:
    """``run --no-scheduler`` alone with a refused token (Telegram, Zalo): every surface says
    ``refused`` and names it (they said ``console``/``off``: it recorded nothing); it
    stopped, the record goes."""
    db = Database(state_url)
    with FakeBotAPI() as fake, FakeZaloAPI() as zalo:
        env = wrong_token(channel, fake, zalo)
        with replica(state_url, tmp_path, BOT_ONLY, 0.2, **env) as bot:
            poll(lambda: any(map(of(bot), refusals(db, channel))), 60)
            mode, whose, line = shell(state_url, channel)
            token = fingerprint(WRONG if channel == "telegram" else ZALO_WRONG)
            assert (mode, [w["token"] for w in whose]) == ("refused", [token])
            assert f"{channel} refused (" in line and f"token {token} refused in " in line
        assert refusals(db, channel) == []
        assert shell(state_url, channel)[0] == ("console" if channel == "telegram" else "off")
    db.dispose()


@pytest.mark.parametrize(
    ("db_url", "channel", "other"),
    # the worker cases on PostgreSQL: beside this process's scheduler, a second one on the same
    # SQLite file is refused (README, "Replicas"; the served claim records the role)
    on_backends([("telegram", WORKER), ("telegram", BOT_ONLY), ("zalo", WORKER)], 1, label=role),
    indirect=["db_url"],
)
async def test_a_stand_in_claims_nothing_while_another_replicas_token_is_refused(
    state_url: str, tmp_path: Path, shell_env: None, caplog: pytest.LogCaptureFixture,
    channel: str, other: tuple[str, ...],
) -> None:  # fmt: skip
    """A replica without the token (the console for Telegram, the off worker for Zalo) beside
    a worker (or a bot-only process) whose token the channel refuses: the alert stays queued
    for it (the console logged it as sent, the off worker ended it as failed), said once,
    and the replica's channel reads ``waiting`` from then on, after the other stopped too."""
    settings = load_config(None, {"database": {"url": state_url},
                                  "topics": {"import_on_start": False}})  # fmt: skip
    service = Service(settings, Roles(http=False, bot=False))
    service.prepare()
    db = service.db
    assert service.channel_modes[channel] == ("console" if channel == "telegram" else "off")
    caplog.set_level(logging.ERROR, logger="feedsvc")
    with FakeBotAPI() as fake, FakeZaloAPI() as zalo:
        env = wrong_token(channel, fake, zalo)
        with replica(state_url, tmp_path, other, 0.2, **env) as refused:
            poll(lambda: any(map(of(refused), refusals(db, channel))), 60)
            if channel == "telegram":
                queue(db, [7300], add_articles(db, range(1, 2)), datetime.now(UTC))
                await service.dispatcher.step()
                await service.dispatcher.drain()
            else:
                queue_zalo(service, ("pending",), wanted=True)
                assert service.dispatchers.off[0].close_queued() == 0
            assert _waiting(db)
    said = [r.getMessage() for r in caplog.records if "the channel refuses" in r.getMessage()]
    assert len(said) == 1, said
    assert service.channel_modes[channel] == "waiting"
    if channel == "telegram":
        await service.dispatcher.step()
    else:
        assert service.dispatchers.off[0].close_queued() == 0
    assert _waiting(db)  # the other stopped: it waits for a token still
    db.dispose()


def _waiting(db: Database) -> bool:
    """The one alert is still to be sent: queued, or in the refused worker's hands (``sending``
    while its try is out, or its lease left to expire by its stop), never ``sent`` (the
    console's log) nor ``failed`` (the off worker's end)."""
    with db.read() as conn:
        states = list(conn.execute(select(deliveries.c.state)).scalars())
    assert states in (["pending"], ["sending"]), states
    return True


def test_upgrade_0039_carries_each_refusal_over(db_url: str) -> None:
    """A DB at 0038 holding token records and refusals: after the upgrade each refusal is
    there, its process and token unknown (shown so), as fresh as it was; two processes'
    refusals of one channel stand side by side, an acceptance ends the carried-over one and
    its own process's only; the downgrade keeps each channel's latest."""
    from upgrades import database_at, downgrade, run_sql

    from feedsvc.channel_modes import Refusal
    from feedsvc.db import upgrade
    from feedsvc.store.channel_tokens import (
        note_refusal,
        note_tokens,
        refusal_records,
        refusals,
        tokens_seen,
    )

    db = database_at(db_url, "0038")
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        old = now - timedelta(minutes=10)
        at = "%Y-%m-%d %H:%M:%S"
        run_sql(db, "INSERT INTO channel_tokens (channel, first_at, last_at)"
                    " VALUES ('telegram', :o, :o), ('zalo', :o, :o)",
                "INSERT INTO channel_refusals (channel, first_at, last_at)"
                " VALUES ('telegram', :o, :t), ('zalo', :o, :o)",
                o=old.strftime(at), t=now.strftime(at))  # fmt: skip
        upgrade(db)
        with db.read() as conn:
            assert set(tokens_seen(conn)) == {"telegram", "zalo"}
            assert refusal_records(conn) == [
                Refusal("telegram", None, None, now), Refusal("zalo", None, None, old)]  # fmt: skip
        with db.write() as conn:
            note_refusal(conn, "telegram", now, holder="web-1:7:aaaaaa", token="1a2b3c4d")
            note_refusal(conn, "telegram", now, holder="web-2:7:bbbbbb", token="5e6f7a8b")
            note_tokens(conn, ["telegram"], now, holder="web-2:7:bbbbbb")  # web-2's fixed
        with db.read() as conn:
            assert [(r.holder, r.token) for r in refusal_records(conn)] == [
                ("web-1:7:aaaaaa", "1a2b3c4d"), (None, None)]  # fmt: skip
            assert refusals(conn) == {"telegram": now, "zalo": old}
        downgrade(db, "0038")
        with db.read() as conn:
            rows = conn.execute(text("SELECT channel FROM channel_refusals ORDER BY channel"))
            assert [c for (c,) in rows] == ["telegram", "zalo"]
            assert set(tokens_seen(conn)) == {"telegram", "zalo"}
        upgrade(db)
    finally:
        db.dispose()
