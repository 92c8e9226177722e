"""A restart sends nothing the source took down while the service was stopped (tlife finding 2,
:mod:`feedsvc.send_gate`): the real :class:`~feedsvc.app.Service` against the fake Bot API, on
SQLite and PostgreSQL. Alerts and a digest were owed at the stop; meanwhile an import line
withdrew an article, a CMS row went back to draft or was deleted. The dispatchers used to start
before the first ingest tick had read that (and reconciliation ran only 5 minutes later): the
takedown went out, in a digest whose retraction then ends ``kept``. Now sending waits for the
first look at the source — bounded, and not at all when nothing was owed.

Whether the owed alerts are instant or a digest is given one state DB backend per case, rotating
(``backend_cases.on_backends``, the other way round in the second test, so each kind meets each
backend): it picks the sender, while the gate, the takedown and the restart read the same rows.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from backend_cases import on_backends
from cms_table import COLUMNS, Cms, cms_table
from factories import article, builtin_ingestor
from fakebot import FakeBotAPI
from lifecycle_world import CHAT, SLUG
from migrated import premigrated
from sqlalchemy import select

from feedsvc.app import Roles, Service
from feedsvc.config import Settings, load_config
from feedsvc.db import Database
from feedsvc.db.schema import articles, deliveries
from feedsvc.digest.settings import ChatSettings
from feedsvc.ingest.lease import IngestLease
from feedsvc.ingest.model import TickResult
from feedsvc.lifecycle.hooks import release_hooks
from feedsvc.send_gate import SendGate, leader_looked, unread
from feedsvc.store.digests import save_settings
from feedsvc.store.holding import hold_pending
from feedsvc.store.records import Cursor
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.subscriptions import ensure_chat, subscribe
from feedsvc.store.topics import TopicSpec, get_topic, save_topic

WAIT = 30.0


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        monkeypatch.setenv("FEEDSVC_TELEGRAM__TOKEN", server.token)
        yield server


def settings_for(
    db_url: str, fake: FakeBotAPI, cms: Cms | None = None, batch_size: int = 500
) -> Settings:
    source: dict[str, Any] = {"poll_seconds": 0.3, "batch_size": batch_size}
    if cms is not None:
        source |= {
            "url": cms.url, "table": "posts", "timezone": "UTC",
            "columns": COLUMNS.model_dump(exclude_unset=True), "reconcile_seconds": 300,
        }  # fmt: skip
    return load_config(
        None,
        {
            "database": {"url": premigrated(db_url)},
            "source": source,
            "telegram": {"base_url": fake.base_url},
            "http": {"public_url": "https://feeds.example.vn"},
            "topics": {"import_on_start": False},
        },
    )


def subscribed(db: Database, *, digest: bool) -> None:
    now = datetime.now(UTC)
    with db.write() as conn:
        save_topic(conn, TopicSpec(SLUG, "Kiến Thụy", '"Kiến Thụy"', ""), "cli", now)
        topic = get_topic(conn, SLUG)
        assert topic is not None
        ensure_chat(conn, CHAT, "private", "Phóng viên", now)
        subscribe(conn, CHAT, topic_id=topic.id, query=None, now=now)
        if digest:
            save_settings(conn, CHAT, ChatSettings.from_row("07:00", None, False))


def before_the_stop(settings: Settings, *, held: bool) -> None:
    """The run before the stop: the source read and alerts queued, nothing sent yet (a
    digest chat's rows ``held``, their time come while the service was down)."""
    run = Service(settings, Roles(http=False, scheduler=False, bot=False))
    run.prepare()
    try:
        result = run.ingest_tick()
        assert result.error is None and result.new >= 1, result
        if held:
            with run.db.write() as conn:
                past = run.db.now() - timedelta(minutes=1)
                assert hold_pending(conn, past, lambda _: past) >= 3
    finally:
        if run.ingestor.lease is not None:  # as a stop releases it (PostgreSQL)
            run.ingestor.lease.release(run.db)
        run.ingestor.close()
        run.close()


def states(db: Database) -> dict[str, tuple[str, str | None]]:
    """Source key → its delivery's (state, error)."""
    stmt = select(articles.c.source_key, deliveries.c.state, deliveries.c.error).join(
        articles, articles.c.id == deliveries.c.article_id
    )
    with db.read() as conn:
        return {k: (s, e) for k, s, e in conn.execute(stmt).tuples()}


async def until(what: str, predicate: Callable[[], object], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(predicate):
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


def sent_text(fake: FakeBotAPI) -> str:
    return "\n".join(m.body for m in fake.messages(CHAT))


async def restart_and_settle(settings: Settings, db: Database, fake: FakeBotAPI) -> Service:
    """Start again; return once every delivery has ended (sent or not) — then stop."""
    service = Service(settings, Roles(http=False, bot=False))
    await service.start()
    try:
        await until(
            "every delivery settled",
            lambda: all(s not in ("pending", "held", "sending") for s, _ in states(db).values()),
        )
        await until("the sends recorded", lambda: len(fake.messages(CHAT)) >= 1)
    finally:
        await service.stop()
    return service


def _kind(digest: bool) -> str:
    return "digest" if digest else "instant"


# -- built-in source: an import line withdrawing an article while the service was down --------


@pytest.mark.parametrize(
    ("db_url", "digest"), on_backends([False, True], label=_kind), indirect=["db_url"]
)
async def test_an_import_withdrawal_while_down_is_never_sent(
    db: Database, db_url: str, fake: FakeBotAPI, digest: bool
) -> None:
    """Tester's s4: articles 1-3 owed (instant alerts, or a digest due while down); while
    stopped, other news is imported (a catch-up of a few batches at the start) and then 1 and
    3 are re-imported ``"withdrawn": true`` (1: the first an instant chat's queue sends). At
    the restart only 2 goes out."""
    subscribed(db, digest=digest)
    now = datetime.now(UTC).replace(microsecond=0)
    pub = now - timedelta(minutes=5)
    with db.write() as conn:
        upsert_source_articles(conn, [article(n, published_at=pub) for n in (1, 2, 3)], now)
    settings = settings_for(db_url, fake, batch_size=50)
    before_the_stop(settings, held=digest)
    later = now + timedelta(seconds=5)
    other = [article(n, published_at=pub, title=f"Thời tiết {n}") for n in range(10, 310)]
    with db.write() as conn:  # `feedsvc import` while the service is down
        upsert_source_articles(conn, other, later)
        taken_down = [
            article(n, published_at=pub, updated_at=later, withdrawn=True) for n in (1, 3)
        ]
        upsert_source_articles(conn, taken_down, later)
    await restart_and_settle(settings, db, fake)
    assert "số 2" in sent_text(fake)
    assert "số 1" not in sent_text(fake) and "số 3" not in sent_text(fake)
    assert len(fake.messages(CHAT)) == 1
    got = states(db)
    assert got["TEST-00002"][0] == "sent"
    assert got["TEST-00001"][0] == got["TEST-00003"][0] == "withdrawn"


# -- an external CMS: a row back to draft, a row deleted (reconciliation) ----------------------


@pytest.fixture
def cms(db: Database, tmp_path: Path) -> Iterator[Cms]:
    with cms_table(db, tmp_path) as table:
        yield table


@pytest.mark.parametrize(
    ("db_url", "digest"), on_backends([False, True], start=1, label=_kind), indirect=["db_url"]
)
async def test_a_cms_draft_or_deletion_while_down_is_never_sent(
    db: Database, db_url: str, fake: FakeBotAPI, cms: Cms, digest: bool
) -> None:
    """Posts 1-4 owed; while stopped post 2 goes back to draft (its cursor moves: the first
    tick reads it) and post 3 is deleted (only reconciliation sees that: its job's first pass
    was ``source.reconcile_seconds`` after the start). Only 1 and 4 go out."""
    subscribed(db, digest=digest)
    created = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    for n in (1, 2, 3, 4):
        cms.put(n, "published", created)
    settings = settings_for(db_url, fake, cms)
    before_the_stop(settings, held=digest)
    cms.clock.advance(seconds=5)
    cms.put(2, "draft", created)
    cms.delete(3)
    await restart_and_settle(settings, db, fake)
    text = sent_text(fake)
    assert "tin số 1" in text and "tin số 4" in text
    assert "tin số 2" not in text and "tin số 3" not in text
    got = states(db)
    assert got["TEST-00002"][0] == got["TEST-00003"][0] == "withdrawn"


# -- the bound, nothing owed, a stop while waiting ---------------------------------------------


async def test_a_source_that_does_not_answer_holds_sending_only_for_the_bound(
    db: Database, db_url: str, fake: FakeBotAPI, cms: Cms, caplog: pytest.LogCaptureFixture
) -> None:
    """The CMS is gone at the restart (its table dropped): sending starts after the bound,
    with a WARNING saying why, and the owed alert goes out."""
    caplog.set_level(logging.INFO, logger="feedsvc.send_gate")
    subscribed(db, digest=False)
    cms.put(1, "published", datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5))
    settings = settings_for(db_url, fake, cms)
    before_the_stop(settings, held=False)
    with cms.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE posts")
    service = Service(settings, Roles(http=False, bot=False))
    service.send_gate = SendGate(bound_seconds=2.0)
    started = time.monotonic()
    await service.start()
    try:
        assert service.send_gate.shown().startswith("waiting")
        await until("the owed alert sent", lambda: fake.messages(CHAT))
        assert time.monotonic() - started >= 2.0
    finally:
        await service.stop()
    warned = [r for r in caplog.records if r.levelno == logging.WARNING and "gate" in r.name]
    assert warned and "without a complete look at the source after 2 s" in warned[0].message
    assert service.send_gate.shown().startswith("started: no complete look")


async def test_nothing_owed_starts_sending_at_once(
    db: Database, db_url: str, fake: FakeBotAPI
) -> None:
    subscribed(db, digest=False)
    service = Service(settings_for(db_url, fake), Roles(http=False, bot=False))
    await service.start()
    try:
        assert service.send_gate.shown() == "started: nothing was owed at start"
        assert service.dispatchers._tasks  # the dispatchers run already
        now = datetime.now(UTC)
        with service.db.write() as conn:
            upsert_source_articles(conn, [article(1, published_at=now)], now)
        await until("the new alert sent", lambda: fake.messages(CHAT))
    finally:
        await service.stop()


async def test_a_stop_while_sending_waits_sends_nothing(
    db: Database, db_url: str, fake: FakeBotAPI, cms: Cms
) -> None:
    subscribed(db, digest=False)
    cms.put(1, "published", datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5))
    settings = settings_for(db_url, fake, cms)
    before_the_stop(settings, held=False)
    with cms.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE posts")  # the first look never completes
    service = Service(settings, Roles(http=False, bot=False))
    await service.start()
    await service.stop()
    assert service.exit_guard.stopped
    assert fake.messages(CHAT) == []
    assert states(db)["TEST-00001"][0] == "pending"


