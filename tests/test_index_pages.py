"""``/`` a page at a time and filtered (``feedsvc.publish.index_pages`` behind the ``/`` route),
from a real service over a real state DB with 113 topics (three pages of 50): page links and
counts, whatever a client sends as ``?page=``/``?q=`` answered with a page (never an error),
Vietnamese spellings of a name finding it, conditional GET per page, and a change to a topic on
page 3 re-rendering and storing page 3 alone.

SQLite only: this module is about the pages' rendering and what a client sends; the SQL behind
them is the storage layer's, run on PostgreSQL by ``test_index_page.py`` (``topics_newest``, the
kept index entries), ``test_store_snapshots.py`` and ``test_warm_start.py`` (a restart serving
the stored pages)."""

from __future__ import annotations

import asyncio
import itertools
import re
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import unquote

import html5lib
import pytest
from factories import article
from migrated import premigrated
from sqlalchemy import Connection, update
from starlette.types import Message
from test_admin_topics_list import add_topics

import feedsvc.publish.metas as metas
import feedsvc.publish.rendered as rendered
from feedsvc.app import Roles, Service, create_app
from feedsvc.catalogue import Translator
from feedsvc.config import load_config
from feedsvc.db.schema import articles, topics
from feedsvc.publish import FeedPublisher
from feedsvc.store.lifecycle import set_hidden
from feedsvc.store.snapshots import get_snapshots
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec, delete_topic, get_topic, save_topic, set_enabled

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
START = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
BASE = "https://tin.example.vn"
#: Sorted by slug: 110 fillers, then these three on page 3 (topics 111–113).
NAMED = [
    TopicSpec("do-son", "Đồ Sơn", '"Đồ Sơn"', "Bãi biển và lễ hội chọi trâu"),
    TopicSpec("kien-an", "Kiến An", '"Kiến An"'),
    TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"', "Huyện Kiến Thụy"),
]


def add(service: Service, *numbers: int) -> None:
    with service.db.write() as conn:
        rows = [
            article(n, title=f"Kiến Thụy: tin số {n}", published_at=START + timedelta(hours=n))
            for n in numbers
        ]
        upsert_source_articles(conn, rows, service.db.now())
    service.ingest_tick()


def hand_driven(client: TestClient, service: Service) -> None:
    """Stop the started service's own jobs: these tests drive its publisher by hand (``sync``,
    ``refresh``, a restart's first sync) and count what each call did.

    Why: the feeds-sync job runs ``publisher.sync`` every 5 s in a thread of its own. Once a
    loaded machine made a test take longer than that, it ran between a test's steps: a sync
    that had read the topics before ``restarted_publisher`` moved their ``updated_at`` wrote
    the watermark with the old topic list, the test's own sync then found it written less
    than a minute ago, and the restart rebuilt the index (``listing is None`` failed); or it
    rendered a topic the test had just added before the test's ``refresh`` (whose writes are
    counted) did. HTTP still answers: it needs no job."""
    assert client.portal is not None
    assert client.portal.call(service.jobs.stop) == []


@contextmanager
def serving(db_url: str) -> Iterator[tuple[TestClient, Service]]:
    """A started service over a new state DB with the 113 topics, rendered, two articles in."""
    settings = load_config(
        None,
        {
            "database": {"url": premigrated(db_url)},
            "topics": {"import_on_start": False},
            "http": {"public_url": BASE},
        },
    )
    service = Service(settings, Roles(scheduler=False, bot=False))
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        hand_driven(client, service)
        fillers = [
            TopicSpec(f"a-{i:03d}", f"Chủ đề {i:03d}", f'"không có {i}"') for i in range(110)
        ]
        add_topics(service, fillers + NAMED)  # save_topic's rows, in one INSERT
        service.publisher.sync()
        add(service, 1, 2)
        yield client, service


@pytest.fixture
def served(sqlite_url: str) -> Iterator[tuple[TestClient, Service]]:
    """A service of the test's own: for the tests that change topics, articles or pages."""
    with serving(sqlite_url) as got:
        yield got


