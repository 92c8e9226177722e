"""An article key typed in another Unicode form, through each front end (the rules and their
SQL on both backends: ``test_key_forms.py``): ``feedsvc articles`` (its exit codes, what it
says on stderr), the API (``POST /api/articles/{key}/hide|unhide``, ``GET /api/articles``:
404/409 and the answer naming the stored key) and the admin's articles page. The tester's
report: a decomposed (NFD) stored key typed composed was "unknown" (exit 1, 404), and
``--pending`` / ``{"pending": true}`` answered success while the article stayed in the feeds.
Each case on one state DB backend, rotating (``backend_cases.on_backends``)."""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from backend_cases import on_backends
from click.testing import CliRunner
from factories import article
from lifecycle_world import entry_keys
from test_admin_hide_back import admin
from test_lifecycle_editors import AUTH, make_service, state

from feedsvc.app import Service, create_app
from feedsvc.cli import cli
from feedsvc.logs import spell
from feedsvc.store.source_articles import upsert_source_articles

__all__ = ["admin"]  # the fixture, shared with test_admin_hide_back

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

NFC = unicodedata.normalize("NFC", "Tin-Kiến-Thụy-42")
NFD = unicodedata.normalize("NFD", NFC)
MIXED = "Tin-Ki\u00ea\u0301n-Th\u1ee5y-42"
SPELLED_NFD = "Tin-Kie\\u0302\\u0301n-Thu\\u0323y-42"
SPELLED_NFC = NFC  # an NFC key is printed as it is


def on_backend(backend: str) -> pytest.MarkDecorator:
    """A test run on one state DB backend only (its SQL is the store's, on both elsewhere)."""
    marks = [pytest.mark.postgres] if backend == "postgres" else []
    return pytest.mark.parametrize("db_url", [pytest.param(backend, marks=marks)], indirect=True)


def add(service: Service, *keyed: tuple[int, str]) -> None:
    """Articles ``(n, key)`` in the built-in table, ingested (their entries ``/tin/n.html``)."""
    now = service.db.now()
    with service.db.write() as conn:
        rows = [article(n, source_key=key, title=f"Kiến Thụy: tin {n}", published_at=now)
                for n, key in keyed]  # fmt: skip
        upsert_source_articles(conn, rows, now)
    assert service.ingest_tick().error is None


