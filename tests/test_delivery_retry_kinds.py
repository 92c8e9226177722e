"""Why a queued alert waits to be tried again (``deliveries.retry_kind``, migration 0033): each
outcome that re-queues records its kind, the admin words it (both languages), the API returns
it, and a state DB upgraded with queued retries keeps them, worded as before. Before, every
one of them was "the last try did not go through; it will be tried again" — a 429 pause, an
answer that never came (the re-send may arrive twice), a parse error re-sent as plain text.

Each re-queueing outcome is given one state DB backend, rotating (``backend_cases.on_backends``):
the kind is a value written by the same statement for every outcome (a migration's move of the
chat is run on both backends by ``test_dispatch`` and ``test_retraction_migrated``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from backend_cases import on_backends
from factories import VN
from fakebot import FakeBotAPI, Fault
from receiver import Receiver
from sqlalchemy import inspect, select, text, update
from test_admin_text import TOKEN
from test_apprise import publish
from test_delivery_words import LANGUAGES, _page, admin_service
from test_dispatch import GROUP, PRIVATE, Env, make_env, subscribe_chat
from test_dispatch import fake as fake  # the fixture
from test_store_lite import cli_text, sqlalchemy_only
from upgrades import OLD_ARTICLE, database_at, downgrade, run_sql

from feedsvc import operations as ops
from feedsvc.catalogue import CATALOGUE, Translator
from feedsvc.channels.apprise import AppriseChannel
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import deliveries
from feedsvc.delivery_states import RETRY_KINDS
from feedsvc.digest.record import Policy
from feedsvc.dispatch import Dispatcher, DispatchSettings
from feedsvc.notify import SendOutcome
from feedsvc.send_record import record_alert
from feedsvc.store import deliveries as q
from feedsvc.store.delivery_log import list_deliveries
from feedsvc.store.topics import TopicSpec, save_topic

POLICY = Policy(3, 25, 1, lambda attempts: timedelta(seconds=30))
LONG = "x" * 150  # with the rest, an error of 190 characters: under the CLI's cell of 200

#: an outcome that re-queues the alert → the kind it records
REQUEUED: list[tuple[Callable[[], SendOutcome], str]] = [
    (lambda: SendOutcome.retry_after(30, "Too Many Requests: retry after 30"), "rate_limited"),
    (lambda: SendOutcome.transient("HTTP 502: Bad Gateway"), "transient"),
    (lambda: SendOutcome.ambiguous("ReadTimeout"), "unknown"),
    (lambda: SendOutcome.parse_error("Bad Request: can't parse entities"), "plain_text"),
    (lambda: SendOutcome.migrated(-100777, "Bad Request: group chat was upgraded"), "migrated"),
    (lambda: SendOutcome.thread_gone("Bad Request: message thread not found"), "thread_gone"),
    (lambda: SendOutcome.topic_closed("Bad Request: TOPIC_CLOSED"), "topic_closed"),
]


def kinds(db: Database) -> list[tuple[str, str | None]]:
    with db.read() as conn:
        got = conn.execute(select(deliveries.c.state, deliveries.c.retry_kind))
        return [(s, k) for s, k in got.tuples()]


def _claimed(env: Env) -> q.Claimed:
    """One alert to ``GROUP``, claimed by "me" (a dispatcher's lease, nothing sent yet)."""
    subscribe_chat(env.db, GROUP, "group", "an-ninh")
    env.publish(env.fresh())
    with env.db.write() as conn:
        [claimed] = q.claim(conn, "me", env.db.now(), 1, timedelta(minutes=5))
    return claimed


@pytest.mark.parametrize(
    ("db_url", "kind"), on_backends([k for _, k in REQUEUED]), indirect=["db_url"]
)
async def test_each_requeueing_outcome_records_its_kind(
    db: Database, fake: FakeBotAPI, kind: str
) -> None:
    outcome = dict((k, o) for o, k in REQUEUED)[kind]
    async with make_env(db, fake, 10.0) as env:
        claimed = _claimed(env)
        thread = 7 if kind == "thread_gone" else None
        with db.write() as conn:
            record_alert(conn, db.now(), "me", claimed, outcome(), thread, POLICY)
    assert kinds(db) == [("pending", kind)]
    with db.read() as conn:
        [row], _ = list_deliveries(conn)
    assert row.retry_kind == kind
    for index, language in enumerate(LANGUAGES):
        shown = Translator(language).delivery_error("pending", "telegram", kind)
        assert shown == CATALOGUE[f"delivery_error.retrying.{kind}"][index]


async def test_a_429_is_worded_on_the_admins_pages_and_named_by_the_api(
    db: Database,
    fake: FakeBotAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with make_env(db, fake, 10.0) as env:
        await _queued_after(env, Fault.flood(3600))
    assert kinds(db) == [("pending", "rate_limited")]
    for index, language in enumerate(LANGUAGES):
        words = CATALOGUE["delivery_error.retrying.rate_limited"][index]
        general = CATALOGUE["delivery_error.retrying"][index]
        with admin_service(db, language, monkeypatch) as client:
            for path in ("/admin/deliveries", "/admin/status"):
                page = _page(client, path)
                assert words in page and general not in page, (language, path)
            api = client.get("/api/deliveries", headers={"Authorization": f"Bearer {TOKEN}"})
            [item] = api.json()["items"]
            assert (item["state"], item["retry_kind"]) == ("pending", "rate_limited")


async def _queued_after(env: Env, fault: Fault) -> None:
    """One alert to ``PRIVATE`` tried once against ``fault``, then left queued."""
    subscribe_chat(env.db, PRIVATE, "private", "an-ninh")
    env.fake.script(PRIVATE, fault)
    env.publish(env.fresh())
    d = Dispatcher(env.db, env.sender, VN, DispatchSettings(poll_seconds=0.05))
    await d.step()
    await d.drain()


async def test_a_finished_row_shows_no_kind_and_a_resend_starts_afresh(
    db: Database,
    fake: FakeBotAPI,
) -> None:
    async with make_env(db, fake, 10.0) as env:
        claimed = _claimed(env)
        with db.write() as conn:
            record_alert(conn, db.now(), "me", claimed, SendOutcome.transient("502"), None, POLICY)
            conn.execute(update(deliveries).values(state="failed"))  # its retries used up
        with db.read() as conn:
            [row], _ = list_deliveries(conn)
        assert (row.state, row.retry_kind) == ("failed", None)
        with db.write() as conn:
            assert q.resend(conn, claimed.id, db.now())
        assert kinds(db) == [("pending", None)]  # the general words until the next try


def test_upgrade_from_0032_keeps_queued_retries_worded_as_before(
    db_url: str, tmp_path: Path
) -> None:
    db = database_at(db_url, "0032")
    try:
        run_sql(
            db,
            OLD_ARTICLE,
            "INSERT INTO chats (chat_id, channel, address, type, paused, failures,"
            " link_preview, created_at) VALUES (501, 'telegram', '501', 'private',"
            " false, 0, false, :t), (502, 'telegram', '502', 'private', false, 0, false, :t)",
            "INSERT INTO deliveries (chat_id, article_id, topics, state, attempts, ambiguous,"
            " plain_text, due_at, created_at, error)"
            " VALUES (501, 1, '[]', 'pending', 1, 0, false, :t, :t, 'HTTP 502')",
            # an alert's history, which a rebuilt ``deliveries`` (SQLite) would cascade away
            "INSERT INTO deliveries (chat_id, article_id, topics, state, attempts, ambiguous,"
            " plain_text, due_at, created_at, message_id, finished_at)"
            " VALUES (502, 1, '[]', 'sent', 1, 0, false, :t, :t, 9, :t)",
            "INSERT INTO alert_followups (delivery_id, kind, state, due_at, attempts, outcome,"
            " created_at) SELECT id, 'correct', 'done', :t, 1, 'edited', :t FROM deliveries"
            " WHERE chat_id = 502",
            t="2026-12-01 10:00:00",
        )
        upgrade(db)
        assert sorted(kinds(db)) == [("pending", None), ("sent", None)]
        with db.read() as conn:
            [row], _ = list_deliveries(conn, state="pending")
        assert row.error == "HTTP 502" and row.retry_kind is None
        words = Translator("en").delivery_error(row.state, row.channel, row.retry_kind)
        assert words == CATALOGUE["delivery_error.retrying"][1]
        downgrade(db, "0032")
        with db.read() as conn:
            names = {c["name"] for c in inspect(conn).get_columns("deliveries")}
            kept = conn.execute(text("SELECT state, error FROM deliveries ORDER BY id")).all()
            history = conn.execute(text("SELECT outcome FROM alert_followups")).scalars().all()
        assert "retry_kind" not in names
        assert [tuple(r) for r in kept] == [("pending", "HTTP 502"), ("sent", None)]
        assert history == ["edited"]  # the history survived both ways
    finally:
        db.dispose()


def test_every_kind_is_worded_in_both_languages() -> None:
    for kind in RETRY_KINDS:
        vi, en = CATALOGUE[f"delivery_error.retrying.{kind}"]
        assert vi and en and vi != en
    assert (
        Translator("en").delivery_error("sent", "telegram", "transient")
        == (CATALOGUE["delivery_error.sent"][1])
    )  # a finished row's kind is not read


async def test_feedsvc_status_says_why_a_queued_alert_waits(
    db: Database, db_url: str, fake: FakeBotAPI, tmp_path: Path
) -> None:
    """``feedsvc status``'s recent errors gave the raw error alone ("Too Many Requests: retry
    after 3600"): now why the alert waits comes first, in either of the command's reads of
    the state DB (the driver's, SQLAlchemy's), text and JSON; a finished row's line is as
    before (its state says it)."""
    async with make_env(db, fake, 10.0) as env:
        await _queued_after(env, Fault.flood(3600))
        claimed = _claimed(env)
        with db.write() as conn:
            record_alert(conn, db.now(), "me", claimed, SendOutcome.transient("502"), None, POLICY)
            conn.execute(update(deliveries).where(deliveries.c.id == claimed.id)
                         .values(state="failed"))  # fmt: skip
            # a long answer (a proxy's page): the words must not eat into the error's room
            long_error = f"Flood control exceeded. Retry in 3600 {LONG} END"
            conn.execute(update(deliveries).where(deliveries.c.retry_kind == "rate_limited")
                         .values(error=long_error))  # fmt: skip
    words = CATALOGUE["delivery_error.retrying.rate_limited"][1]
    lite_text = cli_text(["status"], db_url, tmp_path)
    full = json.loads(cli_text(["status", "--json"], sqlalchemy_only(db_url), tmp_path, fast=False))
    for lines in ([line.strip() for line in lite_text.splitlines()], full["recent_errors"]):
        [waiting] = [line for line in lines if " pending telegram chat " in str(line)]
        assert words in waiting and waiting.endswith(
            f"(last error: Flood control exceeded. Retry in 3600 {LONG} END)"
        )
        [ended] = [line for line in lines if " failed telegram chat " in str(line)]
        assert str(ended).endswith(": 502")  # ended: no reason to wait, the error as it was


async def test_an_apprise_destinations_429_is_worded_for_a_destination(
    db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An Apprise destination that answered 429 is paused like a chat, but it is no chat:
    the admin's pages, the API's words and ``feedsvc status`` said "the chat is paused"."""
    with db.write() as conn:
        save_topic(conn, TopicSpec("an-ninh", "An ninh", '"an ninh"'), "cli", db.now())
    with Receiver() as receiver:
        ops.add_subscription(db, None, None, topic="an-ninh", query=None, channel="apprise",
                             address=receiver.url("busy"))  # fmt: skip
        receiver.statuses.append(429)
        receiver.retry_after = "3600"
        publish(db, 1, title="Tin an ninh khu phố")
        channel = AppriseChannel(VN)
        await channel.start()
        try:
            d = Dispatcher(db, channel, VN, DispatchSettings(poll_seconds=0.05))
            await d.step()
            await d.drain()
        finally:
            await channel.close()
        assert receiver.all() == [] and len(receiver.refused) == 1
    assert kinds(db) == [("pending", "rate_limited")]
    chat_words = CATALOGUE["delivery_error.retrying.rate_limited"]
    own_words = CATALOGUE["delivery_error.apprise.retrying.rate_limited"]
    for index, language in enumerate(LANGUAGES):
        assert (
            Translator(language).delivery_error("pending", "apprise", "rate_limited")
            == (own_words[index])
        )
        with admin_service(db, language, monkeypatch) as client:
            for path in ("/admin/deliveries", "/admin/status"):
                page = _page(client, path)
                assert own_words[index] in page and chat_words[index] not in page, path
    lite_text = cli_text(["status"], db_url, tmp_path)
    [line] = [line.strip() for line in lite_text.splitlines() if " pending " in line]
    assert line.startswith("#") and " pending apprise chat " in line and own_words[1] in line
