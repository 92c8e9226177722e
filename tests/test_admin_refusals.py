"""The admin's refusals before any session is read — the admin closed (no token), a static file
or id that names nothing, a cookie no feedsvc issued — follow the app's one rule for who reads a
page: the logged-out page for a browser, one plain-text line for curl and scripts, JSON for the
preview's script; and ``Accept: text/html;q=0`` is not a browser (``accepts_html``)."""

from __future__ import annotations

import warnings
from pathlib import Path

import httpx
import pytest
from test_admin import login, make_client
from test_error_pages import ACCEPT_HTML, NOT_BROWSERS, plain
from test_not_found_page import BROWSER
from test_web_words import client, en, service, vi  # noqa: F401  (client, service: fixtures)

from feedsvc.web import admin_auth as auth
from feedsvc.web.feed_requests import accepts_html

with warnings.catch_warnings():  # starlette 1.x prefers httpx2; the test extra ships httpx
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

#: what says HTML is not wanted, or names another type: each keeps the plain line
NOT_HTML = [
    "text/html;q=0",
    "text/html; q=0.0",
    "TEXT/HTML;Q=0",
    "text/html;q=0.000, application/json",
    "text/html-fragment",
    "x-text/html",
    "text/htmlx;q=1",
    "text/*",
    "application/xhtml+xml",
]
#: what names HTML with a weight: each is a browser's page
HTML = [
    "text/html",
    "Text/HTML",
    " text/html ;level=1",
    "application/json, text/html;q=0.1",
    "text/html;q=1.0",
    "text/html;q=zero",  # a weight that is no number counts as 1
    "text/html;q=2",  # out of range: 1
    "text/html;q=0, text/html;q=0.5",
]


@pytest.mark.parametrize("accept", NOT_HTML)
def test_html_that_is_refused_or_another_type_is_not_html(accept: str) -> None:
    assert not accepts_html(accept)


@pytest.mark.parametrize("accept", HTML)
def test_html_with_a_weight_is_html(accept: str) -> None:
    assert accepts_html(accept)


@pytest.mark.parametrize("accept", ["text/html;q=0", "TEXT/HTML;Q=0.0", "text/html-fragment"])
@pytest.mark.parametrize("path", ["/khong-co", "/admin/khong-co"])
async def test_a_404_to_html_refused_is_the_line(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
    path: str,
    accept: str,
) -> None:
    r = await client.get(path, headers={"Accept": accept})
    plain(r, 404, vi("http.not_found"))


@pytest.mark.parametrize("accept", ["text/html;q=0", "text/html;q=0, */*"])
async def test_a_navigation_refusing_html_gets_the_feed(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
    accept: str,
) -> None:
    """At a feed's address only a navigation that accepts HTML gets the topic's page."""
    headers = {**BROWSER, "Accept": accept}
    for path in ("/feeds/khong-co.xml", "/feeds/khong-co.rss"):
        r = await client.get(path, headers=headers)
        assert r.status_code == 404
        assert r.headers["content-type"] == "text/plain; charset=utf-8", path
        page = await client.get(path, headers=BROWSER)
        assert page.headers["content-type"] == "text/html; charset=utf-8", path


def closed_admin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    admin, _ = make_client(tmp_path, monkeypatch, token=None)
    return admin


CLOSED_PATHS = [("GET", "/admin/login"), ("GET", "/admin/topics"), ("POST", "/admin/login")]


def test_a_closed_admin_tells_curl_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    words = vi("not_configured")
    with closed_admin(tmp_path, monkeypatch) as admin:
        for method, path in CLOSED_PATHS:
            for headers in NOT_BROWSERS:
                r = admin.request(method, path, headers=headers, follow_redirects=False)
                plain(r, 503, words)
                assert r.headers["vary"] == "Accept"
                assert r.headers["cache-control"] == "no-store"
                assert r.headers["x-frame-options"] == "DENY"
            for headers in (BROWSER, ACCEPT_HTML):
                r = admin.request(method, path, headers=headers, follow_redirects=False)
                assert r.status_code == 503
                assert r.headers["content-type"] == "text/html; charset=utf-8"
                assert "FEEDSVC_ADMIN__TOKEN" in r.text and '<html lang="vi">' in r.text
                assert r.headers["vary"] == "Accept"


def test_a_closed_admin_answers_the_previews_script_in_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with closed_admin(tmp_path, monkeypatch) as admin:
        r = admin.post("/admin/preview", json={"query": "a"}, headers=BROWSER)
        assert r.status_code == 503
        assert r.json() == {"error": vi("not_configured")}


@pytest.mark.parametrize(
    "name", ["nope.css", "admin.css.map", "admin.py", "base.html", "admin.CSS"]
)
def test_a_missing_static_file_is_the_line_for_curl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    admin, _ = make_client(tmp_path, monkeypatch)
    with admin:
        assert admin.get("/admin/static/admin.css").status_code == 200
        for headers in NOT_BROWSERS:
            r = admin.get(f"/admin/static/{name}", headers=headers)
            plain(r, 404, vi("not_found"))
            assert r.headers["vary"] == "Accept"
        r = admin.get(f"/admin/static/{name}", headers=BROWSER)
        assert r.status_code == 404
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert "<nav" not in r.text


def test_an_id_holding_a_nul_is_the_line_for_curl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, _ = make_client(tmp_path, monkeypatch)
    with admin:
        assert login(admin).status_code == 303
        r = admin.get("/admin/topics/a%00b/edit", follow_redirects=False)
        plain(r, 404, vi("not_found"))


@pytest.mark.parametrize("value", ["Việt", "\u00ff"])
def test_a_damaged_cookie_is_the_line_for_curl_and_still_cleared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    admin, _ = make_client(tmp_path, monkeypatch)
    raw = f"{auth.SESSION_COOKIE}={value}".encode()
    with admin:
        r = admin.get("/admin/topics", headers={"cookie": raw, "accept": "*/*"})  # type: ignore[dict-item]
        plain(r, 400, vi("malformed"))
        assert f"{auth.SESSION_COOKIE}=" in r.headers["set-cookie"]
        headers = {"cookie": raw, "accept": BROWSER["Accept"]}
        page = admin.get("/admin/topics", headers=headers)  # type: ignore[arg-type]
        assert page.status_code == 400 and "<html" in page.text
        script = admin.post(
            "/admin/preview",
            json={"query": "a"},
            headers={"cookie": raw},  # type: ignore[dict-item]
        )
        assert script.status_code == 400
        assert script.json() == {"error": vi("malformed")}


def test_the_english_admin_words_its_line_in_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, _ = make_client(tmp_path, monkeypatch, token=None, language="en")
    with admin:
        plain(admin.get("/admin/login"), 503, en("not_configured"))
