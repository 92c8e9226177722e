"""A correction stored while its alerted article is not public — moved a little ahead (a CMS
clock re-dating the edit), scheduled further ahead, hidden, withdrawn — edits the sent alert
once the article is public again, to its newest text, once (SPEC §10,
``store.owed_corrections``). A tester's report: the import of a correction with a new title and
summary and ``published_at`` 10 s ahead left the chat's alert on the old words for good (no
edit, ``correction: null``), while the feeds showed the new title 10 s later.

Through the built-in source's ingest with the correction hook (as ``release_hooks`` has it),
the due check, the dispatcher and the follow-up worker, against the fake Bot API over real
HTTP; time is the world's injected clock (``lifecycle_world.Clock``, also the DB's ``now``).
The shown input runs on both backends, the variants one backend each (``on_backends``: the
same statements pick the rows)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
import test_lifecycle_dispatch as dispatching
from backend_cases import on_backends
from factories import VN, article
from fakebot import FakeBotAPI
from lifecycle_world import CHAT, Clock, World, make_world
from sqlalchemy import select, update
from test_lifecycle_rescheduled import dispatch, follow_up, outcomes, rescheduled_notice, sends

from feedsvc.articles import Article
from feedsvc.channels.telegram import TelegramChannel
from feedsvc.db import Database
from feedsvc.db.schema import articles, deliveries
from feedsvc.notify import TelegramSender
from feedsvc.retraction.hooks import Corrections
from feedsvc.retraction.plan import OnWithdraw
from feedsvc.retraction.worker import FollowupWorker
from feedsvc.store.delivery_log import list_deliveries

fake = dispatching.fake
sender = dispatching.sender

OLD_TITLE, OLD_SUMMARY = "Kiến Thụy bản gốc ZQR2", "gốc"
NEW_TITLE, NEW_SUMMARY = "Kiến Thụy đã sửa tiêu đề ZQR2", "tóm tắt mới"


def world(db: Database, edit_on_update: bool = True) -> World:
    w = make_world(db, Clock())
    w.ing.hooks.append(Corrections(edit_on_update))  # the service's release_hooks order
    return w


async def alerted(w: World, sender: TelegramSender, fake: FakeBotAPI) -> tuple[Article, int]:
    """The tester's article A-R2, public 3 minutes ago, alerted to CHAT; then a minute on."""
    three_ago = w.clock() - timedelta(minutes=3)
    item = article(2, source_key="A-R2", url="https://baothu.example.vn/R2", title=OLD_TITLE,
                   summary=OLD_SUMMARY, published_at=three_ago, updated_at=three_ago)  # fmt: skip
    w.publish(item)
    await dispatch(w, sender)
    [alert] = fake.messages(CHAT)
    assert OLD_TITLE in alert.visible and sends(fake) == 1
    w.clock.advance(minutes=1)
    return item, alert.message_id


def corrected(item: Article, w: World, ahead: timedelta, n: int = 0, **over: object) -> Article:
    """The correction: edited now, a new title and summary, published ``ahead`` of now."""
    title = NEW_TITLE if not n else f"{NEW_TITLE} lần {n}"
    return replace(item, title=title, summary=NEW_SUMMARY, published_at=w.clock() + ahead,
                   updated_at=w.clock(), **over)  # type: ignore[arg-type]  # fmt: skip


def correction_logged(w: World) -> str | None:
    with w.db.read() as conn:
        [row], _ = list_deliveries(conn)
    return row.correction


def owed_mark(w: World) -> object:
    with w.db.read() as conn:
        return conn.execute(select(articles.c.correction_owed_at)).scalar_one()


async def follow_up_paced(w: World, sender: TelegramSender) -> None:
    """:func:`follow_up` for two follow-ups of one chat: the second waits for the chat's
    pacing slot (1 s on the world's clock, booked by the first's claim), so the clock moves
    on a second at a time while the worker runs."""
    task = asyncio.create_task(follow_up(w, sender))
    while not task.done():
        await asyncio.sleep(0.2)
        w.clock.advance(seconds=1)
    await task