@pytest.fixture(scope="module")
def _shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One service for every test that only reads (GETs): building one (113 topics stored and
    rendered) was ~1.6 s on SQLite, two thirds of this module's time when each test had its
    own."""
    url = f"sqlite:///{tmp_path_factory.mktemp('index-pages') / 'state.db'}"
    with serving(url) as (client, _):
        yield client


_addresses = itertools.count(1)


@pytest.fixture
def client(_shared: TestClient) -> TestClient:
    """A client of the shared service from an address of its own: its own render tokens
    (``http.client_burst``), as a test with a service of its own had."""
    n = next(_addresses)
    return TestClient(
        _shared.app, base_url="http://127.0.0.1", client=(f"10.9.{n // 250}.{n % 250 + 1}", 50000)
    )


def sections(body: str) -> list[str]:
    return re.findall(r'<section class="topic" id="([^"]+)"', body)


def valid(body: bytes) -> None:
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(body)


def test_fifty_topics_a_page_with_links_and_counts(client: TestClient) -> None:
    first, second, third = (client.get(p) for p in ("/", "/?page=2", "/?page=3"))
    for page in (first, second, third):
        assert (
            page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
        )
        valid(page.content)
        assert 'role="search"' in page.text and 'name="q"' in page.text
    assert sections(first.text) == [f"a-{i:03d}" for i in range(50)]
    assert sections(second.text) == [f"a-{i:03d}" for i in range(50, 100)]
    assert sections(third.text)[-3:] == ["do-son", "kien-an", "kien-thuy"]
    assert len(sections(third.text)) == 13
    assert "Chủ đề 1–50 trên 113" in first.text and "Chủ đề 101–113 trên 113" in third.text
    assert "Trang 2/3" in second.text and "Trang 3/3" in third.text
    assert 'rel="prev"' not in first.text
    assert f'<link rel="next" href="{BASE}/?page=2">' in first.text
    assert f'<link rel="prev" href="{BASE}/">' in second.text
    assert f'<link rel="next" href="{BASE}/?page=3">' in second.text
    assert 'rel="next"' not in third.text
    assert first.text.count('rel="alternate"') == 3 * 50  # this page's feeds only
    assert "Kiến Thụy: tin số 2<" in third.text and "Kiến Thụy: tin số 2<" not in first.text


@pytest.mark.parametrize(
    ("query", "same_as"),
    [
        ("page=0", "/"),
        ("page=-1", "/"),
        ("page=abc", "/"),
        ("page=1e9", "/"),
        ("page=", "/"),
        ("page=%EF%BC%92", "/"),  # full-width "２"
        ("page=%00", "/"),
        ("page=99999999999999999999", "/?page=3"),  # past the last: the last
        ("page=4", "/?page=3"),
        ("page=2&page=02", "/?page=2"),  # repeated alike: one page (differing: the 400 below)
        ("page=" + "9" * 5000, "/"),
        ("q=", "/"),
        ("q=%20%20", "/"),
        ("q=%00%01%7F", "/"),  # control characters only: an empty search
        ("foo=bar", "/"),
    ],
)
def test_whatever_a_client_sends_is_a_page(client: TestClient, query: str, same_as: str) -> None:
    page = client.get("/?" + query)
    assert page.status_code == 200
    assert page.content == client.get(same_as).content


def test_a_page_given_twice_with_different_values_is_refused(client: TestClient) -> None:
    """``?page=2&page=3`` took the last silently; now the rule of every route outside the API
    (``feedsvc.web.queries.query_param``, ``/readyz``'s): values that disagree are a 400."""
    assert client.get("/?page=2&page=3").status_code == 400


#: Query strings that are not UTF-8 text once percent-decoded (feedsvc.web.queries)
UNREADABLE = [
    "q=%FF",
    "q=%ED%A0%80",  # an encoded lone surrogate (UTF-8 has none)
    "q=%C3%28&page=2",  # a continuation byte missing; the page asked is not shown either
    "q=%C0%AF",  # overlong "/"
    "q=%E0%80%80",  # overlong NUL
    "q=%E1%BA",  # "ạ" cut short
    "q=ki%E1%BA%BFn%FF",  # valid, then not
    "q=%F4%90%80%80",  # above U+10FFFF
    "page=%FF",
    "q=kien&q=%FE",
    "utm_source=caf%E9&q=%FF",  # beside one the page does not read
]


@pytest.mark.parametrize("query", UNREADABLE)
def test_a_query_string_that_is_not_text_shows_every_topic_with_a_notice(
    client: TestClient, query: str
) -> None:
    """``/?q=%FF`` filtered the topics by U+FFFD (a word with no letters: every topic, no
    word said why); now the first page of every topic, with a notice that the search could not
    be read, the search box empty — never an error, never a search for U+FFFD."""
    page = client.get("/?" + query)
    assert page.status_code == 200, page.text
    valid(page.content)
    first = client.get("/").text
    assert sections(page.text) == sections(first) == [f"a-{i:03d}" for i in range(50)]
    notice = f'<p id="unread" role="status">{Translator("vi")("reader.query_not_text")}</p>'
    assert notice in page.text and 'id="unread"' not in first
    assert "\ufffd" not in page.text and "&#65533;" not in page.text
    assert 'name="q" value=""' in page.text
    assert "Chủ đề 1–50 trên 113" in page.text  # the range of the whole list
    assert f'<link rel="next" href="{BASE}/?page=2">' in page.text  # page 2 of every topic
    assert '<meta name="robots" content="noindex">' in page.text
    head = client.head("/?" + query)
    assert head.status_code == 200 and head.headers["etag"] == page.headers["etag"]


@pytest.mark.parametrize(
    ("query", "same_as"),
    [
        ("%FF=1", "/"),  # a name that is not text: no name the page reads
        ("utm_source=caf%E9", "/"),  # a newsletter's Latin-1 tag
        ("ref=%FF&page=2", "/?page=2"),
        ("q=Ki%E1%BA%BFn+Th%E1%BB%A5y&to%C3pic=1", "/?q=Ki%E1%BA%BFn+Th%E1%BB%A5y"),
        ("x=%ED%A0%80&q=kien&page=1&y=%C0%AF", "/?q=kien&page=1"),
    ],
)
def test_a_parameter_the_page_does_not_read_is_ignored(
    client: TestClient, query: str, same_as: str
) -> None:
    """Only ``q`` and ``page`` are read: any other parameter that is not text (4ec5ea1 showed
    the notice for it) leaves the page as without it."""
    page = client.get("/?" + query)
    assert page.status_code == 200 and 'id="unread"' not in page.text
    assert page.content == client.get(same_as).content
    assert page.headers["etag"] == client.get(same_as).headers["etag"]


def test_the_notice_page_is_one_cached_snapshot(client: TestClient) -> None:
    """Whatever bytes the query held, the same page (one render per list of topics), and a
    conditional GET of it is 304; it is no page a valid query string gets."""
    tags = {q: client.get("/?" + q).headers["etag"] for q in UNREADABLE}
    assert len(set(tags.values())) == 1
    tag = next(iter(tags.values()))
    assert client.get("/?q=%FF", headers={"If-None-Match": tag}).status_code == 304
    assert tag not in {client.get(p).headers["etag"] for p in ("/", "/?q=kien", "/?q=%00")}


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("q=Ki%E1%BA%BFn+Th%E1%BB%A5y", ["kien-thuy"]),  # "+" a space
        ("q=Ki%E1%BA%BFn%20Th%E1%BB%A5y", ["kien-thuy"]),  # "%20" a space
        ("q=%C4%90%E1%BB%93+S%C6%A1n", ["do-son"]),
        ("q=ki%E1%BA%BFn%00th", ["kien-thuy"]),  # a NUL is text: a space, as ever
        ("q=%EF%BF%BD", []),  # a real U+FFFD: no word, no topic (said so)
    ],
)
def test_text_that_decodes_is_searched_as_before(
    client: TestClient, query: str, shown: list[str]
) -> None:
    page = client.get("/?" + query)
    assert page.status_code == 200 and 'id="unread"' not in page.text
    assert sections(page.text) == shown


