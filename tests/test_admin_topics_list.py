"""The admin's topics list at newsroom scale and for people who cannot see it whole (a tester's,
Chromium at 375 px and desktop; ``test_admin_topics_list_browser`` draws it):

* 1,085 topics were one 2.1 MB page with no pagination or filter: the list is now pages of 50
  (``?page=N``, clamped) with a search box by title or slug (``?q=``, the reader index's
  folding: case and Vietnamese marks), the subscribers chart only the 30 most followed topics
  ("and K more topics", a link to the list) — it was ``<img width=960 height=36542>``, 1.1 MB;
* bars were labelled by title only (three read "Kiến Thụy", five "t"): a repeated label says
  the topic's slug too;
* every row's Edit/Disable/Backfill/Delete and feed links had one accessible name for all rows
  ("Sửa, Sửa, Sửa…"): each names its topic, in both languages;
* a topic a chat's own query uses by ``@slug`` showed a Delete button the delete refuses: the
  list says who uses it instead, computed once per page (a page's SQL statements do not grow
  with its rows);
* ``/favicon.ico`` was a 404 on every page: our own SVG icon, linked from both sides' pages.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from lxml import etree  # type: ignore[import-untyped]
from sqlalchemy import event, func, insert, select
from test_admin import login, make_client

from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.catalogue import Translator
from feedsvc.db.schema import deleted_file_topics, deleted_topics, topics
from feedsvc.stats import TopicStats
from feedsvc.stats.charts import TOP_TOPICS, chart_height, subscribers_chart
from feedsvc.store import subscriptions as sub_store
from feedsvc.store.topics import TopicSpec

SVG = "{http://www.w3.org/2000/svg}"
VI = Translator("vi", ZoneInfo("Asia/Ho_Chi_Minh"))
EN = Translator("en", ZoneInfo("Asia/Ho_Chi_Minh"))
ROW = re.compile(r"<tr class=\"[^\"]*\">(.*?)</tr>", re.S)


def add_topics(service: Service, specs: list[TopicSpec]) -> None:
    """Create ``specs``, none of whose slugs is known to the state DB: the rows ``save_topic``
    creates for a new slug (origin ``test``), in one INSERT. ``save_topic`` a topic was ~1.8 ms
    (its lock, a read, an INSERT … RETURNING, the file entry and deletion records it takes
    back: none here, checked), 7 of ``test_admin_topics_list_place``'s 18 s of CPU (140
    topics a test); set-up, not this list's subject (``test_operations_topics`` saves)."""
    now = service.db.now()
    new = [spec.slug for spec in specs]
    rows = [
        {"slug": spec.slug, "title": spec.title, "description": spec.description,
         "query": spec.query, "enabled": spec.enabled, "origin": "test",
         "created_at": now, "updated_at": now}
        for spec in specs
    ]  # fmt: skip
    with service.db.write() as conn:
        for table in (topics, deleted_topics, deleted_file_topics):  # nothing to take back
            known = select(func.count()).select_from(table).where(table.c.slug.in_(new))
            assert not conn.execute(known).scalar_one(), table.name
        if rows:
            conn.execute(insert(topics), rows)


def many(n: int, title: str = "Chủ đề {i}") -> list[TopicSpec]:
    return [TopicSpec(f"topic-{i:04d}", title.format(i=i), f'"từ {i}"') for i in range(n)]


@pytest.fixture
def admin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Service]]:
    client, service = make_client(tmp_path, monkeypatch)
    with client:
        assert login(client).status_code == 303
        yield client, service


@pytest.fixture
def admin_en(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Service]]:
    client, service = make_client(tmp_path, monkeypatch, language="en")
    with client:
        assert login(client).status_code == 303
        yield client, service


def rows(page: str) -> list[str]:
    return (
        ROW.findall(page.split("<tbody>", 1)[1].split("</tbody>", 1)[0])
        if "<tbody>" in page
        else []
    )


def slugs(page: str) -> list[str]:
    return re.findall(r'<code class="slug" translate="no">([^<]*)</code>', page)


# --- pages and the search box ------------------------------------------------------------


