"""Every JSON API validation error names its field once (#16 follow-up, defects §1).

``PATCH /api/chats/{id}`` with a bad digest answered ``"digest: digest: …"``: the setting's own
English text carried the field name and the API put it in front again. The same holds for each
error path of chats, topics, subscriptions, articles hide/unhide and Apprise destinations: the
``error`` names the field at most once, carries no Pydantic ``Value error,`` noise, and the
worded ``message`` comes from the catalogue in the caller's language.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from apiworld import api_service, asgi_client

from feedsvc.app import Service

ADMIN_TOKEN = "adm-errors-once-0123456789"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CHAT = 777
DOUBLED = re.compile(r"^\s*([\w.]+)\s*:\s*\1\s*:")


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    with api_service(tmp_path, monkeypatch, ADMIN_TOKEN, (CHAT,)) as service:
        yield service


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(service) as c:
        yield c


CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("PATCH", f"/api/chats/{CHAT}", {"digest": ""}),
    ("PATCH", f"/api/chats/{CHAT}", {"digest": "   "}),
    ("PATCH", f"/api/chats/{CHAT}", {"digest": "25:00"}),
    ("PATCH", f"/api/chats/{CHAT}", {"digest": "1:00,2:00,3:00,4:00,5:00"}),
    ("PATCH", f"/api/chats/{CHAT}", {"quiet": "22:00"}),
    ("PATCH", f"/api/chats/{CHAT}", {"quiet": "6:00-6:00"}),
    ("PATCH", f"/api/chats/{CHAT}", {"quiet": "6:00-99:00"}),
    ("PATCH", f"/api/chats/{CHAT}", {"silent": "yes"}),
    ("PATCH", f"/api/chats/{CHAT}", {"digest": "off\x00"}),
    ("POST", "/api/topics", {"slug": "Bad Slug", "title": "x", "query": "a"}),
    ("POST", "/api/topics", {"slug": "ok", "title": "x\x07", "query": "a"}),
    ("POST", "/api/topics", {"slug": "ok", "title": "x\x00", "query": "a"}),
    ("POST", "/api/topics", {"slug": "ok", "title": "x", "query": "a OR"}),
    ("PUT", "/api/topics/ok", {"title": "x", "query": "a\x00"}),
    ("POST", "/api/subscriptions", {"chat_id": 5, "chat_type": "private", "query": ""}),
    ("POST", "/api/subscriptions", {"chat_id": 5, "chat_type": "private", "topic": "nope"}),
    ("POST", "/api/subscriptions", {"chat_id": 5, "chat_type": "private", "query": "a\x00"}),
    ("POST", "/api/subscriptions", {"chat_id": 0, "chat_type": "private", "query": "a"}),
    ("POST", "/api/subscriptions", {"chat_id": 5, "chat_type": "bogus", "query": "a"}),
    ("POST", "/api/subscriptions", {"chat_id": 5, "chat_type": 7, "query": "a"}),
    ("POST", "/api/subscriptions", {"channel": "apprise", "address": "", "query": "a"}),
    ("POST", "/api/subscriptions", {"channel": "apprise", "address": "nope://x", "query": "a"}),
    ("POST", "/api/subscriptions", {"channel": "zalo", "address": "a b", "query": "a"}),
    ("POST", "/api/articles/K1/hide", {"reason": "x\x00y"}),
    ("POST", "/api/articles/K1/hide", {"reason": "x" * 600}),
    ("POST", "/api/articles/K1/unhide", {"extra": 1}),
]


@pytest.mark.parametrize(("method", "path", "body"), CASES)
async def test_an_error_names_its_field_once(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any]
) -> None:
    for language in ("en", "vi"):
        answer = await client.request(method, path, json=body,
                                      headers=AUTH | {"Accept-Language": language})  # fmt: skip
        assert 400 <= answer.status_code < 500, answer.text
        data = answer.json()
        for text in (data["error"], data["message"]):
            assert not DOUBLED.search(text), text
            assert "Value error" not in text, text
            assert "⟦" not in text, text
        field = data.get("field")
        if field:  # a field named in the error is named once
            assert data["error"].count(f"{field}:") <= 1, data["error"]
        for name in ("chat_type", "digest", "quiet", "reason", "title"):
            assert data["error"].count(name) <= 1, data["error"]


@pytest.mark.parametrize(
    ("body", "field", "english"),
    [
        ({"digest": ""}, "digest", "digest: give off, hourly or HH:MM times"),
        ({"digest": "1:00,2:00,3:00,4:00,5:00"}, "digest", "digest: at most 4 times a day"),
        ({"quiet": "22:00"}, "quiet", "quiet: give HH:MM-HH:MM or off"),
        ({"quiet": "6:00-6:00"}, "quiet", "quiet: start and end are the same time"),
        ({"quiet": "7:00-99:00"}, "quiet", "quiet: not a time of day (HH:MM): '99:00'"),
    ],
)
async def test_setting_errors_read_once(
    client: httpx.AsyncClient, body: dict[str, str], field: str, english: str
) -> None:
    answer = await client.patch(f"/api/chats/{CHAT}", headers=AUTH, json=body)
    assert answer.status_code == 400
    assert answer.json()["error"] == english and answer.json()["field"] == field


async def test_a_nul_is_located_at_its_field(client: httpx.AsyncClient) -> None:
    answer = await client.post("/api/topics", headers=AUTH | {"Accept-Language": "en"},
                               json={"slug": "ok", "title": "x\x00", "query": "a"})  # fmt: skip
    assert answer.status_code == 422
    assert answer.json()["error"] == "title contains a control character (U+0000)"
    assert answer.json()["field"] == "title"


@pytest.mark.parametrize("language", ["en", "vi"])
@pytest.mark.parametrize("blank", ["", " ", "\t", "\u00a0", "\u200b"])
@pytest.mark.parametrize(
    ("method", "path", "body", "field", "code"),
    [
        ("POST", "/api/topics", {"slug": "", "title": "x", "query": "a"}, "slug", "slug_format"),
        ("POST", "/api/topics", {"slug": "ok", "title": "", "query": "a"}, "title",
         "title_required"),
        ("PUT", "/api/topics/ok", {"title": "x", "query": ""}, "query", "empty"),
        ("POST", "/api/topics/preview", {"query": ""}, "query", "empty"),
    ],
)  # fmt: skip
async def test_an_empty_text_is_refused_as_a_blank_one_is(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any], field: str,
    code: str, blank: str, language: str,
) -> None:  # fmt: skip
    """``""`` was Pydantic's ``min_length=1``: a 400 ``invalid_body`` (once worded "at least 1
    characters"), while ``" "`` was the 422 of the field's rule, in the CLI's and the admin's
    words. One rule now decides both (``feedsvc.operations``, the query parser)."""
    headers = AUTH | {"Accept-Language": language}
    answer = await client.request(method, path, json=body | {field: blank}, headers=headers)
    assert answer.status_code == 422, answer.text
    assert (answer.json()["code"], answer.json().get("field")) == (code, field), answer.text
    spaced = await client.request(method, path, json=body | {field: "  "}, headers=headers)
    assert spaced.json() == answer.json()