# -- a standby replica (PostgreSQL): the leader's pass recorded after its start ---------------


async def test_a_standby_sends_after_the_leaders_pass_since_its_start(
    pg_db: Database, pg_url: str, fake: FakeBotAPI
) -> None:
    """Another process holds the ingest lease; this one starts with alerts owed and article 2
    withdrawn at the source meanwhile. It sends nothing until the leader's tick after its
    start has read the withdrawal, then only 1 and 3."""
    subscribed(pg_db, digest=False)
    now = datetime.now(UTC).replace(microsecond=0)
    pub = now - timedelta(minutes=5)
    with pg_db.write() as conn:
        upsert_source_articles(conn, [article(n, published_at=pub) for n in (1, 2, 3)], now)
    settings = settings_for(pg_url, fake)
    before_the_stop(settings, held=False)
    later = now + timedelta(seconds=5)
    with pg_db.write() as conn:
        withdrawn = article(2, published_at=pub, updated_at=later, withdrawn=True)
        upsert_source_articles(conn, [withdrawn], later)
    leader = builtin_ingestor(pg_db, lease=IngestLease("leader:1:x", 30.0))
    leader.hooks.extend(release_hooks(settings))
    assert leader.lease is not None and leader.lease.take(pg_db)
    service = Service(settings, Roles(http=False, bot=False))
    await service.start()
    try:
        await until(
            "the standby waiting",
            lambda: "the ingest lease of leader:1:x" in service.send_gate.shown(),
        )
        await asyncio.sleep(0)
        assert fake.messages(CHAT) == []
        assert (await asyncio.to_thread(leader.tick)).error is None
        await until("the alerts sent", lambda: len(fake.messages(CHAT)) == 2)
        await until("2 withdrawn", lambda: states(pg_db)["TEST-00002"][0] == "withdrawn")
    finally:
        await service.stop()
        leader.close()
    assert "số 2" not in sent_text(fake)
    assert service.send_gate.shown().startswith("started: the ingest leader read the source")