def test_the_notice_before_the_first_rebuild_is_the_one_after(
    served: tuple[TestClient, Service],
) -> None:
    """A restart serving the stored pages (no listing yet) reads only the first page's
    topics for it, and renders the bytes it renders once the index is rebuilt."""
    client, service = served
    publisher = restarted_publisher(service)
    assert publisher._pages.listing is None
    before = publisher.index_unread().body
    assert before == client.get("/?q=%FF").content
    publisher._verify([])
    assert publisher._pages.listing is not None
    assert publisher.index_unread().body == before


def raw_get(client: TestClient, query: bytes) -> tuple[int, str]:
    """``GET /?<query>`` with the query string's bytes as sent (httpx refuses a query over
    64 KB and escapes raw bytes): the status and the body."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(client.app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body.decode()


def test_hostile_queries_are_cut_and_cleaned_not_refused(
    client: TestClient,
) -> None:
    status, huge = raw_get(client, b"q=" + "Kiến Thụy ".encode() * 10_000)  # 100 KB, raw
    assert status == 200 and sections(huge) == ["kien-thuy"]
    echoed = re.search(r'name="q" value="([^"]*)"', huge)
    assert echoed is not None and len(echoed.group(1)) <= 200
    for query in (b"q=ki%00%1B%C2%85%7Fen%20thuy&page=%00", b"q=Ki\xff\xfen", b"q=\xed\xa0\x80"):
        status, body = raw_get(client, query)
        assert status == 200, query
        valid(body.encode())
    status, unescaped = raw_get(client, "q=Kiến An".encode())  # raw UTF-8, as some clients send
    assert status == 200 and sections(unescaped) == ["kien-an"]
    html = client.get("/", params={"q": '"><script>alert(1)</script>'})
    assert html.status_code == 200 and "<script>alert" not in html.text


@pytest.mark.parametrize(
    "query",
    [
        "%E2%80%AEkien%1b%5b31m",  # the newcomer's: U+202E (right-to-left override) and ESC
        "kien%E2%80%8Bthuy",  # a zero-width space inside a word
        "%E2%81%A6kien%E2%81%A9%20thuy%C2%AD",  # isolates and a soft hyphen
        "%EF%BB%BFkien%E2%80%8D%20thuy%E2%80%AB",  # a BOM, a joiner, an embedding
    ],
)
def test_format_characters_are_dropped_not_echoed(client: TestClient, query: str) -> None:
    """Bidi controls and other format characters (Unicode Cf) in ``?q=`` are neither echoed in
    the search box (U+202E flipped the text shown) nor read by the filter."""
    status, body = raw_get(client, f"q={query}".encode())
    assert status == 200
    echoed = re.search(r'name="q" value="([^"]*)"', body)
    assert echoed is not None
    assert echoed.group(1) in ("kien [31m", "kienthuy", "kien thuy"), echoed.group(1)
    for char in ("\u202e", "\u200b", "\u2066", "\u2069", "\u00ad", "\ufeff", "\u200d"):
        assert char not in body


@pytest.mark.parametrize(
    "spelling", ["kien thuy", "Kiến Thụy", "KIẾN THỤY", "kiến thuỵ", "kien-thuy", "  kiến   th "]
)
def test_every_spelling_finds_the_topic(client: TestClient, spelling: str) -> None:
    page = client.get("/", params={"q": spelling})
    assert page.status_code == 200
    valid(page.content)
    assert sections(page.text) == ["kien-thuy"]
    assert "Kiến Thụy: tin số 2<" in page.text  # its entry as on page 3: headlines, buttons
    assert '<meta name="robots" content="noindex">' in page.text
    assert "Chủ đề 1–1 trên 1 chủ đề khớp với" in page.text


def test_filtered_results_are_paginated_and_an_empty_result_says_so(
    client: TestClient,
) -> None:
    assert sections(client.get("/", params={"q": "kien"}).text) == ["kien-an", "kien-thuy"]
    assert sections(client.get("/", params={"q": "choi trau"}).text) == ["do-son"]  # description
    second = client.get("/", params={"q": "chu de", "page": "2"}).text
    assert sections(second) == [f"a-{i:03d}" for i in range(50, 100)]
    assert f'<link rel="prev" href="{BASE}/?q=chu+de">' in second
    assert f'<link rel="next" href="{BASE}/?q=chu+de&amp;page=3">' in second
    last = client.get("/", params={"q": "chu de", "page": "99999999999999999999"}).text
    assert len(sections(last)) == 10 and "Chủ đề 101–110 trên 110 chủ đề khớp với" in last
    none = client.get("/", params={"q": "không khớp gì"})
    assert none.status_code == 200 and sections(none.text) == []
    assert "Không có chủ đề nào khớp với “không khớp gì”." in none.text
    assert f'<a href="{BASE}/">Xem tất cả chủ đề</a>' in none.text


@pytest.mark.parametrize("query", ["q=%F0%9F%98%80", "q=%22", "q=(", "q=~", "q=!!!", "q=%%%"])
def test_a_search_with_no_words_finds_no_topic_and_says_so(client: TestClient, query: str) -> None:
    """``?q=😀`` (or ``"``, ``(``, ``~``: no letters or digits) showed every topic with the
    search box emptied, the bytes of ``/``, while ``?q=zzzz`` said no topic matches."""
    page = client.get("/?" + query)
    typed = unquote(query[2:])
    assert page.status_code == 200 and sections(page.text) == []
    assert f"Không có chủ đề nào khớp với “{typed}”." in unescape(page.text)
    echoed = re.search(r'name="q" value="([^"]*)"', page.text)
    assert echoed is not None and unescape(echoed.group(1)) == typed  # the box stays filled
    assert page.content != client.get("/").content


def test_conditional_get_per_page(client: TestClient) -> None:
    tags = {p: client.get(p).headers["etag"] for p in ("/", "/?page=2", "/?page=3", "/?q=kien")}
    assert len(set(tags.values())) == 4
    for path, tag in tags.items():
        assert client.get(path, headers={"If-None-Match": tag}).status_code == 304, path
    assert client.get("/?page=3", headers={"If-None-Match": tags["/?page=2"]}).status_code == 200
    assert client.get("/?page=9", headers={"If-None-Match": tags["/?page=3"]}).status_code == 304
    gz = client.get("/?page=2", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["content-encoding"] == "gzip"


def stored_pages(service: Service) -> dict[str, str]:
    """Stored pages of the index: slug → ETag, as served without gzip."""
    with service.db.read() as conn:
        return {s.slug: s.etag for s in get_snapshots(conn) if s.slug.startswith("_index")}


def etag(client: TestClient, path: str) -> str:
    return client.get(path, headers={"Accept-Encoding": "identity"}).headers["etag"]


def test_a_change_on_page_3_re_renders_page_3_alone(served: tuple[TestClient, Service]) -> None:
    """Ingest, then a hide that a sync renders: each time page 3 changes, in memory and in
    storage (replicas, restarts), and pages 1 and 2 keep their bytes (not rendered again)."""
    client, service = served
    before = {p: etag(client, p) for p in ("/", "/?page=2", "/?page=3")}
    assert set(stored_pages(service)) == {"_index", "_index/2", "_index/3"}
    rendered: list[int] = []
    pages = service.publisher._pages
    real = pages.stored
    pages.stored = lambda page: (rendered.append(page), real(page))[1]  # type: ignore[method-assign]
    add(service, 3)
    after = {p: etag(client, p) for p in ("/", "/?page=2", "/?page=3")}
    assert "Kiến Thụy: tin số 3<" in client.get("/?page=3").text
    assert after["/"] == before["/"] and after["/?page=2"] == before["/?page=2"]
    assert after["/?page=3"] != before["/?page=3"] and rendered == [3]
    assert stored_pages(service)["_index/3"] == after["/?page=3"]
    with service.db.write() as conn:
        set_hidden(conn, "TEST-00003", True, service.db.now(), "sai", "bt")
    service.publisher.sync()
    hidden = client.get("/?page=3").text
    assert "Kiến Thụy: tin số 3<" not in hidden and "Kiến Thụy: tin số 2<" in hidden
    assert rendered == [3, 3] and stored_pages(service)["_index/3"] == etag(client, "/?page=3")
    filtered = client.get("/", params={"q": "kien thuy"}).text
    assert "Kiến Thụy: tin số 3<" not in filtered and "Kiến Thụy: tin số 2<" in filtered


def test_fewer_topics_fewer_pages_and_a_restart_serves_the_stored_ones(
    served: tuple[TestClient, Service],
) -> None:
    client, service = served
    with service.db.write() as conn:
        for i in range(60):
            set_enabled(conn, f"a-{i:03d}", False, service.db.now())
    service.publisher.refresh()
    assert set(stored_pages(service)) == {"_index", "_index/2"}
    assert client.get("/?page=3").content == client.get("/?page=2").content
    assert "Chủ đề 51–53 trên 53" in client.get("/?page=2").text
    restarted = FeedPublisher(service.db, service.settings)
    restarted.sync()
    for page in (1, 2, 3):
        assert restarted.index_html(page).body == service.publisher.index_html(page).body
    assert restarted.index_search("kien thuy", 1).body == client.get("/?q=kien+thuy").content


def test_one_page_of_topics_has_no_page_links_and_no_search_box(
    served: tuple[TestClient, Service],
) -> None:
    client, service = served
    with service.db.write() as conn:
        for i in range(110):
            set_enabled(conn, f"a-{i:03d}", False, service.db.now())
    service.publisher.refresh()
    page = client.get("/").text
    assert sections(page) == ["do-son", "kien-an", "kien-thuy"]
    for chrome in ('role="search"', 'rel="next"', 'rel="prev"', "Trang 1/1", "trên 3"):
        assert chrome not in page, chrome
    assert client.get("/?page=2").text == page


def test_filtered_views_spend_the_clients_render_tokens(sqlite_url: str) -> None:
    """A filtered view may render: it spends a token like a search feed (``http.client_burst``
    then ``http.client_rate``); the unfiltered pages are snapshots and never refused."""
    settings = load_config(
        None,
        {
            "database": {"url": premigrated(sqlite_url)},
            "topics": {"import_on_start": False},
            "http": {"public_url": BASE, "client_burst": 2, "client_rate": 0.001},
        },
    )
    service = Service(settings, Roles(scheduler=False, bot=False))
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        with service.db.write() as conn:
            for spec in NAMED:
                save_topic(conn, spec, "test", datetime.now(UTC))
        service.publisher.sync()
        assert [client.get("/?q=kien").status_code for _ in range(2)] == [200, 200]
        refused = client.get("/?q=kien")
        assert refused.status_code == 429 and "retry-after" in refused.headers
        assert client.get("/").status_code == 200 and client.get("/?page=2").status_code == 200


def restarted_publisher(service: Service) -> FeedPublisher:
    """A new publisher's first sync: the stored pages of ``/`` served, no listing built (a
    sync first writes the watermark past the fixture's ingest, dated two hours back as an
    archive is at a restart)."""
    past = service.db.now() - timedelta(hours=2)
    with service.db.write() as conn:
        conn.execute(update(articles).values(last_changed_at=past, first_seen_at=past))
        conn.execute(update(topics).values(updated_at=past))
    service.publisher.through.written = None  # due now, not a minute after the last one
    service.publisher.sync()
    publisher = FeedPublisher(service.db, service.settings)
    publisher.sync()
    assert publisher._pages.listing is None  # the restart served the stored pages
    return publisher


def test_the_first_search_after_a_restart_never_holds_up_a_render(
    served: tuple[TestClient, Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first ``/?q=`` after a restart is held inside its read of headlines; meanwhile a
    topic's render (what ingest does) and the unfiltered pages run to their end. It read only
    the one matching topic's headlines, not every topic's."""
    _, service = served
    publisher = restarted_publisher(service)
    entered, release = threading.Event(), threading.Event()
    read: list[list[int]] = []
    real = rendered.topics_newest
    searching: list[threading.Thread] = []

    def held(conn: Connection, ids: Sequence[int], limit: int, now: datetime) -> object:
        if threading.current_thread() in searching:
            read.append(list(ids))
            entered.set()
            release.wait(30)
        return real(conn, ids, limit, now)

    monkeypatch.setattr(rendered, "topics_newest", held)
    found: list[bytes] = []
    search = threading.Thread(
        target=lambda: found.append(publisher.index_search("Kiến Thụy", 1).body)
    )
    searching.append(search)
    search.start()
    try:
        assert entered.wait(30), "the search read no headlines"
        rendering = threading.Thread(target=publisher.refresh, args=(["kien-an"],))
        rendering.start()
        rendering.join(10)
        assert not rendering.is_alive(), "a render waited for the first search"
        assert sections(publisher.index_html(3).body.decode())[-1] == "kien-thuy"
    finally:
        release.set()
        search.join(30)
    assert sections(found[0].decode()) == ["kien-thuy"]
    assert read == [[topic_id(service, "kien-thuy")]]


