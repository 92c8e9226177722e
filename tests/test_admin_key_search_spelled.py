"""The admin's article search reads the key spelling feedsvc prints (re-tester D2).

An article stored under ``TG`` + U+200E + ``KEY-1`` is printed ``TG\\u200eKEY-1`` by the CLI
and by the admin's own rows, and the README says to paste that into the admin's search; the
search took the backslash literally: nothing found, "bài chưa được nhập", and "Ẩn trước khi
nạp" recorded a takedown for the literal text while the article stayed public. Now the search
box and the hide/unhide forms read the spelling as the CLI does
(:func:`feedsvc.logs.unescape_controls`), a literal backslash typed doubled."""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

import pytest
from factories import article
from test_admin_hide_back import admin
from test_key_forms_fronts import add, on_backend
from test_key_spelling_pasted import pending_keys, service
from test_lifecycle_editors import state

from feedsvc.app import Service
from feedsvc.keys import spelled
from feedsvc.store.source_articles import upsert_source_articles

__all__ = ["admin", "service"]  # fixtures

NFD = unicodedata.normalize("NFD", "Tin-Kiến-42")
KEYS = [  # (stored, as feedsvc prints it)
    ("TG\u200eKEY-1", "TG\\u200eKEY-1"),  # the re-tester's LRM
    ("TG\u00a0KEY-2", "TG\\u00a0KEY-2"),  # NBSP
    ("TG\U000e0041KEY-8", "TG\\U000e0041KEY-8"),  # a tag character
    (NFD, "Tin-Kie\\u0302\\u0301n-42"),  # decomposed
    ("TG\\u200eKEY-9", "TG\\\\u200eKEY-9"),  # a literal backslash: typed doubled
]


def row_keys(page: str) -> list[str]:
    """The hidden ``key`` values of the page's forms, as a browser posts them."""
    return [html.unescape(v) for v in re.findall(r'name="key" value="([^"]*)"', page)]


@pytest.mark.parametrize(("stored", "printed"), KEYS)
def test_the_printed_spelling_finds_hides_and_unhides_the_stored_article(
    service: Service, admin: Any, stored: str, printed: str
) -> None:
    client, csrf = admin
    assert spelled(stored) == printed
    add(service, (31, stored))
    listing = client.get("/admin/articles", params={"q": printed})
    assert listing.status_code == 200
    page = html.unescape(listing.text)
    assert "Kiến Thụy: tin 31" in page and "Ẩn trước khi nạp" not in page, page
    (key,) = row_keys(listing.text)
    done = client.post("/admin/articles/hide", data={"key": key, "q": printed, "csrf": csrf})
    assert f"Đã ẩn bài {printed}." in html.unescape(done.text)
    assert state(service, stored).hidden_at is not None
    assert pending_keys(service) == []  # no takedown waiting for the literal text
    again = client.get("/admin/articles", params={"q": printed}).text
    (key,) = row_keys(again)
    undone = client.post("/admin/articles/unhide", data={"key": key, "csrf": csrf})
    assert undone.status_code == 200 and state(service, stored).hidden_at is None


@on_backend("sqlite")
@pytest.mark.parametrize(("stored", "printed"), KEYS[:3])
def test_a_key_imported_not_ingested_is_hidden_ahead_under_its_stored_key(
    service: Service, admin: Any, stored: str, printed: str
) -> None:
    """The offer before ingest: for the key stored in the built-in table, not the text typed."""
    client, csrf = admin
    now = service.db.now()
    with service.db.write() as conn:
        upsert_source_articles(conn, [article(32, source_key=stored, published_at=now)], now)
    listing = client.get("/admin/articles", params={"q": printed})
    (key,) = row_keys(listing.text)
    assert printed in html.unescape(listing.text)
    form = {"key": key, "q": printed, "csrf": csrf, "pending": "1", "reason": "lệnh"}
    done = client.post("/admin/articles/hide", data=form)
    assert done.status_code == 200
    assert pending_keys(service) == [stored]
    assert service.ingest_tick().error is None
    assert state(service, stored).hidden_at is not None
