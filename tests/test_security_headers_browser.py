"""The security headers as Chromium applies them (:mod:`feedsvc.web.security_headers`; every
answer's headers in ``test_security_headers``): with the reader pages' CSP every reader page
still gets its style, its copy script runs and its QR codes load, with no violation reported;
another site's page can frame a topic page (a newsroom's embed) and a feed, never the admin.
(Chromium shows a feed as text: it applies ``/feed.xsl`` to no feed, so the stylesheet, sent
``text/xsl`` with ``nosniff``, is exercised by browsers that do, not here.)"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from processes import free_port
from test_admin_browser import (  # noqa: F401  (driver, server: the fixtures)
    BROWSER_MARKS,
    SERVICES,
    By,
    driver,
    ec,
    server,
    wait,
)
from test_reader_contrast import many_topics

from feedsvc.catalogue import Translator

pytestmark = BROWSER_MARKS

#: every page records the CSP violations it sees, from before its first script
RECORDER = (
    "window.__csp = [];"
    "document.addEventListener('securitypolicyviolation', function (e) {"
    "  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI); });"
)
READER_PAGES = [
    "/",
    "/?q=kien",
    "/topics/kien-thuy",
    "/topics/khong-co",
    "/khong-co",
    "/feeds/search.rss?q=kien",  # a feed's address, navigated: the search's page
    "/feeds/khong-co.atom",
]


def recording(b: Any) -> None:
    b.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER})


def violations(b: Any) -> list[str]:
    return b.execute_script("return window.__csp || []")  # type: ignore[no-any-return]


def test_reader_pages_render_and_run_under_their_csp(
    server: str,  # noqa: F811  (the imported fixture)
    driver: Any,  # noqa: F811
) -> None:
    many_topics(SERVICES[server])
    b = driver
    recording(b)
    for path in READER_PAGES:
        b.get(f"{server}{path}")
        wait(b).until(ec.presence_of_element_located((By.TAG_NAME, "footer")))
        # the inline stylesheet applied: the layout's column, not the browser's full width
        width = b.execute_script("return getComputedStyle(document.body).maxWidth")
        assert width == "768px", path
        assert violations(b) == [], path
    b.get(f"{server}/topics/kien-thuy")
    wait(b).until(ec.presence_of_element_located((By.TAG_NAME, "footer")))
    b.execute_script("for (const d of document.querySelectorAll('details')) d.open = true")
    qr = b.find_element(By.CSS_SELECTOR, "img.qr")
    wait(b).until(lambda _: b.execute_script("return arguments[0].naturalWidth", qr) > 0)
    figure = b.find_element(By.CSS_SELECTOR, "figure.qr")
    margin = b.execute_script("return getComputedStyle(arguments[0]).marginLeft", figure)
    assert margin == "0px"  # was an inline style attribute, which the CSP would refuse
    button = b.find_element(By.CSS_SELECTOR, "button[data-copy]")
    button.click()  # the inline script runs: the button says it copied
    copied = Translator("vi")("reader.copied")
    wait(b).until(lambda _: button.text == copied)
    assert violations(b) == []
    # what the CSP is for: a script that got into the page (here added by a script of the
    # test's, which itself is exempt) does not run, and the browser says why
    ran = b.execute_script(
        "var s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
        "document.body.appendChild(s); return window.__ran === 1;"
    )
    assert ran is False
    wait(b).until(lambda _: any(v.startswith("script-src") for v in violations(b)))


@pytest.fixture
def newsroom() -> Iterator[str]:
    """Another site's page (another origin on this machine, no policy of its own): where a
    newsroom would embed a topic page. ``about:blank`` cannot stand in: Chromium refuses it
    frames of a loopback address (Private Network Access)."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><title>newsroom</title><body></body>"
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    site = ThreadingHTTPServer(("127.0.0.1", free_port()), Page)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{site.server_address[1]}/"
    finally:
        site.shutdown()
        site.server_close()
        thread.join(10)


def framed(b: Any, newsroom: str, url: str) -> None:
    """``url`` in an iframe of the ``newsroom``'s page, switched into once it has loaded."""
    b.switch_to.default_content()
    b.get(newsroom)
    b.execute_script(
        "var f = document.createElement('iframe'); f.id = 'f'; f.src = arguments[0];"
        "f.width = 800; f.height = 600; f.onload = function () { f.dataset.loaded = '1'; };"
        "document.body.appendChild(f);",
        url,
    )
    wait(b).until(lambda _: b.execute_script("return document.getElementById('f').dataset.loaded"))
    b.switch_to.frame(b.find_element(By.ID, "f"))


def test_a_topic_page_and_a_feed_can_be_framed_and_the_admin_cannot(
    server: str,  # noqa: F811  (the imported fixture)
    driver: Any,  # noqa: F811
    newsroom: str,
) -> None:
    many_topics(SERVICES[server])
    b = driver
    framed(b, newsroom, f"{server}/topics/kien-thuy")
    assert b.find_element(By.TAG_NAME, "h1").text == "Kiến Thụy"
    # a feed in a frame is no navigation: the feed itself, sent nosniff, which Chromium shows
    # as text (it applies no XSL to application/rss+xml), never as a page it guessed
    framed(b, newsroom, f"{server}/feeds/kien-thuy.rss")
    shown = b.find_element(By.TAG_NAME, "pre").text
    assert shown.startswith("<?xml") and "<title>Kiến Thụy" in shown
    framed(b, newsroom, f"{server}/admin/login")
    assert not b.find_elements(By.TAG_NAME, "form")  # refused: Chromium's error page
    assert b.execute_script("return location.href").startswith("chrome-error:")
