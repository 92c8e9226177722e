"""Feed-serving HTTP layer over an in-memory fake backend: conditional GET, HEAD, gzip, errors."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any

import feedparser
import html5lib
import pytest
import uvicorn
from httpx import ASGITransport, AsyncClient
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree  # type: ignore[import-untyped]
from processes import free_port, uvicorn_thread
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from feedsvc import metrics
from feedsvc.articles import Article
from feedsvc.catalogue import Translator
from feedsvc.feeds import FeedMeta, feed_id, feed_urls, render_feed, render_opml
from feedsvc.matching import QueryError
from feedsvc.pages import (
    PageTopic,
    Site,
    page_article,
    qr_svg,
    render_index,
    render_missing,
    render_topic,
    subscribe_links,
)
from feedsvc.web.fast_path import FeedFastPath
from feedsvc.web.feed_backend import NoQr
from feedsvc.web.feeds import feed_routes
from feedsvc.web.http_cache import (
    Snapshot,
    accepts_gzip,
    gzip_etag,
    http_date,
    make_snapshot,
    parse_if_none_match,
    replies,
)
from feedsvc.web.wire import wire_protocol

PUBLIC = "https://tin.baohaiphong.example"
SITE = "https://baohaiphong.example/"
ICT = timezone(timedelta(hours=7))
MAX_AGE = 120
MEDIA = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}
ARTICLES = [
    Article(
        source_key=f"HP-2022-05-{day:02d}-{n}",
        url=f"https://baohaiphong.example/kien-thuy/bai-{day}-{n}.html",
        title=f"Kiến Thụy: tin số {n} ngày {day}/5",
        published_at=datetime(2022, 5, day, 9, n, tzinfo=ICT),
        body="<p>Người dân xã Tú Sơn phản ánh tình trạng xe quá tải. " * 20 + "</p>",
        section="Thời sự",
    )
    for day in (1, 2, 3)
    for n in (1, 2)
]
PAGE_ARTICLES = [page_article(a, SITE) for a in reversed(ARTICLES)]
TOPICS = [
    PageTopic(
        "kien-thuy", "Kiến Thụy", "Tin huyện Kiến Thụy", len(ARTICLES), PAGE_ARTICLES,
        subscribe_links(PUBLIC, "kien-thuy", "TinHaiPhongBot"),
    ),
    PageTopic(
        "an-ninh", "An ninh <trật tự> & pháp luật", "", 0, [],
        subscribe_links(PUBLIC, "an-ninh", None),
    ),
]  # fmt: skip
PAGES = Site("Báo Hải Phòng", SITE, PUBLIC)


@dataclass
class FakeBackend:
    """Pre-rendered snapshots, like the lead's cache; records search calls."""

    searches: list[tuple[str, str, int]] = field(default_factory=list)
    snapshots: dict[tuple[str, str, int], Snapshot] = field(default_factory=dict)
    polls: dict[str, int] = field(default_factory=dict)

    def _render(self, slug: str, fmt: str, articles: list[Article]) -> Snapshot:
        meta = FeedMeta(
            "Kiến Thụy", "Tin", SITE, feed_urls(PUBLIC, slug)[fmt], feed_id(PUBLIC, slug)
        )
        body = render_feed(meta, articles, fmt)
        newest = max((a.published_at for a in articles), default=datetime(1970, 1, 1, tzinfo=UTC))
        return make_snapshot(body, MEDIA[fmt], newest)

    def snapshot(self, slug: str, fmt: str, limit: int) -> Snapshot | None:
        if slug not in ("kien-thuy", "rong"):
            return None
        key = (slug, fmt, limit)
        if key not in self.snapshots:
            chosen = ARTICLES[:limit] if slug == "kien-thuy" else []
            self.snapshots[key] = self._render(slug, fmt, chosen)
        return self.snapshots[key]

    limited = snapshot

    def search(self, query: str, fmt: str, limit: int) -> Snapshot:
        self.searches.append((query, fmt, limit))
        if query.count('"') % 2:
            raise QueryError("unbalanced quote", position=0, code="unterminated_phrase")
        hits = [a for a in ARTICLES if query.lower() in a.title.lower()][:limit]
        return self._render("search", fmt, hits)

    search_job = search

    def opml(self) -> Snapshot:
        feeds = [(t.title, feed_urls(PUBLIC, t.slug)["rss"], SITE) for t in TOPICS]
        body = render_opml("Báo Hải Phòng", feeds)
        return make_snapshot(body, "text/x-opml", datetime(2022, 5, 1, tzinfo=UTC))

    def index_html(self, page: int = 1) -> Snapshot:
        body = render_index(Translator("vi"), PAGES, TOPICS)
        return make_snapshot(body, "text/html", datetime(2022, 5, 1, tzinfo=UTC))

    def index_search(self, query: str, page: int) -> Snapshot:
        return self.index_html(page)

    def index_unread(self) -> Snapshot:
        self.unread = getattr(self, "unread", 0) + 1
        return make_snapshot(
            b"<!doctype html><p id=unread>", "text/html", datetime(2022, 5, 1, tzinfo=UTC)
        )

    def polled(self, slug: str) -> None:
        self.polls[slug] = self.polls.get(slug, 0) + 1

    def telegram_qr(self, slug: str) -> Snapshot | NoQr:
        link = {t.slug: t.subscribe.telegram for t in TOPICS}.get(slug)
        if link is None:
            return NoQr.TOPIC
        return make_snapshot(qr_svg(link), "image/svg+xml", datetime(2022, 5, 1, tzinfo=UTC))

    def page(self, slug: str) -> Snapshot | None:
        topic = {t.slug: t for t in TOPICS}.get(slug)
        if topic is None:
            return None
        body = render_topic(Translator("vi"), PAGES, topic)
        return make_snapshot(body, "text/html", datetime(2022, 5, 1, tzinfo=UTC))

    def missing_page(self, slug: str) -> bytes:
        return render_missing(Translator("vi"), PAGES, slug)

    def gone(self, slug: str) -> bool:
        return slug == "da-xoa"  # a deleted topic (tests/test_topic_gone.py: the real one)

    def gone_page(self, slug: str) -> bytes:
        return b"<!doctype html><p>gone"


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture(params=["routes", "fast-path", "wire"])
async def client(
    request: pytest.FixtureRequest, backend: FakeBackend
) -> AsyncIterator[AsyncClient]:
    """Every HTTP test runs three times: through the Starlette routes alone, with the feed fast
    path in front (which must answer exactly as the routes do), and over real sockets from
    uvicorn with polls answered in its protocol (``feedsvc.web.wire``)."""
    app: ASGIApp = Starlette(routes=feed_routes(backend, MAX_AGE))
    if request.param == "routes":
        async with AsyncClient(transport=ASGITransport(app), base_url="http://testserver") as ac:
            yield ac
        return
    fast = FeedFastPath(app, backend, MAX_AGE)
    if request.param == "fast-path":
        async with AsyncClient(transport=ASGITransport(fast), base_url="http://testserver") as ac:
            yield ac
        return
    port = free_port()
    config = uvicorn.Config(
        fast, port=port, http=wire_protocol(fast), log_config=None, lifespan="off"
    )
    with uvicorn_thread(config):
        async with AsyncClient(base_url=f"http://127.0.0.1:{port}") as ac:
            yield ac


