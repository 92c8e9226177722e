"""Every error a browser is answered is an HTML page (:mod:`feedsvc.web.error_pages`).

Found in a browser: reader paths already gave a mistyped URL the site's 404 page, but an
unknown path under ``/admin/`` or ``/feeds/``, every 405 (a browser's GET of a POST-only admin
route, a form posted to a page), a path or query string that is not UTF-8 text (400), a feed's
400 (``?limit=0``, a search without words or with a broken query), the admin's 413 and a 429
were one line of ``text/plain``. Now a browser gets a page in the look of the side it asked
(the admin's under ``/admin``, logged out whoever asks; the site's elsewhere), in that side's
language, with the status, ``Allow`` and ``Vary``; curl, scripts and feed readers keep the line,
the API its JSON. Run against the whole app (``create_app``) with a real SQLite state DB.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import httpx
import pytest
from test_not_found_page import BROWSER, title_of
from test_state_outage import SLUG, client_of, service_on, unopenable
from test_web_words import client, en, service, vi  # noqa: F401  (client, service: fixtures)

#: a browser's request that is no navigation (a link's prefetch, an older browser): HTML only
#: by its ``Accept``, which a feed reader may send too
ACCEPT_HTML = {"Accept": BROWSER["Accept"]}
#: what keeps the line: nothing, curl, a script, a feed reader
NOT_BROWSERS = [
    {},
    {"Accept": "*/*"},
    {"Accept": "application/json"},
    {"Accept": "application/rss+xml, application/atom+xml, */*;q=0.1"},
]
#: what keeps the line at a feed's address too: feed readers that name HTML
FEED_READERS = [ACCEPT_HTML, {"Accept": "application/rss+xml, text/html;q=0.1"}]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def admin_page(r: httpx.Response, status: int, title: str, text: str, lang: str = "vi") -> None:
    """The admin's look (its stylesheet, its header), logged out: no navigation, no token."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["cache-control"] == "no-store" and "Accept" in r.headers["vary"]
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    html = r.text
    assert f'<html lang="{lang}">' in html
    assert '<link rel="stylesheet" href="/admin/static/admin.css">' in html
    assert title_of(html).startswith(title + " · ")
    assert f"<h1>{title}</h1>" in html and f'<p class="flash bad">{text}</p>' in html
    for secret in ("<nav", "logout", 'name="csrf"', "/admin/subscriptions", "/admin/status"):
        assert secret not in html, secret


