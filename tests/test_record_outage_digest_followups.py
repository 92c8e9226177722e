"""A digest part's outcome, and a follow-up's edit, the state DB cannot take now are recorded once
it can: never dropped (as the dispatcher's alerts, ``test_record_through_outage.py``).

Dropped, the part's rows (or the follow-up) stayed leased until the lease ran out: the part,
already in the chat, was then sent again, and the edit made again. Real SQLite files moved away
while the fake Bot API holds the call, and put back once the record was refused.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from factories import VN
from fakebot import FakeBotAPI, Fault
from test_digest_dispatch import CHAT, GROUP, Env, digest_env, local_hhmm, subscribe_chat
from test_digest_parts_recheck import TITLE
from test_record_through_outage import BACK_WITHIN, move_away, put_back, until
from test_retraction import PRIVATE, fresh, retraction_env
from test_retraction import Env as FollowupEnv
from test_retraction import subscribe_chat as follow_chat

from feedsvc.channels.apprise import AppriseChannel
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import alert_followups
from feedsvc.digest import ChatSettings, DigestSchedule
from feedsvc.dispatch import Dispatcher
from feedsvc.retraction.worker import FollowupWorker


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


class Refusals:
    """Counts the records of ``owner.<name>`` that raised (the test's hook: the file is put
    back only once one was refused)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> None:
        self.count = 0
        write = getattr(owner, name)

        def counted(*args: Any, **kw: Any) -> Any:
            try:
                return write(*args, **kw)
            except Exception:
                self.count += 1
                raise

        monkeypatch.setattr(owner, name, counted)


def hold_digest(env: Env, titles: list[str], limit: int | None = None) -> None:
    """``titles`` published for a chat whose digest (at most ``limit`` units a part) is due
    a minute ahead of the dispatcher's clock."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    env.publish(*titles)
    if limit is not None:
        env.dispatcher.digests.limit = limit
    due = local_hhmm(env.clock.at + timedelta(minutes=1))
    env.settings(CHAT, ChatSettings(digest=DigestSchedule(times=(due,))))


async def step_with_record_refused(env: Env, monkeypatch: pytest.MonkeyPatch, chat: int) -> None:
    """One dispatcher step whose digest part 1 reaches the fake for ``chat`` (held there), the
    state file moved away before its answer, so its record is refused; the file put back."""
    refused = Refusals(monkeypatch, env.dispatcher._digest_sender, "_record")
    gate = threading.Event()
    env.fake.script(chat, Fault.held(gate))
    task = asyncio.create_task(env.step())
    try:
        await until("part 1 at Telegram", lambda: env.fake.in_flight > 0)
        move_away(env.db)
        gate.set()
        await until("a record refused", lambda: refused.count >= 1)
    finally:
        gate.set()
        put_back(env.db)
        await asyncio.wait_for(task, BACK_WITHIN)


async def digest_through_outage(env: Env, monkeypatch: pytest.MonkeyPatch, held: int) -> None:
    """The digest (``held`` alerts) sent; the file moved away while part 1 is at "Telegram",
    put back once its record was refused; then a step a lease later, when a dropped record's
    rows would be claimed again."""
    await env.step()
    assert env.states() == ["held"] * held
    env.clock.at += timedelta(minutes=1, seconds=1)
    await step_with_record_refused(env, monkeypatch, CHAT)
    env.clock.at += env.dispatcher.cfg.lease + timedelta(seconds=5)
    await env.step()


async def test_a_digest_part_is_recorded_once_the_file_is_back(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shown case: a digest of one part; its record refused while the file is away, then
    written; the part went once, its rows sent."""
    hold_digest(env, ["Công an bắt đối tượng", "An ninh trật tự ổn định"])
    await digest_through_outage(env, monkeypatch, 2)
    assert len(env.fake.messages(CHAT)) == 1, [m.visible for m in env.fake.messages(CHAT)]
    assert env.states() == ["sent", "sent"]