def identity(**headers: str) -> dict[str, str]:
    """Request headers without gzip, so bodies and ETags are the identity ones."""
    return {"accept-encoding": "identity", **headers}


@pytest.mark.parametrize(("fmt", "version"), [("rss", "rss20"), ("atom", "atom10")])
async def test_topic_feed(client: AsyncClient, fmt: str, version: str) -> None:
    response = await client.get(f"/feeds/kien-thuy.{fmt}", headers=identity())
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{MEDIA[fmt]}; charset=utf-8"
    assert response.headers["cache-control"] == f"public, max-age={MAX_AGE}"
    assert response.headers["etag"].startswith('"') and response.headers["etag"].endswith('"')
    assert response.headers["last-modified"] == "Tue, 03 May 2022 02:02:00 GMT"
    assert response.headers["vary"] == "Accept-Encoding"
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0 and parsed.version == version and len(parsed.entries) == 6


async def test_json_feed(client: AsyncClient) -> None:
    response = await client.get("/feeds/kien-thuy.json", headers=identity())
    assert response.headers["content-type"] == "application/feed+json; charset=utf-8"
    assert response.json()["version"] == "https://jsonfeed.org/version/1.1"


async def test_limit(client: AsyncClient, backend: FakeBackend) -> None:
    two = await client.get("/feeds/kien-thuy.rss?limit=2")
    assert len(feedparser.parse(two.content).entries) == 2
    await client.get("/feeds/kien-thuy.rss?limit=5000")
    await client.get("/feeds/kien-thuy.rss")
    assert {key[2] for key in backend.snapshots} == {2, 200, 50}


@pytest.mark.parametrize("limit", ["abc", "0", "-3", "1.5", "%20",
    # int() reads these as numbers: full-width, Arabic-Indic, "+", "_" ("²" passes isdigit())
    "%EF%BC%91%EF%BC%92", "%D9%A1%D9%A2", "%C2%B2", "%2B5", "1_0", "%EF%BC%92"])  # fmt: skip
async def test_bad_limit_is_400(client: AsyncClient, limit: str) -> None:
    response = await client.get(f"/feeds/kien-thuy.rss?limit={limit}")
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "limit" in response.text


@pytest.mark.parametrize(
    ("limit", "read"),
    [("200", 200), ("201", 200), ("1000", 200), ("0200", 200), ("9" * 5000, 200), ("007", 7)],
)
async def test_a_limit_above_the_maximum_is_the_maximum(
    client: AsyncClient, backend: FakeBackend, limit: str, read: int
) -> None:
    """One rule (newcomer W4): a whole number ≥ 1, above 200 read as 200 (SPEC §5 "up to 200";
    ``?limit=1000`` always served the newest 200), however many digits it has."""
    response = await client.get(f"/feeds/kien-thuy.rss?limit={limit}")
    assert response.status_code == 200
    assert {key[2] for key in backend.snapshots} == {read}


