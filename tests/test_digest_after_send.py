"""A digest sent in several parts, changed AFTER all of it went: part 1's count stays the number
of its articles the chat is shown across the parts, and a part of one alert keeps its place
(through the real dispatcher, follow-up worker and fake Bot API).

A lead's notes, in order of a reader's loss:

- an article of part 2 or 3 withdrawn or hidden once the whole digest went: that part was laid
  out again without it, but part 1 kept "Tin tổng hợp · 8 tin (1/3)" over 7 articles. Only a
  retraction in part 1 itself laid part 1 out again. Now every retraction, or restore, of an
  alert in a later part owes part 1 an edit in the same transaction
  (``store.followup_queue.queue_parts``): the worker lays it out with the count now;
- a part of ONE alert (``(tiếp) (3/3)`` and one article) is not a digest message to the worker
  (no other alert shares its message id): a correction of its article edited it to the single
  alert's text, its ``(tiếp) (3/3)`` and group gone. Now a row recorded in a digest of several
  parts (``deliveries.digest_head``) is laid out in its place whatever its part holds;
- part 1 refused (a 400), parts 2 and 3 went "(tiếp) (2/3)", "(tiếp) (3/3)" under no heading,
  no ``digest_head`` recorded: a later edit laid part 2 out as a digest of its own. Now the
  parts after a refused part 1 go as the digest (``digest.sending``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from backend_cases import on_backends
from factories import VN
from fakebot import Fault
from sqlalchemy import select
from test_digest_dispatch import CHAT, Env, subscribe_chat
from test_digest_dispatch import env as env  # the fixture
from test_digest_part_one import _first_line, _parts_of, _settle
from test_digest_parts_recheck import (
    TITLE,
    _digest_with,
    _followups,
    _hide,
)

from feedsvc.articles import Article
from feedsvc.channels.telegram import TelegramChannel
from feedsvc.db.schema import articles
from feedsvc.retraction.worker import FollowupWorker
from feedsvc.store.followup_queue import queue_corrections, queue_retractions
from feedsvc.store.lifecycle import set_hidden
from feedsvc.store.source_articles import upsert_source_articles


def _ids(env: Env, gone: list[Article]) -> list[int]:
    with env.db.read() as conn:
        keys = [a.source_key for a in gone]
        stmt = select(articles.c.id).where(articles.c.source_key.in_(keys))
        return list(conn.execute(stmt).scalars())


def _retract(env: Env, gone: list[Article]) -> None:
    """Hide them and owe their retractions, as the worker's sweep does (owed before it runs)."""
    _hide(env, gone)
    with env.db.write() as conn:
        assert queue_retractions(conn, _ids(env, gone), env.clock()) == len(gone)


def _sweep(env: Env) -> int:
    """The follow-up worker's sweep (retractions of what was hidden, restores of what is
    shown again), as its loop runs it first."""
    worker = FollowupWorker(env.db, TelegramChannel(env.sender, VN), VN)
    return worker.sweep()


def _now(env: Env) -> list[str]:
    """What each message the digest sent reads now ("" once deleted)."""
    return [
        "" if (live := env.fake.live(CHAT, m.message_id)).deleted else live.visible
        for m in env.fake.messages(CHAT)
    ]


def _shown(texts: list[str]) -> int:
    return sum(t.count("\n• ") for t in texts)


