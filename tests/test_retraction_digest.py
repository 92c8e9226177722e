"""A digest message (one message, several alerts) after the fact: it always lists those of its
articles that are public now — the notice (or its deletion) only while none is — end to end
through ingest, the follow-up worker and the fake Bot API, on SQLite and PostgreSQL.

A tester's report (``on_withdraw = "edit"``): a digest of vụ 1 and vụ 2; vụ 1 withdrawn
(``kept``: vụ 2 still public, so vụ 1 stayed listed), vụ 2 withdrawn (the whole digest edited to
"Tin này đã được gỡ bỏ."), then both published again: the message kept the notice for ever —
the restore of vụ 2 ended ``kept`` ("digest message shared by 2") and vụ 1's ``kept``
retraction was never restorable. README promised the notice is edited back. A digest message
is now laid out again from its public articles by every retraction, correction and restore
of one of them (``DigestEdge.message_now``).

Withdrawn by the source or hidden by an editor is given one state DB backend, rotating
(``backend_cases.on_backends``): either column retires the article through the same follow-up
SQL, on both backends in the other tests here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from backend_cases import on_backends
from fakebot import FakeBotAPI
from sqlalchemy import update
from test_retraction import NOTICE, PRIVATE, Env, fresh, retraction_env, subscribe_chat

from feedsvc.articles import Article
from feedsvc.db import Database
from feedsvc.db.schema import alert_followups, deliveries
from feedsvc.retraction.plan import OnWithdraw

TITLES = ("Công an Kiến Thụy: vụ một", "Công an Kiến Thụy: vụ hai", "Công an Kiến Thụy: vụ ba")


@pytest.fixture
async def env(db: Database, fake: FakeBotAPI) -> AsyncIterator[Env]:
    async with retraction_env(db, fake) as e:
        yield e


async def _digest(env: Env, count: int) -> tuple[list[Article], int]:
    """``count`` articles sent to the private chat, recorded as one digest message (as the
    digest sender records a part: one message id on every delivery it carries)."""
    subscribe_chat(env.db, PRIVATE, "private", "an-ninh")
    items = [fresh(n + 1, title=TITLES[n]) for n in range(count)]
    env.publish(*items)
    await env.dispatch()
    mid = min(m.message_id for m in env.fake.messages(PRIVATE))
    with env.db.write() as conn:
        conn.execute(update(deliveries).values(message_id=mid, digest=True))
    return items, mid


def _listed(env: Env, mid: int) -> list[str]:
    """The titles the message lists now (NOTICE when it reads as the notice)."""
    live = env.fake.live(PRIVATE, mid)
    if live.visible == NOTICE:
        return [NOTICE]
    assert live.visible.startswith("Tin tổng hợp"), live.visible
    return [t for t in TITLES if t in live.visible]


async def _follow(env: Env, mode: OnWithdraw) -> None:
    await env.follow_up(env.worker(on_withdraw=mode))


@pytest.mark.parametrize(
    ("db_url", "column"), on_backends(["withdrawn_at", "hidden_at"]), indirect=["db_url"]
)
async def test_withdrawn_then_published_again_the_digest_lists_what_is_public(
    env: Env, column: str
) -> None:
    """The tester's sequence, withdrawn by the source or hidden by an editor."""
    _items, mid = await _digest(env, 2)
    sends = len(env.fake.messages(PRIVATE))
    env.retire("TEST-00001", column)
    await _follow(env, OnWithdraw.EDIT)
    assert _listed(env, mid) == [TITLES[1]]  # was: both still listed ("kept")
    env.retire("TEST-00002", column)
    await _follow(env, OnWithdraw.EDIT)
    assert _listed(env, mid) == [NOTICE]
    env.restore("TEST-00002", column)
    await _follow(env, OnWithdraw.EDIT)
    assert _listed(env, mid) == [TITLES[1]]  # was: the notice for ever
    env.restore("TEST-00001", column)
    await _follow(env, OnWithdraw.EDIT)
    assert _listed(env, mid) == [TITLES[0], TITLES[1]]
    assert env.fake.live(PRIVATE, mid).visible.startswith("Tin tổng hợp · 2 tin")
    assert len(env.fake.messages(PRIVATE)) == sends  # nothing sent again
    outcomes = env.rows(alert_followups.c.id, alert_followups.c.kind, alert_followups.c.outcome)
    assert ("retract", "kept") not in {(k, o) for _, k, o in outcomes}, outcomes


async def test_one_of_three_restored_while_another_stays_withdrawn(env: Env) -> None:
    _items, mid = await _digest(env, 3)
    for key in ("TEST-00001", "TEST-00003"):
        env.retire(key)
    await _follow(env, OnWithdraw.EDIT)
    assert _listed(env, mid) == [TITLES[1]]
    env.restore("TEST-00003", "withdrawn_at")
    await _follow(env, OnWithdraw.EDIT)
    assert _listed(env, mid) == [TITLES[1], TITLES[2]]  # vụ một still withdrawn: not listed


async def test_under_delete_a_digest_with_public_articles_is_edited_not_deleted(
    env: Env,
) -> None:
    """``on_withdraw = "delete"``: deleting the message for one withdrawn article would take
    the public ones with it; it is edited to list them, and deleted once none is public."""
    _items, mid = await _digest(env, 2)
    env.retire("TEST-00002")
    await _follow(env, OnWithdraw.DELETE)
    assert _listed(env, mid) == [TITLES[0]] and not env.fake.live(PRIVATE, mid).deleted
    env.retire("TEST-00001")
    await _follow(env, OnWithdraw.DELETE)
    assert env.fake.live(PRIVATE, mid).deleted


async def test_a_correction_of_one_article_edits_the_digest(env: Env) -> None:
    """Was ``kept`` ("digest message shared by 2"): the digest kept the old title."""
    items, mid = await _digest(env, 2)
    fixed = "Công an Kiến Thụy: vụ một (đã sửa)"
    env.publish(replace(items[0], title=fixed, updated_at=datetime.now(UTC)))
    await _follow(env, OnWithdraw.EDIT)
    visible = env.fake.live(PRIVATE, mid).visible
    assert fixed in visible and TITLES[1] in visible, visible
    assert [(k, o) for _, k, o in env.outcomes()] == [("correct", "edited")]
