"""The delivery log pages by keyset (a tester's): page 1 ended at #25; 25 s later ``?page=2``
began ``#26 #25 #24`` — offset pages while rows arrive —, and ``?page=3`` past the end (122
rows) said "Không có tin gửi nào." as if the log were empty. Now "Older" is ``?before=<the
last id shown>``, "Newer" ``?after=`` (or the first page), an old ``?page=N`` link is sent to
the keyset page that begins where it begins now, and a page past the end says so with the way
back to the first page. SQLite through the whole app (``test_admin``'s client); the keyset
reads are plain SQL on the id, the same on PostgreSQL (``test_delivery_keyset_store``)."""

from __future__ import annotations

import html
import itertools
import re
from typing import Any

import pytest
from factories import article
from sqlalchemy import select
from test_admin import login, make_client

from feedsvc.catalogue import Translator
from feedsvc.db.schema import articles
from feedsvc.store import subscriptions as sub_store
from feedsvc.store.deliveries import enqueue
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.web import admin_recipients

VI = Translator("vi")
CHATS = itertools.count()
ROW_ID = re.compile(r'<td data-label="#">(\d+)</td>')
LINK = re.compile(r'<a href="([^"]*)" rel="(prev|next)">')


def shown(text: str) -> list[int]:
    return [int(n) for n in ROW_ID.findall(text)]


def links(text: str) -> dict[str, str]:
    return {rel: html.unescape(href) for href, rel in LINK.findall(text)}


@pytest.fixture
def log(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(admin_recipients, "DELIVERIES_PER_PAGE", 3)
    client, service = make_client(tmp_path, monkeypatch)
    with client:
        now = service.db.now()
        with service.db.write() as conn:
            upsert_source_articles(conn, [article(1, title="Kiến Thụy")], now)
        service.ingest_tick()
        login(client)
        yield client, service


def queue(service: Any, count: int, state: str = "sent") -> None:
    db = service.db
    with db.write() as conn:
        now = db.now()
        aid = conn.execute(select(articles.c.id)).scalars().first()
        for _ in range(count):
            chat = -1000 - next(CHATS)
            sub_store.ensure_chat(conn, chat, "group", f"Nhóm {chat}", now)
            enqueue(conn, [{"chat_id": chat, "article_id": aid, "topics": ["kt"],
                            "state": state, "due_at": now, "created_at": now}])  # fmt: skip


@pytest.mark.parametrize("arriving", [1, 3, 7])
def test_the_next_page_begins_where_the_last_ended_while_rows_arrive(
    log: Any, arriving: int
) -> None:
    client, service = log
    queue(service, 8)
    first = client.get("/admin/deliveries").text
    assert shown(first) == [8, 7, 6]
    queue(service, arriving)  # while the admin reads page 1
    second = client.get("/admin/deliveries" + links(first)["next"]).text
    assert shown(second) == [5, 4, 3], second
    third = client.get("/admin/deliveries" + links(second)["next"]).text
    assert shown(third) == [2, 1] and "next" not in links(third)
    back = client.get("/admin/deliveries" + links(third)["prev"]).text
    assert shown(back) == [5, 4, 3]  # the rows just newer, not the newest
    up = client.get("/admin/deliveries" + links(back)["prev"]).text
    assert shown(up) == [8, 7, 6]  # one page up, the rows arrived since above it
    top = client.get("/admin/deliveries" + links(up)["prev"]).text
    if arriving <= 3:  # the first page: the newest rows
        assert shown(top) == list(range(8 + arriving, 0, -1))[:3]
    else:  # one more page up, the three just newer
        assert shown(top) == [11, 10, 9]
    where = VI("shown_of", first=7 + arriving, last=8 + arriving, total=8 + arriving)
    assert where in html.unescape(third)  # its place in the log as it is now


def test_an_old_page_link_goes_to_its_keyset_page(log: Any) -> None:
    client, service = log
    queue(service, 8)
    r = client.get("/admin/deliveries?page=2", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?before=6"), r.headers
    assert shown(client.get(r.headers["location"]).text) == [5, 4, 3]
    assert shown(client.get("/admin/deliveries?page=1").text) == [8, 7, 6]


@pytest.mark.parametrize("path", ["?page=4", "?page=99", "?before=1", "?state=sent&page=9"])
def test_a_page_past_the_end_says_so_and_leads_back(log: Any, path: str) -> None:
    client, service = log
    queue(service, 8)
    r = client.get("/admin/deliveries" + path)
    assert r.status_code == 200
    said = html.unescape(r.text)
    assert VI("past_end_deliveries", total=8) in said, said
    assert VI("no_deliveries") not in said
    assert VI("first_page") in said
    back = re.search(r'<a href="([^"]*)">' + re.escape(VI("first_page")), r.text)
    assert back and shown(client.get("/admin/deliveries" + html.unescape(back.group(1))).text)


def test_an_empty_log_is_still_said_empty(log: Any) -> None:
    client, _ = log
    for path in ("", "?page=3", "?before=5"):
        said = html.unescape(client.get("/admin/deliveries" + path).text)
        assert VI("no_deliveries") in said and VI("past_end_deliveries", total=0) not in said


def test_the_filters_stay_on_every_link(log: Any) -> None:
    client, service = log
    queue(service, 4, "failed")
    queue(service, 4, "sent")
    first = client.get("/admin/deliveries?state=failed").text
    assert shown(first) == [4, 3, 2]
    older = links(first)["next"]
    assert "state=failed" in older
    assert shown(client.get("/admin/deliveries" + older).text) == [1]
