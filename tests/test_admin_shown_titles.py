"""The admin shows an article's title as readers see it (a tester's): a title imported as
``Kiến Thụy: Ban Quản lý &amp; Điều hành &quot;Núi Đối&quot; họp`` showed decoded (``& "``) in
the feeds, reader pages and alerts, but raw (``&amp;``, HTML ``&amp;amp;``) in
``/admin/articles``, ``/admin/deliveries`` and the editor's preview samples; a title with
markup (``Bài <b>HTML</b> Kiến Thụy``) showed its tags there. One rule now,
:func:`feedsvc.feeds.sanitize.shown_title`: the admin's pages, its preview and the API's
``/api/deliveries`` ``article_title`` (a display field) give what the feeds give; the API's
article ``title`` stays the stored text (SPEC §9). SQLite through the whole app
(``test_admin``'s client); the titles are read back as stored, no backend difference."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from factories import article
from sqlalchemy import select
from test_admin import TOKEN, csrf_of, login, served  # noqa: F401  (served: the fixture)

from feedsvc.db.schema import articles
from feedsvc.store import subscriptions as sub_store
from feedsvc.store.deliveries import enqueue
from feedsvc.store.source_articles import upsert_source_articles

#: (stored title, what readers see)
TITLES = [
    (
        "Kiến Thụy: Ban Quản lý &amp; Điều hành &quot;Núi Đối&quot; họp",
        'Kiến Thụy: Ban Quản lý & Điều hành "Núi Đối" họp',
    ),
    ("Bài <b>HTML</b> Kiến Thụy <script>alert(1)</script>", "Bài HTML Kiến Thụy"),
    ("Kiến Thụy &#39;mới&#39; &lt;b&gt;", "Kiến Thụy 'mới' <b>"),
    ("Sách <Số đỏ> Kiến Thụy tái bản", "Sách <Số đỏ> Kiến Thụy tái bản"),
    ("Kiến Thụy &nbsp;&ndash; <i>Đồ Sơn</i>", "Kiến Thụy – Đồ Sơn"),
]
LINK_TEXT = re.compile(r'rel="noopener noreferrer" class="data" translate="no">(.*?)</a>', re.S)


def _stored(client: Any, service: Any, title: str) -> int:
    """The article stored with ``title``, a delivery of it queued; its id."""
    db = service.db
    with db.write() as conn:
        upsert_source_articles(conn, [article(70, title=title)], db.now())
    service.ingest_tick()
    with db.write() as conn:
        aid = conn.execute(
            select(articles.c.id).where(articles.c.source_key == "TEST-00070")
        ).scalar()
        assert aid is not None
        sub_store.ensure_chat(conn, -7070, "group", "Nhóm", db.now())
        enqueue(conn, [{"chat_id": -7070, "article_id": aid, "topics": ["kt"],
                        "state": "sent", "due_at": db.now(), "created_at": db.now()}])  # fmt: skip
    login(client)
    return int(aid)


@pytest.mark.parametrize(("title", "seen"), TITLES)
def test_the_admin_shows_the_title_readers_see(
    served: tuple[Any, Any],  # noqa: F811  (the imported fixture)
    title: str,
    seen: str,
) -> None:
    client, service = served
    _stored(client, service, title)
    feed = client.get("/feeds/search.json?q=Ki%E1%BA%BFn%20Th%E1%BB%A5y")
    assert feed.status_code == 200, feed.text  # what readers see of it in the feeds
    assert seen in [i.get("title") for i in feed.json()["items"]]
    for path in ("/admin/deliveries", "/admin/articles?q=Ki%E1%BA%BFn+Th%E1%BB%A5y"):
        page = client.get(path).text
        shown = [html.unescape(t) for t in LINK_TEXT.findall(page)]
        assert seen in shown, (path, shown)
        assert "&amp;amp;" not in page and "&lt;b&gt;HTML" not in page, path
    preview = client.post(
        "/admin/preview", json={"query": '"Kiến Thụy"'}, headers={"X-CSRF-Token": csrf_of(client)}
    ).json()
    assert seen in [s["title"] for s in preview["samples"]], preview["samples"]


@pytest.mark.parametrize(("title", "seen"), TITLES[:2])
def test_the_apis_delivery_title_is_shown_its_article_title_stored(
    served: tuple[Any, Any],  # noqa: F811
    title: str,
    seen: str,
) -> None:
    client, service = served
    aid = _stored(client, service, title)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    items = client.get("/api/deliveries", headers=auth).json()["items"]
    assert [i["article_title"] for i in items if i["article_id"] == aid] == [seen]
    status = client.get("/api/status", headers=auth).json()
    assert all(e["article_title"] != title for e in status["recent_errors"])
    found = client.get("/api/articles", params={"q": "TEST-00070"}, headers=auth).json()
    assert [a["title"] for a in found["articles"]] == [title]  # the article JSON: as stored (§9)
