"""The API words a chat's switch-off reason next to its stable code (defects §8).

``disabled_reason`` is what is stored: a code (``blocked``), optionally ``|`` and the channel's
own words. ``disabled_reason_message`` is the same in words, in the request's Accept-Language
(as API errors' ``message``), from the catalogue's ``reason.<code>``; a value stored before
codes existed is shown as it is; null when the chat is on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from apiworld import api_service, asgi_client
from sqlalchemy import update

from feedsvc.app import Service
from feedsvc.catalogue import Translator
from feedsvc.db.schema import chats

TOKEN = "adm-reasons-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CHAT = 4242
STORED = [
    "blocked",
    "blocked|Forbidden: bot was blocked by the user",
    "chat_not_found|Bad Request: chat not found",
    "user_blocked",
    "removed|kicked",
    "Forbidden: words stored before reasons had codes",
]


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    with api_service(tmp_path, monkeypatch, TOKEN, (CHAT,)) as service:
        yield service


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(service) as c:
        yield c


def switch_off(service: Service, stored: str | None) -> None:
    with service.db.write() as conn:
        conn.execute(update(chats).where(chats.c.chat_id == CHAT).values(disabled_reason=stored))


@pytest.mark.parametrize("stored", STORED)
@pytest.mark.parametrize("language", ["vi", "en"])
async def test_a_reason_is_worded_next_to_its_code(
    client: httpx.AsyncClient, service: Service, stored: str, language: str
) -> None:
    switch_off(service, stored)
    headers = AUTH | {"Accept-Language": f"{language};q=1, fr;q=0.5"}
    worded = Translator(language).reason(stored)
    assert worded
    paused = await client.post(f"/api/chats/{CHAT}/pause", headers=headers)
    assert paused.status_code == 200
    assert paused.json()["disabled_reason"] == stored  # the code, as before (stable)
    assert paused.json()["disabled_reason_message"] == worded
    status = await client.get("/api/status", headers=headers)
    [pause] = [p for p in status.json()["chat_pauses"] if p["chat_id"] == CHAT]
    assert (pause["disabled_reason"], pause["disabled_reason_message"]) == (stored, worded)


async def test_the_two_languages_differ_and_on_is_null(
    client: httpx.AsyncClient, service: Service
) -> None:
    switch_off(service, "blocked")
    vi = await client.post(f"/api/chats/{CHAT}/resume", headers=AUTH | {"Accept-Language": "vi"})
    en = await client.post(f"/api/chats/{CHAT}/resume", headers=AUTH | {"Accept-Language": "en"})
    assert vi.json()["disabled_reason_message"].startswith("kênh từ chối nhận tin")
    assert en.json()["disabled_reason_message"].startswith("the channel refused messages")
    switch_off(service, None)
    on = await client.post(f"/api/chats/{CHAT}/resume", headers=AUTH)
    assert on.json()["disabled_reason"] is None and on.json()["disabled_reason_message"] is None
    spec = (await client.get("/api/openapi.json", headers=AUTH)).json()
    assert "disabled_reason_message" in spec["components"]["schemas"]["ChatOut"]["properties"]
