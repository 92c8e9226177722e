"""A digest's first part leaves at its slot: the dispatcher's DB work for a digest (recording
the held alerts that do not go: withdrawn, moved later, unsubscribed) runs before the digest's
slot in the global budget, not between the slot and the call. A slow write there sent that
digest late and the next chat's digest, released on time, right behind it (Telegram counts
arrivals). Real dispatcher, the fake Bot API over HTTP, SQLite and PostgreSQL; calls timed
where the client hands them to its HTTP transport (tests/handoffs.py).

The stalls are given one backend each (``backend_cases.on_backends``): a stall is the fault
injected in the set-aside's worker thread, the same write on either backend."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime, timedelta

import pytest
import test_digest_dispatch as digests
from backend_cases import on_backends
from factories import VN
from fakebot import FakeBotAPI
from handoffs import HANDOFF_SLACK, handoffs
from patience import PATIENT_READ_TIMEOUT
from sqlalchemy import update
from test_digest_dispatch import PUBLIC_URL, Env, digests_due_together, wait_for

from feedsvc.channels.telegram import TelegramChannel
from feedsvc.db.schema import articles
from feedsvc.digest.edge import DigestEdge
from feedsvc.digest.sending import DigestSender
from feedsvc.dispatch import Dispatcher, DispatchSettings
from feedsvc.notify import TelegramSender

env = digests.env  # two topics, an ingestor with the outbox; no chat yet


@pytest.mark.parametrize(
    ("db_url", "stall"), on_backends([0.27, 0.32], label=lambda s: f"stall{s}"), indirect=["db_url"]
)
async def test_a_slow_set_aside_does_not_bunch_the_next_digest(
    env: Env, monkeypatch: pytest.MonkeyPatch, stall: float
) -> None:
    """Four chats' digests due at one time at 4/s, each holding an article hidden since it
    was queued (set aside as ``withdrawn`` when the digest goes). The first set-aside write is
    slow (``stall`` seconds in its worker thread: a busy state DB; the fault, not a wait),
    just over the 0.25 s release gap: the next digest was released on time and left within
    10-50 ms of it (shorter stalls send it ahead of the next, longer ones past it)."""
    chats = [6200 + i for i in range(4)]
    clock = digests_due_together(env, chats)
    _kept, hidden = env.publish("Công an giữ lại", "Công an bị ẩn")
    real, slow = DigestSender._set_aside, [stall]

    def set_aside(self: DigestSender, job: object) -> None:
        if slow:
            time.sleep(slow.pop())  # the first one only
        real(self, job)  # type: ignore[arg-type]

    monkeypatch.setattr(DigestSender, "_set_aside", set_aside)
    with FakeBotAPI() as fake, handoffs(fake) as sent:
        sender = TelegramSender(
            fake.token, base_url=fake.base_url, read_timeout=PATIENT_READ_TIMEOUT
        )
        async with sender:
            channel = TelegramChannel(sender, VN, global_rate=4)
            d = Dispatcher(
                env.db, channel, VN, DispatchSettings(poll_seconds=0.05, backoff_base=0.05),
                digests=DigestEdge(VN, public_url=PUBLIC_URL), clock=clock,
            )  # fmt: skip
            await d.step()  # held for the digest
            with env.db.write() as conn:  # hidden without ending the held alerts (a replica's
                conn.execute(update(articles)  # write the outbox has not seen yet)
                             .where(articles.c.source_key == hidden.source_key)
                             .values(hidden_at=datetime.now(UTC)))  # fmt: skip
            clock.ahead = timedelta(minutes=2)
            task = asyncio.create_task(d.run())
            try:
                await wait_for(lambda: all(env.states(c) == ["sent", "withdrawn"]
                                           for c in chats), 30)  # fmt: skip
            finally:
                d.stop()
                await task
        calls = sent.times("sendmessage")
    assert slow == [] and len(calls) == len(chats) == len(fake.all_messages)
    gaps = [b - a for a, b in itertools.pairwise(sorted(calls))]
    assert min(gaps) >= 0.5 / 4 - HANDOFF_SLACK, gaps
