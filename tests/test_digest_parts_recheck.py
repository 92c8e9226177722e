"""A digest sent in several parts checks its alerts again before each later part (README: "the
dispatcher checks again right before sending"), through the real dispatcher and the fake Bot
API, on SQLite and PostgreSQL.

A tester's report: a 30-article digest to a supergroup went in two parts, 3 s apart; an article
of part 2 hidden as part 1 arrived was still listed in part 2, and its retraction ended ``kept``
("14 other article(s) still public"): the takedown stayed in the chat. A digest's content was
fixed at claim. Now each later part's alerts are sorted again (withdrawn, hidden, scheduled
again, no longer wanted: left out and recorded so), the parts still to go laid out again and
numbered on from those sent, the last saying it is the last; a part left empty is not sent.
Here part 1 is held open by the fake while the article changes, so the change always lands
between part 1 and part 2.

The ways an alert goes between parts are given one state DB backend each, rotating
(``backend_cases.on_backends``; hiding, three cases, still runs on both): each is an operation
whose SQL its own tests run on both backends, and the re-check before a later part reads the
alerts by the same statement whichever happened.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from backend_cases import on_backends
from factories import VN
from fakebot import Fault
from sqlalchemy import delete, select, update
from test_digest_dispatch import CHAT, Env, local_hhmm, subscribe_chat, wait_for
from test_digest_dispatch import env as env  # the fixture

from feedsvc.articles import Article
from feedsvc.channels.telegram import TelegramChannel
from feedsvc.db.schema import alert_followups, articles, deliveries, subscriptions
from feedsvc.digest import ChatSettings, DigestSchedule
from feedsvc.retraction.worker import FollowupSettings, FollowupWorker
from feedsvc.store.lifecycle import set_hidden
from feedsvc.store.source_articles import upsert_source_articles

TITLE = "Công an Kiến Thụy tuần tra đêm & bắt <nhóm> trộm xe máy ở khu phố " * 4
_NUMBER = re.compile(r" \((\d+)/(\d+)\)$")


def _hide(env: Env, gone: list[Article]) -> None:
    with env.db.write() as conn:
        for a in gone:
            assert set_hidden(conn, a.source_key, True, datetime.now(UTC), "sai") is not None


def _withdraw(env: Env, gone: list[Article]) -> None:
    """The source withdraws them (``withdrawn: true``), read by an ingest tick."""
    with env.db.write() as conn:
        upsert_source_articles(conn, [replace(a, withdrawn=True) for a in gone], datetime.now(UTC))
    assert env.ingestor.tick().error is None


def _reschedule(env: Env, gone: list[Article]) -> None:
    with env.db.write() as conn:
        conn.execute(update(articles)
                     .where(articles.c.source_key.in_([a.source_key for a in gone]))
                     .values(published_at=env.clock.at + timedelta(days=1)))  # fmt: skip


def _unsubscribe(env: Env, _gone: list[Article]) -> None:
    with env.db.write() as conn:
        conn.execute(delete(subscriptions).where(subscriptions.c.chat_id == CHAT))


async def _digest_with(
    env: Env, change: Callable[[], None], *faults: Fault, count: int = 8, first: bool = True
) -> None:
    """``count`` long articles (eight: three parts or more) held for a digest of 1,200 units;
    the digest's first part is held open by the fake Bot API while ``change`` runs; ``faults``
    answer the calls to the chat after it (``first`` false: from the first, nothing held)."""
    env.dispatcher.digests.limit = 1200
    due = local_hhmm(env.clock.at + timedelta(minutes=1))
    env.settings(CHAT, ChatSettings(digest=DigestSchedule(times=(due,))))
    await env.step()
    assert env.states() == ["held"] * count
    env.clock.at += timedelta(minutes=1, seconds=1)
    gate = threading.Event()
    env.fake.script(CHAT, *([Fault.held(gate)] if first else []), *faults)
    task = asyncio.create_task(env.step())
    try:
        if first:
            await wait_for(lambda: env.fake.in_flight > 0, 60)  # part 1 is at "Telegram"
        change()
    finally:
        gate.set()
        await task


def _check_numbers(visible: list[str]) -> None:
    """The first part says ``(1/N)``; each later one its place among the parts sent and the
    total sent (the last says it is the last); a single part has no number."""
    firsts = [v.split("\n", 1)[0] for v in visible]
    if len(firsts) == 1:
        return
    numbers = [_NUMBER.search(f) for f in firsts]
    assert all(numbers), firsts
    assert [int(m.group(1)) for m in numbers if m] == list(range(1, len(firsts) + 1)), firsts
    assert all(int(m.group(2)) == len(firsts) for m in numbers[1:] if m), firsts


def _gone_label(value: object) -> str:
    if isinstance(value, list):
        return "items" + "-".join(map(str, value))
    return str(getattr(value, "__name__", value)).lstrip("_")


@pytest.mark.parametrize(
    ("db_url", "how", "which", "state"),
    on_backends([
        (_hide, [0], "withdrawn"),  # the oldest: the last part (the tester's case)
        (_hide, [0, 1, 2, 3, 4], "withdrawn"),  # every later part left empty, or most
        (_hide, [0, 3], "withdrawn"),  # one of two later parts each
        (_withdraw, [1], "withdrawn"),  # the source's takedown
        (_reschedule, [0, 2], "held"),  # moved into the future: waits for its time
        (_unsubscribe, list(range(8)), "unsubscribed"),  # the chat left: nothing more goes
    ], label=_gone_label),
    indirect=["db_url"],
)  # fmt: skip
async def test_an_alert_gone_between_parts_is_left_out_of_the_later_parts(
    env: Env, how: Callable[[Env, list[Article]], None], which: list[int], state: str
) -> None:
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    published = env.publish(*(f"{n} {TITLE}" for n in range(8)))  # [0] is the oldest
    gone = [published[i] for i in which]
    await _digest_with(env, lambda: how(env, gone))
    messages = [m.visible for m in env.fake.messages(CHAT)]
    first_lines = {line for line in messages[0].split("\n") if line.startswith("• ")}
    in_first = {a.source_key for a in published if any(f"• {a.title[:30]}" in line
                                                       for line in first_lines)}  # fmt: skip
    for visible in messages[1:]:
        for a in gone:
            assert f"• {a.title[:30]}" not in visible, (a.title, visible)
    _check_numbers(messages)
    states = env.states()
    for i, a in enumerate(published):
        if a.source_key in in_first:
            assert states[i] == "sent"  # part 1 went before the change
        else:
            assert states[i] == (state if a in gone else "sent"), (i, states)
    listed = sum(v.count("• ") for v in messages)
    later = [a for a in published if a not in gone and a.source_key not in in_first]
    assert listed == len(in_first) + len(later)
    assert len(messages) >= 1 and messages[0].startswith("Tin tổng hợp · 8 tin")


@pytest.mark.parametrize("sent", [1, 2, 9])
def test_the_rest_of_a_digest_is_numbered_on_from_the_parts_sent(sent: int) -> None:
    """Pure: the rest after ``sent`` parts opens each part ``(tiếp)``, numbered from
    ``sent + 1`` to the new total (a single part too: the reader saw ``(1/N)``), within the
    limit, grouped as given (the planned order), nothing lost."""
    from test_digest_parts import HANOI, WORDS, _entries

    from feedsvc.digest.message import format_digest
    from feedsvc.notify.message import utf16_len

    entries = _entries(40, 3)
    for count in (1, 40):
        parts = format_digest(entries[:count], HANOI, WORDS, limit=2000, sent=sent)
        total = sent + len(parts)
        for k, part in enumerate(parts, sent + 1):
            first = part.message.plain_text.split("\n", 1)[0]
            assert first == f"(tiếp) ({k}/{total})", first
            assert utf16_len(part.message.plain_text) <= 2000
        ids = [i for p in parts for i in p.delivery_ids]
        assert sorted(ids) == sorted(e.delivery_id for e in entries[:count])


def _followups(env: Env) -> list[tuple[int, str, str]]:
    with env.db.read() as conn:
        stmt = select(alert_followups.c.delivery_id, alert_followups.c.kind,
                      alert_followups.c.state)  # fmt: skip
        return [tuple(r) for r in conn.execute(stmt)]  # type: ignore[misc]


async def _follow_up(env: Env) -> None:
    """Run the follow-up worker (the dispatcher's digest layout) until nothing is open."""
    settings = FollowupSettings(backoff_base=0.05, poll_seconds=0.5, sweep_seconds=0.5)
    worker = FollowupWorker(env.db, TelegramChannel(env.sender, VN), VN, settings,
                            digests=env.dispatcher.digests)  # fmt: skip
    task = asyncio.create_task(worker.run())
    try:
        await wait_for(lambda: all(s == "done" for _, _, s in _followups(env)), 60)
    finally:
        worker.stop()
        await task


async def test_a_part_1_whose_later_parts_all_went_is_laid_out_again(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A verifier's: every article of the later parts hidden as part 1 landed; part 1 still
    read "(1/3)" and part 2 never came. Part 1 is then the whole digest: it is owed an edit,
    and the follow-up worker lays it out again as a digest of its own articles."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    published = env.publish(*(f"{n} {TITLE}" for n in range(8)))  # [0] is the oldest
    await _digest_with(env, lambda: _hide(env, published[:5]))  # part 1 holds the newest 3
    sent = env.fake.messages(CHAT)
    assert len(sent) == 1, [m.visible.split("\n", 1)[0] for m in sent]
    first = sent[0].visible.split("\n", 1)[0]
    planned = _NUMBER.search(first)
    assert planned is not None and int(planned.group(2)) > 1, first
    part1 = _message_rows(env, sent[0].message_id)
    assert len(part1) >= 2
    assert (part1[0], "correct", "pending") in _followups(env), _followups(env)
    # the edit is owed, and the chat's next slot booked, at the dispatcher's clock, which the
    # test moved ahead: the worker reads the same clock, past the chat's pacing gap
    env.clock.at += timedelta(seconds=10)
    monkeypatch.setattr(env.db, "now", env.clock)
    await _follow_up(env)
    now_first = env.fake.live(CHAT, sent[0].message_id).visible.split("\n", 1)[0]
    assert _NUMBER.search(now_first) is None, now_first
    assert now_first.startswith(f"Tin tổng hợp · {len(part1)} tin"), now_first
    assert len(env.fake.messages(CHAT)) == 1  # edited, nothing sent again


def _message_rows(env: Env, message_id: int) -> list[int]:
    with env.db.read() as conn:
        stmt = select(deliveries.c.id).where(deliveries.c.message_id == message_id)
        return sorted(conn.execute(stmt).scalars())


async def test_parts_that_shrink_but_remain_are_numbered_on(env: Env) -> None:
    """README: numbered on from the parts sent, ``(1/3)`` then ``(tiếp) (2/2)``; part 1 (its
    count, its ``(1/3)``) is owed one edit, which lays it out in its place
    (tests/test_digest_part_one.py), never a later part as a second digest."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    published = env.publish(*(f"{n} {TITLE}" for n in range(8)))
    await _digest_with(env, lambda: _hide(env, published[:2]))
    sent = env.fake.messages(CHAT)
    assert len(sent) >= 2
    _check_numbers([m.visible for m in sent])
    part1 = _message_rows(env, sent[0].message_id)
    assert _followups(env) == [(part1[0], "correct", "pending")]


async def test_a_digest_whose_parts_all_go_is_not_edited(env: Env) -> None:
    """The control: nothing left out, the numbers hold, no edit is owed."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    env.publish(*(f"{n} {TITLE}" for n in range(8)))
    await _digest_with(env, lambda: None)
    sent = env.fake.messages(CHAT)
    assert len(sent) >= 3
    _check_numbers([m.visible for m in sent])
    assert _followups(env) == []