@pytest.mark.parametrize("limit", ["%205", "5%20", "%095", "5%09", "+5", "%20%09%205%20%20"])
async def test_a_limit_padded_with_spaces_or_tabs_is_read(
    client: AsyncClient, backend: FakeBackend, limit: str
) -> None:
    """Unlike the API's and the CLI's numbers (``/api/articles?limit=%201``, ``render --limit
    ' 5'``: refused), a feed's ``?limit=`` may carry spaces or tabs around its digits, as it
    always could (``int(value.strip())`` before the ASCII-digits rule): feed URLs are a stable
    interface (SPEC §9) and a subscribed URL padded by a reader's template kept working.
    README says so ("Admin: web UI and JSON API"); ``+`` is a space in a query."""
    response = await client.get(f"/feeds/kien-thuy.rss?limit={limit}")
    assert response.status_code == 200
    assert {key[2] for key in backend.snapshots} == {5}


@pytest.mark.parametrize(
    "limit",
    ["%0A5", "5%0D", "%0B5", "%C2%A05", "%E3%80%805", "5%E2%80%8B", "%2B5", "5%205", "%20"],
)
async def test_only_spaces_and_tabs_pad_a_limit(client: AsyncClient, limit: str) -> None:
    """Other whitespace (a line break, a no-break or ideographic space, a zero-width space), a
    literal ``+`` (``%2B``), a space inside the digits or nothing but spaces: refused."""
    response = await client.get(f"/feeds/kien-thuy.rss?limit={limit}")
    assert response.status_code == 400
    assert "limit" in response.text


@pytest.mark.parametrize("limit", ["0", "-1", "abc", "000", "%EF%BC%95"])
async def test_a_refused_limit_says_the_rule_that_is_applied(
    client: AsyncClient, limit: str
) -> None:
    """The 400 must not say "from 1 to 200" while 1000 is served: it states the cap."""
    response = await client.get(f"/feeds/kien-thuy.rss?limit={limit}")
    assert response.status_code == 400
    assert "1 đến 200" not in response.text and "1 to 200" not in response.text
    assert "200" in response.text and "1" in response.text


@pytest.mark.parametrize("path", ["/feeds/khong-co.rss", "/feeds/kien-thuy.xml", "/feeds/rss"])
async def test_unknown_is_404(client: AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
async def test_a_deleted_topic_is_410_on_every_path(client: AsyncClient, fmt: str) -> None:
    """Routes, the fast path and the wire path alike: a deleted topic's feed is 410 Gone (feed
    readers unsubscribe), for GET, HEAD and a conditional GET; a slug never known stays 404."""
    for method, headers in [("GET", {}), ("HEAD", {}), ("GET", {"if-none-match": '"x"'})]:
        response = await client.request(method, f"/feeds/da-xoa.{fmt}", headers=headers)
        assert response.status_code == 410, (method, headers)
        assert response.headers["cache-control"] == f"public, max-age={MAX_AGE}"
        if method == "GET":
            assert "da-xoa đã bị xoá" in response.text
    assert (await client.get(f"/feeds/khong-co.{fmt}")).status_code == 404


async def test_empty_feed(client: AsyncClient) -> None:
    response = await client.get("/feeds/rong.atom", headers=identity())
    assert response.status_code == 200
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0 and parsed.entries == []
    assert response.headers["last-modified"] == "Thu, 01 Jan 1970 00:00:00 GMT"


# --- conditional GET ---------------------------------------------------------------------


async def fresh(client: AsyncClient, **headers: str) -> tuple[str, str]:
    first = await client.get("/feeds/kien-thuy.rss", headers=identity(**headers))
    return first.headers["etag"], first.headers["last-modified"]


def assert_304(response: Any, etag: str) -> None:
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert response.headers["cache-control"] == f"public, max-age={MAX_AGE}"


async def test_if_none_match_hit(client: AsyncClient) -> None:
    etag, _ = await fresh(client)
    assert_304(
        await client.get("/feeds/kien-thuy.rss", headers=identity(**{"if-none-match": etag})), etag
    )


async def test_if_none_match_wins_over_if_modified_since(client: AsyncClient) -> None:
    etag, last_modified = await fresh(client)
    headers = identity(**{"if-none-match": '"somethingelse"', "if-modified-since": last_modified})
    response = await client.get("/feeds/kien-thuy.rss", headers=headers)
    assert response.status_code == 200 and response.headers["etag"] == etag
    # and a matching INM with a stale IMS is still 304
    stale = identity(
        **{"if-none-match": etag, "if-modified-since": http_date(datetime(2000, 1, 1, tzinfo=UTC))}
    )
    assert_304(await client.get("/feeds/kien-thuy.rss", headers=stale), etag)


@pytest.mark.parametrize(
    ("since", "status"),
    [
        ("Tue, 03 May 2022 02:02:00 GMT", 304),  # exactly Last-Modified
        ("Wed, 04 May 2022 00:00:00 GMT", 304),  # later
        ("Tue, 03 May 2022 02:01:59 GMT", 200),  # one second earlier
        ("not a date", 200),
    ],
)
async def test_if_modified_since_only(client: AsyncClient, since: str, status: int) -> None:
    response = await client.get(
        "/feeds/kien-thuy.rss", headers=identity(**{"if-modified-since": since})
    )
    assert response.status_code == status
    if status == 304:
        # issue #13 §1: the reader's copy is only known to be as new as the date, so the 304
        # must not tell it that its bytes carry the current ETag
        assert response.content == b"" and "etag" not in response.headers
        assert response.headers["cache-control"] == f"public, max-age={MAX_AGE}"
        assert response.headers["last-modified"]


async def test_weak_and_multiple_etags(client: AsyncClient) -> None:
    etag, _ = await fresh(client)
    for inm in (f"W/{etag}", f'"x", {etag}', f'W/"y" ,  W/{etag}'):
        assert_304(
            await client.get("/feeds/kien-thuy.rss", headers=identity(**{"if-none-match": inm})),
            etag,
        )
    miss = await client.get(
        "/feeds/kien-thuy.rss", headers=identity(**{"if-none-match": '"x", W/"y"'})
    )
    assert miss.status_code == 200


async def test_if_none_match_star(client: AsyncClient) -> None:
    etag, _ = await fresh(client)
    assert_304(
        await client.get("/feeds/kien-thuy.rss", headers=identity(**{"if-none-match": "*"})), etag
    )


async def test_head(client: AsyncClient) -> None:
    get = await client.get("/feeds/kien-thuy.atom", headers=identity())
    head = await client.head("/feeds/kien-thuy.atom", headers=identity())
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(get.content))
    for name in ("etag", "last-modified", "content-type", "cache-control"):
        assert head.headers[name] == get.headers[name]
    inm = await client.head(
        "/feeds/kien-thuy.atom", headers=identity(**{"if-none-match": get.headers["etag"]})
    )
    assert_304(inm, get.headers["etag"])


