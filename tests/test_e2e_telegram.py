"""The whole service in-process against the fake Bot API: /sub in Telegram → article in the
source → one alert in that chat; /pause stops alerts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from factories import VN, article
from fakebot import FakeBotAPI
from fakeserver import PATIENCE

from feedsvc.app import Roles, Service
from feedsvc.config import load_config
from feedsvc.store.articles import count_articles
from feedsvc.store.source_articles import upsert_source_articles

USER = 4242


async def wait_stored(service: Service, count: int) -> None:
    async with asyncio.timeout(PATIENCE):
        while True:
            with service.db.read() as conn:
                if count_articles(conn) >= count:
                    return
            await asyncio.sleep(0.05)


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


async def test_subscribe_in_telegram_then_get_alert(
    tmp_path: Path, fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    topics = tmp_path / "topics.toml"
    topics.write_text(
        '[[topic]]\nslug = "an-ninh"\ntitle = "An ninh"\nquery = \'"công an"\'\n', encoding="utf-8"
    )
    monkeypatch.setenv("FEEDSVC_TELEGRAM__TOKEN", fake.token)
    settings = load_config(
        None,
        {
            "database": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
            "source": {"poll_seconds": 0.3},
            "telegram": {"base_url": fake.base_url},
            "topics": {"file": str(topics)},
        },
    )
    service = Service(settings, Roles(http=False))
    await service.start()
    try:
        fake.user_sends(USER, USER, "/sub an-ninh")
        await fake.await_for(
            lambda: any(
                "an-ninh" in (m.text or "") or "An ninh" in (m.text or "")
                for m in fake.messages(USER)
            ),
        )
        replies = len(fake.messages(USER))
        with service.db.write() as conn:
            upsert_source_articles(
                conn, [article(1, published_at=datetime.now(VN))], datetime.now(UTC)
            )
        await fake.await_for(lambda: len(fake.messages(USER)) == replies + 1)
        alert = fake.messages(USER)[-1]
        assert alert.parse_mode == "HTML" and "Công an Kiến Thụy" in alert.body
        fake.user_sends(USER, USER, "/pause")
        await fake.await_for(lambda: len(fake.messages(USER)) == replies + 2)
        with service.db.write() as conn:
            upsert_source_articles(
                conn, [article(2, published_at=datetime.now(VN))], datetime.now(UTC)
            )
        await wait_stored(service, 2)
        await service.dispatcher.step()  # anything queued would be claimed now
    finally:
        await service.stop()
    assert len(fake.messages(USER)) == replies + 2  # nothing after /pause
    assert fake.token not in json.dumps([m.body for m in fake.all_messages])
