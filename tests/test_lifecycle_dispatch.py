"""The check at send time (issue #13 §2): an alert whose article is hidden or withdrawn after
the dispatcher claimed it never goes out (Telegram is the fake Bot API over real HTTP), and one
whose article was moved into the future waits for its time. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from factories import VN, article
from fakebot import FakeBotAPI
from lifecycle_world import CHAT, Clock, World, make_world
from patience import PATIENT_READ_TIMEOUT
from sqlalchemy import select, update

from feedsvc.db import Database
from feedsvc.db.schema import articles, deliveries
from feedsvc.dispatch import Dispatcher, DispatchSettings
from feedsvc.lifecycle.editors import hide_article
from feedsvc.notify import TelegramSender


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


@pytest.fixture
async def sender(fake: FakeBotAPI) -> AsyncIterator[TelegramSender]:
    # connect: 5 s, a loopback connect timed out at 0.5 s under CI's load
    s = TelegramSender(
        fake.token, base_url=fake.base_url, read_timeout=PATIENT_READ_TIMEOUT, connect_timeout=5
    )
    await s.start()
    yield s
    await s.close()


async def claim_then(w: World, sender: TelegramSender, action: Callable[[], None]) -> Dispatcher:
    """One dispatcher step whose claim is followed at once by ``action`` (the article changes
    while the alert is leased), then every send it started is finished and recorded."""
    d = Dispatcher(w.db, sender, VN, DispatchSettings(poll_seconds=0.05))
    real = d._claim

    def claim(room: int) -> Any:
        found = real(room)
        if found[0]:
            action()
        return found

    d._claim = claim  # type: ignore[method-assign]
    await d.step()
    await d.drain()
    return d


def states(w: World) -> list[tuple[str, str | None]]:
    with w.db.read() as conn:
        stmt = select(deliveries.c.state, deliveries.c.error).order_by(deliveries.c.id)
        return [tuple(r) for r in conn.execute(stmt)]  # type: ignore[misc]


async def test_hidden_while_claimed_is_never_sent(
    db: Database, fake: FakeBotAPI, sender: TelegramSender
) -> None:
    w = make_world(db, Clock())
    w.publish(article(1, published_at=w.clock() - timedelta(minutes=1)))
    assert states(w) == [("pending", None)]
    await claim_then(w, sender, lambda: hide_article(w.db, "TEST-00001", "pháp lý", "cli"))
    assert fake.messages(CHAT) == []
    assert states(w) == [("withdrawn", "hidden")]


async def test_withdrawn_while_claimed_is_never_sent(
    db: Database, fake: FakeBotAPI, sender: TelegramSender
) -> None:
    w = make_world(db, Clock())
    t0 = w.clock()
    w.publish(article(2, published_at=t0 - timedelta(minutes=1), updated_at=t0))

    def withdraw() -> None:
        w.clock.advance(seconds=1)
        w.publish(article(2, published_at=t0 - timedelta(minutes=1), updated_at=w.clock(),
                          withdrawn=True))  # fmt: skip

    await claim_then(w, sender, withdraw)
    assert fake.messages(CHAT) == []
    assert states(w) == [("withdrawn", "withdrawn")]


async def test_moved_into_the_future_while_claimed_waits(
    db: Database, fake: FakeBotAPI, sender: TelegramSender
) -> None:
    w = make_world(db, Clock())
    w.publish(article(3, published_at=w.clock() - timedelta(minutes=1)))
    later = w.clock() + timedelta(hours=2)

    def reschedule() -> None:
        with w.db.write() as conn:
            conn.execute(update(articles).values(published_at=later))

    await claim_then(w, sender, reschedule)
    assert fake.messages(CHAT) == []
    with w.db.read() as conn:
        state, due = conn.execute(select(deliveries.c.state, deliveries.c.due_at)).one()
    assert (state, due) == ("pending", later)
    w.clock.advance(hours=2, seconds=1)
    await claim_then(w, sender, lambda: None)
    assert len(fake.messages(CHAT)) == 1 and states(w)[0][0] == "sent"