async def test_gzip(client: AsyncClient) -> None:
    plain = await client.get("/feeds/kien-thuy.rss", headers=identity())
    zipped = await client.get("/feeds/kien-thuy.rss", headers={"accept-encoding": "gzip, deflate"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == plain.content  # httpx decodes it
    assert zipped.headers["etag"] == gzip_etag(plain.headers["etag"]) != plain.headers["etag"]
    assert int(zipped.headers["content-length"]) < len(plain.content)
    async with client.stream(
        "GET", "/feeds/kien-thuy.rss", headers={"accept-encoding": "gzip"}
    ) as s:
        raw = b"".join([chunk async for chunk in s.aiter_raw()])
    assert raw[:2] == b"\x1f\x8b" and gzip.decompress(raw) == plain.content
    # either variant's tag revalidates, and the 304 repeats the tag the client holds
    for held in (plain.headers["etag"], zipped.headers["etag"]):
        again = await client.get(
            "/feeds/kien-thuy.rss", headers={"accept-encoding": "gzip", "if-none-match": held}
        )
        assert_304(again, held)
    refused = await client.get("/feeds/kien-thuy.rss", headers={"accept-encoding": "gzip;q=0, br"})
    assert "content-encoding" not in refused.headers


def test_snapshot_is_compressed_once_and_replies_are_kept_with_it() -> None:
    snap = make_snapshot(
        b"<rss>" + b"x" * 2000 + b"</rss>", MEDIA["rss"], datetime(2022, 5, 1, tzinfo=UTC)
    )
    first = replies(snap, MAX_AGE)
    assert replies(snap, MAX_AGE) is first  # built once per snapshot and max-age
    zipped = first.reply("GET", "gzip", None, None)
    assert first.reply("GET", "gzip", None, None).body is zipped.body  # not recompressed
    assert gzip.decompress(zipped.body) == snap.body
    assert dict(zipped.headers)[b"content-length"] == str(len(zipped.body)).encode()
    head = first.reply("HEAD", "gzip", None, None)
    assert head.body == b"" and head.headers == zipped.headers  # HEAD: same headers, no body
    assert replies(snap, 5) is not first  # another max-age gets its own Cache-Control
    assert (b"cache-control", b"public, max-age=5") in replies(snap, 5).reply(
        "GET", None, None, None
    ).headers


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, False),
        ("gzip", True),
        ("GZIP;q=0.5", True),
        ("gzip;q=0", False),
        ("*", True),
        ("br, *;q=0", False),
        ("gzip;q=0, *", False),
        ("deflate, br", False),
    ],
)
def test_accepts_gzip(header: str | None, expected: bool) -> None:
    assert accepts_gzip(header) is expected


def test_parse_if_none_match() -> None:
    assert parse_if_none_match("*") is None
    assert parse_if_none_match('W/"a", "b",,') == ['"a"', '"b"']


