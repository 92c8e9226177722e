"""A stop during a state-DB outage: a digest part's record and a follow-up's edit or delete the
stop leaves unrecorded take the alerts' path (``test_outage_outcomes_known.py``, D9).

They were dropped without a word: the next start sent the part again (the chat had it twice)
and made the edit again, and the operator was told nothing. Now the stop tries once more to
record them once the sender has drained (:class:`feedsvc.db.kept.LastTries`: one owner for the
alerts, the parts and the follow-ups), and says in one WARNING per channel how many of each
kind it could not record — never the chat's address or the token.

Real components: the state DB file moved away and put back, the real dispatcher and follow-up
worker, the fake Bot API over HTTP (the call held there until the file is gone).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fakebot import FakeBotAPI, Fault
from sqlalchemy import select
from test_digest_dispatch import CHAT, Env, digest_env
from test_record_outage_digest_followups import Refusals, corrected, hold_digest
from test_record_through_outage import BACK_WITHIN, move_away, state_file, until
from test_record_through_outage import put_back as put_file_back
from test_retraction import Env as FollowupEnv
from test_retraction import retraction_env

from feedsvc.db import Database, upgrade
from feedsvc.db.schema import alert_followups

TITLES = ["Công an bắt đối tượng", "An ninh trật tự ổn định"]


@pytest.fixture
def state(tmp_path: Path) -> Iterator[Database]:
    """A state DB on a file of its own (moved away by the tests)."""
    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(db)
    yield db
    db.dispose()


@pytest.fixture
async def env(state: Database) -> AsyncIterator[Env]:
    async with digest_env(state) as e:
        yield e


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


@pytest.fixture
async def fenv(state: Database, fake: FakeBotAPI) -> AsyncIterator[FollowupEnv]:
    async with retraction_env(state, fake) as e:
        yield e


def put_back(db: Database) -> None:
    """The file back where it was, unless it is already."""
    if not state_file(db).exists():
        put_file_back(db)


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "after the restart" in r.getMessage()
    ]


def back_at_last_try(monkeypatch: pytest.MonkeyPatch, db: Database) -> None:
    """The file is put back once the sender has drained, as its last try begins (the state DB
    answering again within the stop's budget)."""
    from feedsvc.db.kept import LastTries  # here: the module's other tests run on older code

    real = LastTries.last_try

    async def last_try(self: LastTries, channel: str) -> None:
        put_back(db)
        await real(self, channel)

    monkeypatch.setattr(LastTries, "last_try", last_try)


async def digest_stopped_unrecorded(
    env: Env, monkeypatch: pytest.MonkeyPatch, parts: int = 1
) -> None:
    """The digest (of ``parts`` parts) due, its part 1 held at "Telegram"; the file moved away,
    the part answered, its record refused, then the dispatcher stopped (drained)."""
    await env.step()
    env.clock.at += timedelta(minutes=1, seconds=1)
    refused = Refusals(monkeypatch, env.dispatcher._digest_sender, "_record")
    gate = threading.Event()
    env.fake.script(CHAT, Fault.held(gate))
    task = asyncio.create_task(env.dispatcher.run())
    try:
        await until("part 1 at Telegram", lambda: env.fake.in_flight > 0)
        move_away(env.db)
        gate.set()
        await until("a record refused", lambda: refused.count >= 1)
    finally:
        gate.set()
        env.dispatcher.stop()
        await asyncio.wait_for(task, BACK_WITHIN)


@pytest.mark.parametrize("titles", [TITLES, TITLES[:1]], ids=["two-alerts", "one-alert"])
async def test_a_stop_during_an_outage_says_how_many_digest_parts_go_again(
    env: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    titles: list[str],
) -> None:  # fmt: skip
    """The part went (Telegram answered with its id) and the stop could not record it: one
    WARNING for the channel naming one digest part, sent again after the restart, maybe
    twice; its rows still leased (their lease runs out), no address, no token."""
    caplog.set_level(logging.INFO)
    hold_digest(env, titles)
    try:
        await digest_stopped_unrecorded(env, monkeypatch)
    finally:
        put_back(env.db)
    said = warnings(caplog)
    assert len(said) == 1, caplog.text
    assert said[0].startswith("telegram: stopping with 1 digest part the state DB could not")
    assert "twice" in said[0]
    assert env.fake.token not in caplog.text and str(CHAT) not in said[0]
    assert env.states() == ["sending"] * len(titles)
    assert len(env.fake.messages(CHAT)) == 1


async def test_a_stop_records_a_digest_part_once_the_state_db_answers_again(
    env: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The state DB answers again by the last try: the part is recorded (never sent again),
    no warning."""
    caplog.set_level(logging.INFO)
    hold_digest(env, TITLES)
    back_at_last_try(monkeypatch, env.db)
    try:
        await digest_stopped_unrecorded(env, monkeypatch)
    finally:
        put_back(env.db)
    assert not warnings(caplog), caplog.text
    assert env.states() == ["sent", "sent"]
    assert "1 record(s) kept through the state DB outage written at the stop" in caplog.text


async def followup_stopped_unrecorded(
    env: FollowupEnv, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    """The worker's follow-up call (``method``) held at "Telegram" while the file moves
    away, answered, its record refused; then the worker stopped."""
    worker = env.worker(lease=timedelta(seconds=30))
    refused = Refusals(monkeypatch, worker, "_record")
    gate = threading.Event()
    env.fake.hold(method, gate)
    task = asyncio.create_task(worker.run())
    try:
        await until(f"the {method} at Telegram", lambda: env.fake.holding(method) == 1)
        move_away(env.db)
        gate.set()
        await until("a record refused", lambda: refused.count >= 1)
    finally:
        gate.set()
        worker.stop()
        await asyncio.wait_for(task, BACK_WITHIN)


def followup_states(db: Database) -> list[tuple[Any, ...]]:
    with db.read() as conn:
        stmt = select(alert_followups.c.state, alert_followups.c.outcome)
        return [tuple(r) for r in conn.execute(stmt)]


async def test_a_stop_during_an_outage_says_how_many_edits_are_made_again(
    fenv: FollowupEnv, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A correction's edit made (Telegram answered), its record refused at the stop: one
    WARNING naming one edit, made again after the restart; the follow-up still leased."""
    caplog.set_level(logging.INFO)
    await corrected(fenv)
    try:
        await followup_stopped_unrecorded(fenv, monkeypatch, "editMessageText")
    finally:
        put_back(fenv.db)
    said = warnings(caplog)
    assert len(said) == 1, caplog.text
    assert said[0].startswith(
        "telegram: stopping with 1 edit or delete of a sent alert the state DB could not record"
    ), said
    assert "made again" in said[0]
    assert fenv.fake.token not in caplog.text
    assert followup_states(fenv.db) == [("working", None)]


async def test_a_stop_records_a_delete_once_the_state_db_answers_again(
    fenv: FollowupEnv, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A withdrawn alert's delete answered while the file is away; the state DB answers again
    by the last try: recorded ``deleted``, no warning."""
    from test_retraction import PRIVATE, fresh
    from test_retraction import subscribe_chat as follow_chat

    caplog.set_level(logging.INFO)
    follow_chat(fenv.db, PRIVATE, "private", "an-ninh")
    fenv.publish(fresh(1))
    await fenv.dispatch()
    fenv.retire("TEST-00001")
    back_at_last_try(monkeypatch, fenv.db)
    try:
        await followup_stopped_unrecorded(fenv, monkeypatch, "deleteMessage")
    finally:
        put_back(fenv.db)
    assert not warnings(caplog), caplog.text
    assert followup_states(fenv.db) == [("done", "deleted")]


def test_one_line_names_each_kind_with_its_count() -> None:
    """The counts of several kinds in one line, in the order first kept."""
    from feedsvc.db.kept import _counts
    from feedsvc.digest.sending import DIGEST_PART
    from feedsvc.send_record import SENT_ALERT

    kinds = [SENT_ALERT, DIGEST_PART, SENT_ALERT]
    assert _counts(kinds) == "2 sent alerts and 1 digest part"
    assert _counts([DIGEST_PART, DIGEST_PART]) == "2 digest parts"
    assert _counts([]) == ""