# -- the tester's input ----------------------------------------------------------------------------
async def test_a_correction_published_10s_ahead_edits_the_alert_when_it_is_public(
    db: Database, fake: FakeBotAPI, sender: TelegramSender
) -> None:
    w = world(db)
    item, mid = await alerted(w, sender, fake)
    w.publish(corrected(item, w, timedelta(seconds=10)))
    assert w.feed_keys("rss") == []  # not public for 10 s
    await follow_up(w, sender)
    live = fake.live(CHAT, mid)
    assert live.edits == [] and OLD_TITLE in live.visible  # not before its time
    w.clock.advance(seconds=11)
    w.poll()
    assert w.feed_keys("rss") == ["R2"]
    await follow_up(w, sender)
    live = fake.live(CHAT, mid)
    assert NEW_TITLE in live.visible and NEW_SUMMARY in live.visible
    assert len(live.edits) == 1 and sends(fake) == 1  # edited once, nothing sent again
    assert outcomes(w) == [("correct", "edited", None)]
    assert correction_logged(w) == "edited" and owed_mark(w) is None
    await follow_up(w, sender)  # a later sweep owes nothing more
    assert len(fake.live(CHAT, mid).edits) == 1


@pytest.mark.parametrize("db_url", on_backends([()], start=1), indirect=True)
async def test_two_corrections_while_45s_ahead_edit_once_to_the_newest(
    db: Database, fake: FakeBotAPI, sender: TelegramSender
) -> None:
    w = world(db)
    item, mid = await alerted(w, sender, fake)
    first = corrected(item, w, timedelta(seconds=45), n=1)
    w.publish(first)
    await follow_up(w, sender)
    w.clock.advance(seconds=5)
    w.publish(corrected(item, w, timedelta(seconds=40), n=2))
    await follow_up(w, sender)
    assert fake.live(CHAT, mid).edits == []
    w.clock.advance(seconds=41)
    w.poll()
    await follow_up(w, sender)
    live = fake.live(CHAT, mid)
    assert f"{NEW_TITLE} lần 2" in live.visible and len(live.edits) == 1
    assert outcomes(w) == [("correct", "edited", None)]


@pytest.mark.parametrize(
    ("db_url", "on_withdraw"),
    on_backends([OnWithdraw.EDIT, OnWithdraw.DELETE, OnWithdraw.KEEP], label=str),
    indirect=["db_url"],
)
async def test_a_move_under_a_minute_retracts_nothing_and_edits_at_its_time(
    db: Database, fake: FakeBotAPI, sender: TelegramSender, on_withdraw: OnWithdraw
) -> None:
    w = world(db)
    item, mid = await alerted(w, sender, fake)
    w.publish(corrected(item, w, timedelta(seconds=30)))
    await follow_up(w, sender, on_withdraw=on_withdraw)
    assert fake.live(CHAT, mid).edits == [] and outcomes(w) == []
    w.clock.advance(seconds=31)
    w.poll()
    await follow_up(w, sender, on_withdraw=on_withdraw)
    live = fake.live(CHAT, mid)
    assert live.alive and NEW_TITLE in live.visible and len(live.edits) == 1
    assert outcomes(w) == [("correct", "edited", None)]


# -- further ahead: retracted first, as on_withdraw says -------------------------------------------
#: what a move of an hour leaves at its time, per ``on_withdraw``: the follow-ups, the edits
AN_HOUR = {
    OnWithdraw.EDIT: ([("retract", "restored", "public again"), ("correct", "edited", None)],
                      2),  # the notice, then the article's newest text (one restoring edit)
    OnWithdraw.KEEP: ([("retract", "kept", None), ("correct", "edited", None)], 1),
}  # fmt: skip


@pytest.mark.parametrize(
    ("db_url", "on_withdraw"), on_backends(list(AN_HOUR), label=str), indirect=["db_url"]
)
async def test_a_move_of_an_hour_then_its_time_shows_the_newest_text(
    db: Database, fake: FakeBotAPI, sender: TelegramSender, on_withdraw: OnWithdraw
) -> None:
    """``edit``: the rescheduled notice, restored to the corrected alert at its time; ``keep``:
    the alert left as it was until its time, then corrected (it kept the old title for good:
    a kept retraction barred every correction)."""
    w = world(db)
    item, mid = await alerted(w, sender, fake)
    w.publish(corrected(item, w, timedelta(hours=1)))
    await follow_up(w, sender, on_withdraw=on_withdraw)
    live = fake.live(CHAT, mid)
    assert (live.visible == rescheduled_notice()) is (on_withdraw is OnWithdraw.EDIT)
    w.clock.advance(hours=1, seconds=1)
    w.poll()
    await follow_up(w, sender, on_withdraw=on_withdraw)
    live = fake.live(CHAT, mid)
    assert NEW_TITLE in live.visible and NEW_SUMMARY in live.visible
    expected, edits = AN_HOUR[on_withdraw]
    assert len(live.edits) == edits and sends(fake) == 1
    assert outcomes(w) == expected