def site_page(r: httpx.Response, status: int, title: str, text: str, lang: str = "vi") -> None:
    """The site's look (the reader pages' layout), with the way to every topic."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["cache-control"] == "no-store" and "Accept" in r.headers["vary"]
    html = r.text
    assert f'<html lang="{lang}">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<meta name="robots" content="noindex">' in html
    assert title_of(html).startswith(title + " — ")
    assert f"<h1>{title}</h1>" in html and f"<p>{text}</p>" in html
    assert 'class="button" href="http://127.0.0.1:8080/"' in html


def plain(r: httpx.Response, status: int, text: str) -> None:
    assert (r.status_code, r.text) == (status, text + "\n")
    assert r.headers["content-type"] == "text/plain; charset=utf-8"


# -- unknown paths under /admin and /feeds/ -----------------------------------------------------
@pytest.mark.parametrize(
    "path", ["/admin/khong-co", "/admin/topics/kien-thuy/x", "/admin/static/a/b", "/admin/x%20y"]
)
async def test_an_unknown_admin_path_is_the_admins_page_revealing_nothing(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
    path: str,
) -> None:
    for headers in (BROWSER, ACCEPT_HTML):
        r = await client.get(path, headers=headers)
        admin_page(r, 404, vi("http.title_404"), vi("http.not_found"))
    for headers in NOT_BROWSERS:
        r = await client.get(path, headers=headers)
        plain(r, 404, vi("http.not_found"))
        assert r.headers["vary"] == "Accept"


@pytest.mark.parametrize("path", ["/feeds/khong-co", "/feeds/a/b", "/feeds/kt.xml", "/feeds/"])
async def test_an_unknown_feed_address_opened_in_a_browser_is_the_sites_page(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
    path: str,
) -> None:
    r = await client.get(path, headers=BROWSER)
    assert r.status_code == 404 and '<html lang="vi">' in r.text
    assert "<h1>" in r.text and vi("reader.all_topics") in r.text
    assert r.headers["vary"] == "Sec-Fetch-Mode, Sec-Fetch-Dest, Accept"
    # a feed reader may name HTML without navigating: the line, as every feed error
    for headers in [*NOT_BROWSERS, *FEED_READERS]:
        r = await client.get(path, headers=headers)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/plain")
        assert "Sec-Fetch-Mode" in r.headers["vary"]


# -- 405 anywhere -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/admin/logout", "POST"),  # a typed or bookmarked POST-only address
        ("GET", "/admin/preview", "POST"),
        ("DELETE", "/admin/login", "GET, HEAD, POST"),
        ("POST", "/admin", "GET, HEAD"),
        ("POST", "/", "GET, HEAD"),  # a form posted to a page
        ("POST", "/topics/kien-thuy", "GET, HEAD"),
        ("PUT", "/topics/kien-thuy/telegram.svg", "GET, HEAD"),
        ("POST", "/healthz", "GET, HEAD"),
        ("GET", "/zalo/webhook", "POST"),
    ],
)
async def test_a_405_is_the_admins_page_under_admin_and_the_sites_elsewhere(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
    method: str,
    path: str,
    allow: str,
) -> None:
    r = await client.request(method, path, headers={**BROWSER, **FORM}, content=b"a=1")
    page = admin_page if path.startswith("/admin") else site_page
    page(r, 405, vi("http.title_405"), vi("http.method_not_allowed"))
    assert r.headers["allow"] == allow
    for headers in NOT_BROWSERS:
        r = await client.request(method, path, headers=headers)
        plain(r, 405, vi("http.method_not_allowed"))
        assert r.headers["allow"] == allow and r.headers["vary"] == "Accept"


@pytest.mark.parametrize("path", ["/feeds/kt.rss", "/feeds.opml", "/feed.xsl"])
async def test_a_405_at_a_feed_address_is_a_page_for_a_navigation_only(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
    path: str,
) -> None:
    r = await client.post(path, headers={**BROWSER, **FORM}, content=b"a=1")
    site_page(r, 405, vi("http.title_405"), vi("http.method_not_allowed"))
    assert r.headers["vary"] == "Sec-Fetch-Mode, Sec-Fetch-Dest, Accept"
    for headers in [*NOT_BROWSERS, *FEED_READERS]:
        r = await client.post(path, headers=headers)
        plain(r, 405, vi("http.method_not_allowed"))


@pytest.mark.parametrize(
    "service", [{"site": {"language": "en"}, "admin": {"language": "vi"}}], indirect=True
)
async def test_each_side_in_its_own_language(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
) -> None:
    r = await client.post("/", headers=BROWSER)
    site_page(r, 405, en("http.title_405"), en("http.method_not_allowed"), "en")
    r = await client.get("/admin/logout", headers=BROWSER)
    admin_page(r, 405, vi("http.title_405"), vi("http.method_not_allowed"), "vi")
    r = await client.get("/feeds/a/b", headers=BROWSER)
    assert r.status_code == 404 and '<html lang="en">' in r.text


@pytest.mark.parametrize(
    "service", [{"site": {"language": "vi"}, "admin": {"language": "en"}}], indirect=True
)
async def test_the_admins_page_in_english_when_the_admin_is(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
) -> None:
    r = await client.get("/admin/khong-co", headers=BROWSER)
    admin_page(r, 404, en("http.title_404"), en("http.not_found"), "en")
    r = await client.get("/khong-co", headers=BROWSER)
    assert r.status_code == 404 and '<html lang="vi">' in r.text


# -- 400: an address that cannot be read, a feed's parameters -----------------------------------
@pytest.mark.parametrize(
    ("path", "shown"),
    [("/topics/%FF", "%FF"), ("/%C3", "%C3"), ("/topics/kien-thuy/%ED%A0%80.svg", "%ED%A0%80")],
)
async def test_a_path_that_is_not_text_is_the_sites_page(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
    path: str,
    shown: str,
) -> None:
    text = vi("http.path_not_text").format(bytes=shown)
    r = await client.get(path, headers=BROWSER)
    site_page(r, 400, vi("http.title_400"), text)
    for headers in NOT_BROWSERS:
        plain(await client.get(path, headers=headers), 400, text)


async def test_an_admin_address_that_cannot_be_read_is_the_admins_page(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
) -> None:
    text = vi("http.path_not_text").format(bytes="%FF")
    admin_page(await client.get("/admin/%FF", headers=BROWSER), 400, vi("http.title_400"), text)
    plain(await client.get("/admin/%FF", headers={"Accept": "*/*"}), 400, text)
    # the login form reads ?next= (logged out): a value that is not text
    text = vi("http.query_not_text").format(bytes="%FF")
    r = await client.get("/admin/login?next=%FF", headers=BROWSER)
    admin_page(r, 400, vi("http.title_400"), text)
    plain(await client.get("/admin/login?next=%FF"), 400, text)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/feeds/search.rss", vi("http.missing_query").format(fmt="rss")),
        ("/feeds/search.json?q=%20", vi("http.missing_query").format(fmt="json")),
        ("/feeds/kt.rss?limit=0", vi("http.bad_limit").format(limit=200, value="&#39;0&#39;")),
        ("/feeds/kt.atom?limit=%FF", vi("http.query_not_text").format(bytes="%FF")),
    ],
)
async def test_a_feeds_400_opened_in_a_browser_is_the_sites_page(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
    path: str,
    text: str,
) -> None:
    r = await client.get(path, headers=BROWSER)
    site_page(r, 400, vi("http.title_400"), text)
    for headers in [*NOT_BROWSERS, *FEED_READERS]:
        r = await client.get(path, headers=headers)
        assert r.status_code == 400 and r.headers["content-type"].startswith("text/plain")
        assert r.text == text.replace("&#39;", "'") + "\n"


async def test_a_broken_search_query_opened_in_a_browser_is_the_sites_page(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
) -> None:
    r = await client.get("/feeds/search.rss?q=a%20OR", headers=BROWSER)
    assert r.status_code == 400 and f"<h1>{vi('http.title_400')}</h1>" in r.text
    assert re.search(r"<p>Truy vấn không hợp lệ: .*OR", r.text)
    r = await client.get("/feeds/search.rss?q=a%20OR")
    assert r.status_code == 400 and r.text.startswith("Truy vấn không hợp lệ: ")


async def test_a_search_over_the_term_limit_says_what_a_reader_can_do(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
) -> None:
    """A reader's search of 101 words was told to "split it into several topics", on the page
    and in the line: a reader has no topics to split."""
    words = "%20".join(f"t{n}" for n in range(101))
    for headers in (BROWSER, {}):
        r = await client.get(f"/feeds/search.rss?q={words}", headers=headers)
        assert r.status_code == 400
        assert "quá 100 từ — tìm với ít từ hơn" in r.text, r.text
        assert "tách thành nhiều chủ đề" not in r.text


@pytest.mark.parametrize("length", [2001, 2600])
async def test_a_search_over_the_length_limit_says_so_once(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
    length: int,
) -> None:
    """A 2,001-character search said "Truy vấn không hợp lệ: tại ký tự 2001: Truy vấn quá dài:
    2001 ký tự, tối đa 2000. — tìm với ít từ hơn": the query named twice, a capital and a full
    stop inside the line, a place that means nothing, a hint for too many words."""
    r = await client.get("/feeds/search.rss", params={"q": "a" * length})
    assert r.status_code == 400
    assert r.text == (
        f"Truy vấn không hợp lệ: quá dài ({length} ký tự, tối đa 2000) — rút ngắn nội dung tìm "
        "kiếm\n"
    )


# -- 413, 429 -----------------------------------------------------------------------------------
async def test_the_admins_413_is_its_page(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
) -> None:
    body = b"token=" + b"x" * (300 * 1024)
    r = await client.post("/admin/login", content=body, headers={**BROWSER, **FORM})
    admin_page(r, 413, vi("http.title_413"), vi("http.body_too_large"))
    assert r.headers["connection"] == "close"
    for headers in NOT_BROWSERS:
        r = await client.post("/admin/login", content=body, headers={**headers, **FORM})
        plain(r, 413, vi("http.body_too_large"))


@pytest.mark.parametrize(
    "service", [{"http": {"client_burst": 1, "client_rate": 0.01}}], indirect=True
)
async def test_a_429_on_the_search_is_the_sites_page(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
) -> None:
    assert (await client.get("/?q=kien", headers=BROWSER)).status_code == 200
    r = await client.get("/?q=kien", headers=BROWSER)
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert f"<h1>{vi('http.title_429')}</h1>" in r.text and '<html lang="vi">' in r.text
    r = await client.get("/?q=kien", headers={"Accept": "*/*"})
    assert r.status_code == 429 and r.headers["content-type"].startswith("text/plain")


# -- the API stays JSON -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/api/khong-co", 404), ("POST", "/api/stats", 405), ("GET", "/api/topics/%FF", 422)],
)
async def test_the_api_answers_a_browser_in_json(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
    method: str,
    path: str,
    status: int,
) -> None:
    headers = {**BROWSER, "Authorization": "Bearer adm-4c1d9e7f3a2b6085-secret"}
    r = await client.request(method, path, headers=headers)
    assert r.status_code == status and r.headers["content-type"] == "application/json"
    assert r.json()["code"]


# -- 503 (the state DB away), 500 (a bug) -------------------------------------------------------
def test_the_state_dbs_503_is_each_sides_page(tmp_path: Path) -> None:
    """The file cannot be opened (test_state_outage's outage): a browser gets the side's page
    with ``Retry-After``; everyone else the answer as it was."""
    file = tmp_path / "state.db"
    svc = service_on(f"sqlite:///{file}")
    with client_of(svc) as browser, unopenable(file, svc):
        r = browser.get("/admin/topics", headers=BROWSER)
        text = vi("http.state_db_down").format(seconds=r.headers["retry-after"])
        admin_page(r, 503, vi("http.title_503"), text)  # logged in, yet no navigation
        r = browser.get("/admin/topics")
        assert r.status_code == 503 and "<html" in r.text and "admin.css" not in r.text
        assert r.headers["vary"] == "Accept"
        r = browser.get(f"/feeds/{SLUG}.rss?limit=3", headers=BROWSER)
        site_page(r, 503, vi("http.title_503"), text)
        for headers in [*NOT_BROWSERS, *FEED_READERS]:
            r = browser.get(f"/feeds/{SLUG}.rss?limit=3", headers=headers)
            plain(r, 503, text)


def test_a_500_is_the_admins_page_for_a_browser(tmp_path: Path) -> None:
    """A bug (a table missing: not an outage, Starlette's 500 with its traceback logged): a
    browser gets the admin's page saying so; everyone else Starlette's line, as it was."""
    file = tmp_path / "state.db"
    svc = service_on(f"sqlite:///{file}")
    with client_of(svc) as browser:
        with sqlite3.connect(file) as conn:
            conn.execute("DROP TABLE revoked_sessions")
        r = browser.get("/admin/topics", headers=BROWSER)
        admin_page(r, 500, vi("http.title_500"), vi("http.server_error"))
        r = browser.get("/admin/topics", headers={"Accept": "*/*"})
        assert (r.status_code, r.text) == (500, "Internal Server Error")
