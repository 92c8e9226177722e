"""A service with its admin API, for tests that call the API in process (ASGI, no socket)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from migrated import premigrated

from feedsvc.app import Roles, Service, create_app
from feedsvc.config import load_config
from feedsvc.store.subscriptions import ensure_chat


@contextmanager
def api_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token: str, private_chats: tuple[int, ...]
) -> Iterator[Service]:
    """A prepared service on an SQLite file (a copy of the migrated template: the API is the
    subject, not a new DB's migration) with admin token ``token`` and the given private
    chats (titled "Lan"); disposed afterwards."""
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", token)
    url = premigrated(f"sqlite:///{tmp_path / 's.db'}")
    settings = load_config(None, {"database": {"url": url},
                                  "topics": {"import_on_start": False}})  # fmt: skip
    service = Service(settings, Roles(scheduler=False, bot=False))
    service.prepare()
    with service.db.write() as conn:
        for chat in private_chats:
            ensure_chat(conn, chat, "private", "Lan", datetime.now(UTC))
    try:
        yield service
    finally:
        service.close()


@asynccontextmanager
async def asgi_client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to ``service``'s whole app in process."""
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c