@pytest.fixture
def service(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    """TEST-00001/2 (``make_service``) and article 9 stored under the decomposed key."""
    service = make_service(db_url, monkeypatch)
    add(service, (9, NFD))
    yield service
    service.close()


def search_feed(service: Service) -> list[str]:
    service.publisher.cache.clear()
    return entry_keys(service.publisher.search('"Kiến Thụy"', "rss", 50).body)


def run_cli(service: Service, *args: str) -> Any:
    env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    return CliRunner().invoke(cli, ["articles", *args], env=env)


def test_cli_hide_typed_composed_takes_the_decomposed_article_down(service: Service) -> None:
    done = run_cli(service, "hide", NFC, "--reason", "test")
    assert done.exit_code == 0, done.output
    assert done.stdout.split("\t")[:2] == [SPELLED_NFD, "hidden"]  # the stored key, spelled
    assert done.stderr == (
        f"feedsvc: Used the stored key '{SPELLED_NFD}': the same text as the key given, "
        "in another Unicode form.\n"
    )
    assert state(service, NFD).hidden_reason == "test"
    assert "9.html" not in search_feed(service)
    ahead = run_cli(service, "hide", NFC, "--pending", "--reason", "lệnh toà")
    assert ahead.exit_code == 0 and ahead.stdout.split("\t")[:2] == [SPELLED_NFD, "hidden"]
    assert "waiting for ingest" not in ahead.output
    found = run_cli(service, "find", NFC)
    lines = found.stdout.splitlines()  # one line: no hide "waiting for ingest" beside it
    assert found.exit_code == 0 and [line.split("\t")[:2] for line in lines] == [
        [SPELLED_NFD, "hidden"]
    ]
    shown = run_cli(service, "unhide", MIXED, "--json")
    assert shown.exit_code == 0, shown.output
    assert '"state": "public"' in shown.stdout and "Used the stored key" in shown.stdout
    assert "9.html" in search_feed(service)


@on_backend("postgres")
def test_cli_refuses_an_ambiguous_key_with_exit_1_and_names_lookalikes(service: Service) -> None:
    add(service, (10, NFC))
    refused = run_cli(service, "hide", MIXED, "--pending", "--reason", "lệnh toà")
    assert (refused.exit_code, refused.stdout) == (1, "")
    assert refused.stderr.startswith(
        f"feedsvc: '{spell(MIXED)}' is the same text as several stored keys"
    )
    assert f"'{SPELLED_NFD}', '{NFC}'" in refused.stderr
    assert state(service, NFD).hidden_at is None and state(service, NFC).hidden_at is None
    assert run_cli(service, "unhide", MIXED).exit_code == 1
    exact = run_cli(service, "hide", NFC)
    assert exact.exit_code == 0 and exact.stdout.split("\t")[:2] == [NFC, "hidden"]
    assert exact.stderr == (
        "feedsvc: Other articles have a key that looks the same (the same text in another "
        f"Unicode form) and were not changed: '{SPELLED_NFD}'.\n"
    )
    assert sorted(search_feed(service)) == ["1.html", "9.html"]


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.mark.parametrize(
    ("db_url", "typed", "pending"),
    on_backends([(NFC, False), (NFC, True), (MIXED, True)], label=ascii),
    indirect=["db_url"],
)
async def test_api_hide_of_another_form_is_the_stored_article(
    client: httpx.AsyncClient, service: Service, typed: str, pending: bool
) -> None:
    headers = AUTH | {"Accept-Language": "en"}
    body = {"reason": "lệnh toà", "pending": pending}
    r = await client.post(f"/api/articles/{quote(typed)}/hide", headers=headers, json=body)
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["source_key"], got["state"], got["pending"]) == (NFD, "hidden", False)
    assert f"Used the stored key '{SPELLED_NFD}'" in got["message"]
    assert "9.html" not in search_feed(service)
    listed = await client.get("/api/articles", headers=AUTH, params={"q": typed})
    assert [(a["source_key"], a["pending"]) for a in listed.json()["articles"]] == [(NFD, False)]
    r = await client.post(f"/api/articles/{quote(typed)}/unhide", headers=AUTH)
    assert (r.status_code, r.json()["source_key"], r.json()["state"]) == (200, NFD, "public")
    assert "Đã dùng mã bài đã lưu" in r.json()["message"]  # admin.language's words


@on_backend("sqlite")
async def test_api_ambiguous_key_is_409_listing_the_stored_keys(
    client: httpx.AsyncClient, service: Service
) -> None:
    add(service, (10, NFC))
    for verb, body in (("hide", {"pending": True}), ("unhide", None)):
        r = await client.post(f"/api/articles/{quote(MIXED)}/{verb}", headers=AUTH, json=body)
        assert r.status_code == 409, r.text
        assert (r.json()["code"], r.json()["source_keys"]) == ("article_key_ambiguous", [NFD, NFC])
    r = await client.post(f"/api/articles/{quote(NFD)}/hide", headers=AUTH)
    assert (r.status_code, r.json()["source_key"]) == (200, NFD)
    assert "không bị thay đổi" in r.json()["message"] and SPELLED_NFC in r.json()["message"]
    assert state(service, NFC).hidden_at is None
    doc = (await client.get("/api/openapi.json", headers=AUTH)).json()
    assert "409" in doc["paths"]["/api/articles/{source_key}/hide"]["post"]["responses"]


@on_backend("postgres")
def test_admin_hide_form_of_another_form(service: Service, admin: Any) -> None:
    client, csrf = admin
    listing = client.get("/admin/articles", params={"q": NFC}).text
    assert "Kiến Thụy: tin 9" in listing and 'name="pending" value="1"' not in listing
    page = client.post("/admin/articles/hide", data={"key": NFC, "csrf": csrf, "pending": "1"})
    assert "Đã ẩn bài" in page.text and "Đã dùng mã bài đã lưu" in page.text
    assert state(service, NFD).hidden_at is not None
    assert "9.html" not in search_feed(service)
    add(service, (10, NFC))
    refused = client.post("/admin/articles/unhide", data={"key": MIXED, "csrf": csrf})
    assert "trùng chữ với nhiều mã bài" in refused.text
    assert state(service, NFD).hidden_at is not None