async def test_a_digest_of_several_parts_goes_on_once_part_1_is_recorded(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Part 1's record refused: the later parts wait for it (they go after it), each part goes
    once, every row sent."""
    hold_digest(env, [f"{n} {TITLE}" for n in range(8)], limit=1200)
    await digest_through_outage(env, monkeypatch, 8)
    firsts = [m.visible.split("\n", 1)[0] for m in env.fake.messages(CHAT)]
    assert firsts == ["Tin tổng hợp · 8 tin (1/3)", "(tiếp) (2/3)", "(tiếp) (3/3)"], firsts
    assert env.states() == ["sent"] * 8


async def test_a_kept_digest_part_past_its_lease_is_not_taken_back_by_another_channel(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Part 1's record kept through an outage past the rows' lease: the Apprise dispatcher of
    the same process, claiming once the file is back (before the kept write's next try), leaves
    the rows to the Telegram one, which records them; the part went once (it was taken back
    and the digest sent again: ``test_outage_past_lease.py``)."""
    hold_digest(env, ["Công an bắt đối tượng", "An ninh trật tự ổn định"])
    await env.step()
    env.clock.at += timedelta(minutes=1, seconds=1)
    apprise = Dispatcher(env.db, AppriseChannel(VN), VN, owner=env.dispatcher.owner,
                         clock=env.clock)  # fmt: skip
    refused = Refusals(monkeypatch, env.dispatcher._digest_sender, "_record")
    gate = threading.Event()
    env.fake.script(CHAT, Fault.held(gate))
    task = asyncio.create_task(env.step())
    try:
        await until("part 1 at Telegram", lambda: env.fake.in_flight > 0)
        move_away(env.db)
        gate.set()
        await until("a record refused", lambda: refused.count >= 1)
        env.clock.at += env.dispatcher.cfg.lease + timedelta(seconds=5)
    finally:
        gate.set()
        put_back(env.db)
    apprise._claim(1)  # on the loop: before the kept write's next try
    await asyncio.wait_for(task, BACK_WITHIN)
    await env.step()
    assert len(env.fake.messages(CHAT)) == 1, [m.visible for m in env.fake.messages(CHAT)]
    assert env.states() == ["sent", "sent"]


def edits(fake: FakeBotAPI) -> int:
    return sum(c.method.lower() == "editmessagetext" for c in fake.calls)


async def corrected(env: FollowupEnv) -> int:
    """An alert sent to the private chat, then its article corrected (an edit owed)."""
    first = fresh(1, title="Đang cập nhật Kiến Thụy", summary="Tin đang cập nhật về công an")
    follow_chat(env.db, PRIVATE, "private", "an-ninh")
    env.publish(first)
    await env.dispatch()
    env.publish(replace(first, title="Công an huyện Kiến Thụy bắt đối tượng trộm cắp",
                        updated_at=datetime.now(UTC)))  # fmt: skip
    return env.sent()[PRIVATE]


async def followup_through_outage(
    env: FollowupEnv, monkeypatch: pytest.MonkeyPatch, past_lease: bool,
    method: str = "editMessageText",
) -> FollowupWorker:  # fmt: skip
    """The worker's follow-up call (``method``) held at "Telegram" while the file moves away,
    answered, its record refused; the file put back (``past_lease``: once the follow-up's lease
    ran out)."""
    lease = timedelta(seconds=1)
    worker = env.worker(lease=lease)
    refused = Refusals(monkeypatch, worker, "_record")
    gate = threading.Event()
    env.fake.hold(method, gate)
    task = asyncio.create_task(worker.run())
    try:
        await until(f"the {method} at Telegram", lambda: env.fake.holding(method) == 1)
        move_away(env.db)
        moved = time.monotonic()
        gate.set()
        await until("a record refused", lambda: refused.count >= 1)
        if past_lease:
            ends = moved + 2 * lease.total_seconds()
            await until("the lease ran out", lambda: time.monotonic() > ends)
        put_back(env.db)
        await until(
            "the follow-up recorded",
            lambda: env.rows(alert_followups.c.state) == [("done",)],
            seen=lambda: env.rows(alert_followups.c.state, alert_followups.c.outcome),
        )
    finally:
        gate.set()
        worker.stop()
        await asyncio.wait_for(task, BACK_WITHIN)
    return worker


@pytest.mark.parametrize("past_lease", [False, True], ids=["within-lease", "past-lease"])
async def test_a_correction_edit_is_recorded_once_the_file_is_back_not_made_again(
    fenv: FollowupEnv, monkeypatch: pytest.MonkeyPatch, past_lease: bool
) -> None:
    mid = await corrected(fenv)
    await followup_through_outage(fenv, monkeypatch, past_lease)
    assert [o for _, _, o in fenv.outcomes()] == ["edited"]
    assert edits(fenv.fake) == 1, fenv.fake.calls
    assert "Công an huyện Kiến Thụy" in fenv.fake.live(PRIVATE, mid).visible


async def test_a_retraction_delete_is_recorded_once_the_file_is_back(
    fenv: FollowupEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A withdrawn alert's delete, answered while the file is away: recorded ``deleted``
    (not ``gone``, Telegram's answer to a second delete), one call."""
    follow_chat(fenv.db, PRIVATE, "private", "an-ninh")
    fenv.publish(fresh(1))
    await fenv.dispatch()
    mid = fenv.sent()[PRIVATE]
    fenv.retire("TEST-00001")
    await followup_through_outage(fenv, monkeypatch, True, "deleteMessage")
    assert [o for _, _, o in fenv.outcomes()] == ["deleted"]
    assert sum(c.method.lower() == "deletemessage" for c in fenv.fake.calls) == 1
    assert fenv.fake.live(PRIVATE, mid).deleted


async def test_a_gone_threads_forget_meeting_the_outage_is_no_channel_traceback(
    env: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A digest to a forum thread deleted since: forgetting the thread (a DB write) meets the
    outage: told as the outage (``db.outage``), not as "channel raised" with a traceback; the
    part, not sent, is recorded once the file is back and goes to the chat later."""
    env.fake.add_chat(GROUP, "supergroup", "Tòa soạn").is_forum = True
    subscribe_chat(env.db, GROUP, "supergroup", "an-ninh", thread=77)
    env.publish("Công an tuần tra")
    due = local_hhmm(env.clock.at + timedelta(minutes=1))
    env.settings(GROUP, ChatSettings(digest=DigestSchedule(times=(due,))))
    await env.step()
    assert env.states(GROUP) == ["held"]
    env.fake.delete_thread(GROUP, 77)
    env.clock.at += timedelta(minutes=1, seconds=1)
    await step_with_record_refused(env, monkeypatch, GROUP)
    raised = [r for r in caplog.records if "channel raised" in r.getMessage()]
    assert raised == [], [r.exc_text for r in raised]
    for _ in range(3):  # the part's retry (transient), to the chat once the file is back
        env.clock.at += timedelta(minutes=1)
        await env.step()
    assert [m.thread_id for m in env.fake.messages(GROUP)] == [None]
    assert env.states(GROUP) == ["sent"]