def topic_id(service: Service, slug: str) -> int:
    with service.db.read() as conn:
        topic = get_topic(conn, slug)
    assert topic is not None
    return topic.id


@pytest.fixture(scope="module")
def restartable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Service]]:
    """One service for the restart searches: each test starts a publisher of its own on it
    (:func:`restarted_publisher`) and changes no topic or article, only their dates (which
    every call sets alike); a service each was ~110 s of the suite's CPU."""
    url = f"sqlite:///{tmp_path_factory.mktemp('index-restart') / 'state.db'}"
    with serving(url) as got:
        yield got


@pytest.mark.parametrize(
    ("query", "page", "shown"),
    [
        ("kien thuy", 1, 1),
        ("KIẾN", 1, 2),
        ("chu de", 1, 50),
        ("chu de", 3, 10),  # the last page of 110 matches
        ("chu de", 99, 10),  # past the last: the last
        ("đồ sơn lễ hội", 1, 1),  # a word of the description
        ("không có gì", 1, 0),
        ("😀", 1, 0),  # no words: no topic, as after the rebuild (it was every topic)
    ],
)
def test_the_first_search_after_a_restart_shows_what_later_ones_do(
    restartable: tuple[TestClient, Service],
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    page: int,
    shown: int,
) -> None:
    """Before any rebuild the search reads only the topics on the page of matches, and gives
    the bytes a search over the rebuilt listing gives (headlines, counts, the range line)."""
    client, service = restartable
    publisher = restarted_publisher(service)
    read: list[int] = []
    real = rendered.topics_newest

    here = threading.current_thread()  # the service's own threads may rebuild meanwhile

    def counted(conn: Connection, ids: Sequence[int], limit: int, now: datetime) -> object:
        if threading.current_thread() is here:
            read.extend(ids)
        return real(conn, ids, limit, now)

    monkeypatch.setattr(rendered, "topics_newest", counted)
    first = publisher.index_search(query, page).body
    assert len(read) == shown and len(sections(first.decode())) == shown
    assert first == client.get("/", params={"q": query, "page": str(page)}).content
    publisher._verify([])  # the restart's background pass ends with the index rebuilt
    assert publisher._pages.listing is not None
    assert publisher.index_search(query, page).body == first