@pytest.mark.parametrize("count", [51, 130, 1085])
def test_the_list_is_paged_and_its_size_bounded(admin: Any, count: int) -> None:
    client, service = admin
    add_topics(service, many(count))
    first = client.get("/admin/topics")
    assert first.status_code == 200
    assert slugs(first.text) == [f"topic-{i:04d}" for i in range(50)]
    assert len(first.content) < 400_000, len(first.content)  # was 2.1 MB at 1,085
    assert 'rel="next"' in first.text and 'rel="prev"' not in first.text
    last_page = -(-count // 50)
    last = client.get(f"/admin/topics?page={last_page}")
    assert slugs(last.text) == [f"topic-{i:04d}" for i in range(50 * (last_page - 1), count)]
    assert 'rel="prev"' in last.text and 'rel="next"' not in last.text
    assert f"{VI.number(50 * (last_page - 1) + 1)}–" in html.unescape(last.text)
    # past the end, or not a number: the last page, the first
    assert slugs(client.get("/admin/topics?page=99999").text) == slugs(last.text)
    for junk in ("abc", "-1", "0", "１"):
        assert slugs(client.get(f"/admin/topics?page={junk}").text) == slugs(first.text)


def test_a_short_list_has_no_pager(admin: Any) -> None:
    client, service = admin
    add_topics(service, many(50))
    page = client.get("/admin/topics").text
    assert len(slugs(page)) == 50 and 'class="pager"' not in page


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("Kiến Thụy", ["kien-thuy", "kt-2", "kt-3"]),
        ("KIẾN THỤY", ["kien-thuy", "kt-2", "kt-3"]),
        ("kien thuy", ["kien-thuy", "kt-2", "kt-3"]),
        ("kt", ["kt-2", "kt-3"]),  # a slug
        ("kt-3", ["kt-3"]),
        ("đồ sơn", ["do-son"]),
        ("Do", ["do-son"]),
        ("zzz", []),
        ("!!!", []),
    ],
)
def test_the_search_box_finds_topics_by_title_or_slug(admin: Any, q: str, found: list[str]) -> None:
    client, service = admin
    add_topics(
        service,
        [
            TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'),
            TopicSpec("kt-2", "Kiến Thụy", '"Kiến Thụy" OR "Núi Đối"'),
            TopicSpec("kt-3", "Kiến Thụy", '"Tú Sơn"'),
            TopicSpec("do-son", "Đồ Sơn", '"Đồ Sơn"'),
            *many(60),
        ],
    )
    page = client.get("/admin/topics", params={"q": q})
    assert page.status_code == 200
    assert slugs(page.text) == found
    assert f'value="{html.escape(q, quote=True)}"' in page.text  # kept in the box
    if not found:
        assert html.escape(VI("topics_none_found", q=q), quote=False) in page.text


def test_a_search_with_many_matches_pages_keeping_the_search(admin: Any) -> None:
    client, service = admin
    add_topics(service, many(120, "Kiến Thụy {i}"))
    add_topics(service, [TopicSpec(f"do-son-{i}", f"Đồ Sơn {i}", '"Đồ Sơn"') for i in range(5)])
    page = client.get("/admin/topics", params={"q": "kiến"})
    assert len(slugs(page.text)) == 50
    nxt = html.unescape(re.search(r'href="([^"]*)" rel="next"', page.text).group(1))  # type: ignore[union-attr]
    assert "q=" in nxt and "page=2" in nxt
    second = client.get(nxt)
    assert slugs(second.text) == [f"topic-{i:04d}" for i in range(50, 100)]


# --- the subscribers chart ----------------------------------------------------------------


def stats_of(
    titles: list[tuple[str, str]], subscribers: list[int] | None = None
) -> list[TopicStats]:
    counts = subscribers or [len(titles) - i for i in range(len(titles))]
    return [
        TopicStats(slug, title, True, 1, None, {"telegram": n}, [], [])
        for (slug, title), n in zip(titles, counts, strict=True)
    ]


def axis_labels(svg: bytes) -> list[str]:
    root = etree.fromstring(svg)
    (axis,) = [g for g in root.iter(SVG + "g") if (g.get("class") or "").startswith("axis y")]
    return [g.find(SVG + "text").text for g in axis]


