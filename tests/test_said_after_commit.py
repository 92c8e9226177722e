"""A log line that says what a write transaction did is written once the transaction has
committed, never when its commit fails (:mod:`feedsvc.db.committed`).

A tester's: an SQLite state DB on a full tmpfs logged ``outbox: 20 alert(s) queued for 20
article(s)`` inside the ingest transaction, then the commit failed ("database or disk is
full") and nothing had been queued. The same held for corrections queued, a delivery's record
(a chat paused or disabled), a re-keyed article handed over. Here the commit fails for real, at
COMMIT itself, on both state DBs: a deferred foreign key violated by a trigger (SQLite checks
it at COMMIT) or a deferred constraint trigger that raises (PostgreSQL runs it at COMMIT).

And an alert sent twice (a send whose outcome was unknown, sent again: allowed once by SPEC,
the delivery's ``ambiguous`` counts it) is one line naming the delivery and the chat.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from factories import VN, article, builtin_ingestor
from fakebot import FakeBotAPI, Fault
from sqlalchemy import exc as sa_exc
from sqlalchemy import text, update
from test_dispatch import PRIVATE, READ_TIMEOUT, Env, make_env, subscribe_chat

from feedsvc.db import Database
from feedsvc.db.committed import savepoint, say
from feedsvc.db.schema import deliveries
from feedsvc.digest.record import Policy
from feedsvc.notify import SendOutcome
from feedsvc.outbox import Outbox
from feedsvc.retraction.hooks import Corrections
from feedsvc.send_record import record_alert
from feedsvc.store import deliveries as q
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.subscriptions import ensure_chat, subscribe
from feedsvc.store.topics import TopicSpec, get_topic, save_topic

log = logging.getLogger("feedsvc.test_said")
POLICY = Policy(disable_after=1, max_attempts=5, max_unknown_resends=1,
                backoff=lambda _n: timedelta(seconds=1))  # fmt: skip


@contextmanager
def failing_commits(db: Database, table: str) -> Iterator[None]:
    """Every transaction that inserts or updates a row of ``table`` fails at its COMMIT (the
    statements themselves succeed); removed on leaving."""
    if db.dialect == "sqlite":
        setup = [
            "CREATE TABLE t_guard_parent (id INTEGER PRIMARY KEY)",
            "CREATE TABLE t_guard (x INTEGER REFERENCES t_guard_parent (id) "
            "DEFERRABLE INITIALLY DEFERRED)",
            f"CREATE TRIGGER t_fail_ins AFTER INSERT ON {table} BEGIN "
            "INSERT INTO t_guard VALUES (-1); END",
            f"CREATE TRIGGER t_fail_upd AFTER UPDATE ON {table} BEGIN "
            "INSERT INTO t_guard VALUES (-1); END",
        ]
        teardown = ["DROP TRIGGER t_fail_ins", "DROP TRIGGER t_fail_upd", "DROP TABLE t_guard",
                    "DROP TABLE t_guard_parent"]  # fmt: skip
    else:
        setup = [
            "CREATE FUNCTION t_fail() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$",
            f"CREATE CONSTRAINT TRIGGER t_fail AFTER INSERT OR UPDATE ON {table} "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION t_fail()",
        ]
        teardown = [f"DROP TRIGGER t_fail ON {table}", "DROP FUNCTION t_fail()"]
    with db.write() as conn:
        for statement in setup:
            conn.execute(text(statement))
    try:
        yield
    finally:
        with db.write() as conn:
            for statement in teardown:
                conn.execute(text(statement))


def lines(caplog: pytest.LogCaptureFixture, words: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if words in r.getMessage()]


def topic_and_chat(db: Database, chat_ids: tuple[int, ...] = (501, 502)) -> None:
    now = datetime.now(UTC)
    with db.write() as conn:
        save_topic(conn, TopicSpec("an-ninh", "An ninh", '"công an"'), "cli", now)
        topic = get_topic(conn, "an-ninh")
        assert topic is not None
        for chat_id in chat_ids:
            ensure_chat(conn, chat_id, "private", f"chat {chat_id}", now)
            subscribe(conn, chat_id, topic_id=topic.id, query=None, now=now)


def publish(db: Database, *ns: int, **over: object) -> None:
    with db.write() as conn:
        items = [article(n, published_at=datetime.now(VN), **over) for n in ns]
        upsert_source_articles(conn, items, datetime.now(UTC))


# -- the outbox, the tester's case --------------------------------------------------------------


@pytest.mark.parametrize("articles", [1, 3])
def test_alerts_queued_are_said_only_once_committed(
    db: Database, caplog: pytest.LogCaptureFixture, articles: int
) -> None:
    topic_and_chat(db)
    publish(db, *range(1, articles + 1))
    caplog.set_level(logging.INFO)
    ing = builtin_ingestor(db)
    ing.hooks.append(Outbox(timedelta(hours=48)))
    with failing_commits(db, "deliveries"):
        result = ing.tick()
    assert result.error is not None  # the batch, written whole and row by row, never committed
    with db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM deliveries")).scalar() == 0
    assert lines(caplog, "queued") == [], lines(caplog, "queued")
    assert lines(caplog, " new, ") == []  # nor "ingest: N new, …"
    caplog.clear()
    again = builtin_ingestor(db)  # no backoff: the next tick, the commit goes through
    again.hooks.append(Outbox(timedelta(hours=48)))
    assert again.tick().error is None
    queued = 2 * articles
    assert lines(caplog, "queued") == [
        f"outbox: {queued} alert(s) queued for {articles} article(s)"
    ], caplog.text


def test_corrections_queued_are_said_only_once_committed(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    topic_and_chat(db, (501,))
    publish(db, 1)
    ing = builtin_ingestor(db)
    ing.hooks += [Outbox(timedelta(hours=48)), Corrections(True)]
    assert ing.tick().error is None
    with db.write() as conn:  # its alert went out
        conn.execute(update(deliveries).values(state="sent", message_id=77, sent_chat_id=501,
                                               finished_at=datetime.now(UTC)))  # fmt: skip
    publish(db, 1, title="Công an Kiến Thụy bắt đối tượng trộm cắp số 1 (đã sửa)")
    caplog.set_level(logging.INFO)
    with failing_commits(db, "alert_followups"):
        assert ing.tick().error is not None
    assert lines(caplog, "to correct") == []
    caplog.clear()
    again = builtin_ingestor(db)
    again.hooks += [Outbox(timedelta(hours=48)), Corrections(True)]
    assert again.tick().error is None
    assert lines(caplog, "to correct") == ["1 sent alert(s) to correct for 1 article(s)"]


# -- a delivery's record ------------------------------------------------------------------------


def claimed(db: Database, chat_id: int = 501, ambiguous: int = 0) -> q.Claimed:
    topic_and_chat(db, (chat_id,))
    publish(db, 1)
    ing = builtin_ingestor(db)
    ing.hooks.append(Outbox(timedelta(hours=48)))
    assert ing.tick().error is None
    with db.write() as conn:
        [d] = q.claim(conn, "tester", datetime.now(UTC), 10, timedelta(minutes=5))
    return replace(d, ambiguous=ambiguous)


@pytest.mark.parametrize(
    ("outcome", "words"),
    [
        (SendOutcome.retry_after(30, "Too Many Requests"), "429, paused 30 s"),
        (SendOutcome.blocked("Forbidden: bot was blocked by the user"), "disabled"),
        (SendOutcome.sent(5), "sent again after 1 earlier send(s)"),
    ],
)
def test_a_records_lines_wait_for_its_commit(
    db: Database, caplog: pytest.LogCaptureFixture, outcome: SendOutcome, words: str
) -> None:
    d = claimed(db, ambiguous=1)
    caplog.set_level(logging.INFO)
    with failing_commits(db, "deliveries"), pytest.raises(sa_exc.DBAPIError), db.write() as conn:
        record_alert(conn, datetime.now(UTC), "tester", d, outcome, None, POLICY)
    assert lines(caplog, words) == [] and lines(caplog, f"chat {d.chat_id}") == []
    with db.write() as conn:
        record_alert(conn, datetime.now(UTC), "tester", d, outcome, None, POLICY)
    [line] = lines(caplog, words)
    assert f"chat {d.chat_id}" in line, line


def test_a_savepoint_rolled_back_takes_its_lines_with_it(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=log.name)
    with db.write() as conn:
        say(conn, log, logging.INFO, "kept %d", 1)
        with pytest.raises(RuntimeError), savepoint(conn):
            say(conn, log, logging.INFO, "dropped %d", 2)
            raise RuntimeError("a row refused")
        say(conn, log, logging.INFO, "kept %d", 3)
        assert caplog.records == []  # not before the commit
    assert [r.getMessage() for r in caplog.records] == ["kept 1", "kept 3"]
    caplog.clear()
    with pytest.raises(RuntimeError), db.write() as conn:
        say(conn, log, logging.INFO, "rolled back")
        raise RuntimeError("the transaction fails")
    assert caplog.records == []


# -- an alert sent again after an unknown outcome: one line -------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


@pytest.fixture
async def timing_env(db: Database, fake: FakeBotAPI) -> AsyncIterator[Env]:
    async with make_env(db, fake, READ_TIMEOUT) as e:
        yield e


async def test_an_alert_sent_again_after_a_late_answer_says_so(
    timing_env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    subscribe_chat(timing_env.db, PRIVATE, "private", "an-ninh")
    timing_env.fake.script(PRIVATE, Fault.late(3 * READ_TIMEOUT))  # delivered, answered late
    timing_env.publish(timing_env.fresh())
    caplog.set_level(logging.INFO, logger="feedsvc.dispatch")
    await timing_env.dispatch_until_done()
    assert timing_env.states() == [(PRIVATE, "sent", 1)]
    assert len(timing_env.fake.messages(PRIVATE)) == 2
    [line] = lines(caplog, "sent again")
    assert f"to telegram chat {PRIVATE}: sent again after 1 earlier send(s)" in line, line
    assert "may have it twice" in line and line.startswith("delivery ")


async def test_an_alert_whose_record_was_lost_says_so_when_sent_again(
    timing_env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    """The tester's disk-full case: a sender leased the alert and its record never committed
    (a full disk; a crash alike), the lease ran out and the alert went again (``ambiguous``
    1: Telegram may hold two copies). It was said nowhere; now one line names it."""
    subscribe_chat(timing_env.db, PRIVATE, "private", "an-ninh")
    timing_env.publish(timing_env.fresh())
    now = datetime.now(UTC)
    with timing_env.db.write() as conn:  # leased by a sender whose record never committed
        [d] = q.claim(conn, "gone", now, 10, timedelta(minutes=1))
        conn.execute(update(deliveries).values(lease_until=now - timedelta(seconds=1)))
    caplog.set_level(logging.INFO, logger="feedsvc.dispatch")
    await timing_env.dispatch_until_done()
    assert timing_env.states() == [(PRIVATE, "sent", 1)]
    [line] = lines(caplog, "sent again")
    assert f"delivery {d.id} to telegram chat {PRIVATE}: sent again after 1 earlier send(s)" in line
