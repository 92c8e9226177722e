"""``/api/topics``: a ``PUT`` of what ``GET`` returned (the README's round trip).

A client reading a topic and sending it back with a change got 400 ``invalid_body``: ``slug``,
``origin``, ``updated_at``, ``feeds`` and ``stats`` were "extra inputs". They are read-only
now: accepted and ignored, except a ``slug`` naming another topic (a ``PUT`` never renames)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from apiworld import api_service, asgi_client

from feedsvc.app import Service

ADMIN_TOKEN = "adm-topics-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Accept-Language": "en"}


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    with api_service(tmp_path, monkeypatch, ADMIN_TOKEN, (777, 12)) as service:
        yield service


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(service) as c:
        yield c


async def _created(client: httpx.AsyncClient) -> dict[str, object]:
    body = {"slug": "an-ninh", "title": "An ninh", "query": '"an ninh"'}
    created = await client.post("/api/topics", json=body, headers=AUTH)
    assert created.status_code == 201, created.text
    got = await client.get("/api/topics/an-ninh", headers=AUTH)
    assert got.status_code == 200 and got.json()["stats"] is not None, got.text
    out: dict[str, object] = got.json()
    return out


@pytest.mark.parametrize("path", ["/api/topics/an-ninh", "/api/topics/AN-NINH"])
@pytest.mark.parametrize(
    "change",
    [{}, {"title": "An ninh - Trật tự"}, {"query": '"an ninh" OR "công an"'}, {"enabled": False},
     {"slug": "AN-NINH", "description": "Tin an ninh"}],
)  # fmt: skip
async def test_a_put_of_what_get_returned_saves_the_change(
    client: httpx.AsyncClient, path: str, change: dict[str, object]
) -> None:
    got = await _created(client)
    put = await client.put(path, json=got | change, headers=AUTH)
    assert put.status_code == 200, put.text
    saved = put.json()
    expected = {k: v for k, v in (got | change).items() if k in ("title", "query", "enabled")}
    assert {k: saved[k] for k in expected} == expected and saved["slug"] == "an-ninh"
    assert saved["origin"] == got["origin"]  # read-only: as stored, not as sent


@pytest.mark.parametrize("slug", ["phap-luat", "an-ninh-2", ""])
async def test_a_put_never_renames(client: httpx.AsyncClient, slug: str) -> None:
    got = await _created(client)
    put = await client.put("/api/topics/an-ninh", json=got | {"slug": slug}, headers=AUTH)
    assert put.status_code == 422 and put.json()["code"] == "slug_mismatch", put.text
    assert put.json()["field"] == "slug"
    listed = (await client.get("/api/topics", headers=AUTH)).json()["topics"]
    assert [t["slug"] for t in listed] == ["an-ninh"]


@pytest.mark.parametrize(
    ("sent", "named"),
    [("\u0301an-ninh", "'\\u0301an-ninh'"), ("an ninh", "'an ninh'"), ("bóng-đá", "'bóng-đá'")],
)
async def test_the_mismatch_names_both_slugs_as_the_cli_does(
    client: httpx.AsyncClient, sent: str, named: str
) -> None:
    """Between single quotes, a leading combining mark written ``\\u0301`` (``logs.quoted``,
    the one visible form of a name): Python's repr let the mark merge into its quote."""
    got = await _created(client)
    put = await client.put("/api/topics/an-ninh", json=got | {"slug": sent}, headers=AUTH)
    assert put.status_code == 422, put.text
    assert put.json()["error"].startswith(f"slug {named} in the body is not the path's 'an-ninh'")


async def test_an_unknown_field_is_still_refused(client: httpx.AsyncClient) -> None:
    got = await _created(client)
    put = await client.put("/api/topics/an-ninh", json=got | {"colour": "đỏ"}, headers=AUTH)
    assert put.status_code == 400, put.text


async def test_a_topics_feed_follows_each_api_change_at_once(client: httpx.AsyncClient) -> None:
    """The API answered a new topic's feed URLs, which were 404 for 3-5 s (until the feeds
    sync); a disabled topic's feed answered 200 as long, a deleted one's ~1 s. A disabled
    topic's feed is 404 (it may come back), a deleted one's 410."""
    created = await client.post(
        "/api/topics", json={"slug": "an-ninh", "title": "An ninh", "query": '"an ninh"'},
        headers=AUTH,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    feed = "/feeds/an-ninh.rss"
    assert (await client.get(feed)).status_code == 200
    steps = [
        ("POST", "/api/topics/an-ninh/disable", 404),
        ("POST", "/api/topics/an-ninh/enable", 200),
        ("PUT", "/api/topics/an-ninh", 200),
        ("DELETE", "/api/topics/an-ninh", 410),  # Gone: feed readers unsubscribe
    ]
    for method, path, status in steps:
        body = {"title": "An ninh - Trật tự", "query": '"an ninh"'} if method == "PUT" else None
        done = await client.request(method, path, json=body, headers=AUTH)
        assert done.status_code == 200, done.text
        answer = await client.get(feed)
        assert answer.status_code == status, (method, path, answer.text)
        if method == "PUT":
            assert "An ninh - Trật tự" in answer.text