@pytest.mark.parametrize("slug", ["a-0045", "0-first", "zz-last"])
def test_a_topic_added_or_removed_rewrites_the_pages_in_one_write(
    served: tuple[TestClient, Service], monkeypatch: pytest.MonkeyPatch, slug: str
) -> None:
    """A topic added (on page 1, first, last) moves the topics after it and changes every
    page's count: every page is rendered again, stored in one write transaction with the
    topic's own snapshots in another (one per page before: 100 at 5,000 topics); removing it
    likewise. The OPML is rebuilt then, and not at an ingest render that leaves the list."""
    client, service = served
    publisher = service.publisher
    writes: list[int] = []
    real_write = service.db.write
    monkeypatch.setattr(service.db, "write", lambda: (writes.append(1), real_write())[1])
    opml: list[int] = []
    real_opml = metas.render_opml
    monkeypatch.setattr(metas, "render_opml", lambda *a: (opml.append(1), real_opml(*a))[1])
    before = stored_pages(service)
    with real_write() as conn:
        save_topic(conn, TopicSpec(slug, "Mới", '"mới"'), "test", service.db.now())
    publisher.refresh()
    after = stored_pages(service)
    assert set(after) == {"_index", "_index/2", "_index/3"}
    assert all(after[s] != before[s] for s in after)  # "trên 114" on every page
    assert writes == [1, 1] and opml == [1]
    listed = [s for p in ("/", "/?page=2", "/?page=3") for s in sections(client.get(p).text)]
    assert len(listed) == 114 and listed == sorted(listed) and slug in listed
    assert after == {s: etag(client, "/" if s == "_index" else f"/?page={s[-1]}") for s in after}
    assert f"/feeds/{slug}.rss" in client.get("/feeds.opml").text
    writes.clear()
    add(service, 3)  # an ingest render: one page, the OPML left as it was
    assert opml == [1]
    with real_write() as conn:
        delete_topic(conn, slug, service.db.now())
    writes.clear()
    publisher.refresh()
    assert writes == [1] and opml == [1, 1] and stored_pages(service) != after
    assert f"/feeds/{slug}.rss" not in client.get("/feeds.opml").text
    assert "Chủ đề 101–113 trên 113" in client.get("/?page=3").text