async def _eight(env: Env) -> list[Article]:
    """Eight long articles, one digest of three parts that all went: 3, 3 and 2 articles."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    published = env.publish(*(f"{n} {TITLE}" for n in range(8)))  # [0] is the oldest
    await _digest_with(env, lambda: None)
    assert [_first_line(m.visible) for m in env.fake.messages(CHAT)] == [
        "Tin tổng hợp · 8 tin (1/3)", "(tiếp) (2/3)", "(tiếp) (3/3)",
    ]  # fmt: skip
    assert _parts_of(env) == [[5, 6, 7], [2, 3, 4], [0, 1]]
    return published


@pytest.mark.parametrize(
    ("db_url", "which"),
    on_backends([
        [3],  # the lead's: an article of part 2
        [0],  # of part 3
        [0, 3],  # one of each later part
        # a part left empty (deleted): the others renumbered, test_digest_part_numbers.py
    ], label=lambda v: "items" + "-".join(map(str, v)) if isinstance(v, list) else str(v)),
    indirect=["db_url"],
)  # fmt: skip
async def test_a_retraction_in_a_later_part_edits_part_1s_count(
    env: Env, monkeypatch: pytest.MonkeyPatch, which: list[int]
) -> None:
    published = await _eight(env)
    before = [m.visible for m in env.fake.messages(CHAT)]
    _retract(env, [published[i] for i in which])
    await _settle(env, monkeypatch)
    now = _now(env)
    left = 8 - len(which)
    assert _shown(now) == left, now
    assert _first_line(now[0]) == f"Tin tổng hợp · {left} tin (1/3)", now
    for k, text in enumerate(now[1:], 2):
        if text:  # a part keeps its place: "(tiếp) (k/3)"
            assert _first_line(text) == f"(tiếp) ({k}/3)", now
    touched = {k for k, ids in enumerate(_parts_of_before(before)) if set(ids) & set(which)}
    for k in range(1, 3):
        if k not in touched:
            assert now[k] == before[k]  # a part whose articles all stand is left as it was
    assert len(env.fake.messages(CHAT)) == 3  # edited, nothing sent again
    assert {state for _, _, state in _followups(env)} == {"done"}


def _parts_of_before(texts: list[str]) -> list[list[int]]:
    return [
        sorted(int(line[2:].split(" ", 1)[0]) for line in t.split("\n") if line.startswith("• "))
        for t in texts
    ]  # fmt: skip


@pytest.mark.parametrize("flaky", [False, True], ids=["", "edit-500"])
async def test_the_sweep_owes_part_1_the_edit_and_a_restore_counts_again(
    env: Env, monkeypatch: pytest.MonkeyPatch, flaky: bool
) -> None:
    """The worker's own sweep finds the hide (no retraction queued by hand); the article
    shown again later restores its part and part 1's count with it (``on_withdraw = "delete"``
    keeps a part with public articles, edited to them: restorable), a restore's edit answered
    500 once and tried again too."""
    published = await _eight(env)
    _hide(env, [published[3]])
    assert _sweep(env) == 1
    await _settle(env, monkeypatch)
    assert _first_line(_now(env)[0]) == "Tin tổng hợp · 7 tin (1/3)", _now(env)
    with env.db.write() as conn:
        assert set_hidden(conn, published[3].source_key, False, datetime.now(UTC), "") is not None
    assert _sweep(env) == 0  # a restore, not a retraction
    assert [k for _, k, s in _followups(env) if s == "pending"] == ["correct", "correct"]
    if flaky:
        env.fake.script(CHAT, Fault.server_error().on("editMessageText"))
    await _settle(env, monkeypatch)
    now = _now(env)
    assert _shown(now) == 8, now
    assert [_first_line(t) for t in now] == [
        "Tin tổng hợp · 8 tin (1/3)", "(tiếp) (2/3)", "(tiếp) (3/3)",
    ]  # fmt: skip


async def test_a_correction_of_a_part_of_one_alert_keeps_its_place(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seven articles: parts of 3, 3 and 1. The last part's article corrected: its part is
    laid out again with the new title, still "(tiếp) (3/3)" under its group, never the
    single alert's text."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    published = env.publish(*(f"{n} {TITLE}" for n in range(7)))
    await _digest_with(env, lambda: None, count=7)
    sent = env.fake.messages(CHAT)
    assert [_first_line(m.visible) for m in sent] == [
        "Tin tổng hợp · 7 tin (1/3)", "(tiếp) (2/3)", "(tiếp) (3/3)",
    ]  # fmt: skip
    assert _parts_of(env)[2] == [0]
    before = sent[2].visible
    fixed = replace(published[0], title=f"0 (đã sửa) {TITLE}", updated_at=datetime.now(UTC))
    with env.db.write() as conn:
        upsert_source_articles(conn, [fixed], datetime.now(UTC))
    assert env.ingestor.tick().error is None
    with env.db.write() as conn:
        assert queue_corrections(conn, _ids(env, [fixed]), env.clock(), timedelta(hours=48))
    await _settle(env, monkeypatch)
    now = env.fake.live(CHAT, sent[2].message_id).visible
    assert now != before and "(đã sửa)" in now, now
    assert _first_line(now) == "(tiếp) (3/3)", now
    assert now.replace("0 (đã sửa) ", "0 ") == before  # the same layout, the new title
    assert len(env.fake.messages(CHAT)) == 3


async def test_a_digest_of_one_part_is_corrected_as_before(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: a digest of one part (no ``digest_head``) of two alerts is laid out again
    as a digest of its own; its count follows its own retraction."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    published = env.publish("0 công an phường", "1 công an xã")
    await _digest_with(env, lambda: None, count=2)
    sent = env.fake.messages(CHAT)
    assert [_first_line(m.visible) for m in sent] == ["Tin tổng hợp · 2 tin"]
    _retract(env, [published[0]])
    await _settle(env, monkeypatch)
    assert _first_line(_now(env)[0]) == "Tin tổng hợp · 1 tin", _now(env)


def test_which_finished_follow_ups_change_what_a_part_lists() -> None:
    """Pure: a retraction that edited its part to the articles left owes the first part its
    count; one that deleted it, left it the notice (no article listed), or found it gone (any
    follow-up) owes every other part its number; never a correction's edit (a restore owes
    the others when queued), a call that changed nothing."""
    from feedsvc.retraction.plan import CORRECT, COUNT, RENUMBER, RETRACT, part_change

    assert part_change(RETRACT, "edited", True) == COUNT
    assert part_change(RETRACT, "edited", False) == RENUMBER  # the notice
    assert part_change(RETRACT, "deleted", False) == RENUMBER
    assert part_change(RETRACT, "gone", False) == part_change(CORRECT, "gone", True) == RENUMBER
    assert part_change(CORRECT, "edited", True) is None
    for outcome in ("kept", "cancelled", "failed", "unreachable", "unchanged", None):
        assert part_change(RETRACT, outcome, True) is None


async def _part_1_refused(env: Env, refusals: int = 1) -> list[Article]:
    """Eight articles (three parts planned: 3, 3, 2), the first ``refusals`` sends refused by
    Telegram (400)."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    published = env.publish(*(f"{n} {TITLE}" for n in range(8)))
    refused = Fault(400, "Bad Request: message is too long")
    await _digest_with(env, lambda: None, *[refused] * refusals, first=False)
    return published


