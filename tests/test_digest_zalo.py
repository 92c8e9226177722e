"""A Zalo chat's digest (issue 15: "they apply to Zalo too"): one plain-text message within
Zalo's 2,000 characters, through the real dispatcher and the fake Zalo Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from backend_cases import module_on_sqlite
from factories import VN, article, builtin_ingestor
from fakezalo import FakeZaloAPI, Fault
from patience import PATIENT_READ_TIMEOUT
from sqlalchemy import select
from test_zalo import add_topic, zalo_subscriber

from feedsvc.channels.fleet import digest_edge
from feedsvc.channels.zalo.api import ZaloBotAPI
from feedsvc.channels.zalo.channel import ZaloChannel
from feedsvc.config import HttpSettings, Settings
from feedsvc.db import Database
from feedsvc.db.schema import deliveries
from feedsvc.digest import ChatSettings, DigestSchedule
from feedsvc.dispatch import Dispatcher, DispatchSettings
from feedsvc.outbox import Outbox
from feedsvc.store import digests as held
from feedsvc.store.source_articles import upsert_source_articles

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)


@pytest.fixture
def fake() -> Iterator[FakeZaloAPI]:
    with FakeZaloAPI() as server:
        yield server


async def _digest(db: Database, fake: FakeZaloAPI, *faults: Fault) -> list[str]:
    """Forty articles held for a Zalo chat's hourly digest, sent part by part (``faults``
    answer its first sends); the texts the chat got."""
    add_topic(db)
    chat_id = zalo_subscriber(db, "z-digest")
    with db.write() as conn:
        held.save_settings(conn, chat_id, ChatSettings(digest=DigestSchedule(hourly=True)))
    ingest = builtin_ingestor(db)
    ingest.hooks.append(Outbox(timedelta(hours=48)))
    items = [article(n, title=f"Kiến Thụy tin số {n}", published_at=datetime.now(VN)
                     - timedelta(minutes=50 - n)) for n in range(40)]  # fmt: skip
    with db.write() as conn:
        upsert_source_articles(conn, items, datetime.now(UTC))
    assert ingest.tick().error is None
    clock = [datetime.now(UTC)]
    api = ZaloBotAPI(fake.token, fake.base_url, read_timeout=PATIENT_READ_TIMEOUT)
    channel = ZaloChannel(api, VN, global_rate=50)
    settings = Settings(http=HttpSettings(public_url="https://tin.example"))
    d = Dispatcher(db, channel, VN, DispatchSettings(poll_seconds=0.05),
                   digests=digest_edge(settings, channel), clock=lambda: clock[0])  # fmt: skip
    fake.script("z-digest", *faults)
    await channel.start()
    try:
        await d.step()
        await d.drain()
        assert fake.messages("z-digest") == []
        clock[0] += timedelta(hours=1, minutes=1)
        for _ in range(20):  # parts go out one per pacing gap of this chat
            await d.step()
            await d.drain()
            clock[0] += timedelta(seconds=2)
            with db.read() as conn:
                if "held" not in set(conn.execute(select(deliveries.c.state)).scalars()):
                    break
            await asyncio.sleep(0)
    finally:
        await channel.close()
    return [m.text for m in fake.messages("z-digest")]


async def test_a_zalo_digest_is_one_plain_message(db: Database, fake: FakeZaloAPI) -> None:
    messages = await _digest(db, fake)
    assert 1 < len(messages) < 40  # 40 articles do not fit 2,000 characters: a few parts
    text = "\n".join(messages)
    assert all(len(m) <= 2000 and "<" not in m for m in messages)  # plain text
    assert text.startswith("Tin tổng hợp · 40 tin")
    assert all(f"Kiến Thụy tin số {n} " in text for n in range(40))
    assert "Đọc tất cả: https://tin.example/topics/kien-thuy" in text


async def test_part_1_refused_the_rest_goes_as_the_digest(db: Database, fake: FakeZaloAPI) -> None:
    """Part 1 refused by Zalo (a 400 of this message): part 2 of two went "(tiếp) (2/2)" under
    no heading (Zalo edits nothing: it stayed so). Now the rest goes as the digest: its
    heading with its count (one part: no number)."""
    messages = await _digest(db, fake, Fault(400, "Message text is invalid"))
    with db.read() as conn:
        states = list(conn.execute(select(deliveries.c.state)).scalars())
    refused = states.count("bad_content")
    assert refused and states.count("sent") == 40 - refused
    assert [m.split("\n", 1)[0] for m in messages] == [f"Tin tổng hợp · {40 - refused} tin"]
    assert sum(m.count("Kiến Thụy tin số") for m in messages) == 40 - refused