# --- search ------------------------------------------------------------------------------


async def test_search(client: AsyncClient, backend: FakeBackend) -> None:
    response = await client.get("/feeds/search.rss?q=tin+số+1&limit=3", headers=identity())
    assert response.status_code == 200
    assert len(feedparser.parse(response.content).entries) == 3
    assert backend.searches == [("tin số 1", "rss", 3)]


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ("%E2%80%AEtin", "tin"),  # a right-to-left override: the title would show it reversed
        ("ti%E2%80%8Bn+s%E1%BB%91", "tin số"),  # a zero-width space inside a word
        ("%EF%BB%BF%E2%81%A6tin%E2%81%A9%C2%AD", "tin"),  # a BOM, isolates, a soft hyphen
    ],
)
async def test_a_search_query_loses_format_characters(
    client: AsyncClient, backend: FakeBackend, sent: str, read: str
) -> None:
    """The query a search feed shows in its title and self URL has no bidi control or other
    format character (Unicode Cf), as the index's search box (``clean_query``)."""
    response = await client.get(f"/feeds/search.rss?q={sent}")
    assert response.status_code == 200
    assert [q for q, _, _ in backend.searches] == [read]


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/search.atom",
        "/feeds/search.atom?q=",
        "/feeds/search.atom?q=%20",
        "/feeds/search.atom?q=%E2%80%8B",
    ],
)
async def test_search_missing_q_is_400(client: AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 400 and "Thiếu truy vấn" in response.text


async def test_search_bad_query_is_400_with_message(client: AsyncClient) -> None:
    response = await client.get('/feeds/search.json?q="an ninh')
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text.startswith("Truy vấn không hợp lệ: ")
    assert "tại ký tự 1: cụm từ chưa đóng ngoặc kép" in response.text  # by code, with position


async def raw_get(app: Starlette, path: bytes, query: bytes) -> tuple[int, bytes]:
    """Call the ASGI app with a raw query string, as some feed readers send it unescaped."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path.decode(),
        "raw_path": path,
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 1234),
    }
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body


async def test_non_ascii_query_raw_and_percent_encoded(backend: FakeBackend) -> None:
    app = Starlette(routes=feed_routes(backend, MAX_AGE))
    word = "Kiến Thụy"
    raw_status, raw_body = await raw_get(app, b"/feeds/search.rss", b"q=" + word.encode("utf-8"))
    enc_status, enc_body = await raw_get(app, b"/feeds/search.rss", b"q=Ki%E1%BA%BFn+Th%E1%BB%A5y")
    assert raw_status == enc_status == 200
    assert raw_body == enc_body and len(feedparser.parse(raw_body).entries) == 6
    assert [q for q, _, _ in backend.searches] == [word, word]


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/feeds/search.rss?q=%FF", "%FF"),
        ("/feeds/search.atom?q=%ED%A0%80", "%ED%A0%80"),
        ("/feeds/search.json?q=Ki%E1%BA%BFn%C0%AF", "%C0%AF"),
        ("/feeds/search.rss?q=%E1%BA", "%E1%BA"),
        ("/feeds/search.rss?q=tin&q=%FF", "%FF"),  # given twice: never read as "tin"
        ("/feeds/search.rss?utm_source=caf%E9&q=%C3", "%C3"),  # the one read is named
        ("/feeds/kien-thuy.rss?limit=%FF", "%FF"),
        ("/feeds/kien-thuy.atom?x=%E0%80%80&limit=%E0%80%80", "%E0%80%80"),
        ("/feeds/rong.json?limit=%C3", "%C3"),
    ],
)
async def test_a_query_string_that_is_not_text_is_400_not_a_search_for_fffd(
    client: AsyncClient, backend: FakeBackend, path: str, shown: str
) -> None:
    """The routes read their parameters strictly (``web.queries.query_param``, here without
    the app's middleware): ``?q=%FF`` searched for U+FFFD and ``?limit=%FF`` was refused as a
    limit of "'�'". The fast paths take no query string, so the routes answer, through every
    path alike; the words are the app's (``web.queries.refused_response``)."""
    response = await client.get(path)
    assert response.status_code == 400, response.text
    assert response.text == Translator("vi")("http.query_not_text", bytes=shown) + "\n"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert backend.searches == [] and backend.polls == {}


@pytest.mark.parametrize(
    ("q", "read"),
    [
        ("Ki%E1%BA%BFn+Th%E1%BB%A5y", "Kiến Thụy"),
        ("Ki%E1%BA%BFn%20Th%E1%BB%A5y", "Kiến Thụy"),
        ("%E1%BA%A1", "ạ"),
        ("tin%00", "tin"),  # a control character is a space, as shown in the title
        ("a%00b", "a b"),
        ("a%2Bb", "a+b"),
    ],
)
async def test_text_is_searched_as_sent(
    client: AsyncClient, backend: FakeBackend, q: str, read: str
) -> None:
    response = await client.get(f"/feeds/search.rss?q={q}")
    assert response.status_code == 200
    assert [query for query, _, _ in backend.searches] == [read]


@pytest.mark.parametrize(
    ("path", "plain"),
    [
        ("/feeds/kien-thuy.rss?utm_source=caf%E9", "/feeds/kien-thuy.rss"),
        ("/feeds/kien-thuy.rss?ref=%FF&utm_medium=email", "/feeds/kien-thuy.rss"),
        ("/feeds/kien-thuy.atom?%FF=1", "/feeds/kien-thuy.atom"),
        ("/feeds/kien-thuy.atom?limit=5&x=%E0%80%80", "/feeds/kien-thuy.atom?limit=5"),
        ("/feeds/kien-thuy.json?to%C3pic=kt&limit=3", "/feeds/kien-thuy.json?limit=3"),
        ("/feeds/rong.rss?q=%FF", "/feeds/rong.rss"),  # a topic feed reads no q
        ("/feeds/search.rss?%FF=1&q=tin", "/feeds/search.rss?q=tin"),
        ("/feeds/search.json?q=tin&utm_source=caf%E9", "/feeds/search.json?q=tin"),
        ("/feeds/nope.rss?ref=%FF", "/feeds/nope.rss"),
    ],
)
async def test_a_parameter_the_feed_does_not_read_is_ignored(
    client: AsyncClient, backend: FakeBackend, path: str, plain: str
) -> None:
    """A feed URL carrying a Latin-1 ``utm_source`` from an old newsletter was a 400 (one
    commit, 4ec5ea1), which a poller takes for a broken feed: it is the feed, as without it."""
    expected = await client.get(plain)
    polls, searches = dict(backend.polls), list(backend.searches)
    response = await client.get(path)
    assert response.status_code == expected.status_code, response.text
    assert response.content == expected.content
    assert response.headers.get("etag") == expected.headers.get("etag")
    assert response.headers["content-type"] == expected.headers["content-type"]
    assert len(backend.searches) - len(searches) == len(searches)  # searched as the plain one
    assert sum(backend.polls.values()) - sum(polls.values()) == sum(polls.values())


@pytest.mark.parametrize("query", ["q=%FF", "page=%C3%28", "q=%ED%A0%80&page=2", "q=a&page=%FF"])
async def test_the_index_route_shows_its_notice_page(
    client: AsyncClient, backend: FakeBackend, query: str
) -> None:
    response = await client.get(f"/?{query}")
    assert response.status_code == 200 and response.text == "<!doctype html><p id=unread>"
    assert getattr(backend, "unread", 0) == 1


@pytest.mark.parametrize("query", ["%FF=1", "utm_source=caf%E9", "page=2&ref=%FF", "x=%C3&q=a"])
async def test_the_index_route_ignores_what_it_does_not_read(
    client: AsyncClient, backend: FakeBackend, query: str
) -> None:
    response = await client.get(f"/?{query}")
    assert response.status_code == 200
    assert response.content == (await client.get("/")).content
    assert getattr(backend, "unread", 0) == 0


# --- OPML, index, stylesheet ---------------------------------------------------------------


async def test_opml(client: AsyncClient) -> None:
    response = await client.get("/feeds.opml", headers=identity())
    assert response.headers["content-type"] == "text/x-opml; charset=utf-8"
    root = etree.fromstring(response.content)
    outlines = root.findall("body/outline")
    assert [o.get("xmlUrl") for o in outlines] == [feed_urls(PUBLIC, t.slug)["rss"] for t in TOPICS]
    assert outlines[1].get("text") == "An ninh <trật tự> & pháp luật"
    assert_304(
        await client.get(
            "/feeds.opml", headers=identity(**{"if-none-match": response.headers["etag"]})
        ),
        response.headers["etag"],
    )


class LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str | None]] = []
        self.meta: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "link":
            self.links.append(dict(attrs))
        elif tag == "meta":
            self.meta.append(dict(attrs))


