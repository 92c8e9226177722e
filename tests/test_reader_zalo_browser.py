"""The Zalo block of the reader pages in a browser: readable (every text 4.5:1 against its
background, light and dark: ``test_reader_contrast``'s measure), no sideways scrolling at 390 px,
its QR code fetched and drawn, and the command's copy button copying ``/sub <slug>``.
Screenshots at 390 and 1280 px (``reader-zalo-390.png``, ``reader-zalo-1280.png``) into
``FEEDSVC_SCREENSHOTS`` or a temporary directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_admin_browser import (  # noqa: F401  (driver, server: the fixtures)
    BROWSER_MARKS,
    SERVICES,
    By,
    driver,
    ec,
    no_sideways_scroll,
    server,
    shots_dir,
    wait,
)
from test_reader_contrast import LOW_CONTRAST, many_topics

pytestmark = BROWSER_MARKS

LINK = "https://zalo.me/2468013579135792468"
#: a fetched and drawn image (a broken one has no natural width)
DRAWN = "return arguments[0].naturalWidth > 0"


@pytest.fixture(autouse=True)
def zalo_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Zalo channel on with its link (autouse: set before ``server`` reads the config); no
    Zalo call leaves the machine (the server runs no bot and no dispatcher)."""
    monkeypatch.setenv("FEEDSVC_ZALO__TOKEN", "1234567890:zalo-browser-token-abcdefgh")
    monkeypatch.setenv("FEEDSVC_ZALO__LINK", LINK)
    monkeypatch.setenv("FEEDSVC_ZALO__BASE_URL", "http://127.0.0.1:9")


def opened(b: Any, url: str) -> None:
    b.get(url)
    wait(b).until(ec.presence_of_element_located((By.TAG_NAME, "main")))
    b.execute_script("for (const d of document.querySelectorAll('details')) d.open = true")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_zalo_block_is_readable_and_fits_a_phone(
    server: str,  # noqa: F811  (the imported fixture)
    driver: Any,  # noqa: F811
    scheme: str,
    tmp_path: Path,
) -> None:
    many_topics(SERVICES[server])
    b = driver
    feature = {"name": "prefers-color-scheme", "value": scheme}
    b.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [feature]})
    low = {}
    for width, height in ((390, 844), (1280, 900)):
        b.set_window_size(width, height)
        for path in ("/", "/?q=kien", "/topics/kien-thuy"):
            opened(b, f"{server}{path}")
            no_sideways_scroll(b)
            if found := b.execute_script(LOW_CONTRAST):
                low[(width, path)] = found
            zalo = b.find_elements(By.CSS_SELECTOR, "a.button.zalo")
            assert zalo and all(a.get_attribute("href") == LINK for a in zalo), path
        qr = b.find_element(By.CSS_SELECTOR, ".zl img.qr")
        assert qr.get_attribute("src") == f"{server}/topics/kien-thuy/zalo.svg"
        assert qr.size["width"] >= 100 and qr.size["height"] >= 100  # big enough to scan
        wait(b).until(lambda _, qr=qr: b.execute_script(DRAWN, qr))
        box = b.find_element(By.ID, "zalo-kien-thuy")
        assert box.get_attribute("value") == "/sub kien-thuy" and box.is_displayed()
        right = b.execute_script("return document.documentElement.clientWidth")
        button = b.find_element(By.CSS_SELECTOR, 'button[data-copy="zalo-kien-thuy"]')
        edge = b.execute_script("return arguments[0].getBoundingClientRect().right", button)
        assert edge <= right, (width, edge, right)  # the copy button is on the screen
        button.click()
        wait(b).until(lambda _, button=button: button.text == "Đã chép")
        b.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
        b.save_screenshot(str(shots_dir(tmp_path) / f"reader-zalo-{width}-{scheme}.png"))
    assert low == {}
