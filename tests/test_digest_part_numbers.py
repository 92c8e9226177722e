"""The parts of a digest sent in several keep numbers the chat can believe (through the real
dispatcher, follow-up worker and fake Bot API; what the chat finally shows is asserted).

Two defects, reported together:

- a part deleted because every article in it was retracted left the others numbered as sent:
  "(1/3)", "(tiếp) (2/3)" and no part 3 (or "(1/3)" and "(tiếp) (3/3)"); only part 1's count
  followed. Now the parts still in the chat are renumbered among themselves by edits owed
  through the follow-up queue (``followup_queue.queue_parts``): "(1/2)", "(tiếp) (2/2)"; one
  part left is a digest of its own (no number). A part shown as the notice (``on_withdraw =
  "edit"``) is no part either, and its restore renumbers them all back; a deleted part is not
  sent again when its article comes back (one alert per chat and article, as a single alert),
  and later edits keep leaving it out.
- a 429 or a group's migration to a supergroup answered for a later part ended the digest:
  part 1 kept "(1/3)", parts 2 and 3 never came (their articles went later as a digest of
  their own, "Tin tổng hợp · 5 tin (1/2)"). Now a 429 on a later part is waited out and the
  rest goes; a migration sends the rest to the supergroup, numbered on; a rest that truly
  cannot go now (a pause too long to wait, the dispatcher stopping during it, any other
  failure) leaves the parts that went owed an edit so they promise nothing.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from backend_cases import on_backends, on_sqlite
from factories import VN
from fakebot import Fault
from sqlalchemy import select
from test_digest_after_send import _eight, _ids, _now, _retract, _shown
from test_digest_dispatch import CHAT, Env, local_hhmm, subscribe_chat, wait_for
from test_digest_dispatch import env as env  # the fixture
from test_digest_part_one import _first_line, _settle
from test_digest_parts_recheck import TITLE, _check_numbers, _digest_with, _followups

from feedsvc.channels.telegram import TelegramChannel
from feedsvc.db.schema import chats, deliveries
from feedsvc.digest import ChatSettings, DigestSchedule
from feedsvc.retraction.plan import OnWithdraw
from feedsvc.retraction.worker import FollowupSettings, FollowupWorker
from feedsvc.store.claims import PRIVATE_INTERVAL
from feedsvc.store.followup_queue import queue_corrections
from feedsvc.store.lifecycle import set_hidden
from feedsvc.store.source_articles import upsert_source_articles

OLD, NEW = -5003, -1005003  # a group, and the supergroup it becomes
NOTICE = "Tin này đã được gỡ bỏ."
#: the eight articles' parts when nothing changes: newest first (``_eight``)
PARTS = ([5, 6, 7], [2, 3, 4], [0, 1])
#: one backend per flow below (``backend_cases``): the SQL they add to the renumbering test's
#: (both backends) is the restore's and the migration's, each run on both by its own tests
on_postgres = pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


def _firsts(texts: list[str]) -> list[str]:
    """The first line of every message the digest sent that is still in the chat."""
    return [_first_line(t) for t in texts if t]


def _listed(texts: list[str]) -> list[list[int]]:
    """The article numbers each message still in the chat lists."""
    return [
        sorted(int(line[2:].split(" ", 1)[0]) for line in t.split("\n") if line.startswith("• "))
        for t in texts if t
    ]  # fmt: skip


def _label(value: object) -> str:
    """A case's id: the articles retracted (its expected first lines are left out)."""
    if isinstance(value, list) and all(isinstance(v, int) for v in value):
        return "items" + "-".join(map(str, value))
    return "shown"