@pytest.mark.parametrize("count", [31, 1085, 5000])
def test_the_chart_draws_the_most_followed_topics_only(count: int) -> None:
    titles = [(f"topic-{i:04d}", f"Chủ đề {i}") for i in range(count)]
    subscribers = [(i * 7919) % 1000 for i in range(count)]  # shuffled counts
    svg = subscribers_chart(stats_of(titles, subscribers), VI)
    assert len(svg) < 150_000, len(svg)  # was 1.1 MB at 1,085 topics
    root = etree.fromstring(svg)
    assert float(root.get("viewBox").split()[3]) <= chart_height(TOP_TOPICS)
    top = sorted(range(count), key=lambda i: (-subscribers[i], titles[i][0]))[:TOP_TOPICS]
    assert axis_labels(svg) == [titles[i][1] for i in reversed(top)]  # from the bottom up


def test_a_disabled_topic_is_not_charted() -> None:
    stats = stats_of([("a", "A"), ("b", "B")], [1, 5])
    stats[1] = replace(stats[1], enabled=False)
    assert axis_labels(subscribers_chart(stats, VI)) == ["A"]


def test_repeated_titles_are_told_apart_by_their_slugs() -> None:
    titles = [
        ("kien-thuy", "Kiến Thụy"), ("kt-2", "Kiến Thụy"), ("kt-3", "Kiến Thụy"),
        *[(f"t{i}", "t") for i in range(5)], ("do-son", "Đồ Sơn"),
    ]  # fmt: skip
    shown = axis_labels(subscribers_chart(stats_of(titles), VI))[::-1]  # from the top
    assert shown == [
        "Kiến Thụy (kien-thuy)", "Kiến Thụy (kt-2)", "Kiến Thụy (kt-3)",
        *[f"t (t{i})" for i in range(5)], "Đồ Sơn",
    ]  # fmt: skip
    assert len(set(shown)) == len(shown)


def test_the_page_says_how_many_topics_the_chart_leaves_out(admin: Any) -> None:
    client, service = admin
    add_topics(service, many(45))
    page = client.get("/admin/topics").text
    img = re.search(r'<img class="chart[^"]*" src="[^"]*/charts/subscribers.svg"[^>]*>', page)
    assert img, page
    assert f'height="{chart_height(TOP_TOPICS)}"' in img.group(0)
    assert html.escape(VI("chart_more", shown=30, more=15), quote=False) in page
    assert 'href="/admin/topics#topic-list"' in page
    svg = client.get("/admin/charts/subscribers.svg")
    assert svg.status_code == 200 and len(axis_labels(svg.content)) == TOP_TOPICS
    # at its natural width in a box that scrolls sideways, never shrunk to a phone's width
    assert re.search(r'<div class="chart-scroll"[^>]*>\s*<img class="chart natural"', page)


def test_few_topics_say_nothing_left_out(admin: Any) -> None:
    client, service = admin
    add_topics(service, many(3))
    page = client.get("/admin/topics").text
    assert VI("chart_more_link") not in page
    assert f'height="{chart_height(3)}"' in page


# --- accessible names ---------------------------------------------------------------------


