"""An alert edited into the removal notice is edited back when its article is public again
(SPEC §10; a tester's report: with ``on_withdraw = "edit"`` a withdrawn then republished
article kept "Tin này đã được gỡ bỏ." in the chat, and its new title queued no correction).

End to end through ingest, the dispatcher and the follow-up worker against the fake Bot API
(real HTTP), on SQLite and PostgreSQL; the assertions read what the fake received (the edits'
bodies, the message as it stands) and what the delivery log records.

A new title or the same content, and one edit or two before the restore runs, are each given one
state DB backend, rotating (``backend_cases.on_backends``): they change what the worker edits,
not the SQL it runs (the same queue and correction statements for every value, on both
backends in the tests here without such a value); each test keeps a PostgreSQL case.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from backend_cases import on_backends
from factories import VN
from fakebot import FakeBotAPI, Fault
from test_retraction import (
    GROUP,
    NOTICE,
    PRIVATE,
    Env,
    _alerted,
    _until,
    fresh,
    retraction_env,
    subscribe_chat,
)

from feedsvc.articles import Article
from feedsvc.db import Database
from feedsvc.db.schema import alert_followups, deliveries
from feedsvc.dispatch import Dispatcher, DispatchSettings
from feedsvc.retraction.plan import OnWithdraw
from feedsvc.store.delivery_log import list_deliveries

NEW_TITLE = "Công an huyện Kiến Thụy bắt đối tượng trộm cắp tài sản"
PHOTO = "https://img.example/1.jpg"
EDIT = {"on_withdraw": OnWithdraw.EDIT}


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


@pytest.fixture
async def env(db: Database, fake: FakeBotAPI) -> AsyncIterator[Env]:
    async with retraction_env(db, fake) as e:
        yield e


def _withdraw(env: Env, item: Article, seconds: int) -> Article:
    """The import line of a takedown: ``"withdrawn": true``, a newer ``updated_at``."""
    gone = replace(item, withdrawn=True, updated_at=datetime.now(UTC) + timedelta(seconds=seconds))
    env.publish(gone)
    return gone


def _republish(env: Env, item: Article, seconds: int, **change: object) -> Article:
    back = replace(
        item, withdrawn=False, updated_at=datetime.now(UTC) + timedelta(seconds=seconds), **change
    )
    env.publish(back)
    return back


def _kinds(env: Env) -> list[tuple[object, ...]]:
    rows = env.rows(
        alert_followups.c.delivery_id, alert_followups.c.kind, alert_followups.c.outcome
    )
    return sorted((k, o) for _, k, o in rows)


async def _photo_alerted(env: Env, item: Article) -> int:
    subscribe_chat(env.db, PRIVATE, "private", "an-ninh")
    env.publish(item)
    d = Dispatcher(env.db, env.sender, VN, DispatchSettings(images=True, poll_seconds=0.5))
    task = asyncio.create_task(d.run())
    await _until(lambda: bool(env.sent()))
    d.stop()
    await task
    mid = env.sent()[PRIVATE]
    assert env.fake.live(PRIVATE, mid).photo == PHOTO
    return mid


# -- the tester's input --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("db_url", "title"),
    on_backends([NEW_TITLE, None], label=lambda t: "new-title" if t else "same-content"),
    indirect=["db_url"],
)
async def test_a_republished_article_takes_its_notice_back(env: Env, title: str | None) -> None:
    """Alert → withdrawn (edited to the notice) → published again, with a new title or not:
    every chat's alert reads as the article's current alert again (the text a correction
    sends), edited with ``editMessageText``, nothing new sent."""
    first = fresh(1)
    sent = await _alerted(env, first)
    _withdraw(env, first, 1)
    await env.follow_up(env.worker(**EDIT))
    assert all(env.fake.live(c, m).visible == NOTICE for c, m in sent.items())
    change = {"title": title} if title else {}
    _republish(env, first, 2, **change)
    await env.follow_up(env.worker(**EDIT))
    shown = title or first.title
    for chat_id, mid in sent.items():
        live = env.fake.live(chat_id, mid)
        assert live.alive and live.kind == "text"
        assert NOTICE not in live.visible and shown in live.visible
        assert len(live.edits) == 2 and shown in live.edits[-1]  # the notice, then the alert
    assert _kinds(env) == [("correct", "edited")] * 2 + [("retract", "restored")] * 2
    edits = [c.method for c in env.fake.calls if c.method.startswith("edit")]
    assert edits == ["editmessagetext"] * 4
    assert len(env.fake.all_messages) == 2  # no new message
    with env.db.read() as conn:
        rows, _ = list_deliveries(conn)
    assert {(r.retraction, r.correction) for r in rows} == {("restored", "edited")}


async def test_the_restored_alert_keeps_its_buttons(env: Env) -> None:
    """A notice has no buttons; the alert edited back gets them again, as a correction does."""
    from feedsvc.channels.telegram import TelegramChannel
    from feedsvc.digest.edge import DigestEdge
    from feedsvc.retraction.worker import FollowupSettings, FollowupWorker

    first = fresh(1)
    sent = await _alerted(env, first)
    keyboards = {m.chat_id: m.keyboard for m in env.fake.all_messages}
    _withdraw(env, first, 1)
    await env.follow_up(env.worker(**EDIT))
    assert all(env.fake.markups[(c, m)] is None for c, m in sent.items())
    _republish(env, first, 2)
    settings = FollowupSettings(
        on_withdraw=OnWithdraw.EDIT, backoff_base=0.05, poll_seconds=0.5, sweep_seconds=0.5
    )
    worker = FollowupWorker(
        env.db, TelegramChannel(env.sender, VN), VN, settings, digests=DigestEdge(VN)
    )
    await env.follow_up(worker)
    for chat_id, mid in sent.items():
        markup = env.fake.markups[(chat_id, mid)]
        assert markup is not None and markup["inline_keyboard"] == keyboards[chat_id]


@pytest.mark.parametrize(
    ("db_url", "title"),
    on_backends(
        [NEW_TITLE, None],
        start=1,
        label=lambda t: "new-title" if t else "same-content",
    ),
    indirect=["db_url"],
)
async def test_a_photo_alert_gets_its_picture_and_caption_back(env: Env, title: str | None) -> None:
    """A photo alert's notice replaced its picture by a blank one (``editMessageMedia``); the
    restore puts the article's picture back (the URL it was sent with) under its caption."""
    first = fresh(1, image_url=PHOTO)
    mid = await _photo_alerted(env, first)
    _withdraw(env, first, 1)
    await env.follow_up(env.worker(images=True, **EDIT))
    live = env.fake.live(PRIVATE, mid)
    assert live.visible == NOTICE and str(live.photo).startswith("<upload")
    _republish(env, first, 2, **({"title": title} if title else {}))
    await env.follow_up(env.worker(images=True, **EDIT))
    live = env.fake.live(PRIVATE, mid)
    shown = title or first.title
    assert live.kind == "caption" and live.photo == PHOTO
    assert shown in live.visible and NOTICE not in live.visible
    assert shown in live.edits[-1]
    edits = [c.method for c in env.fake.calls if c.method.startswith("edit")]
    assert edits == ["editmessagemedia", "editmessagemedia"]
    assert _kinds(env) == [("correct", "edited"), ("retract", "restored")]