@pytest.mark.parametrize("db_url", on_backends([()]), indirect=True)
async def test_a_move_of_an_hour_deletes_and_its_time_sends_nothing_again(
    db: Database, fake: FakeBotAPI, sender: TelegramSender
) -> None:
    """``delete`` (the default): deleted within 48 h; its time neither sends it again nor
    calls on the deleted message (README: a deleted alert is not brought back)."""
    w = world(db)
    item, mid = await alerted(w, sender, fake)
    w.publish(corrected(item, w, timedelta(hours=1)))
    await follow_up(w, sender)
    assert fake.live(CHAT, mid).deleted
    calls = len(fake.calls)
    w.clock.advance(hours=1, seconds=1)
    w.poll()
    await dispatch(w, sender)
    await follow_up(w, sender)
    assert len(fake.calls) == calls and outcomes(w) == [("retract", "deleted", None)]
    assert owed_mark(w) is None


@pytest.mark.parametrize("db_url", on_backends([()], start=1), indirect=True)
async def test_its_time_come_before_the_retractions_turn_still_edits(
    db: Database, fake: FakeBotAPI, sender: TelegramSender
) -> None:
    """The retraction was queued but its time came first (the chat paced, the worker down):
    the retraction is cancelled and the correction made with the move goes out."""
    w = world(db)
    item, mid = await alerted(w, sender, fake)
    w.publish(corrected(item, w, timedelta(minutes=5)))
    worker = FollowupWorker(w.db, TelegramChannel(sender, VN), VN)
    assert await asyncio.to_thread(worker.sweep) == 1
    w.clock.advance(minutes=5, seconds=1)
    w.poll()
    await follow_up_paced(w, sender)
    live = fake.live(CHAT, mid)
    assert live.alive and NEW_TITLE in live.visible and len(live.edits) == 1
    assert outcomes(w) == [("retract", "cancelled", "public again"), ("correct", "edited", None)]


# -- withdrawn, then published again ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("db_url", "on_withdraw", "edits"),
    on_backends([(OnWithdraw.KEEP, 1), (OnWithdraw.EDIT, 2)], label=str),
    indirect=["db_url"],
)
async def test_a_correction_while_withdrawn_edits_on_republish(
    db: Database, fake: FakeBotAPI, sender: TelegramSender, on_withdraw: OnWithdraw, edits: int
) -> None:
    w = world(db)
    item, mid = await alerted(w, sender, fake)
    w.publish(replace(item, updated_at=w.clock(), withdrawn=True))
    await follow_up(w, sender, on_withdraw=on_withdraw)
    w.clock.advance(seconds=10)
    fixed = corrected(item, w, timedelta(minutes=-3), withdrawn=True)
    w.publish(fixed)  # corrected while withdrawn
    await follow_up(w, sender, on_withdraw=on_withdraw)
    w.clock.advance(seconds=10)
    w.publish(replace(fixed, updated_at=w.clock(), withdrawn=False))  # the same text, public
    await follow_up(w, sender, on_withdraw=on_withdraw)
    live = fake.live(CHAT, mid)
    assert NEW_TITLE in live.visible and len(live.edits) == edits
    assert correction_logged(w) == "edited"


# -- bounds ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("db_url", on_backends([()], start=1), indirect=True)
async def test_past_48h_or_switched_off_no_edit(
    db: Database, fake: FakeBotAPI, sender: TelegramSender
) -> None:
    """An alert sent more than 48 h before the article is public again is not edited; with
    ``telegram.edit_on_update = false`` nothing is owed."""
    w = world(db)
    item, mid = await alerted(w, sender, fake)
    with w.db.write() as conn:  # sent 47 h 59 min ago
        conn.execute(update(deliveries).values(
            finished_at=w.clock() - timedelta(hours=47, minutes=59)))  # fmt: skip
    w.publish(corrected(item, w, timedelta(seconds=50)))
    w.clock.advance(seconds=61)  # 48 h passed meanwhile
    w.poll()
    await follow_up(w, sender)
    assert fake.live(CHAT, mid).edits == [] and outcomes(w) == [] and owed_mark(w) is None
    w.ing.hooks[-1] = Corrections(False)
    w.publish(corrected(item, w, timedelta(seconds=30), n=3))
    assert owed_mark(w) is None
