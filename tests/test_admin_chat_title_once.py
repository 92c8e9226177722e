"""An Apprise destination's masked URL is shown once in a row (a report, low): the
subscriptions, delivery log and status rows showed a chat's title, then its name — and an
Apprise destination's title is its masked URL, which its name ends with ("json://***#1edd70
Apprise json://***#1edd70"). The chat's page already left such a title out. Now one rule
(:func:`feedsvc.recipient_names.title_beside`, the admin's ``title_beside`` filter, the rows'
``chat_named`` macro and the chat page's heading) shows a title beside the name unless the
name ends with it: a Telegram group's and a Zalo chat's titles still show.

The real app and SQLite state DB of ``test_admin_recipient_names`` (a Telegram supergroup
titled "Tin Kiến Thụy", a Zalo chat, the report's Apprise URL with a password), in both
admin languages; here every chat is also paused and its delivery has an error, so the status
page's two lists show them too.
"""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import update
from test_admin_recipient_names import HOOK, NOW, Chats, chats, seen_text

from feedsvc.channels.apprise_urls import mask
from feedsvc.db.schema import chats as chat_table
from feedsvc.db.schema import deliveries
from feedsvc.store import subscriptions as sub_store

__all__ = ["chats"]  # the fixture, by import

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
ZALO_TITLE = "Phóng viên Hải"
TITLES = {"telegram": "Tin Kiến Thụy", "zalo": ZALO_TITLE, "apprise": mask(HOOK)}
ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.S)
PAGES = ["/admin/subscriptions", "/admin/deliveries", "/admin/status"]


@pytest.fixture
def shown(chats: Chats) -> Chats:
    """The fixture's chats with a title each (the Zalo chat's given, as a chat's own name is),
    paused, and their deliveries retrying after an error (the status page's two lists)."""
    db = chats.service.db
    with db.write() as conn:
        conn.execute(
            update(chat_table).where(chat_table.c.chat_id == chats.ids["zalo"])
            .values(title=ZALO_TITLE)
        )  # fmt: skip
        for chat in chats.ids.values():
            sub_store.set_paused(conn, chat, True)
        conn.execute(update(deliveries).values(error="HTTP 500: try later", finished_at=NOW))
    return chats


@pytest.mark.parametrize("path", PAGES)
def test_each_rows_title_shows_once_and_only_when_the_name_lacks_it(
    shown: Chats, path: str
) -> None:
    page = shown.client.get(path).text
    tables = 2 if path == "/admin/status" else 1  # paused chats, recent errors
    for channel, name in shown.names.items():
        rows = [seen_text(r) for r in ROW.findall(page) if html.escape(name) in r]
        assert len(rows) == tables, (channel, path, rows)
        for text in rows:
            title = TITLES[channel]
            # the masked URL once (the name's), a group's or a Zalo chat's title beside it
            assert text.count(title) == 1, (channel, path, text)
            assert name in text, (channel, path, text)
    shown.hidden(page)


@pytest.mark.parametrize("channel", ["telegram", "zalo", "apprise"])
def test_the_chat_page_follows_the_same_rule(shown: Chats, channel: str) -> None:
    page = shown.client.get(f"/admin/chats/{shown.ids[channel]}").text
    heading = re.search(r"<h1>(.*?)</h1>", page, re.S)
    assert heading, page
    text = " ".join(seen_text(heading.group(1)).split())
    assert text.count(TITLES[channel]) == 1, text
    assert (" · " in text) == (channel != "apprise"), text
    shown.hidden(page)


@pytest.mark.parametrize(
    ("name", "title", "beside"),
    [
        ("Apprise json://***#1edd70", "json://***#1edd70", ""),
        ("Telegram chat -1001234", "Tin Kiến Thụy", "Tin Kiến Thụy"),
        ("chat Zalo zb", "Phóng viên", "Phóng viên"),
        ("chat Zalo zb", None, ""),
        ("chat Zalo zb", "", ""),
        ("chat Zalo zb", "zb", ""),  # the name ends with it: said once
        ("Telegram chat -1001234", "1234", "1234"),  # a word's end is no title
    ],
)
def test_title_beside(name: str, title: str | None, beside: str) -> None:
    from feedsvc.recipient_names import title_beside  # here: the module's pages run without it

    assert title_beside(name, title) == beside
