"""Part 1 of a digest sent in several parts tells the truth once the rest shrank (through the
real dispatcher, follow-up worker and fake Bot API).

The defect: an article of a later part withdrawn before that part went was left out and the
rest laid out again, numbered on (``(tiếp) (2/2)``), but part 1, already in the chat, kept
"Tin tổng hợp · 8 tin (1/3)" over 7 articles in all. Now, on a channel that edits, part 1 is
owed an edit once the digest ends; the follow-up worker lays it out in its place
(``deliveries.digest_head``: part 1's message id on every row of the digest): the count the
chat got and ``(1/N)`` with the parts that went, its article lines as they were. A later
retraction in part 1 keeps that place too (it read "Tin tổng hợp · 2 tin" above "(tiếp)
(2/3)"). The control (nothing left out: no edit) and a channel without edits (Zalo, Apprise:
``notify.edits.editor_of`` is None) are here too.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from backend_cases import on_backends
from fakebot import Fault
from sqlalchemy import select
from test_digest_dispatch import CHAT, Env, subscribe_chat
from test_digest_dispatch import env as env  # the fixture
from test_digest_parts_recheck import (
    _NUMBER,
    TITLE,
    _check_numbers,
    _digest_with,
    _follow_up,
    _followups,
    _hide,
)

from feedsvc.db.schema import articles, deliveries
from feedsvc.store.followup_queue import queue_retractions


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0]


def _lines(text: str) -> list[str]:
    """A message's lines past its first: its groups, articles and links."""
    return text.split("\n")[1:]


def _parts_of(env: Env) -> list[list[int]]:
    """The article numbers (``published`` index) each sent message lists, by its titles."""
    return [
        sorted(int(line[2:].split(" ", 1)[0]) for line in m.visible.split("\n")
               if line.startswith("• "))
        for m in env.fake.messages(CHAT)
    ]  # fmt: skip


def _heads(env: Env) -> set[int | None]:
    with env.db.read() as conn:
        stmt = select(deliveries.c.digest_head).where(deliveries.c.state == "sent")
        return set(conn.execute(stmt).scalars())