@pytest.mark.parametrize(
    ("db_url", "gone", "firsts"),
    on_backends([
        (PARTS[1], ["Tin tổng hợp · 5 tin (1/2)", "(tiếp) (2/2)"]),  # the middle part
        (PARTS[2], ["Tin tổng hợp · 6 tin (1/2)", "(tiếp) (2/2)"]),  # the last part
        (PARTS[1] + PARTS[2], ["Tin tổng hợp · 3 tin"]),  # two of three: no number left
        (PARTS[0], ["Tin tổng hợp · 5 tin (1/2)", "(tiếp) (2/2)"]),  # part 1: part 2 opens
        (PARTS[2] + [3], ["Tin tổng hợp · 5 tin (1/2)", "(tiếp) (2/2)"]),  # one less in part 2
        (PARTS[1] + [6], ["Tin tổng hợp · 4 tin (1/2)", "(tiếp) (2/2)"]),  # one less in part 1
    ], label=_label),
    indirect=["db_url"],
)  # fmt: skip
async def test_the_parts_left_after_a_deleted_part_are_renumbered(
    env: Env, monkeypatch: pytest.MonkeyPatch, gone: list[int], firsts: list[str]
) -> None:
    published = await _eight(env)
    _retract(env, [published[i] for i in gone])
    await _settle(env, monkeypatch)
    now = _now(env)
    deleted = [k for k, part in enumerate(PARTS) if set(part) <= set(gone)]
    assert [k for k, t in enumerate(now) if not t] == deleted, now  # deleted, not edited
    assert _firsts(now) == firsts, now
    _check_numbers([t for t in now if t])
    kept = [sorted(set(part) - set(gone)) for part in PARTS if not set(part) <= set(gone)]
    assert _listed(now) == kept  # each keeps its own articles, nothing sent again
    assert len(env.fake.messages(CHAT)) == 3
    assert {state for _, _, state in _followups(env)} == {"done"}


async def _settle_with(env: Env, monkeypatch: pytest.MonkeyPatch, mode: OnWithdraw) -> None:
    """``_settle`` with a worker under ``on_withdraw = mode``: the follow-up worker (sweeping
    for retractions and restores) until nothing is open, on the dispatcher's clock moved past
    the chat's pacing gap and running from there."""
    start, base = time.monotonic(), env.clock.at + timedelta(seconds=10)
    monkeypatch.setattr(env.db, "now", lambda: base + timedelta(seconds=time.monotonic() - start))
    settings = FollowupSettings(on_withdraw=mode, backoff_base=0.05, poll_seconds=0.2,
                                sweep_seconds=0.2)  # fmt: skip
    worker = FollowupWorker(env.db, TelegramChannel(env.sender, VN), VN, settings,
                            digests=env.dispatcher.digests)  # fmt: skip
    task = asyncio.create_task(worker.run())
    try:
        await wait_for(lambda: worker.last_sweep is not None, 60)  # its first sweep is done
        await wait_for(lambda: all(s == "done" for _, _, s in _followups(env)), 60)
    finally:
        worker.stop()
        await task
    env.clock.at = env.db.now()


def _unhide(env: Env, which: list[int], published: list) -> None:
    with env.db.write() as conn:
        for i in which:
            assert set_hidden(conn, published[i].source_key, False, datetime.now(UTC), "")


