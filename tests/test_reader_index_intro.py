"""The index's introduction names only the chat apps the page offers (SPEC §13).

It said "alerts on Telegram" whatever was configured: a site without a Telegram bot promised a
button no topic had, and one with Zalo on never named Zalo. It now names the chats whose
buttons the topics show (Telegram once the bot's username is known, Zalo with ``zalo.link``
and its token), both joined by "hoặc"/"or", or, with none, only the feeds. The real service
over HTTP (the test client), SQLite and PostgreSQL; the bot's username arrives as at start
(``FeedPublisher.set_bot_username``, what getMe calls).

SQLite only (``serve``, ``tests/test_reader_zalo.py``'s): the language and the chats pick the
page's words from the settings and the publisher, while the topics behind the page are read by
the publisher's statements, run on PostgreSQL by ``test_index_page.py`` and
``test_store_snapshots.py``.
"""

from __future__ import annotations

import html
import re

import pytest
from test_reader_zalo import LINK, TOKEN, serve

__all__ = ["serve"]  # the fixture, used by name

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


def intro(page: str) -> str:
    """The introduction's sentence on ``/`` (before its OPML link)."""
    found = re.search(
        r"<header>\s*<h1>.*?</h1>\s*<p>(.*?)<a href=\"[^\"]*/feeds\.opml\"", page, re.S
    )
    assert found, page[:2000]
    return html.unescape(found.group(1)).strip()


def _intro_label(value: object) -> str:
    if isinstance(value, bool):
        return "zalo" if value else "no-zalo"
    return "no-bot" if value is None else str(value)[:20]


@pytest.mark.parametrize(
    ("language", "bot", "zalo", "said"),
    [
        pytest.param(*case, id="-".join(_intro_label(v) for v in case))
        for case in [
            ("vi", None, False, "Chọn chủ đề bạn quan tâm và chép địa chỉ nguồn tin (RSS"),
            ("vi", "tin_hp_bot", False, "theo cách bạn thích: nhận tin qua Telegram, hoặc chép"),
            ("vi", None, True, "theo cách bạn thích: nhận tin qua Zalo, hoặc chép"),
            ("vi", "tin_hp_bot", True, "nhận tin qua Telegram hoặc Zalo, hoặc chép"),
            ("en", None, False, "Pick the topics you care about and copy a feed address"),
            ("en", "tin_hp_bot", False, "follow them your way: alerts on Telegram, or copy"),
            ("en", None, True, "follow them your way: alerts on Zalo, or copy"),
            ("en", "tin_hp_bot", True, "alerts on Telegram or Zalo, or copy"),
        ]
    ],
)  # fmt: skip
def test_the_introduction_names_the_chats_the_page_offers(
    serve: object, language: str, bot: str | None, zalo: bool, said: str
) -> None:
    client, service = serve(language, **({"link": LINK, "token": TOKEN} if zalo else {}))  # type: ignore[operator]
    if bot:
        service.publisher.set_bot_username(bot)
    page = client.get("/").text
    sentence = intro(page)
    assert said in sentence
    for chat, offered in (("Telegram", bool(bot)), ("Zalo", zalo)):
        assert (chat in sentence) == offered, sentence
        assert ("t.me/" in page if chat == "Telegram" else LINK in page) == offered


def test_a_bot_whose_name_is_lost_is_no_longer_named(serve: object) -> None:
    client, service = serve("vi")  # type: ignore[operator]
    service.publisher.set_bot_username("tin_hp_bot")
    assert "Telegram" in intro(client.get("/").text)
    service.publisher.set_bot_username(None)
    assert "Telegram" not in intro(client.get("/").text)