async def test_part_1_refused_the_rest_goes_as_the_digest(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Part 1 refused, parts 2 and 3 went "(tiếp) (2/3)" and "(tiếp) (3/3)" under no heading
    and recorded no ``digest_head``: a retraction in part 2 laid it out as a digest of its own,
    "Tin tổng hợp · 2 tin" above "(tiếp) (3/3)". Now the parts after a refused part 1 go as
    the digest (its heading, their count, numbered among themselves), part 1's rows recorded
    refused; later edits keep their places."""
    published = await _part_1_refused(env)
    sent = env.fake.messages(CHAT)
    assert [_first_line(m.visible) for m in sent] == [
        "Tin tổng hợp · 5 tin (1/2)", "(tiếp) (2/2)",
    ]  # fmt: skip
    assert _parts_of(env) == [[2, 3, 4], [0, 1]]
    assert env.states().count("bad_content") == 3
    _retract(env, [published[3]])  # of the part that went first
    await _settle(env, monkeypatch)
    now = _now(env)
    assert [_first_line(t) for t in now] == ["Tin tổng hợp · 4 tin (1/2)", "(tiếp) (2/2)"], now
    assert now[1] == sent[1].visible
    _retract(env, [published[0]])  # of the last part
    await _settle(env, monkeypatch)
    now = _now(env)
    assert [_first_line(t) for t in now] == ["Tin tổng hợp · 3 tin (1/2)", "(tiếp) (2/2)"], now
    assert _shown(now) == 3


async def test_the_first_two_parts_refused_the_last_goes_as_the_digest(env: Env) -> None:
    """Part 1 refused, then the first part of the rest laid out anew: what is left goes as a
    digest of one part, no number; no edit is owed (nothing was left out)."""
    await _part_1_refused(env, refusals=2)
    assert [m.visible.split("\n")[0] for m in env.fake.messages(CHAT)] == ["Tin tổng hợp · 2 tin"]
    assert _parts_of(env) == [[0, 1]]
    assert env.states().count("bad_content") == 6
    assert _followups(env) == []
