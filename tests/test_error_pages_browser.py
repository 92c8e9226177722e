"""Error pages as Chromium gets them (:mod:`feedsvc.web.error_pages`; every status and client
in ``test_error_pages``): what a real browser sends for a typed address, a bookmarked POST-only
admin address and a form posted to a page is answered with a page in the side's look — the
admin's stylesheet applied and nothing of a session shown to a logged-out visitor, the site's
layout with the way to every topic — readable on a phone (no sideways scrolling)."""

from __future__ import annotations

from typing import Any

from test_admin_browser import (  # noqa: F401  (driver, server: the fixtures)
    BROWSER_MARKS,
    By,
    driver,
    ec,
    no_sideways_scroll,
    server,
    wait,
)

from feedsvc.catalogue import CATALOGUE

pytestmark = BROWSER_MARKS


def vi(key: str) -> str:
    return CATALOGUE[key][0]


def heading(b: Any) -> str:
    found = wait(b).until(ec.presence_of_element_located((By.TAG_NAME, "h1")))
    return str(found.text)


def test_admin_addresses_get_the_admins_page_logged_out(
    server: str,  # noqa: F811  (the imported fixture)
    driver: Any,  # noqa: F811
) -> None:
    b = driver
    b.set_window_size(390, 844)
    for path, title in [("/admin/khong-co", "http.title_404"), ("/admin/logout", "http.title_405")]:
        b.get(f"{server}{path}")
        assert heading(b) == vi(title), path
        assert b.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"
        flash = b.find_element(By.CSS_SELECTOR, "p.flash.bad")
        # the admin's stylesheet is applied (its CSP lets the page load it)
        background = b.execute_script(
            "return getComputedStyle(arguments[0]).backgroundColor", flash
        )
        assert background == "rgb(253, 236, 234)", path
        assert not b.find_elements(By.TAG_NAME, "nav"), path  # logged out: nothing of a session
        no_sideways_scroll(b)


def test_a_form_posted_to_a_page_gets_the_sites_page(
    server: str,  # noqa: F811  (the imported fixture)
    driver: Any,  # noqa: F811
) -> None:
    b = driver
    b.set_window_size(390, 844)
    b.get(f"{server}/khong-co")  # the site's 404 page, as before
    assert heading(b) == vi("http.not_found")
    b.execute_script(
        "const f = document.createElement('form'); f.method = 'post'; f.action = '/';"
        "document.body.appendChild(f); f.submit();"
    )
    wait(b).until(lambda _: b.find_element(By.TAG_NAME, "h1").text == vi("http.title_405"))
    assert vi("http.method_not_allowed") in b.find_element(By.TAG_NAME, "main").text
    home = b.find_element(By.CSS_SELECTOR, "main a.button")
    assert home.get_attribute("href") == f"{server}/"
    no_sideways_scroll(b)
    b.get(f"{server}/feeds/kien-thuy")  # a feed address without its format, typed
    assert heading(b) == vi("http.title_404")
    assert vi("http.feed_suffix") in b.find_element(By.TAG_NAME, "main").text