async def _settle(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """The follow-up worker until nothing is open, on the dispatcher's clock moved past the
    chat's pacing gap and running from there (several edits of one chat are paced apart)."""
    start, base = time.monotonic(), env.clock.at + timedelta(seconds=10)
    monkeypatch.setattr(env.db, "now", lambda: base + timedelta(seconds=time.monotonic() - start))
    await _follow_up(env)
    env.clock.at = env.db.now()


def _edits(env: Env) -> list[str]:
    return [c.method for c in env.fake.calls if c.method.lower().startswith("editmessage")]


def _planned(env: Env) -> list[list[int]]:
    """Where the eight articles go when nothing changes (the layout is deterministic)."""
    return [[5, 6, 7], [2, 3, 4], [0, 1]]


@pytest.mark.parametrize(
    ("db_url", "which"),
    on_backends([
        [0],  # an article of part 3: parts 2 and 3 still two, "(1/3)" stays, the count drops
        [0, 1],  # all of part 3: the rest one part, part 1 "(1/2)"
        [3],  # an article of part 2, the same number of parts
        [1, 2, 3, 4],  # the rest one part of one article (a part of one row)
        [0, 3],  # one of each later part
    ], label=lambda v: "items" + "-".join(map(str, v)) if isinstance(v, list) else str(v)),
    indirect=["db_url"],
)  # fmt: skip
async def test_part_1_is_edited_to_the_count_and_parts_that_went(
    env: Env, monkeypatch: pytest.MonkeyPatch, which: list[int]
) -> None:
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    published = env.publish(*(f"{n} {TITLE}" for n in range(8)))  # [0] is the oldest
    await _digest_with(env, lambda: _hide(env, [published[i] for i in which]))
    sent = env.fake.messages(CHAT)
    before = [m.visible for m in sent]
    assert _first_line(before[0]) == "Tin tổng hợp · 8 tin (1/3)", before[0]
    assert _parts_of(env)[0] == _planned(env)[0]  # part 1 went before the change
    _check_numbers(before)
    listed = sum(v.count("• ") for v in before)
    assert listed == 8 - len(which)
    await _settle(env, monkeypatch)
    assert len(env.fake.messages(CHAT)) == len(sent)  # edited, nothing sent again
    now = [env.fake.live(CHAT, m.message_id).visible for m in sent]
    assert _first_line(now[0]) == f"Tin tổng hợp · {listed} tin (1/{len(sent)})", now[0]
    assert [line for line in _lines(now[0]) if line.startswith("• ")] == [
        line for line in _lines(before[0]) if line.startswith("• ")
    ]  # its own article lines unchanged
    assert now[1:] == before[1:]  # the later parts went numbered right: left as they are
    _check_numbers(now)
    assert len(_heads(env)) == 1 and None not in _heads(env)  # one digest, part 1's id


async def test_a_part_refused_between_is_renumbered_with_the_parts_that_went(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Part 2 refused (400) and an article of part 3 left out: part 3 went as one alert,
    "(tiếp) (3/3)" after "(1/3)". Part 1 was renumbered alone, "(1/2)" above "(tiếp) (3/3)" (a
    tester's), then neither was (no edit laid out a part of one alert). Now both are laid out
    with the parts the chat got: "(1/2)", its count the articles shown across them, and
    "(tiếp) (2/2)"."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    published = env.publish(*(f"{n} {TITLE}" for n in range(8)))
    refused = Fault(400, "Bad Request: message is too long")
    await _digest_with(env, lambda: _hide(env, [published[0]]), refused)
    sent = env.fake.messages(CHAT)
    assert [_first_line(m.visible) for m in sent] == [
        "Tin tổng hợp · 8 tin (1/3)", "(tiếp) (3/3)",
    ]  # fmt: skip
    await _settle(env, monkeypatch)
    now = [env.fake.live(CHAT, m.message_id).visible for m in sent]
    assert [_first_line(t) for t in now] == ["Tin tổng hợp · 4 tin (1/2)", "(tiếp) (2/2)"], now
    _check_numbers(now)
    assert sum(t.count("\n• ") for t in now) == 4
    assert _lines(now[1]) == _lines(sent[1].visible)  # its one article, as it went


async def test_a_digest_whose_parts_all_go_owes_no_edit(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: nothing left out, "(1/3)" and the count hold; no edit is owed or made."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    env.publish(*(f"{n} {TITLE}" for n in range(8)))
    await _digest_with(env, lambda: None)
    sent = env.fake.messages(CHAT)
    assert [_first_line(m.visible) for m in sent] == [
        "Tin tổng hợp · 8 tin (1/3)", "(tiếp) (2/3)", "(tiếp) (3/3)",
    ]  # fmt: skip
    assert _followups(env) == []
    await _settle(env, monkeypatch)
    assert _edits(env) == []
    assert [m.visible for m in env.fake.messages(CHAT)] == [
        env.fake.live(CHAT, m.message_id).visible for m in sent
    ]


async def test_a_channel_that_cannot_edit_owes_no_edit(env: Env) -> None:
    """A channel without an editor (Zalo, Apprise: ``editor_of`` None, which the sender reads
    once): the rest shrinks as before, nothing is owed, every part still goes."""
    sender = env.dispatcher._digest_sender
    sender._edits = False  # what DigestSender reads of ``editor_of(channel) is None``
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    published = env.publish(*(f"{n} {TITLE}" for n in range(8)))
    await _digest_with(env, lambda: _hide(env, [published[0]]))
    sent = [m.visible for m in env.fake.messages(CHAT)]
    assert _first_line(sent[0]) == "Tin tổng hợp · 8 tin (1/3)"
    _check_numbers(sent)
    assert sum(v.count("• ") for v in sent) == 7
    assert _followups(env) == []
    assert env.states().count("sent") == 7


async def test_a_retraction_in_part_1_keeps_its_place(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After all three parts went, an article of part 1 hidden: part 1 is laid out again as
    part 1 of 3 with the digest's public count (it read "Tin tổng hợp · 2 tin", a digest of
    its own, above "(tiếp) (2/3)"); the other parts are left as they are."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    published = env.publish(*(f"{n} {TITLE}" for n in range(8)))
    await _digest_with(env, lambda: None)
    sent = env.fake.messages(CHAT)
    before = [m.visible for m in sent]
    assert len(sent) == 3
    _hide(env, [published[7]])  # the newest: part 1
    with env.db.write() as conn:  # what the worker's sweep queues (owed before it runs here)
        ids = select(articles.c.id).where(articles.c.source_key == published[7].source_key)
        assert queue_retractions(conn, list(conn.execute(ids).scalars()), env.clock()) == 1
    await _settle(env, monkeypatch)
    assert {(kind, state) for _, kind, state in _followups(env)} == {("retract", "done")}
    now = [env.fake.live(CHAT, m.message_id).visible for m in sent]
    assert _first_line(now[0]) == "Tin tổng hợp · 7 tin (1/3)", now[0]
    assert f"• {published[7].title[:30]}" not in now[0]
    assert now[1:] == before[1:]


def test_a_part_is_laid_out_in_its_place_within_the_limit() -> None:
    """Pure: ``format_part`` opens part 1 with the count given and ``(1/N)``, a later part
    ``(tiếp) (k/N)``; a digest now of one part is a digest of its own; within the limit."""
    from test_digest_parts import HANOI, WORDS, _entries

    from feedsvc.digest.message import format_digest, format_part
    from feedsvc.notify.message import utf16_len

    entries = _entries(40, 3)
    whole = format_digest(entries, HANOI, WORDS, limit=2000)
    assert len(whole) > 2
    first = [e for e in entries if e.delivery_id in set(whole[0].delivery_ids)]
    for parts, count in ((len(whole), 40), (2, 39), (2, 9)):
        again = format_part(first, HANOI, WORDS, 2000, part=1, parts=parts, count=count)
        assert len(again) == 1
        text = again[0].message.plain_text
        assert _first_line(text) == WORDS.heading.format(count=count) + f" (1/{parts})"
        assert utf16_len(text) <= 2000 and utf16_len(again[0].message.text) <= 4096
        assert sorted(again[0].delivery_ids) == sorted(whole[0].delivery_ids)
    second = [e for e in entries if e.delivery_id in set(whole[1].delivery_ids)]
    again = format_part(second, HANOI, WORDS, 2000, part=2, parts=2, count=30)
    assert _first_line(again[0].message.plain_text) == "(tiếp) (2/2)"
    alone = format_part(first, HANOI, WORDS, 2000, part=1, parts=1, count=99)
    assert alone == format_digest(first, HANOI, WORDS, 2000)
    assert _NUMBER.search(_first_line(alone[0].message.plain_text)) is None
