"""A search feed's address opened in a browser (SPEC §13: "a browser navigating to a feed URL
gets a readable page"): Chromium 156 showed ``/feeds/search.rss?q=…`` as raw XML text (it no
longer applies ``feed.xsl``; a topic's feed sends the browser to the topic's page, a search has
none). It now gets the search's page: its results as a topic's page lists them, the search
feed's addresses to copy, not indexed, never cached. Feed readers, curl and caches still get
the feed's bytes. The real app on uvicorn; the page as Chromium shows it."""

from __future__ import annotations

import itertools
import re
from typing import Any
from urllib.parse import quote

import html5lib
import httpx
from test_admin_browser import (  # noqa: F401  (driver, server: the fixtures)
    BROWSER_MARKS,
    SAMPLES,
    By,
    driver,
    ec,
    no_sideways_scroll,
    server,
    wait,
)
from test_web_feeds import CHROME_NAVIGATION, READERS

FORMATS = ["rss", "atom", "json"]
FEED_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml"}
FEED_TYPES["json"] = "application/feed+json"
pytestmark = BROWSER_MARKS  # the server fixture is the browser tests'; Chromium below

KIEN_THUY = [title for title, summary in SAMPLES if "Kiến Thụy" in title + summary]


def search_url(base: str, query: str, fmt: str = "rss") -> str:
    return f"{base}/feeds/search.{fmt}?q={quote(query)}"


def test_a_browser_opening_a_search_feed_gets_its_page(
    server: str,  # noqa: F811  (the imported fixture)
) -> None:
    with httpx.Client(timeout=10) as client:
        pages = {f: client.get(search_url(server, "Kiến Thụy", f), headers=CHROME_NAVIGATION)
                 for f in FORMATS}  # fmt: skip
    for fmt, page in pages.items():
        assert page.status_code == 200, fmt
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert page.headers["cache-control"] == "no-store"  # never replaces a cached feed
        assert "Sec-Fetch-Dest" in page.headers["vary"]
        html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(page.content)
        text = page.text
        assert "<h1>“Kiến Thụy”</h1>" in text
        assert '<meta name="robots" content="noindex">' in text
        for title in KIEN_THUY:
            assert title in text
        assert "Cát Bà bảo tồn voọc" not in text  # not a result
        for each in FORMATS:  # every search feed's address to copy
            assert f'value="{search_url(server, "Kiến Thụy", each)}"' in text


def test_feed_readers_still_get_the_search_feed(
    server: str,  # noqa: F811
) -> None:
    with httpx.Client(timeout=10) as client:
        for reader, fmt in itertools.product(READERS, FORMATS):
            feed = client.get(search_url(server, "Kiến Thụy", fmt), headers=READERS[reader])
            assert feed.status_code == 200, (reader, fmt)
            assert feed.headers["content-type"].startswith(FEED_TYPES[fmt]), (reader, fmt)
            assert "no-store" not in feed.headers["cache-control"]
            assert KIEN_THUY[0] in feed.text and "<html" not in feed.text


QUERIES = {
    "<script>alert(1)</script> Kiến": [],  # markup typed as text
    "Kiến Thụy \u202egnonk": [],  # a bidi override
    "khong-co-ket-qua-nao": [],  # no results
    '"Đồ Sơn" OR "Cát Bà"': ["Đồ Sơn đón khách du lịch", "Cát Bà bảo tồn voọc"],
}


def test_the_page_shows_any_query_as_text(
    server: str,  # noqa: F811
) -> None:
    with httpx.Client(timeout=10) as client:
        for query, results in QUERIES.items():
            page = client.get(search_url(server, query), headers=CHROME_NAVIGATION)
            assert page.status_code == 200, (query, page.text)
            html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(page.content)
            assert "<script>alert" not in page.text and "\u202e" not in page.text
            shown = re.findall(r'<h2><a href="[^"]*">([^<]*)</a></h2>', page.text)
            assert sorted(shown) == sorted(results), query


def test_a_search_a_browser_cannot_run_gets_the_error_page(
    server: str,  # noqa: F811
) -> None:
    """No query, or one the parser refuses: the site's 400 page, as before."""
    with httpx.Client(timeout=10) as client:
        for query in ["", "   ", '"Kiến']:
            page = client.get(search_url(server, query), headers=CHROME_NAVIGATION)
            assert page.status_code == 400, query
            assert page.headers["content-type"] == "text/html; charset=utf-8"


def test_chromium_shows_the_search_page_on_a_phone(
    server: str,  # noqa: F811
    driver: Any,  # noqa: F811
) -> None:
    b = driver
    b.set_window_size(390, 844)
    b.get(search_url(server, "Kiến Thụy"))
    heading = wait(b).until(ec.presence_of_element_located((By.TAG_NAME, "h1")))
    assert heading.text == "“Kiến Thụy”"
    titles = [e.text for e in b.find_elements(By.CSS_SELECTOR, "article.article h2 a")]
    assert sorted(titles) == sorted(KIEN_THUY)
    assert b.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"
    no_sideways_scroll(b)
