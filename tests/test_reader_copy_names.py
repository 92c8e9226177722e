"""Each copy button on the reader pages names what it copies (a tester's, a11y): a topic page's
three or four "Chép" buttons (RSS, Atom, JSON Feed, the Zalo command) were each heard as
"Chép" alone by a screen reader. Now each has an ``aria-label`` from the catalogue —
``reader.copy_feed`` with the format's name, ``reader.copy_zalo`` —, in the site's language,
beginning with the word shown (WCAG 2.5.3, label in name), and the page's one inline script is
unchanged and still allowed by its CSP hash. In Chromium's accessibility tree:
``test_reader_copy_browser``.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree

import html5lib
import pytest
from test_reader_zalo import LINK, TOKEN, serve  # noqa: F401  (the fixture)
from test_security_headers import allowed, csp_sources, inline

from feedsvc.catalogue import Translator
from feedsvc.feeds.model import FORMAT_LABELS

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


def copy_buttons(html: str) -> list[ElementTree.Element]:
    tree = html5lib.parse(html, namespaceHTMLElements=False)
    return [b for b in tree.iter("button") if b.get("data-copy")]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_each_copy_button_names_what_it_copies(serve: object, language: str) -> None:  # noqa: F811
    client, _ = serve(language, token=TOKEN, link=LINK)  # type: ignore[operator]
    t = Translator(language)
    expected = [t("reader.copy_zalo")] + [
        t("reader.copy_feed", format=FORMAT_LABELS[fmt]) for fmt in ("rss", "atom", "json")
    ]
    assert len(set(expected)) == 4
    page = client.get("/topics/kien-thuy")
    buttons = copy_buttons(page.text)
    assert [b.get("aria-label") for b in buttons] == expected
    for button in buttons:
        shown = (button.text or "").strip()
        assert shown == t("reader.copy")
        assert button.get("aria-label", "").lower().startswith(shown.lower())  # label in name
    # the index: every topic's box names its buttons alike
    index = copy_buttons(client.get("/").text)
    assert len(index) == 8 and [b.get("aria-label") for b in index] == expected * 2
    # the page's one script still runs: its CSP hash is taken from its bytes
    policy = csp_sources(page.headers["content-security-policy"])
    (script,) = inline(page.text, "script")
    assert allowed(script, policy["script-src"])


def test_without_zalo_the_three_feed_buttons(serve: object) -> None:  # noqa: F811
    client, _ = serve("vi")  # type: ignore[operator]
    names = [b.get("aria-label") for b in copy_buttons(client.get("/topics/kien-thuy").text)]
    assert names == ["Chép địa chỉ RSS", "Chép địa chỉ Atom", "Chép địa chỉ JSON Feed"]
    assert not [n for n in names if re.fullmatch(r"Chép", n or "")]
