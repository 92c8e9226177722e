"""What the dispatcher knows of a send through a state-DB outage is what it records and says.

D5 (a tester's `feedsvc run`, SQLite, lease 10 s, the file moved away 15 s): delivery 1533
recorded "sent again after 1 earlier send(s) whose outcome is unknown … may have it twice",
``ambiguous=1``, yet the fake Bot API had exactly one sendMessage for it. It was claimed just
before the file went; the check before its send (``send_check.send_labels``, a read) met the
outage, the task ended, and the row's lease was left to run out — which the claim after the
outage counts as an unknown outcome. A send that never started is given back as it was.

D9: a SIGTERM during an outage dropped the outcomes of 20 sends Telegram had accepted
(message ids known) without a word; the next start sent them again, each said only as
"outcome unknown". The stop now tries once more to record them, and says how many it could not.

Real components: the state DB file moved away and put back, the real dispatcher, the fake Bot
API over HTTP (a send held there until the file is gone).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from factories import VN
from fakebot import FakeBotAPI, Fault
from patience import PATIENT_READ_TIMEOUT
from sqlalchemy import select
from test_digest_dispatch import CHAT, digest_env
from test_digest_dispatch import Env as DigestEnv
from test_dispatch import PRIVATE, PRIVATE2, Env, make_env, subscribe_chat
from test_record_outage_digest_followups import hold_digest
from test_record_through_outage import BACK_WITHIN, move_away, put_back, until

import feedsvc.dispatch
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import deliveries
from feedsvc.dispatch import Dispatcher, DispatchSettings
from feedsvc.notify import SendOutcome
from feedsvc.store.deliveries import Claimed

#: Short, so the outage outlasts it in seconds (the service's least is 5 s; the rule is the same).
LEASE = timedelta(seconds=2)


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    """A migrated SQLite state DB (its file named ``state.db``: moved by the tests) and the
    fake Bot API."""
    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(db)
    try:
        with FakeBotAPI() as fake:
            async with make_env(db, fake, PATIENT_READ_TIMEOUT) as e:
                yield e
    finally:
        db.dispose()


def rows(db: Database) -> list[tuple[int, str, int, int]]:
    """The deliveries' (chat, state, attempts, ambiguous)."""
    with db.read() as conn:
        stmt = select(
            deliveries.c.chat_id, deliveries.c.state, deliveries.c.attempts, deliveries.c.ambiguous
        ).order_by(deliveries.c.id)
        return [tuple(r) for r in conn.execute(stmt).tuples()]  # type: ignore[misc]