async def test_index_page_autodiscovery(client: AsyncClient) -> None:
    response = await client.get("/", headers=identity())
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    collector = LinkCollector()
    collector.feed(response.text)
    alternates = [link for link in collector.links if link.get("rel") == "alternate"]
    expected = [(MEDIA[fmt], url) for t in TOPICS for fmt, url in feed_urls(PUBLIC, t.slug).items()]
    assert [(link["type"], link["href"]) for link in alternates] == expected
    assert alternates[3]["title"] == "An ninh <trật tự> & pháp luật (RSS)"
    assert "An ninh &lt;trật tự&gt; &amp; pháp luật" in response.text  # escaped in the body
    assert "<trật tự>" not in response.text
    assert any(m.get("name") == "viewport" for m in collector.meta)
    assert f'value="{PUBLIC}/feeds/kien-thuy.rss"' in response.text


async def test_stylesheet(client: AsyncClient) -> None:
    response = await client.get("/feed.xsl", headers=identity())
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xsl; charset=utf-8"
    etree.XSLT(etree.fromstring(response.content))  # a valid stylesheet


@pytest.mark.parametrize(
    ("language", "note", "not_note"),
    [
        ("vi", "Đây là nguồn tin (feed). Chép địa chỉ", "This is a feed"),
        ("en", "This is a feed. Copy the address", "Đây là nguồn tin"),
    ],
)
async def test_the_stylesheet_speaks_the_sites_language(
    backend: FakeBackend, language: str, note: str, not_note: str
) -> None:
    """``/feed.xsl`` is what a browser shows a feed with: its note was Vietnamese on every
    site, an English one's too (``site.language``, as the pages and the errors)."""
    app = Starlette(routes=feed_routes(backend, MAX_AGE, t=Translator(language)))
    async with AsyncClient(transport=ASGITransport(app), base_url="http://testserver") as ac:
        xsl = (await ac.get("/feed.xsl", headers=identity())).content
        for fmt in ("rss", "atom"):
            feed = (await ac.get(f"/feeds/kien-thuy.{fmt}", headers=identity())).content
            shown = str(etree.XSLT(etree.fromstring(xsl))(etree.fromstring(feed)))
            assert f' lang="{language}">' in shown and note in shown, shown[:600]
            assert not_note not in shown and "@" not in shown.split("<body>")[1][:300]


