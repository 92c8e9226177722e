"""Set-up the channel tests share: the service's dispatchers on a state DB, sending to a fake
Bot API with its token (``FEEDSVC_TELEGRAM__TOKEN``), stopped however the block ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from fakebot import FakeBotAPI

from feedsvc.channels.fleet import Dispatchers, build_channels
from feedsvc.config import load_config
from feedsvc.db import Database


@asynccontextmanager
async def telegram_fleet(
    db: Database, fake: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Dispatchers]:
    """The dispatchers ``run`` would start on ``db`` with ``fake``'s token, started."""
    monkeypatch.setenv("FEEDSVC_TELEGRAM__TOKEN", fake.token)
    settings = load_config(
        None, {"database": {"url": db.url}, "telegram": {"base_url": fake.base_url}}
    )
    fleet = Dispatchers(db, settings, build_channels(settings))
    await fleet.start()
    try:
        yield fleet
    finally:
        await fleet.stop(timeout=5)