async def test_a_send_checked_into_an_outage_past_its_lease_is_no_unknown_outcome(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """D5: the alert claimed, the file moved away as its check before the send reads the
    state DB; the outage lasts past the lease. Nothing reached Telegram: once the file is
    back the alert goes once, recorded as a first send (never ``ambiguous``)."""
    subscribe_chat(env.db, PRIVATE, "private", "an-ninh")
    env.publish(env.fresh())
    real = feedsvc.dispatch.send_labels
    moved: list[datetime] = []

    def check_into_outage(db: Database, *args: Any) -> Any:
        if not moved:  # the first check meets the outage (the tester's timing, made sure)
            moved.append(datetime.now(UTC))
            move_away(env.db)
        return real(db, *args)

    monkeypatch.setattr(feedsvc.dispatch, "send_labels", check_into_outage)
    d = Dispatcher(env.db, env.sender, VN, DispatchSettings(poll_seconds=0.2, lease=LEASE))
    task = asyncio.create_task(d.run())
    try:
        await until("the check before the send", lambda: bool(moved))
        # no renewal once the file is away: the lease ends a lease after the move at the latest
        await until("the lease ran out", lambda: datetime.now(UTC) > moved[0] + 2 * LEASE)
        assert env.fake.messages(PRIVATE) == []  # nothing went out
        put_back(env.db)
        await until("sent", lambda: rows(env.db)[0][1] == "sent", seen=lambda: rows(env.db))
    finally:
        d.stop()
        await asyncio.wait_for(task, BACK_WITHIN)
    assert rows(env.db) == [(PRIVATE, "sent", 1, 0)]  # one attempt, no unknown outcome
    assert len(env.fake.messages(PRIVATE)) == 1


async def test_a_check_that_fails_otherwise_is_a_failed_attempt_never_an_unknown_outcome(
    env: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in the step before the send (no outage): logged with its traceback, counted as a
    failed attempt and retried after its backoff; nothing reached Telegram, so no unknown
    outcome (it was left to its lease's end, then counted one)."""
    subscribe_chat(env.db, PRIVATE, "private", "an-ninh")
    env.publish(env.fresh())
    real = feedsvc.dispatch.send_labels
    calls: list[int] = []

    def broken_once(db: Database, *args: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a bug")
        return real(db, *args)

    monkeypatch.setattr(feedsvc.dispatch, "send_labels", broken_once)
    settings = DispatchSettings(poll_seconds=0.2, lease=timedelta(seconds=60), backoff_base=0.05)
    d = Dispatcher(env.db, env.sender, VN, settings)
    task = asyncio.create_task(d.run())
    try:
        await until("sent", lambda: rows(env.db)[0][1] == "sent", seen=lambda: rows(env.db))
    finally:
        d.stop()
        await asyncio.wait_for(task, BACK_WITHIN)
    assert rows(env.db) == [(PRIVATE, "sent", 2, 0)]  # the failed step, then the send
    assert len(env.fake.messages(PRIVATE)) == 1
    assert any("before its send failed" in r.getMessage() and r.exc_info for r in caplog.records)


@pytest.fixture
async def denv(tmp_path: Path) -> AsyncIterator[DigestEnv]:
    """A digest dispatcher (its clock the test's) on a state DB file of its own."""
    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(db)
    try:
        async with digest_env(db) as e:
            yield e
    finally:
        db.dispose()


def ambiguous(db: Database) -> list[int]:
    with db.read() as conn:
        stmt = select(deliveries.c.ambiguous).order_by(deliveries.c.id)
        return list(conn.execute(stmt).scalars())


async def test_a_digest_set_aside_into_an_outage_past_its_lease_is_no_unknown_outcome(
    denv: DigestEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """D5's digest side: the digest claimed, the file moved away as its set-aside (the write
    before its first part) runs; the dispatcher's clock then past the rows' lease. Nothing
    reached Telegram: once the file is back the rows go back ``held`` as they were, and the
    digest goes once, never as of an unknown outcome."""
    hold_digest(denv, ["Công an bắt đối tượng", "An ninh trật tự ổn định"])
    await denv.step()
    assert denv.states() == ["held", "held"]
    denv.clock.at += timedelta(minutes=1, seconds=1)
    sender = denv.dispatcher._digest_sender
    refused: list[BaseException] = []

    async def set_aside_into_outage(job: Any) -> None:
        move_away(denv.db)
        try:
            await asyncio.to_thread(sender._set_aside, job)  # its write meets the outage
        except Exception as exc:
            refused.append(exc)
            raise

    monkeypatch.setattr(sender, "set_aside", set_aside_into_outage)
    task = asyncio.create_task(denv.step())
    try:
        # the file goes back only once the write has met the outage: on a loaded host the
        # thread could start after the put-back, and its write then succeed (a CI failure)
        await until("the set-aside's write refused", lambda: bool(refused))
        denv.clock.at += denv.dispatcher.cfg.lease + timedelta(seconds=5)
    finally:
        put_back(denv.db)
        await asyncio.wait_for(task, BACK_WITHIN)
    monkeypatch.undo()
    assert denv.fake.messages(CHAT) == []
    await denv.step()
    assert denv.states() == ["sent", "sent"]
    assert ambiguous(denv.db) == [0, 0]
    assert len(denv.fake.messages(CHAT)) == 1


class Refused(Dispatcher):
    """The dispatcher, noting the rows whose record the state DB refused (the test's hook);
    ``back_at_stop``: the file is put back once the stop has drained the sends, their records'
    last tries refused (the DB answering again later within the stop's budget)."""

    def __init__(self, *args: Any, back_at_stop: bool = False, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.refused: set[int] = set()
        self.back_at_stop = back_at_stop

    def _record_many(self, outcomes: Sequence[tuple[Claimed, SendOutcome]]) -> None:
        try:
            super()._record_many(outcomes)
        except Exception:
            self.refused.update(d.id for d, _ in outcomes)
            raise

    async def drain(self) -> None:
        await super().drain()
        if self.back_at_stop:
            put_back(self.db)


async def stopped_with_answers_unrecorded(env: Env, back_at_stop: bool) -> None:
    """Two chats' alerts held at the fake; the file moved away, Telegram accepts both (their
    message ids known), their records are refused, then the dispatcher stops."""
    gate = threading.Event()
    for chat in (PRIVATE, PRIVATE2):
        subscribe_chat(env.db, chat, "private", "an-ninh")
        env.fake.script(chat, Fault.held(gate))
    env.publish(env.fresh())
    d = Refused(env.db, env.sender, VN, DispatchSettings(poll_seconds=0.2),
                back_at_stop=back_at_stop)  # fmt: skip
    task = asyncio.create_task(d.run())
    try:
        await until("the sends at Telegram", lambda: env.fake.in_flight == 2)
        ids = {row_id for row_id, in_flight in _leased(env.db) if in_flight}
        move_away(env.db)
        gate.set()
        await until("both records refused", lambda: d.refused >= ids)
    finally:
        gate.set()
        d.stop()
        await asyncio.wait_for(task, BACK_WITHIN)


def _leased(db: Database) -> list[tuple[int, bool]]:
    with db.read() as conn:
        stmt = select(deliveries.c.id, deliveries.c.state == "sending")
        return [(i, bool(s)) for i, s in conn.execute(stmt).tuples()]


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "feedsvc.dispatch" and r.levelno == logging.WARNING
    ]


async def test_a_stop_during_an_outage_says_how_many_known_sends_go_again(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    """D9: the stop cannot record the two sends Telegram accepted: one WARNING says so, with
    their number and what follows (sent again after the restart, maybe twice)."""
    caplog.set_level(logging.INFO, logger="feedsvc.dispatch")
    try:
        await stopped_with_answers_unrecorded(env, back_at_stop=False)
    finally:
        put_back(env.db)
    said = [w for w in warnings(caplog) if "after the restart" in w]
    assert len(said) == 1, warnings(caplog)
    assert "telegram: stopping with 2 sent alerts " in said[0]
    assert "twice" in said[0]
    assert [state for _, state, _, _ in rows(env.db)] == ["sending", "sending"]


async def test_a_stop_records_known_sends_once_the_state_db_answers_again(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    """D9: the state DB answers again within the stop's budget: the two sends Telegram
    accepted are recorded (never sent again), and no warning of a duplicate."""
    caplog.set_level(logging.INFO, logger="feedsvc.dispatch")
    await stopped_with_answers_unrecorded(env, back_at_stop=True)
    assert rows(env.db) == [(PRIVATE, "sent", 1, 0), (PRIVATE2, "sent", 1, 0)]
    assert not [w for w in warnings(caplog) if "after the restart" in w], warnings(caplog)
    assert (len(env.fake.messages(PRIVATE)), len(env.fake.messages(PRIVATE2))) == (1, 1)
