"""Every HTTP answer a person may read is worded from the catalogue (#16 §2 polish).

The JSON API keeps an English ``error`` and a stable ``code`` and adds ``message`` in the
request's ``Accept-Language`` (default ``admin.language``); feed errors, unknown URLs and the
admin's 413 speak ``site.language`` / ``admin.language``. Run against the whole app
(``create_app``) with a real SQLite state DB.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree  # type: ignore[import-untyped]
from migrated import premigrated

from feedsvc.app import Roles, Service, create_app
from feedsvc.catalogue import CATALOGUE
from feedsvc.config import load_config
from feedsvc.operations import OperationError, save_topic
from feedsvc.store.topics import TopicSpec
from feedsvc.web.api_input import MAX_BODY
from feedsvc.web.words import preferred_language

TOKEN = "adm-4c1d9e7f3a2b6085-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
VI = {"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-GB,en;q=0.8"}


def vi(key: str) -> str:
    return CATALOGUE[key][0]


def en(key: str) -> str:
    return CATALOGUE[key][1]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", "vi"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("fr-FR, en;q=0.4, vi;q=0.6", "vi"),
        ("vi;q=0, en;q=0.1", "en"),  # q=0 means "not this one"
        ("de, fr", "vi"),  # neither: the default
        ("EN-gb", "en"),
        ("en;q=abc, vi;q=0.2", "vi"),  # a malformed q counts as 0
        ("*", "vi"),
        (";;,,;q=", "vi"),
    ],
)
def test_preferred_language(header: str, expected: str) -> None:
    assert preferred_language(header, "vi") == expected


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: Any) -> Iterator[Service]:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    extra = getattr(request, "param", {})
    settings = load_config(
        None,
        {
            "database": {"url": premigrated(f"sqlite:///{tmp_path / 'state.db'}")},
            "topics": {"import_on_start": False},
            **extra,
        },
    )
    svc = Service(settings, Roles(scheduler=False, bot=False))
    svc.prepare()
    yield svc
    svc.close()


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


# -- the JSON API -------------------------------------------------------------------------------
async def test_api_errors_keep_english_and_code_and_add_the_callers_language(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/api/topics", headers=VI)
    assert r.status_code == 401
    assert r.json() == {
        "error": "missing or wrong Bearer token",
        "code": "unauthorized",
        "message": vi("api.unauthorized"),
    }
    r = await client.get("/api/topics", headers=EN)
    assert r.json()["message"] == en("api.unauthorized")
    r = await client.get("/api/topics")  # no Accept-Language: admin.language (vi)
    assert r.json()["message"] == vi("api.unauthorized")


async def test_api_request_errors_are_worded(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/deliveries?state=sent&state=dead", headers=AUTH | EN)
    assert r.status_code == 400 and r.json()["code"] == "repeated_param"
    assert r.json()["message"] == "Parameter state is given more than once."
    r = await client.delete("/api/subscriptions/abc", headers=AUTH | VI)
    assert r.status_code == 400 and r.json()["code"] == "not_integer"
    assert r.json()["message"] == "id phải là số nguyên."
    r = await client.delete(f"/api/subscriptions/{10**30}", headers=AUTH | EN)
    assert r.status_code == 404 and r.json()["message"] == f"Unknown id {10**30}."
    big = b"{" + b" " * (MAX_BODY + 10) + b"}"
    r = await client.post("/api/topics", headers=AUTH | VI, content=big)
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"
    assert r.json()["message"] == vi("api.body_too_large").format(limit=MAX_BODY)
    r = await client.post("/api/topics", headers=AUTH | VI, json={"slug": 5})
    assert r.status_code == 400 and r.json()["code"] == "invalid_body"
    assert r.json()["message"].startswith("Dữ liệu gửi lên không hợp lệ: ")


async def test_api_operation_errors_are_worded_from_their_code(client: httpx.AsyncClient) -> None:
    body = {"slug": "kt", "title": "Kiến Thụy", "query": '"Kiến Thụy" OR'}
    r = await client.post("/api/topics", headers=AUTH | VI, json=body)
    assert r.status_code == 422
    out = r.json()
    assert out["code"] and out["error"] and out["message"] != out["error"]
    assert "OR" in out["message"] and out["position"] is not None
    r = await client.get("/api/topics/khong-co", headers=AUTH | EN)
    assert r.status_code == 404 and r.json()["message"] and r.json()["code"]
    r2 = await client.get("/api/topics/khong-co", headers=AUTH | VI)
    assert r2.json()["message"] != r.json()["message"]  # the same error, in Vietnamese


async def test_unknown_api_route_is_json_in_the_callers_language(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/api/khong-co", headers=AUTH | EN)
    assert r.status_code == 404
    assert r.json() == {"error": "not found", "code": "not_found", "message": en("http.not_found")}


# -- readers: feeds and unknown URLs, in site.language ------------------------------------------
async def test_reader_errors_in_vietnamese_by_default(client: httpx.AsyncClient) -> None:
    cases = [
        ("/feeds/khong-co.rss", 404, vi("http.no_topic").format(slug="khong-co")),
        ("/feeds/khong-co.txt", 404, vi("http.feed_suffix")),
        ("/topics/khong-co", 404, vi("http.no_topic").format(slug="khong-co")),
        ("/khong-co", 404, vi("http.not_found")),
        ("/feeds/search.rss", 400, vi("http.missing_query").format(fmt="rss")),
        ("/feeds/search.atom", 400, vi("http.missing_query").format(fmt="atom")),
        ("/feeds/search.json?q=%20", 400, vi("http.missing_query").format(fmt="json")),
        ("/feeds/kt.rss?limit=0", 400, vi("http.bad_limit").format(limit=200, value="'0'")),
    ]
    for path, status, text in cases:
        r = await client.get(path, headers=EN)  # readers get the site's language, not theirs
        assert (r.status_code, r.text) == (status, text + "\n"), path
        assert r.headers["content-type"] == "text/plain; charset=utf-8"
    r = await client.get("/feeds/search.rss?q=a%20OR", headers=EN)
    assert r.status_code == 400
    assert r.text.startswith("Truy vấn không hợp lệ: ") and "OR" in r.text


@pytest.mark.parametrize("service", [{"site": {"language": "en"}}], indirect=True)
async def test_reader_errors_in_english_when_the_site_is(client: httpx.AsyncClient) -> None:
    r = await client.get("/feeds/khong-co.rss", headers=VI)
    assert r.text == en("http.no_topic").format(slug="khong-co") + "\n"
    r = await client.get("/khong-co")
    assert r.text == en("http.not_found") + "\n"
    for fmt in ("rss", "atom", "json"):  # the address of the format asked for
        r = await client.get(f"/feeds/search.{fmt}?q=%E2%80%8B")  # a zero-width space: no words
        assert r.status_code == 400
        assert r.text == f"Missing query: use /feeds/search.{fmt}?q=WORDS\n"
    r = await client.delete("/feeds.opml")
    assert r.status_code == 405 and r.text == en("http.method_not_allowed") + "\n"


# -- the admin ----------------------------------------------------------------------------------
async def test_admin_413_and_unknown_static_file_in_admin_language(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post(
        "/admin/login",
        content=b"token=" + b"x" * (300 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413 and r.text == vi("http.body_too_large") + "\n"
    r = await client.get("/admin/static/khong-co.css")
    assert r.status_code == 404 and vi("not_found") in r.text and "not found" not in r.text


# -- OPML: valid XML whatever a topic title holds (#16 polish) ----------------------------------
OPML_TITLES = {
    "lt-amp": 'Tin <b>nóng</b> & "Kiến Thụy"',
    "entity-like": "An ninh &amp; trật tự &lt;x&gt; &#1;",
    "cdata": "Kết thúc ]]> và <![CDATA[ mở",
    "quotes": "Đồ Sơn 'biển' \"xanh\" > 30°C",
}


async def test_opml_with_hostile_topic_titles_is_valid_xml(
    service: Service, client: httpx.AsyncClient
) -> None:
    for slug, title in OPML_TITLES.items():
        save_topic(service.db, TopicSpec(slug, title, "mưa"), "api")
    with pytest.raises(OperationError):  # controls never get that far: refused on input
        save_topic(service.db, TopicSpec("controls", "Tin\x0bmới", "mưa"), "api")
    service.publisher.refresh()
    r = await client.get("/feeds.opml")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/x-opml")
    root = etree.fromstring(r.content)  # raises on any malformed byte
    shown = {o.get("xmlUrl").rsplit("/", 1)[1]: o.get("text") for o in root.iter("outline")}
    for slug, title in OPML_TITLES.items():
        assert shown[f"{slug}.rss"] == title  # exactly the title, escaped on the wire only


# -- 405: the Allow header (RFC 9110 §15.5.6) ---------------------------------------------------

PATH_SAMPLES = {"slug": "kien-thuy", "name": "kien-thuy.rss", "source_key": "A-1", "id": "1",
                "chat_id": "5", "sub_id": "1", "delivery_id": "1", "chat": "zalo"}  # fmt: skip
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


async def test_every_405_names_the_methods_its_path_takes(
    service: Service, client: httpx.AsyncClient
) -> None:
    """Walked over every route of the app: a method no route at a path takes is a 405 whose
    ``Allow`` lists every method that path takes (an API path is several routes, one method
    each; reader and admin 405s had no ``Allow`` at all)."""
    from starlette.routing import Route

    app: Any = create_app(service)
    while not hasattr(app, "routes"):  # inside the feed fast path and the middleware
        app = app.app
    routes = [r for r in app.routes if isinstance(r, Route)]
    allowed: dict[str, set[str]] = {}
    for route in routes:
        path = route.path
        for name, value in PATH_SAMPLES.items():
            path = path.replace(f"{{{name}}}", value).replace(f"{{{name}:path}}", value)
        # every route whose pattern takes this path (/api/topics/preview is a {slug} too)
        allowed[path] = {m for r in routes if r.path_regex.match(path) for m in r.methods or ()}
    assert "/feeds/kien-thuy.rss" in allowed and "/api/topics/kien-thuy" in allowed
    for path, methods in allowed.items():
        assert "{" not in path, path
        for method in METHODS:
            if method in methods:
                continue
            r = await client.request(method, path)
            assert r.status_code == 405, (method, path, r.status_code)
            given = {m.strip() for m in r.headers.get("allow", "").split(",")}
            assert given == methods, (method, path, r.headers.get("allow"))