@on_postgres
async def test_a_part_shown_as_the_notice_is_no_part_and_its_restore_renumbers_back(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``on_withdraw = "edit"``: the last part's articles all hidden, it reads the notice; the
    others read "(1/2)", "(tiếp) (2/2)". One of them shown again: its part lists it in its
    place, "(tiếp) (3/3)", and the others are numbered of three again, the count with it."""
    published = await _eight(env)
    _retract(env, [published[i] for i in PARTS[2]])
    await _settle_with(env, monkeypatch, OnWithdraw.EDIT)
    now = _now(env)
    assert now[2] == NOTICE, now
    assert _firsts(now[:2]) == ["Tin tổng hợp · 6 tin (1/2)", "(tiếp) (2/2)"], now
    _unhide(env, [1], published)
    await _settle_with(env, monkeypatch, OnWithdraw.EDIT)
    now = _now(env)
    assert _firsts(now) == ["Tin tổng hợp · 7 tin (1/3)", "(tiếp) (2/3)", "(tiếp) (3/3)"], now
    assert _listed(now) == [PARTS[0], PARTS[1], [1]]
    assert len(env.fake.messages(CHAT)) == 3


@on_sqlite
async def test_a_deleted_part_is_not_sent_again_and_stays_out_of_the_numbers(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``on_withdraw = "delete"``: the last part deleted, the others renumbered; its articles
    shown again are not sent again (a deleted alert never is: one alert per chat and article)
    and no restore is owed. A later correction in part 2 lays it out in its place among the
    parts still in the chat, "(tiếp) (2/2)", never "(tiếp) (2/3)" again."""
    published = await _eight(env)
    _retract(env, [published[i] for i in PARTS[2]])
    await _settle(env, monkeypatch)
    assert _firsts(_now(env)) == ["Tin tổng hợp · 6 tin (1/2)", "(tiếp) (2/2)"], _now(env)
    _unhide(env, PARTS[2], published)
    await _settle_with(env, monkeypatch, OnWithdraw.DELETE)
    assert [kind for _, kind, state in _followups(env) if kind == "correct"] == ["correct"] * 2
    fixed = replace(published[3], title=f"3 (đã sửa) {TITLE}", updated_at=datetime.now(UTC))
    with env.db.write() as conn:
        upsert_source_articles(conn, [fixed], datetime.now(UTC))
    assert env.ingestor.tick().error is None
    with env.db.write() as conn:
        assert queue_corrections(conn, _ids(env, [fixed]), env.clock(), timedelta(hours=48))
    await _settle(env, monkeypatch)
    now = _now(env)
    assert "(đã sửa)" in now[1], now
    assert _firsts(now) == ["Tin tổng hợp · 6 tin (1/2)", "(tiếp) (2/2)"], now
    assert not now[2] and len(env.fake.messages(CHAT)) == 3  # deleted; nothing sent again
    assert _shown(now) == 6


def _heads(env: Env) -> set[int | None]:
    with env.db.read() as conn:
        stmt = select(deliveries.c.digest_head).where(deliveries.c.state == "sent")
        return set(conn.execute(stmt).scalars())


@pytest.mark.parametrize(
    ("db_url", "before"),
    on_backends([0, 1], label=lambda v: f"part{v + 2}"),
    indirect=["db_url"],
)
async def test_a_429_on_a_later_part_is_waited_out_and_the_rest_goes(env: Env, before: int) -> None:
    """A 429 (retry after 1 s) for part 2, or part 3: the part goes again once the pause is
    over, the rest after it; one digest of three parts, as planned, no edit owed."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    env.publish(*(f"{n} {TITLE}" for n in range(8)))
    started = time.monotonic()
    await _digest_with(env, lambda: None, *[Fault()] * before, Fault.flood(1))
    sent = env.fake.messages(CHAT)
    assert _firsts([m.visible for m in sent]) == [
        "Tin tổng hợp · 8 tin (1/3)", "(tiếp) (2/3)", "(tiếp) (3/3)",
    ]  # fmt: skip
    assert env.states() == ["sent"] * 8
    assert len(_heads(env)) == 1 and None not in _heads(env)
    assert _followups(env) == []
    assert sent[before + 1].at - sent[before].at >= 1.0  # the pause was kept
    assert time.monotonic() - started < 15


async def _sent_to(env: Env, chat: int, *faults: Fault) -> None:
    """``_digest_with`` for ``chat`` (no part held): eight articles held for a digest of
    1,200 units, ``faults`` answering the sends to ``chat``."""
    env.dispatcher.digests.limit = 1200
    due = local_hhmm(env.clock.at + timedelta(minutes=1))
    env.settings(chat, ChatSettings(digest=DigestSchedule(times=(due,))))
    await env.step()
    assert env.states(chat) == ["held"] * 8
    env.clock.at += timedelta(minutes=1, seconds=1)
    env.fake.script(chat, *faults)
    await env.step()


@on_postgres
async def test_a_migration_on_part_2_sends_the_rest_to_the_supergroup(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The group became a supergroup between parts 1 and 2 (400 "group chat was upgraded",
    ``migrate_to_chat_id``): parts 2 and 3 go to the supergroup, numbered on ("(tiếp)
    (2/3)": Telegram shows the group's history above the supergroup's); the rows follow the
    chat. A later retraction in part 3 lays it out in its place there, part 1 beyond reach."""
    limits = env.dispatcher.channel.limits  # a group's 3 s gap, a private chat's here
    monkeypatch.setattr(env.dispatcher.channel, "limits",
                        replace(limits, group_interval=PRIVATE_INTERVAL))  # fmt: skip
    subscribe_chat(env.db, OLD, "group", "an-ninh")
    published = env.publish(*(f"{n} {TITLE}" for n in range(8)))
    await _sent_to(env, OLD, Fault(), Fault.migrate(NEW))
    env.fake.migrate_chat(OLD, NEW)  # from now on every call naming the group is refused
    for _ in range(2):  # what went later, if anything
        env.clock.at += timedelta(seconds=30)
        await env.step()
    old = [m.visible for m in env.fake.messages(OLD)]
    new = env.fake.messages(NEW)
    assert _firsts(old) == ["Tin tổng hợp · 8 tin (1/3)"], old
    assert _firsts([m.visible for m in new]) == ["(tiếp) (2/3)", "(tiếp) (3/3)"]
    assert env.states(NEW) == ["sent"] * 8 and env.states(OLD) == []
    assert len(_heads(env)) == 1
    _retract(env, [published[0]])  # of part 3, in the supergroup
    await _settle(env, monkeypatch)
    last = env.fake.live(NEW, new[1].message_id).visible
    assert _first_line(last) == "(tiếp) (3/3)", last
    assert _listed([last]) == [[1]]


@pytest.mark.parametrize(
    ("db_url", "faults", "firsts"),
    on_backends([
        ((Fault.flood(120),), [  # part 2 asks for two minutes
            "Tin tổng hợp · 3 tin", "Tin tổng hợp · 5 tin (1/2)", "(tiếp) (2/2)",
        ]),
        ((Fault(), Fault.server_error()), [  # part 3 answered 500
            "Tin tổng hợp · 6 tin (1/2)", "(tiếp) (2/2)", "Tin tổng hợp · 2 tin",
        ]),
    ], label=lambda v: "flood" if len(v) == 1 else "500" if isinstance(v, tuple) else ""),
    indirect=["db_url"],
)  # fmt: skip
async def test_a_rest_that_cannot_go_now_leaves_no_promise(
    env: Env, monkeypatch: pytest.MonkeyPatch, faults: tuple[Fault, ...], firsts: list[str]
) -> None:
    """A 429 for part 2 asking for two minutes, or a 500 for part 3: the rest goes back to
    wait (the chat paused, or backing off) and the parts that went, which promised "(1/3)",
    are owed an edit: laid out among themselves, part 1 alone a digest of its own. The rest
    goes later as a digest of its own; nothing promises a part that never comes."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    env.publish(*(f"{n} {TITLE}" for n in range(8)))
    await _digest_with(env, lambda: None, *faults)
    went = len(faults)
    assert len(env.fake.messages(CHAT)) == went
    env.clock.at += timedelta(seconds=125)  # the pause is over
    await _settle(env, monkeypatch)
    assert _firsts(_now(env)) == firsts[:went], _now(env)  # edited before the rest went
    env.clock.at += timedelta(seconds=5)  # past the edit's pacing slot
    await env.step()
    now = _now(env)
    assert _firsts(now) == firsts, now
    assert _listed(now) == [PARTS[0], PARTS[1], PARTS[2]]
    assert env.states() == ["sent"] * 8


@on_postgres
async def test_a_stop_during_the_pause_sends_the_rest_back_and_owes_part_1_its_edit(
    env: Env,
) -> None:
    """The dispatcher stopping while a later part waits out its 429 (30 s) does not wait it
    out: the part and the rest go back to the outbox, due after the pause, and part 1 is
    owed its edit (it promised "(1/3)"), all recorded before the stop returns."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    env.publish(*(f"{n} {TITLE}" for n in range(8)))
    env.dispatcher.digests.limit = 1200
    due = local_hhmm(env.clock.at + timedelta(minutes=1))
    env.settings(CHAT, ChatSettings(digest=DigestSchedule(times=(due,))))
    await env.step()
    env.clock.at += timedelta(minutes=1, seconds=1)
    env.fake.script(CHAT, Fault(), Fault.flood(30))
    started = time.monotonic()
    task = asyncio.create_task(env.step())
    await wait_for(lambda: _paused(env), 60)  # part 2 answered 429: the pause began
    env.dispatcher.stop()
    await task
    assert time.monotonic() - started < 15  # not the 30 s
    assert env.states().count("held") == 5 and len(env.fake.messages(CHAT)) == 1
    part1 = env.fake.messages(CHAT)[0].message_id
    with env.db.read() as conn:
        owed = select(deliveries.c.message_id).where(
            deliveries.c.id.in_([d for d, kind, _ in _followups(env) if kind == "correct"])
        )
        assert set(conn.execute(owed).scalars()) == {part1}


def _paused(env: Env) -> bool:
    with env.db.read() as conn:
        stmt = select(chats.c.blocked_until).where(chats.c.chat_id == CHAT)
        return conn.execute(stmt).scalar() is not None