def accessible_names(row: str) -> list[str]:
    """The name a screen reader says for each link and button of a row: its text, the
    visually hidden part too (no control there has an aria-label)."""
    assert "aria-label" not in row
    controls = re.findall(r"<(a|button)\b[^>]*>(.*?)</\1>", row, re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", "", inner)).split()) for _, inner in controls]


@pytest.mark.parametrize(("fixture", "t"), [("admin", VI), ("admin_en", EN)])
def test_every_row_control_names_its_topic(
    fixture: str, t: Translator, request: pytest.FixtureRequest
) -> None:
    """Screen readers heard "Sửa, Sửa, Sửa…": each control says its topic, title and slug
    (three topics may share a title), in the admin's language."""
    client, service = request.getfixturevalue(fixture)
    specs = [
        TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'),
        TopicSpec("kt-2", "Kiến Thụy", '"Núi Đối"'),
        TopicSpec("off", "Tắt <b>&", '"x"', enabled=False),
    ]
    add_topics(service, specs)
    page = client.get("/admin/topics").text
    found = rows(page)
    assert len(found) == 3
    every: list[str] = []
    for spec, row in zip(specs, found, strict=True):
        topic = f", {t('row_topic')} {spec.title} ({spec.slug})"
        switch = "disable" if spec.enabled else "enable"
        expected = [
            *[f + topic for f in ("RSS", "Atom", "JSON Feed")],
            t("edit") + topic, t(switch) + topic, t("backfill") + topic, t("delete") + topic,
        ]  # fmt: skip
        assert accessible_names(row) == expected
        every += expected
    assert len(every) == len(set(every))  # no two controls share a name
    assert "&lt;b&gt;" in page and "Tắt <b>" not in page  # the title escaped, as data


# --- "used by" in place of Delete -----------------------------------------------------------


def delete_forms(page: str) -> set[str]:
    return set(re.findall(r'action="/admin/topics/([^"/]*)/delete"', page))


def test_a_topic_a_chats_own_query_uses_shows_who_instead_of_delete(admin: Any) -> None:
    client, service = admin
    add_topics(
        service,
        [
            TopicSpec("kt", "Kiến Thụy", '"Kiến Thụy"'),
            TopicSpec("ds", "Đồ Sơn", '"Đồ Sơn"'),
            TopicSpec("both", "Both", '"x"'),
            TopicSpec("uses-both", "U", '@both OR "y"'),
            TopicSpec("free", "Free", '"z"'),
        ],
    )
    ops.add_subscription(service.db, 1003, "private", topic=None, query='@kt OR "Núi Đối"')
    ops.add_subscription(service.db, 1004, "private", topic=None, query="@both")
    ops.add_subscription(service.db, 1005, "private", topic="free", query=None)
    with service.db.read() as conn:
        sub_kt = sub_store.list_subscriptions(conn, 1003)[0].id
    page = client.get("/admin/topics").text
    assert delete_forms(page) == {"ds", "uses-both", "free"}
    text = html.unescape(page)
    # each chat named in the admin's language (chat Telegram 1003, never "telegram chat")
    note_kt = VI(
        "delete_blocked", slug="kt", users=VI.chat_queries([("chat Telegram 1003", sub_kt)])
    )
    assert note_kt in text
    assert "uses-both, " + VI("chat_query_ref", chat="chat Telegram 1004", id=sub_kt + 1) in text
    assert "telegram chat" not in text
    # the server refuses that delete: the list said so
    with pytest.raises(ops.OperationError):
        ops.delete_topic(service.db, "kt")


def test_the_list_asks_the_database_the_same_whatever_its_rows(admin: Any) -> None:
    """Who uses a topic, its subscriptions and stats are read once per page: the statements a
    page runs do not grow with the topics it shows."""
    client, service = admin

    def statements() -> int:
        seen: list[str] = []

        def count(*args: Any) -> None:
            seen.append(args[2])

        event.listen(service.web_db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/admin/topics").status_code == 200
        finally:
            event.remove(service.web_db.engine, "before_cursor_execute", count)
        return len(seen)

    add_topics(service, many(3))
    for chat in range(3):
        ops.add_subscription(service.db, 2000 + chat, "private", topic=None, query="@topic-0001")
    few = statements()
    add_topics(service, [TopicSpec(f"more-{i}", f"M {i}", "@topic-0002") for i in range(40)])
    for chat in range(20):
        ops.add_subscription(service.db, 3000 + chat, "private", topic=None, query=f"@more-{chat}")
    assert statements() <= few


# --- the icon -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/favicon.ico", "/favicon.svg", "/admin/static/favicon.svg"])
def test_the_icon_is_served_cached_long(admin: Any, path: str) -> None:
    client, _ = admin
    for method in ("GET", "HEAD"):
        if method == "HEAD" and path.startswith("/admin"):
            continue  # the admin's static files answer GET
        got = client.request(method, path)
        assert got.status_code == 200, (path, got.status_code)
        assert got.headers["content-type"].startswith("image/svg+xml")
        age = int(re.search(r"max-age=(\d+)", got.headers["cache-control"]).group(1))  # type: ignore[union-attr]
        assert age >= 7 * 86400 and "public" in got.headers["cache-control"]
        if method == "GET":
            root = etree.fromstring(got.content)
            assert root.tag == SVG + "svg"
            assert b"http" not in got.content.replace(b"http://www.w3.org/2000/svg", b"")


@pytest.mark.parametrize(
    "path", ["/admin/topics", "/admin/status", "/admin/login", "/", "/topics/kt"]
)
def test_every_page_links_the_icon(admin: Any, path: str) -> None:
    client, service = admin
    add_topics(service, [TopicSpec("kt", "Kiến Thụy", '"Kiến Thụy"')])
    service.publisher.refresh()
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    icon = re.search(r'<link rel="icon" href="([^"]*)" type="image/svg\+xml">', page.text)
    assert icon, page.text[:600]
    href = icon.group(1)
    assert href.endswith("/favicon.svg")
    assert client.get(href).status_code == 200