async def test_fast_path_answers_plain_polls_and_passes_everything_else_on(
    backend: FakeBackend,
) -> None:
    passed: list[str] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        passed.append(f"{scope['path']}?{scope['query_string'].decode()}")
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = FeedFastPath(inner, backend, MAX_AGE)
    async with AsyncClient(transport=ASGITransport(app), base_url="http://testserver") as ac:
        for path in ("/feeds/kien-thuy.rss", "/feeds/rong.json"):
            assert (await ac.get(path)).status_code == 200
            assert (await ac.head(path)).status_code == 200
        handled_elsewhere = [
            "/feeds/kien-thuy.rss?limit=2",
            "/feeds/search.rss?q=x",
            "/feeds/khong-co.rss",
            "/feeds/kien-thuy.xml",
            "/feeds.opml",
            "/",
        ]
        for path in handled_elsewhere:
            assert (await ac.get(path)).status_code == 418, path
        assert (await ac.post("/feeds/kien-thuy.rss")).status_code == 418
    assert len(passed) == len(handled_elsewhere) + 1


async def test_feed_responses_are_counted(client: AsyncClient) -> None:
    def count(fmt: str, status: int) -> float:
        value = metrics.REGISTRY.get_sample_value(
            "feedsvc_feed_responses_total", {"format": fmt, "status": str(status)}
        )
        return value or 0.0

    before = {
        key: count(*key) for key in (("rss", 200), ("rss", 304), ("atom", 404), ("json", 400))
    }
    first = await client.get("/feeds/kien-thuy.rss", headers=identity())
    await client.get(
        "/feeds/kien-thuy.rss", headers=identity(**{"if-none-match": first.headers["etag"]})
    )
    await client.get("/feeds/khong-co.atom")
    await client.get('/feeds/search.json?q="')
    after = {key: count(*key) for key in before}
    assert {key: after[key] - before[key] for key in before} == dict.fromkeys(before, 1.0)


@given(
    accept_encoding=st.none() | st.text(max_size=60),
    inm=st.none() | st.text(max_size=60),
    ims=st.none() | st.text(max_size=60) | st.just("Mon, 01 Jan 99999 00:00:00 GMT"),
    method=st.sampled_from(["GET", "HEAD"]),
)
def test_any_request_headers_get_a_valid_reply(
    accept_encoding: str | None, inm: str | None, ims: str | None, method: str
) -> None:
    snap = make_snapshot(
        b"<rss>" + b"x" * 600 + b"</rss>", MEDIA["rss"], datetime(2022, 5, 1, tzinfo=UTC)
    )
    reply = replies(snap, MAX_AGE).reply(method, accept_encoding, inm, ims)
    assert reply.status in (200, 304)
    assert (reply.body == b"") == (reply.status == 304 or method == "HEAD")


# --- people in browsers vs feed readers ------------------------------------------------------

CHROME_NAVIGATION = {
    "accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    "accept-encoding": "gzip, deflate, br, zstd",
    "sec-fetch-dest": "document",
    "sec-fetch-mode": "navigate",
    "sec-fetch-site": "none",
    "sec-fetch-user": "?1",
    "upgrade-insecure-requests": "1",
    "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
}
READERS = {
    "curl": {"user-agent": "curl/8.5.0", "accept": "*/*"},
    "feedparser": {
        "accept": "application/atom+xml,application/rdf+xml,application/rss+xml,"
        "application/x-netcdf,application/xml;q=0.9,text/xml;q=0.2,*/*;q=0.1",
        "accept-encoding": "gzip, deflate",
        "user-agent": "feedparser/6.0.11 +https://github.com/kurtmckee/feedparser/",
    },
    "reader naming html": {"accept": "application/rss+xml, text/html;q=0.5, */*;q=0.1"},
    "extension fetch()": {"accept": "*/*", "sec-fetch-mode": "cors", "sec-fetch-dest": "empty"},
    "feed in an iframe": {**CHROME_NAVIGATION, "sec-fetch-dest": "iframe"},
    "navigation not asking for html": {**CHROME_NAVIGATION, "accept": "application/rss+xml"},
    "no headers at all": {},
}