@pytest.mark.parametrize(
    ("db_url", "edits"), on_backends([1, 2], label=lambda n: f"edits{n}"), indirect=["db_url"]
)
async def test_an_edit_saved_before_the_restore_runs_keeps_it_a_restore(
    env: Env, edits: int
) -> None:
    """A reviewer's: the sweep queued the restore, then the CMS saved the article again (or
    twice) before the worker's turn; the correction re-armed it as a plain caption edit, and
    the chat kept the blank picture for good under the new words."""
    first = fresh(1, image_url=PHOTO)
    mid = await _photo_alerted(env, first)
    _withdraw(env, first, 1)
    await env.follow_up(env.worker(images=True, **EDIT))
    _republish(env, first, 2)
    worker = env.worker(images=True, **EDIT)
    await asyncio.to_thread(worker.sweep)  # the restore queued
    for n in range(edits):
        _republish(env, first, 3 + n, title=f"{NEW_TITLE} {n}")
    await env.follow_up(worker)
    live = env.fake.live(PRIVATE, mid)
    assert live.photo == PHOTO and f"{NEW_TITLE} {edits - 1}" in live.visible
    assert NOTICE not in live.visible


async def test_a_refused_picture_still_restores_the_caption(env: Env) -> None:
    """The article's picture refused at the restore (its URL gone): the caption is edited
    (``editMessageCaption``), the notice never left standing."""
    first = fresh(1, image_url=PHOTO)
    mid = await _photo_alerted(env, first)
    _withdraw(env, first, 1)
    await env.follow_up(env.worker(images=True, **EDIT))
    env.fake.script(PRIVATE, Fault.photo_rejected().on("editmessagemedia"))
    _republish(env, first, 2, title=NEW_TITLE)
    await env.follow_up(env.worker(images=True, **EDIT))
    live = env.fake.live(PRIVATE, mid)
    assert NEW_TITLE in live.visible and NEW_TITLE in live.edits[-1]
    edits = [c.method for c in env.fake.calls if c.method.startswith("edit")]
    assert edits[-2:] == ["editmessagemedia", "editmessagecaption"]
    assert _kinds(env) == [("correct", "edited"), ("retract", "restored")]