# -- the pure decisions ------------------------------------------------------------------------


def test_unread_names_why_a_tick_is_no_complete_look() -> None:
    assert unread(TickResult(), stopping=False) is None
    assert unread(TickResult(read=5, stored=5), stopping=False) is None
    assert unread(TickResult(error="OperationalError"), stopping=False)
    assert unread(TickResult(skipped=True), stopping=False)
    assert unread(TickResult(), stopping=True)


def test_a_standby_waits_for_the_leaders_pass_after_its_start() -> None:
    start = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)

    def cursor(success: datetime | None, backlog: int | None = None) -> Cursor:
        return Cursor(None, None, last_tick_at=success, last_success_at=success, backlog=backlog)

    assert not leader_looked(cursor(None), start)
    assert not leader_looked(cursor(start - timedelta(seconds=1)), start)
    assert not leader_looked(cursor(start + timedelta(seconds=1), backlog=40), start)
    assert leader_looked(cursor(start + timedelta(seconds=1), backlog=0), start)
    assert leader_looked(cursor(start), start)


async def test_the_gate_opens_once_on_the_first_complete_look() -> None:
    gate = SendGate(bound_seconds=30)
    gate.arm(3)
    standby = TickResult(skipped=True, standby=True)
    gate.after_tick(standby, False, lambda: False, lambda: "never")
    assert gate.waiting and "another replica" in gate.shown()
    gate.after_tick(TickResult(error="x"), False, lambda: True, lambda: "never")
    assert gate.waiting and "failed" in gate.shown()
    passes: list[str] = []
    gate.after_tick(TickResult(), False, lambda: False, lambda: passes.append("r") or "ran")
    assert not gate.waiting and passes == ["r"]
    assert gate.shown() == "started: the source was read to its head; ran"
    # the bound under test: open, the wait returns at once, not after the gate's 30 s bound
    assert await asyncio.wait_for(gate.wait(lambda: False), 5)
    gate.after_tick(TickResult(), False, lambda: False, lambda: passes.append("r") or "ran")
    assert passes == ["r"]  # opened once; no second reconciliation


async def test_a_standby_opens_on_the_leaders_pass() -> None:
    gate = SendGate(bound_seconds=30)
    gate.arm(1)
    gate.after_tick(TickResult(skipped=True, standby=True), False, lambda: True, lambda: "x")
    assert gate.shown() == "started: the ingest leader read the source after this start"
