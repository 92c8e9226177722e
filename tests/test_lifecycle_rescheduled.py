"""An article public and alerted, then moved into the future by a correction (a newer
``updated_at`` with a later ``published_at``: the newsroom published too early and rescheduled),
SPEC §10 "no alert shows it until its time": its sent alerts are retracted as
``telegram.on_withdraw`` says (the notice saying it was rescheduled, not withdrawn), its alerts
still queued wait for its new time, and its new time alerts no chat twice. Through the built-in
source's ingest, the due check, the dispatcher and the follow-up worker, against the fake Bot
API over real HTTP, on SQLite and PostgreSQL; time is the world's injected clock.

The notice's ``on_withdraw`` cases and the held alert's start are given one backend each
(``backend_cases.on_backends``): they pick what the follow-up asks of Telegram and where the
quiet window begins, while the rows are read and written by the same statements."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest
import test_lifecycle_dispatch as dispatching
from backend_cases import on_backends
from factories import VN, article
from fakebot import FakeBotAPI
from lifecycle_world import CHAT, SLUG, Clock, World, make_world
from sqlalchemy import select, update

from feedsvc.articles import Article
from feedsvc.catalogue import Translator
from feedsvc.channels.telegram import TelegramChannel
from feedsvc.db import Database
from feedsvc.db.schema import alert_followups, chats, deliveries
from feedsvc.digest import ChatSettings, QuietWindow
from feedsvc.digest.edge import DigestEdge
from feedsvc.dispatch import Dispatcher, DispatchSettings
from feedsvc.notify import TelegramSender
from feedsvc.retraction.plan import OnWithdraw
from feedsvc.retraction.worker import FollowupSettings, FollowupWorker
from feedsvc.store import digests as held
from feedsvc.store.subscriptions import ensure_chat, subscribe
from feedsvc.store.topics import get_topic

WITHDRAWN = "Tin này đã được gỡ bỏ."
NEWCOMER = 4343  # a chat that subscribes after the first alert
RESCHEDULE_GRACE = timedelta(minutes=1)  # followup_queue.RESCHEDULE_GRACE, as the README says


def rescheduled_notice() -> str:
    """The notice as the chat shows it (the catalogue's HTML without its tags)."""
    return Translator("vi")("bot.alert_rescheduled").replace("<i>", "").replace("</i>", "")


# the fake Bot API and a sender on it, as the dispatcher's lifecycle tests have them
fake = dispatching.fake
sender = dispatching.sender


async def until(predicate: Callable[[], bool], timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await asyncio.to_thread(predicate):
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.03)


async def dispatch(w: World, sender: TelegramSender) -> None:
    """One dispatcher step on the world's clock, every send it started finished."""
    d = Dispatcher(w.db, sender, VN, DispatchSettings(poll_seconds=0.05, backoff_base=0.05),
                   digests=DigestEdge(VN), clock=w.clock)  # fmt: skip
    await d.step()
    await d.drain()


def open_followups(w: World) -> list[str]:
    with w.db.read() as conn:
        return list(conn.execute(select(alert_followups.c.state)).scalars())


async def follow_up(w: World, sender: TelegramSender, **cfg: object) -> FollowupWorker:
    """Run a follow-up worker until its first sweep has run and no follow-up is open."""
    base = FollowupSettings(poll_seconds=0.5, sweep_seconds=0.5, backoff_base=0.05)
    settings = replace(base, **cfg)  # type: ignore[arg-type]
    worker = FollowupWorker(w.db, TelegramChannel(sender, VN), VN, settings)
    task = asyncio.create_task(worker.run())
    try:
        await until(lambda: worker.last_sweep is not None)
        await until(lambda: all(s == "done" for s in open_followups(w)))
    finally:
        worker.stop()
        await task
    return worker


def outcomes(w: World) -> list[tuple[str, str | None, str | None]]:
    with w.db.read() as conn:
        stmt = select(alert_followups.c.kind, alert_followups.c.outcome, alert_followups.c.error)
        return [tuple(r) for r in conn.execute(stmt.order_by(alert_followups.c.id))]  # type: ignore[misc]


def delivery(w: World, chat: int = CHAT) -> tuple[str, int | None, datetime]:
    with w.db.read() as conn:
        stmt = select(deliveries.c.state, deliveries.c.message_id, deliveries.c.due_at)
        state, mid, due = conn.execute(stmt.where(deliveries.c.chat_id == chat)).one()
    return state, mid, due


def sends(fake: FakeBotAPI) -> int:
    return sum(c.method == "sendmessage" for c in fake.calls)


def moved(item: Article, w: World, when: datetime) -> Article:
    """The CMS's correction: the same article, edited now, published at ``when``."""
    return replace(item, published_at=when, updated_at=w.clock())


async def alerted(w: World, fake: FakeBotAPI, sender: TelegramSender) -> tuple[Article, int]:
    """A public article, alerted to CHAT; the clock then moves past the chat's pacing slot."""
    item = article(1, published_at=w.clock() - timedelta(minutes=5),
                   updated_at=w.clock() - timedelta(minutes=5))  # fmt: skip
    w.publish(item)
    await dispatch(w, sender)
    state, mid, _ = delivery(w)
    assert state == "sent" and mid is not None and sends(fake) == 1
    w.clock.advance(minutes=1)
    return item, mid


# -- (a) a sent alert ------------------------------------------------------------------------------
async def test_rescheduled_after_its_alert_the_alert_is_deleted_and_not_sent_again(
    db: Database, fake: FakeBotAPI, sender: TelegramSender
) -> None:
    w = make_world(db, Clock())
    item, mid = await alerted(w, fake, sender)
    assert w.feed_keys("rss") == ["1.html"]
    later = w.clock() + timedelta(hours=3)
    w.publish(moved(item, w, later))
    assert w.feed_keys("rss") == []  # the feeds already followed
    await follow_up(w, sender)
    assert fake.live(CHAT, mid).deleted  # (a): the chat no longer shows it either
    assert outcomes(w) == [("retract", "deleted", None)]
    # (c) its new time: public again, in the feeds; the chat that had it is not alerted twice
    # (one alert per chat and article, ever), and the done retraction is not undone
    w.clock.now = later + timedelta(seconds=1)
    w.poll()
    assert w.feed_keys("rss") == ["1.html"]
    await dispatch(w, sender)
    await follow_up(w, sender)
    assert sends(fake) == 1 and delivery(w)[0] == "sent"
    assert outcomes(w) == [("retract", "deleted", None)]


async def test_at_its_new_time_the_chat_that_had_it_is_not_alerted_again(
    db: Database, fake: FakeBotAPI, sender: TelegramSender
) -> None:
    """(c) whatever became of its alert (here none ran: the follow-up worker was down), the
    new time alerts no chat that had it: one alert per chat and article, ever. A chat that
    subscribed meanwhile is alerted then, as for any article whose time came."""
    w = make_world(db, Clock())
    item, mid = await alerted(w, fake, sender)
    later = w.clock() + timedelta(hours=3)
    w.publish(moved(item, w, later))
    with w.db.write() as conn:
        topic = get_topic(conn, SLUG)
        assert topic is not None
        ensure_chat(conn, NEWCOMER, "private", "Biên tập viên", w.clock())
        subscribe(conn, NEWCOMER, topic_id=topic.id, query=None, now=w.clock())
    w.clock.now = later + timedelta(seconds=1)
    w.poll()
    assert w.feed_keys("rss") == ["1.html"]
    await dispatch(w, sender)
    assert len(fake.messages(CHAT)) == 1 and len(fake.messages(NEWCOMER)) == 1
    assert sends(fake) == 2 and delivery(w, CHAT)[:2] == ("sent", mid)
    await follow_up(w, sender)  # public again: nothing to retract
    assert outcomes(w) == [] and fake.live(CHAT, mid).alive


@pytest.mark.parametrize(
    ("db_url", "on_withdraw", "age_hours", "outcome"),
    on_backends(
        [(OnWithdraw.EDIT, 0, "edited"), (OnWithdraw.DELETE, 49, "edited")],
        label=lambda v: getattr(v, "value", str(v)),
    ),
    indirect=["db_url"],
)
async def test_rescheduled_alert_edited_to_a_notice_that_says_so(
    db: Database, fake: FakeBotAPI, sender: TelegramSender,
    on_withdraw: OnWithdraw, age_hours: float, outcome: str,
) -> None:  # fmt: skip
    """``edit``, or an alert older than Telegram's 48 h delete window: the notice says the
    article was rescheduled, not that it was withdrawn (it will be published)."""
    w = make_world(db, Clock())
    item, mid = await alerted(w, fake, sender)
    if age_hours:
        w.clock.advance(hours=age_hours)
        fake.age_message(CHAT, mid, age_hours * 3600)
    w.publish(moved(item, w, w.clock() + timedelta(days=1)))
    await follow_up(w, sender, on_withdraw=on_withdraw)
    live = fake.live(CHAT, mid)
    assert live.alive and live.visible == rescheduled_notice() != WITHDRAWN
    assert outcomes(w) == [("retract", outcome, None)]
    assert not [c for c in fake.calls if c.method == "deletemessage"]


async def test_keep_leaves_the_alert(
    db: Database, fake: FakeBotAPI, sender: TelegramSender
) -> None:
    w = make_world(db, Clock())
    item, mid = await alerted(w, fake, sender)
    calls = len(fake.calls)
    w.publish(moved(item, w, w.clock() + timedelta(hours=1)))
    await follow_up(w, sender, on_withdraw=OnWithdraw.KEEP)
    assert fake.live(CHAT, mid).alive and len(fake.calls) == calls
    assert outcomes(w) == [("retract", "kept", None)]


async def test_public_again_before_the_retraction_cancels_it(
    db: Database, fake: FakeBotAPI, sender: TelegramSender
) -> None:
    """The newsroom moves it back (its time passes) before the worker's turn: nothing to
    retract; the alert stays."""
    w = make_world(db, Clock())
    item, mid = await alerted(w, fake, sender)
    w.publish(moved(item, w, w.clock() + timedelta(hours=1)))
    worker = FollowupWorker(w.db, TelegramChannel(sender, VN), VN)
    swept = await asyncio.to_thread(worker.sweep)
    w.clock.advance(seconds=5)
    w.publish(moved(item, w, w.clock() - timedelta(minutes=1)))  # back to now
    await follow_up(w, sender)
    assert fake.live(CHAT, mid).alive
    assert swept == 1 and outcomes(w) == [("retract", "cancelled", "public again")]


async def test_moved_only_seconds_ahead_is_not_retracted(
    db: Database, fake: FakeBotAPI, sender: TelegramSender
) -> None:
    """A CMS clock a little ahead re-dating an edit to its "now": within a minute
    (``followup_queue.RESCHEDULE_GRACE``) the alert stays (its time comes before a delete would be
    worth it, and a deleted alert is never sent again); further ahead it is retracted."""
    w = make_world(db, Clock())
    item, mid = await alerted(w, fake, sender)
    w.publish(moved(item, w, w.clock() + RESCHEDULE_GRACE - timedelta(seconds=1)))
    worker = FollowupWorker(w.db, TelegramChannel(sender, VN), VN)
    assert await asyncio.to_thread(worker.sweep) == 0
    w.clock.advance(seconds=2)
    w.publish(moved(item, w, w.clock() + RESCHEDULE_GRACE + timedelta(seconds=5)))
    assert await asyncio.to_thread(worker.sweep) == 1
    assert fake.live(CHAT, mid).alive


# -- (b) alerts still queued -----------------------------------------------------------------------
async def test_a_queued_alert_waits_for_the_new_time(
    db: Database, fake: FakeBotAPI, sender: TelegramSender
) -> None:
    """Queued behind the chat's pacing when the article is rescheduled: not sent while the
    article is not public (it stays queued, due at the new time), sent once at that time."""
    w = make_world(db, Clock())
    with w.db.write() as conn:  # the chat's next slot is a minute away
        conn.execute(update(chats).values(next_send_at=w.clock() + timedelta(minutes=1)))
    item = article(1, published_at=w.clock() - timedelta(minutes=5),
                   updated_at=w.clock() - timedelta(minutes=5))  # fmt: skip
    w.publish(item)
    assert delivery(w)[0] == "pending"
    w.clock.advance(seconds=10)  # the CMS's edit comes a little later
    later = w.clock() + timedelta(hours=2)
    w.publish(moved(item, w, later))
    w.clock.advance(minutes=2)  # the chat's slot came
    await dispatch(w, sender)
    await follow_up(w, sender)
    assert sends(fake) == 0
    state, _, due = delivery(w)
    assert (state, due) == ("pending", later) and outcomes(w) == []
    w.clock.now = later + timedelta(seconds=1)
    w.poll()
    await dispatch(w, sender)
    assert sends(fake) == 1 and delivery(w)[0] == "sent"


def on_the_hour() -> datetime:
    """The next full hour, 5 s past (a quiet window starting at minute 0 of the hour)."""
    now = datetime.now(UTC)
    return now.replace(minute=0, second=5, microsecond=0) + timedelta(hours=1)


@pytest.mark.parametrize(
    ("db_url", "start"),
    on_backends([None, on_the_hour], start=1, label=lambda f: "on-the-hour" if f else "now"),
    indirect=["db_url"],
)
async def test_a_digest_held_alert_waits_for_the_new_time(
    db: Database, fake: FakeBotAPI, sender: TelegramSender, start: Callable[[], datetime] | None
) -> None:
    """Held for the end of the chat's quiet hours (a window from the clock's minute, whatever
    that minute is: minute 0 once started the window a minute late, a CI flake): the digest due
    before the new time leaves it out; the chat (quiet hours only) would not hold an alert at
    the new time, past the window, so it goes back to the outbox due then and goes as the alert
    a match then would be, not as a digest of one (``DigestEdge.set_later``)."""
    w = make_world(db, Clock() if start is None else Clock(start()))
    local = w.clock().astimezone(VN)
    end = local + timedelta(minutes=30)
    with w.db.write() as conn:
        held.save_settings(conn, CHAT, ChatSettings(quiet=QuietWindow(
            time(local.hour, local.minute), time(end.hour, end.minute),
        )))  # fmt: skip
    item = article(1, published_at=w.clock() - timedelta(minutes=5),
                   updated_at=w.clock() - timedelta(minutes=5))  # fmt: skip
    w.publish(item)
    await dispatch(w, sender)
    assert delivery(w)[0] == "held" and sends(fake) == 0
    w.clock.advance(seconds=10)
    later = w.clock() + timedelta(hours=2)
    w.publish(moved(item, w, later))
    w.clock.advance(minutes=31)  # the window is over: its digest is due, the article is not
    await dispatch(w, sender)
    assert sends(fake) == 0 and delivery(w)[0] == "pending"
    w.clock.now = later + timedelta(seconds=1)
    w.poll()
    await dispatch(w, sender)
    assert sends(fake) == 1 and delivery(w)[0] == "sent"
    [alert] = fake.messages(CHAT)
    assert not alert.visible.startswith("Tin tổng hợp")  # an alert, not a digest of one


# -- never public: unchanged -----------------------------------------------------------------------
async def test_a_scheduled_article_moved_later_is_alerted_once_at_its_time(
    db: Database, fake: FakeBotAPI, sender: TelegramSender
) -> None:
    w = make_world(db, Clock())
    first = w.clock() + timedelta(hours=1)
    item = article(1, published_at=first, updated_at=w.clock())
    w.publish(item)
    w.clock.advance(minutes=1)
    later = w.clock() + timedelta(hours=3)
    w.publish(moved(item, w, later))
    await follow_up(w, sender)
    w.clock.now = first + timedelta(seconds=1)
    w.poll()
    await dispatch(w, sender)
    assert sends(fake) == 0 and outcomes(w) == []
    w.clock.now = later + timedelta(seconds=1)
    w.poll()
    await dispatch(w, sender)
    assert sends(fake) == 1 and delivery(w)[0] == "sent"
    await follow_up(w, sender)
    assert outcomes(w) == [] and fake.live(CHAT, delivery(w)[1] or 0).alive
