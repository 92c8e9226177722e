"""The reader pages' copy buttons are heard, not only seen (in Chromium).

Found with a screen reader in mind: a copy button (a feed's address, the Zalo command) said
"Đã chép" / "Copied" by changing its own text, which screen readers do not announce, so a blind
reader pressed it and heard nothing. Now the page has one polite live region (``role=status``,
visually hidden) that the button's script fills with the same words, in the site's language,
changed on every copy so a second one is said too. Checked in Chromium's accessibility tree
(Chrome DevTools Protocol): the region is exposed (not ignored), ``status``, ``live: polite``.
Each button's name says what it copies ("Chép địa chỉ RSS", "Chép lệnh Zalo"; each was heard
as "Chép" alone), and keeps saying it after a copy (the live region says "Đã chép").
The admin has no copy button; its one feedback written by script, the topic editor's preview,
is already a polite live region (``test_admin_browser``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from test_admin_browser import (  # noqa: F401  (driver, server: the fixtures)
    BROWSER_MARKS,
    SERVICES,
    By,
    driver,
    server,
    wait,
)
from test_reader_contrast import many_topics
from test_reader_zalo_browser import opened

from feedsvc.catalogue import Translator

pytestmark = BROWSER_MARKS


@pytest.fixture
def site_language(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``site.language`` (the test's parameter), with the Zalo channel on and its link shown;
    requested before ``server``, which reads the config. No Zalo call leaves the machine."""
    language: str = request.param
    monkeypatch.setenv("FEEDSVC_SITE__LANGUAGE", language)
    monkeypatch.setenv("FEEDSVC_ZALO__TOKEN", "1234567890:zalo-browser-token-abcdefgh")
    monkeypatch.setenv("FEEDSVC_ZALO__LINK", "https://zalo.me/2468013579135792468")
    monkeypatch.setenv("FEEDSVC_ZALO__BASE_URL", "http://127.0.0.1:9")
    yield language


def status_region(b: Any) -> dict[str, Any]:
    """Chromium's accessibility node of ``#copy-status``: its role, live properties, whether
    it is ignored, and its text as read (the static text inside it)."""
    root = b.execute_cdp_cmd("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
    node = b.execute_cdp_cmd("DOM.querySelector", {"nodeId": root, "selector": "#copy-status"})
    tree = b.execute_cdp_cmd("Accessibility.getPartialAXTree", {"nodeId": node["nodeId"]})
    region = next(n for n in tree["nodes"] if n.get("role", {}).get("value") == "status")
    properties = {p["name"]: p["value"].get("value") for p in region.get("properties", [])}
    text = b.execute_script("return document.getElementById('copy-status').textContent")
    return {"ignored": region.get("ignored"), "properties": properties, "text": text}


def button_names(b: Any) -> list[str]:
    """Chromium's accessible name of each copy button (``button[data-copy]``), in page order."""
    root = b.execute_cdp_cmd("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
    found = b.execute_cdp_cmd(
        "DOM.querySelectorAll", {"nodeId": root, "selector": "button[data-copy]"}
    )
    names = []
    for node in found["nodeIds"]:
        tree = b.execute_cdp_cmd(
            "Accessibility.getPartialAXTree", {"nodeId": node, "fetchRelatives": False}
        )
        button = next(n for n in tree["nodes"] if n.get("role", {}).get("value") == "button")
        names.append(button["name"]["value"])
    return names


@pytest.mark.parametrize("site_language", ["vi", "en"], indirect=True)
def test_a_copy_is_announced_in_the_sites_language(
    site_language: str,
    server: str,  # noqa: F811  (the imported fixture)
    driver: Any,  # noqa: F811
) -> None:
    many_topics(SERVICES[server])
    b = driver
    t = Translator(site_language)
    copied = t("reader.copied")
    for path, first, second in [
        ("/topics/kien-thuy", "zalo-kien-thuy", "url-kien-thuy-rss"),
        ("/?q=kien", "url-kien-thuy-atom", "zalo-kien-thuy"),
    ]:
        opened(b, f"{server}{path}")
        if path.startswith("/topics/"):  # each button names what it copies
            names = [t("reader.copy_zalo")] + [
                t("reader.copy_feed", format=label) for label in ("RSS", "Atom", "JSON Feed")
            ]
            assert button_names(b) == names
        region = status_region(b)
        assert region["ignored"] is False and region["text"] == ""  # there, and silent
        assert region["properties"]["live"] == "polite"
        assert region["properties"]["atomic"] is True
        # visually hidden: a 1 px box, no text on the screen
        size = b.find_element(By.ID, "copy-status").size
        assert size["width"] <= 1 and size["height"] <= 1
        button = b.find_element(By.CSS_SELECTOR, f'button[data-copy="{first}"]')
        b.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        button.click()
        wait(b).until(lambda _: status_region(b)["text"] == copied)
        assert button.text == copied  # the visible confirmation, as before
        said = status_region(b)
        assert said["ignored"] is False and said["properties"]["live"] == "polite"
        # a second copy changes the region's text, so it is said again
        button = b.find_element(By.CSS_SELECTOR, f'button[data-copy="{second}"]')
        b.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        button.click()
        wait(b).until(lambda _: status_region(b)["text"] == copied + "\u00a0")
        button.click()  # and a third
        wait(b).until(lambda _: status_region(b)["text"] == copied)
        if path.startswith("/topics/"):  # the action's name, after copies as before
            assert button_names(b) == names
    # the Zalo line is there in the page's language too
    opened(b, f"{server}/topics/kien-thuy")
    line = b.find_element(By.ID, "zalo-kien-thuy-private")
    assert line.is_displayed() and line.text == t("reader.zalo_private")
    box = b.find_element(By.ID, "zalo-kien-thuy")
    assert box.get_attribute("aria-describedby") == "zalo-kien-thuy-private"
