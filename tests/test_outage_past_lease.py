"""A state-DB outage longer than the outbox lease: the alerts whose answer this process holds are
recorded once the DB is back, never sent again by this same process.

A tester's `feedsvc run` (SQLite, a fake Bot API answering after 3 s, the file away 70 s past
the 60 s lease): "delivery 31 … sent again after 1 earlier send(s) whose outcome is unknown",
1 try in 2. The Telegram dispatcher kept the outcome (``db.kept.until_committed``) and held the
row (its :class:`~feedsvc.lease_keeper.LeaseKeeper`), but ``run`` starts a dispatcher per
channel: the Apprise one's claim, once the file was back, took back every expired lease but its
own keeper's, the Telegram row among them; the kept ``sent`` was then refused (the row no longer
this process's) and the alert claimed and sent again. Whichever of that claim and the kept
write came first decided it.

Real components: a state DB file moved away (PostgreSQL: the database renamed away, its
connections ended), the real dispatchers of both channels under one process's name, the fake
Bot API over HTTP holding the send until the outage began.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from factories import VN
from fakebot import FakeBotAPI, Fault
from patience import PATIENT_READ_TIMEOUT
from sqlalchemy import select, text
from test_dispatch import PRIVATE, PRIVATE2, Env, make_env, subscribe_chat
from test_record_through_outage import (
    BACK_WITHIN,
    Watched,  # counts the records refused
    move_away,
    put_back,
    until,
)
from test_state_outage import own_pg_database, refuse

from feedsvc.channels.apprise import AppriseChannel
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import deliveries
from feedsvc.dispatch import Dispatcher, DispatchSettings

#: Short, so the outage outlasts it in seconds (the service's least is 5 s; the rule is the same).
LEASE = timedelta(seconds=2)
#: One process: the name both dispatchers claim under (``store.leases.this_process``).
OWNER = "replica-one"


@dataclass
class Outage:
    """How a test's state DB goes away and comes back."""

    db: Database
    admin: Any = None  # PostgreSQL: an engine on the server's own database

    def begin(self) -> None:
        if self.admin is None:
            move_away(self.db)
            return
        name = self.db.url.rsplit("/", 1)[1]
        with self.admin.connect() as conn:
            refuse(conn, name)
            conn.execute(text(f"ALTER DATABASE {name} RENAME TO {name}_away"))

    def end(self) -> None:
        if self.admin is None:
            put_back(self.db)
            return
        name = self.db.url.rsplit("/", 1)[1]
        with self.admin.connect() as conn:
            conn.execute(text(f"ALTER DATABASE {name}_away RENAME TO {name}"))
            conn.execute(text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true"))


@contextmanager
def state_db(backend: str, tmp_path: Path) -> Iterator[Outage]:
    """A migrated state DB of its own on ``backend``, and its outage."""
    if backend == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'state.db'}")
        upgrade(db)
        try:
            yield Outage(db)
        finally:
            db.dispose()
        return
    with own_pg_database() as (url, admin):
        db = Database(url)
        upgrade(db)
        try:
            yield Outage(db, admin)
        finally:
            db.dispose()


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


@pytest.fixture
async def world(
    request: pytest.FixtureRequest, tmp_path: Path, fake: FakeBotAPI
) -> AsyncIterator[tuple[Env, Outage]]:
    """The test's state DB (SQLite unless the test names its backend) and the fake Bot API."""
    with state_db(getattr(request, "param", "sqlite"), tmp_path) as outage:
        async with make_env(outage.db, fake, PATIENT_READ_TIMEOUT) as env:
            yield env, outage


def rows(db: Database) -> list[tuple[int, str, int]]:
    with db.read() as conn:
        stmt = select(deliveries.c.chat_id, deliveries.c.state, deliveries.c.ambiguous)
        return [tuple(r) for r in conn.execute(stmt.order_by(deliveries.c.id)).tuples()]  # type: ignore[misc]


def lease_ends(db: Database) -> datetime:
    """The latest lease end of the rows in flight (UTC)."""
    with db.read() as conn:
        ends = conn.execute(select(deliveries.c.lease_until)).scalars().all()
    return max(e.astimezone(UTC) for e in ends if e is not None)


async def through_outage_past_lease(env: Env, outage: Outage, chats: Sequence[int]) -> None:
    """An alert to each of ``chats`` held at the fake Bot API; the state DB goes away, the
    fake answers them all (the answers arrive during the outage), the outage lasts past every
    lease, then ends. Both channels' dispatchers run under one process's name all along."""
    gate = threading.Event()
    for chat in chats:
        subscribe_chat(env.db, chat, "private", "an-ninh")
        env.fake.script(chat, Fault.held(gate))
    env.publish(env.fresh())
    # the Telegram dispatcher's kept record is written again every poll (1 s, as `run`'s);
    # the Apprise one beside it claims every 50 ms: its claim meets the DB first once it is back
    telegram = Watched(
        env.db, env.sender, VN, DispatchSettings(poll_seconds=1.0, lease=LEASE), owner=OWNER
    )
    apprise = Dispatcher(
        env.db, AppriseChannel(VN), VN, DispatchSettings(poll_seconds=0.05, lease=LEASE),
        owner=OWNER,
    )  # fmt: skip
    tasks = [asyncio.create_task(d.run()) for d in (telegram, apprise)]
    try:
        await until("the sends at Telegram", lambda: env.fake.in_flight == len(chats))
        moved_at = datetime.now(UTC)
        ends = max(lease_ends(env.db), moved_at + LEASE)  # a renewal may come before the move
        outage.begin()
        gate.set()
        await until("a record refused", lambda: telegram.refused >= 1)
        await until("every lease ran out", lambda: datetime.now(UTC) > ends + LEASE)
        outage.end()
        settled = ("sent", "failed", "unknown_outcome")
        await until(
            "all recorded",
            lambda: all(state in settled for _, state, _ in rows(env.db)),
            seen=lambda: rows(env.db),
        )
    finally:
        gate.set()
        for d in (telegram, apprise):
            d.stop()
        await asyncio.wait_for(asyncio.gather(*tasks), BACK_WITHIN)
    assert rows(env.db) == [(chat, "sent", 0) for chat in chats]  # never as of an unknown outcome
    for chat in chats:
        assert len(env.fake.messages(chat)) == 1, env.fake.messages(chat)


@pytest.mark.parametrize(
    "world", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
async def test_an_alert_answered_during_an_outage_past_its_lease_is_sent_once(
    world: tuple[Env, Outage],
) -> None:
    """The tester's case: the send under way when the outage began, answered during it. On
    PostgreSQL the same rule holds (the database renamed away, its connections ended); there
    the kept write came first in every run seen, so that case guards the rule, not the race."""
    await through_outage_past_lease(*world, [PRIVATE])


async def test_two_alerts_in_flight_through_an_outage_past_their_lease_are_sent_once(
    world: tuple[Env, Outage],
) -> None:
    """Two chats' alerts in flight: both kept, both recorded once, neither sent again."""
    await through_outage_past_lease(*world, [PRIVATE, PRIVATE2])
