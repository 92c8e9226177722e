"""An address no route has, opened in a browser: the site's 404 page, not one line of text.

Found by looking (the ``looks`` pass): a reader following a mistyped or cut link (``/topic/
kien-thuy``, ``/topics/kien-thuy/x``, ``/kien-thuy``) got "Không tìm thấy trang này." as
``text/plain``: on a phone a 980 px page in a small monospace font (no viewport), no ``lang``,
no title, no way on. ``/topics/{slug}`` already had a page for this. Now a browser (an
``Accept`` naming HTML) gets the site's page, in ``site.language``, with the way to every
topic; curl, scripts and feed readers keep the line, the API its JSON. And under ``/admin``
the answer is in ``admin.language`` (it was in the site's); every other error a browser is
answered: ``test_error_pages``.
"""

from __future__ import annotations

import re

import httpx
import pytest
from test_web_words import client, en, service, vi  # noqa: F401  (client, service: fixtures)

from feedsvc.app import Service

#: what Chromium sends for a navigation
BROWSER = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
    "image/webp,image/apng,*/*;q=0.8",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Dest": "document",
}
PATHS = [
    "/khong-co",
    "/topic/kien-thuy",
    "/topics/kien-thuy/x",
    "/index.html",
    "/ki%E1%BA%BFn-th%E1%BB%A5y",
    "/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "/a/b/c/d",
]


def title_of(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found, html
    return found.group(1)


@pytest.mark.parametrize("path", PATHS)
async def test_a_browser_gets_the_sites_404_page(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
    service: Service,  # noqa: F811
    path: str,
) -> None:
    r = await client.get(path, headers=BROWSER)
    assert r.status_code == 404
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["cache-control"] == "no-store" and "Accept" in r.headers["vary"]
    html = r.text
    assert '<html lang="vi">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<meta name="robots" content="noindex">' in html
    site = service.settings.site.title
    assert title_of(html) == vi("reader.not_found_title").format(site=site)
    assert f"<h1>{vi('http.not_found')}</h1>" in html
    assert vi("reader.not_found_hint") in html
    home = service.settings.http.public_url.rstrip("/") + "/"
    assert f'<a class="button" href="{home}">{vi("reader.all_topics")}</a>' in html
    assert "<script>alert" not in html  # the address is not written into the page


@pytest.mark.parametrize(
    "service",
    [{"site": {"language": "en"}, "admin": {"language": "vi"}}],
    indirect=True,
)
async def test_in_the_sites_language_and_the_admins_under_admin(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
) -> None:
    r = await client.get("/topic/kien-thuy", headers=BROWSER)
    assert r.status_code == 404 and '<html lang="en">' in r.text
    assert title_of(r.text).startswith("Page not found — ")
    assert en("reader.not_found_hint") in r.text and vi("reader.back") not in r.text
    # the admin's side: its own language, its own page (test_error_pages), the line for curl
    for path in ("/admin/khong-co", "/admin/topics/kien-thuy/x"):
        r = await client.get(path, headers=BROWSER)
        assert r.status_code == 404 and '<html lang="vi">' in r.text, path
        assert f'<p class="flash bad">{vi("http.not_found")}</p>' in r.text
        r = await client.get(path, headers={"Accept": "*/*"})
        assert (r.status_code, r.text) == (404, vi("http.not_found") + "\n"), path
    r = await client.delete("/admin/login")
    assert (r.status_code, r.text) == (405, vi("http.method_not_allowed") + "\n")
    r = await client.delete("/feeds.opml")  # a reader's address: the site's language
    assert (r.status_code, r.text) == (405, en("http.method_not_allowed") + "\n")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Accept": "*/*"},  # curl
        {"Accept": "application/rss+xml, application/atom+xml, */*;q=0.1"},  # a feed reader
        {"Accept": "application/json"},
    ],
)
async def test_anything_else_keeps_the_plain_line(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
    headers: dict[str, str],
) -> None:
    r = await client.get("/topic/kien-thuy", headers=headers)
    assert (r.status_code, r.text) == (404, vi("http.not_found") + "\n")
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["vary"] == "Accept"


async def test_the_api_keeps_its_format_in_a_browser_and_feed_readers_theirs(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
) -> None:
    r = await client.get("/api/khong-co", headers=BROWSER)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    # no format: not a feed; a browser's navigation gets the site's page (test_error_pages),
    # a feed reader naming HTML the line
    r = await client.get("/feeds/khong-co", headers=BROWSER)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    r = await client.get("/feeds/khong-co", headers={"Accept": BROWSER["Accept"]})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/plain")


async def test_a_feed_address_of_a_missing_topic_opened_in_a_browser(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
) -> None:
    """An old feed link clicked in a browser: the topic page's 404, as ``/topics/{slug}``;
    a feed reader (even one that names HTML in ``Accept``) keeps the one line."""
    for fmt in ("rss", "atom", "json"):
        r = await client.get(f"/feeds/khong-co.{fmt}", headers=BROWSER)
        assert r.status_code == 404 and r.headers["content-type"] == "text/html; charset=utf-8"
        assert f"<h1>{vi('http.no_topic').format(slug='khong-co')}</h1>" in r.text
        assert '<html lang="vi">' in r.text and r.headers["cache-control"] == "no-store"
        assert "Sec-Fetch-Mode" in r.headers["vary"]
        reader = {"Accept": "application/rss+xml, text/html;q=0.1"}
        r = await client.get(f"/feeds/khong-co.{fmt}", headers=reader)
        assert r.status_code == 404 and r.text == vi("http.no_topic").format(slug="khong-co") + "\n"
