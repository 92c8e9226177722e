"""The browser modules' headless Chromium, one per worker (``conftest.shared_browser`` holds
it, ``test_admin_browser.driver`` hands it out): a start and quit cost ~1 s of CPU, and each of
~45 browser tests paid one. Before each test it is made as a new one is (:func:`as_new`); one
that no longer answers is replaced."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service as DriverService

ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
    "--lang=vi",
)
#: Network conditions as they are when nothing emulates any (a test may set ``offline``).
ONLINE = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}


def start(chromium: Path, chromedriver: Path, held: dict[str, Any]) -> Any:
    """A new browser on a profile of its own, kept in ``held`` with how to quit it."""
    profile = tempfile.mkdtemp(prefix="feedsvc-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for arg in (*ARGS, f"--user-data-dir={profile}"):
        options.add_argument(arg)
    browser = webdriver.Chrome(options=options, service=DriverService(str(chromedriver)))

    def quit_browser() -> None:
        try:
            browser.quit()
        finally:
            shutil.rmtree(profile, ignore_errors=True)

    held.update(browser=browser, quit=quit_browser, size=browser.get_window_size())
    return browser


def as_new(browser: Any, size: dict[str, int]) -> None:
    """What one test left is gone: one window on a blank page, no cookies (they are not kept
    per port, so an admin session would log the next test's admin in), no cache, the window
    size it started with, no emulated device, media or network conditions."""
    windows = browser.window_handles
    for extra in windows[1:]:
        browser.switch_to.window(extra)
        browser.close()
    browser.switch_to.window(windows[0])
    browser.get("about:blank")
    for command, arguments in (
        ("Network.clearBrowserCookies", {}),
        ("Network.clearBrowserCache", {}),
        ("Network.enable", {}),
        ("Network.emulateNetworkConditions", ONLINE),
        ("Network.disable", {}),
        ("Emulation.clearDeviceMetricsOverride", {}),
        ("Emulation.setEmulatedMedia", {"media": "", "features": []}),
    ):
        browser.execute_cdp_cmd(command, arguments)
    browser.set_window_size(size["width"], size["height"])


def shared(chromium: Path, chromedriver: Path, held: dict[str, Any]) -> Any:
    """The worker's browser made as new, started at first use or when it no longer answers
    (a test that failed half-way may leave it so)."""
    if "browser" in held:
        try:
            as_new(held["browser"], held["size"])
            return held["browser"]
        except WebDriverException:
            held.pop("quit")()
            held.clear()
    return start(chromium, chromedriver, held)
