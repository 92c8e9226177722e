"""The browser modules share one Chromium per worker (``tests/chromium.py``): what one test
leaves must not reach the next. Cookies are not kept per port, so an admin session left behind
would log the next test's admin in at its own server; a window size, an emulated medium or
network conditions would change what the next test measures."""

from __future__ import annotations

from typing import Any

import chromium
from test_admin_browser import (  # noqa: F401  (driver, server: the fixtures)
    BROWSER_MARKS,
    CHROMEDRIVER,
    CHROMIUM,
    By,
    driver,
    ec,
    login_as_admin,
    server,
    wait,
)

from feedsvc.web import admin_auth as auth

pytestmark = BROWSER_MARKS


def names(cookies: list[dict[str, Any]]) -> set[str]:
    return {cookie["name"] for cookie in cookies}


def test_what_a_test_leaves_is_gone_for_the_next(
    server: str,  # noqa: F811  (the imported fixture)
    driver: Any,  # noqa: F811
    shared_browser: dict[str, Any],
) -> None:
    b = driver
    start = b.get_window_size()
    login_as_admin(b, server)
    assert auth.SESSION_COOKIE in names(b.get_cookies())
    b.set_window_size(390, 844)
    dark = {"features": [{"name": "prefers-color-scheme", "value": "dark"}]}
    b.execute_cdp_cmd("Emulation.setEmulatedMedia", dark)
    b.execute_cdp_cmd("Network.enable", {})
    offline = {**chromium.ONLINE, "offline": True}
    b.execute_cdp_cmd("Network.emulateNetworkConditions", offline)
    b.switch_to.new_window("tab")

    again = chromium.shared(CHROMIUM, CHROMEDRIVER, shared_browser)
    assert again is b  # the same browser, not a new start
    assert len(b.window_handles) == 1 and b.get_window_size() == start
    b.get(f"{server}/admin/topics")  # online again, and logged out: the login form
    wait(b).until(ec.presence_of_element_located((By.ID, "token")))
    assert auth.SESSION_COOKIE not in names(b.get_cookies())  # the login form's own only
    assert not b.execute_script("return matchMedia('(prefers-color-scheme: dark)').matches")