def wire_headers(response: Any) -> list[tuple[str, str]]:
    """The response's headers as sent, minus uvicorn's own ``date`` and ``server``."""
    own = ("date", "server")
    return sorted((k.lower(), v) for k, v in response.headers.multi_items() if k.lower() not in own)


@pytest.mark.parametrize("reader", list(READERS))
@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
async def test_feed_readers_get_todays_bytes_and_headers(
    client: AsyncClient, backend: FakeBackend, reader: str, fmt: str
) -> None:
    """Whatever a reader, curl or a cache sends, the answer is the snapshot's prepared reply:
    the same bytes and headers (``Vary`` included) as before browsers were told apart."""
    headers = READERS[reader]
    snapshot = backend.snapshot("kien-thuy", fmt, 50)
    assert snapshot is not None
    response = await client.get(f"/feeds/kien-thuy.{fmt}", headers=headers)
    sent_encoding = response.request.headers.get("accept-encoding")  # httpx adds its own
    expected = replies(snapshot, MAX_AGE).reply("GET", sent_encoding, None, None)
    assert response.status_code == 200
    sent = {k.decode(): v.decode() for k, v in expected.headers}
    assert wire_headers(response) == sorted(sent.items())
    assert response.headers["vary"] == "Accept-Encoding"
    body = response.content
    if sent.get("content-encoding") == "gzip":  # httpx decodes; compare the decoded bytes
        body = gzip.compress(body, compresslevel=6, mtime=0)
    assert body == expected.body
    again = await client.get(
        f"/feeds/kien-thuy.{fmt}", headers={**headers, "if-none-match": sent["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == sent["etag"]


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
async def test_a_browser_opening_a_feed_gets_the_topic_page(client: AsyncClient, fmt: str) -> None:
    response = await client.get(f"/feeds/kien-thuy.{fmt}", headers=CHROME_NAVIGATION)
    assert response.status_code == 303
    assert response.headers["location"] == f"/topics/kien-thuy#{fmt}"
    assert response.headers["cache-control"] == "no-store"  # never replaces a cached feed
    assert "Sec-Fetch-Dest" in response.headers["vary"]
    page = await client.get("/topics/kien-thuy", headers=CHROME_NAVIGATION)
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert f'id="{fmt}"' in page.text and f'value="{PUBLIC}/feeds/kien-thuy.{fmt}"' in page.text
    missing = await client.get("/feeds/khong-co.rss", headers=CHROME_NAVIGATION)
    assert missing.status_code == 404


async def test_reader_pages_are_valid_html5(client: AsyncClient) -> None:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    for path in ("/", "/topics/kien-thuy", "/topics/an-ninh"):
        response = await client.get(path, headers=identity())
        assert response.status_code == 200, path
        parser.parse(response.content)  # raises on any parse error
    assert (await client.get("/topics/khong-co")).status_code == 404


@pytest.mark.parametrize("length", [1, 63, 64, 65, 100])
def test_deep_link_only_for_a_slug_telegram_passes_on(length: int) -> None:
    """Telegram hands the bot a start payload of at most 64 characters; slugs may have 100.
    A longer slug's link would open the bot and subscribe to nothing: offer no such link."""
    slug = ("kien-thuy-" * 10)[: length - 1] + "x"
    links = subscribe_links(PUBLIC, slug, "TinBot")
    if length <= 64:
        assert links.telegram == f"https://t.me/TinBot?start={slug}" and links.telegram_qr
    else:
        assert links.telegram is None and links.telegram_qr is None
    assert links.feeds  # the feeds are offered whatever the slug


async def test_topic_page_shows_articles_and_the_telegram_deep_link(client: AsyncClient) -> None:
    text = (await client.get("/topics/kien-thuy", headers=identity())).text
    assert "https://t.me/TinHaiPhongBot?start=kien-thuy" in text
    assert f'<img class="qr" src="{PUBLIC}/topics/kien-thuy/telegram.svg"' in text
    assert "<svg" not in text  # the QR code is an image of its own, not drawn in the page
    qr = await client.get("/topics/kien-thuy/telegram.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    assert qr.content == qr_svg("https://t.me/TinHaiPhongBot?start=kien-thuy")
    assert (await client.get("/topics/an-ninh/telegram.svg")).status_code == 404
    assert "Kiến Thụy: tin số 2 ngày 3/5" in text and "03/05/2022 09:02 +07:00" in text
    assert text.index("ngày 3/5") < text.index("ngày 1/5")  # newest first
    assert "Chuyên mục: Thời sự" in text
    no_bot = (await client.get("/topics/an-ninh", headers=identity())).text
    assert "t.me/" not in no_bot and "telegram.svg" not in no_bot