# -- withdrawn again, and the retraction not done yet ---------------------------------------------
async def test_withdrawn_again_after_a_restore_ends_as_the_notice(env: Env) -> None:
    first = fresh(1)
    sent = await _alerted(env, first)
    _withdraw(env, first, 1)
    await env.follow_up(env.worker(**EDIT))
    back = _republish(env, first, 2, title=NEW_TITLE)
    await env.follow_up(env.worker(**EDIT))
    assert all(NEW_TITLE in env.fake.live(c, m).visible for c, m in sent.items())
    _withdraw(env, back, 3)
    await env.follow_up(env.worker(**EDIT))
    for chat_id, mid in sent.items():
        live = env.fake.live(chat_id, mid)
        assert live.visible == NOTICE and NOTICE in live.edits[-1] and len(live.edits) == 3
    assert _kinds(env) == [("correct", "edited")] * 2 + [("retract", "edited")] * 2
    _republish(env, back, 4)  # and back once more: the same rule again
    await env.follow_up(env.worker(**EDIT))
    assert all(NEW_TITLE in env.fake.live(c, m).visible for c, m in sent.items())


async def test_back_before_the_retractions_turn_shows_the_new_title(env: Env) -> None:
    """The retraction queued, not yet done, when the article comes back with a new title: the
    retraction is cancelled and the correction is owed (it was not: the chat kept the old
    title)."""
    first = fresh(1)
    sent = await _alerted(env, first)
    _withdraw(env, first, 1)
    await asyncio.to_thread(env.worker(**EDIT).sweep)  # queued, not done
    _republish(env, first, 2, title=NEW_TITLE)
    await env.follow_up(env.worker(**EDIT))
    for chat_id, mid in sent.items():
        live = env.fake.live(chat_id, mid)
        assert NEW_TITLE in live.visible and all(NOTICE not in e for e in live.edits)
    assert _kinds(env) == [("correct", "edited")] * 2 + [("retract", "cancelled")] * 2


async def test_back_while_the_notice_is_in_flight_is_restored_after_it(env: Env) -> None:
    """The notice's edit already on its way when the article comes back: it lands, then the
    sweep finds a notice over a public article and takes it back."""
    first = fresh(1)
    subscribe_chat(env.db, PRIVATE, "private", "an-ninh")
    env.publish(first)
    await env.dispatch()
    (mid,) = env.sent().values()
    release = threading.Event()
    env.fake.script(PRIVATE, Fault.held(release).on("editmessagetext"))
    _withdraw(env, first, 1)
    worker = env.worker(**EDIT)
    task = asyncio.create_task(worker.run())
    try:
        await env.fake.await_for(lambda: env.fake.in_flight == 1, 30)
        await asyncio.to_thread(_republish, env, first, 2)
        release.set()
        await _until(lambda: _kinds(env) == [("correct", "edited"), ("retract", "restored")])
    finally:
        release.set()
        worker.stop()
        await task
    live = env.fake.live(PRIVATE, mid)
    assert NOTICE in live.edits[0] and first.title in live.visible


# -- what is not restored ------------------------------------------------------------------------
async def test_past_the_window_or_deleted_nothing_is_restored(env: Env) -> None:
    """An alert sent more than 48 h ago keeps its notice (the corrections' window); a deleted
    alert is not sent again (one alert per chat and article)."""
    first, second = fresh(1), fresh(2, title="Công an Kiến Thụy: tin hai")
    await _alerted(env, first, second)
    mids = dict(
        ((a, c), m)
        for a, c, m in env.rows(
            deliveries.c.article_id, deliveries.c.chat_id, deliveries.c.message_id
        )
    )
    env.fake.script(GROUP, Fault.cant_delete())
    _withdraw(env, first, 1)
    await env.follow_up(env.worker())  # delete: PRIVATE deleted, GROUP refused → notice
    _republish(env, first, 2)
    await env.follow_up(env.worker())
    assert env.fake.live(PRIVATE, mids[(1, PRIVATE)]).deleted
    assert first.title in env.fake.live(GROUP, mids[(1, GROUP)]).visible  # refused: restored
    env.age_sent(49)
    _withdraw(env, second, 1)
    await env.follow_up(env.worker())
    calls = len(env.fake.calls)
    _republish(env, second, 2)
    await env.follow_up(env.worker())
    assert len(env.fake.calls) == calls
    assert all(env.fake.live(c, mids[(2, c)]).visible == NOTICE for c in (PRIVATE, GROUP))
    assert len(env.fake.all_messages) == 4
