"""A slug holding a line break anywhere names no topic, on every surface.

``PUT /api/topics/an-ninh%0A`` updated ``an-ninh`` (``api_topics._save`` stripped the path's
slug, and :func:`feedsvc.slugs.slug_forms` dropped surrounding whitespace, a line break with
it), and every other ``{slug}`` route, the CLI's commands naming a topic and the feed and page
redirects took it too. ``slug_forms`` is the one rule: a line break anywhere (LF, CR, U+2028,
NEL…) names nothing. A ``PUT`` of one is the slug rules' 422 (a new slug), a route naming an
existing topic 404, a feed or page URL 404 (no redirect to the stored slug); surrounding spaces
and another case still name the topic.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from apiworld import api_service, asgi_client
from click.testing import CliRunner

from feedsvc.app import Service
from feedsvc.cli import cli
from feedsvc.slugs import slug_forms

ADMIN_TOKEN = "adm-slug-breaks-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Accept-Language": "en"}

#: (in a URL, as text): trailing, leading and inner line breaks (NEL and VT are control
#: characters, refused by every route before it reads a slug: 422 ``control_character``)
BROKEN = [
    ("an-ninh%0A", "an-ninh\n"),
    ("an-ninh%0D", "an-ninh\r"),
    ("an-ninh%0D%0A", "an-ninh\r\n"),
    ("%0Aan-ninh", "\nan-ninh"),
    ("an-%0Aninh", "an-\nninh"),
    ("an-ninh%E2%80%A8", "an-ninh\u2028"),
    ("an-ninh%E2%80%A9", "an-ninh\u2029"),
    ("AN-NINH%0A", "AN-NINH\n"),
]


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    with api_service(tmp_path, monkeypatch, ADMIN_TOKEN, ()) as service:
        yield service


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(service) as c:
        body = {"slug": "an-ninh", "title": "An ninh", "query": '"an ninh"'}
        assert (await c.post("/api/topics", json=body, headers=AUTH)).status_code == 201
        yield c


async def topic(client: httpx.AsyncClient) -> dict[str, object]:
    got = await client.get("/api/topics/an-ninh", headers=AUTH)
    assert got.status_code == 200, got.text
    out: dict[str, object] = got.json()
    return out


@pytest.mark.parametrize(("path", "text"), BROKEN)
def test_slug_forms_names_nothing_with_a_line_break(path: str, text: str) -> None:
    assert slug_forms(text) == ()


@pytest.mark.parametrize(("path", "text"), BROKEN)
async def test_every_slug_route_refuses_a_line_break(
    client: httpx.AsyncClient, path: str, text: str
) -> None:
    before = await topic(client)
    put = await client.put(
        f"/api/topics/{path}", json={"title": "Đổi", "query": '"x"'}, headers=AUTH
    )
    assert (put.status_code, put.json()["code"]) == (422, "slug_format"), put.text
    for method, route in [
        ("GET", ""),
        ("POST", "/enable"),
        ("POST", "/disable"),
        ("POST", "/backfill"),
        ("DELETE", ""),
    ]:
        r = await client.request(method, f"/api/topics/{path}{route}", headers=AUTH)
        assert (r.status_code, r.json()["code"]) == (404, "topic_not_found"), (route, r.text)
    created = await client.post(
        "/api/topics", json={"slug": text, "title": "Mới", "query": '"x"'}, headers=AUTH
    )
    assert (created.status_code, created.json()["code"]) == (422, "slug_format"), created.text
    after = await topic(client)
    assert after == before  # nothing updated, disabled or deleted
    listed = (await client.get("/api/topics", headers=AUTH)).json()["topics"]
    assert [t["slug"] for t in listed] == ["an-ninh"]
    for url in (f"/feeds/{path}.rss", f"/topics/{path}"):
        r = await client.get(url)
        assert r.status_code == 404, (url, r.status_code, r.headers.get("location"))


@pytest.mark.parametrize("path", ["AN-NINH", "%20an-ninh%20", "an-ninh%E2%80%8B"])
async def test_other_case_and_stray_spaces_still_name_the_topic(
    client: httpx.AsyncClient, path: str
) -> None:
    r = await client.get(f"/api/topics/{path}", headers=AUTH)
    assert r.status_code == 200 and r.json()["slug"] == "an-ninh", r.text
    put = await client.put(f"/api/topics/{path}", json={"title": "An ninh 2", "query": '"an"'},
                           headers=AUTH)  # fmt: skip
    assert put.status_code == 200 and put.json()["title"] == "An ninh 2", put.text


@pytest.mark.parametrize(("path", "text"), BROKEN[:6])
async def test_the_cli_names_no_topic_with_a_line_break(
    client: httpx.AsyncClient, service: Service, path: str, text: str
) -> None:
    env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    runner = CliRunner()
    for args in (["topics", "disable", text], ["topics", "remove", text, "--force"]):
        done = runner.invoke(cli, args, env=env)
        assert done.exit_code == 1 and "unknown topic" in done.stderr, (args, done.output)
    assert (await topic(client))["enabled"] is True
