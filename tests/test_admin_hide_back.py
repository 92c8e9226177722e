"""The admin's hide/unhide sends the editor back to the list filtered as before, unless the
list would refuse that filter (over ``MAX_SEARCH`` characters, a control character): then
filtered by the article's key, else the plain list. A hide from a list filtered by a
400-character text (over the limit then) hid the article and answered 422 (the flash
"Article A hidden." above the search box's error), so a script or a browser test read success
as failure (tester 2, finding 9).

SQLite only (``backend_cases.on_sqlite`` and ``on_sqlite_only``): the point is where the editor
is sent back; the list refuses the refused filters before any SQL, the hide is the same
statement for every filter (run on PostgreSQL by ``test_hide_not_ingested.py``), and the
search behind a filter kept is the archive's, run on PostgreSQL by ``test_search_index.py``."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from backend_cases import on_sqlite, on_sqlite_only
from starlette.testclient import TestClient
from test_lifecycle_editors import CSRF_FIELD, TOKEN, service, state

from feedsvc.app import Service, create_app
from feedsvc.lifecycle.editors import MAX_SEARCH

__all__ = ["service"]  # the fixture, shared with test_lifecycle_editors

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


@pytest.fixture
def admin(service: Service) -> Iterator[tuple[TestClient, str]]:
    client = TestClient(create_app(service), base_url="http://127.0.0.1")
    with client:
        found = CSRF_FIELD.search(client.get("/admin/login").text)
        assert found
        client.post("/admin/login", data={"token": TOKEN, "csrf": found.group(1)})
        token = CSRF_FIELD.search(client.get("/admin/articles").text)
        assert token
        yield client, token.group(1)


def act(client: TestClient, csrf: str, action: str, key: str, q: str) -> tuple[str, int, str]:
    """The action's redirect target, then the status and page it leads to."""
    form = {"csrf": csrf, "key": key, "q": q}
    moved = client.post(f"/admin/articles/{action}", data=form, follow_redirects=False)
    assert moved.status_code == 303
    where = moved.headers["location"]
    page = client.get(where)
    return where, page.status_code, page.text


@pytest.mark.parametrize(
    ("db_url", "q"),
    on_sqlite_only(
        ["z" * (MAX_SEARCH + 1), "z" * 1000, "khánh\x07thành"], label=lambda q: ascii(q)[1:21]
    ),
    indirect=["db_url"],
)
def test_a_filter_the_list_refuses_is_replaced_by_the_key(
    admin: tuple[TestClient, str], service: Service, q: str
) -> None:
    client, csrf = admin
    where, status, page = act(client, csrf, "hide", "TEST-00001", q)
    assert (where, status) == ("/admin/articles?q=TEST-00001", 200)
    assert "Đã ẩn bài TEST-00001" in page and 'id="q-error"' not in page
    assert "Kiến Thụy khánh thành cầu mới" in page  # the article, shown hidden
    assert state(service, "TEST-00001").hidden_by == "admin"
    where, status, _ = act(client, csrf, "unhide", "TEST-00001", q)
    assert (where, status) == ("/admin/articles?q=TEST-00001", 200)
    assert state(service, "TEST-00001").hidden_at is None


@on_sqlite
def test_a_filter_it_takes_is_kept(admin: tuple[TestClient, str]) -> None:
    client, csrf = admin
    at_limit = "z" * MAX_SEARCH
    where, status, _ = act(client, csrf, "hide", "TEST-00001", at_limit)
    assert (where, status) == (f"/admin/articles?q={at_limit}", 200)
    where, _, page = act(client, csrf, "unhide", "TEST-00001", "khánh thành")
    assert re.fullmatch(r"/admin/articles\?q=kh%C3%A1nh%20th%C3%A0nh", where)
    assert "Kiến Thụy khánh thành cầu mới" in page


@on_sqlite
def test_neither_usable_goes_to_the_plain_list(admin: tuple[TestClient, str]) -> None:
    client, csrf = admin
    where, status, page = act(client, csrf, "hide", "K" * 1000, "z" * 1000)
    assert (where, status) == ("/admin/articles", 200)
    assert 'class="flash bad"' in page  # no such article, said as before
