"""The headers an address family carries on every answer (:mod:`feedsvc.web.address_headers`).

* The JSON API (a tester's): ``/api/*`` answers had no ``Cache-Control: no-store`` and no
  ``X-Content-Type-Options: nosniff`` while the admin's pages had both. Now every answer there
  has them, errors included (401, 404, 405, 409, 412, 422, 429, 503), per route family.
* Cross-origin reads of the feeds (:mod:`feedsvc.web.cors`; a tester's gap): no
  ``Access-Control-Allow-Origin`` on feeds, JSON Feed or OPML, and an ``OPTIONS`` preflight got
  405, so browser-based readers and embed widgets could not read a feed. Now ``*`` on every
  answer at a feed's address (200, HEAD, 304, the errors and redirects there), through the
  fast paths too (the snapshot's prepared lines), and a 204 to the preflight; never on the
  admin, the API or the reader pages; served without a database statement.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from processes import free_port, uvicorn_thread
from sqlalchemy import event
from test_state_outage import AUTH as OUTAGE_AUTH
from test_state_outage import client_of, service_on, unopenable
from test_web_words import AUTH, client, service  # noqa: F401  (the fixtures)

from feedsvc.app import Service, create_app, uvicorn_config
from feedsvc.operations import delete_topic, save_topic
from feedsvc.store.topics import TopicSpec

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

ACAO = "access-control-allow-origin"
NAVIGATION = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Accept": "text/html"}
ORIGIN = {"Origin": "https://widget.example"}
PREFLIGHT = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, HEAD",
    "access-control-allow-headers": "If-None-Match, If-Modified-Since",
    "access-control-max-age": "86400",
    "access-control-expose-headers": "ETag, Retry-After",
    "allow": "GET, HEAD, OPTIONS",
}


def seeded(svc: Service) -> None:
    """A topic with its feeds, and one deleted (410)."""
    save_topic(svc.db, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "test")
    save_topic(svc.db, TopicSpec("da-xoa", "Đã xoá", '"xoá"'), "test")
    delete_topic(svc.db, "da-xoa")
    svc.publisher.refresh()


def assert_api_headers(r: httpx.Response) -> None:
    assert r.headers.get_list("cache-control") == ["no-store"], (r.request.url, r.headers)
    assert r.headers.get_list("x-content-type-options") == ["nosniff"], r.headers
    assert ACAO not in r.headers  # the API's answers are never for other sites' scripts


# -- the JSON API ------------------------------------------------------------------------------

TOPIC = {"title": "Kiến Thụy", "query": '"Kiến Thụy"'}
#: (method, path, extra headers, JSON body, status): every route family and its errors
API_ANSWERS: list[tuple[str, str, dict[str, str], Any, int]] = [
    ("GET", "/api", {}, None, 200),
    ("GET", "/api/", {}, None, 200),
    ("GET", "/api/openapi.json", {}, None, 200),
    ("GET", "/api/topics", {"Authorization": "Bearer wrong"}, None, 401),
    ("GET", "/api/topics", {}, None, 401),
    ("GET", "/api/topics", AUTH, None, 200),
    ("GET", "/api/topics/kien-thuy", AUTH, None, 200),
    ("GET", "/api/topics/khong-co", AUTH, None, 404),
    ("POST", "/api/topics", AUTH, {"slug": "kien-thuy", **TOPIC}, 409),
    ("PUT", "/api/topics/khong-co", AUTH | {"If-Match": "*"}, TOPIC, 412),
    ("POST", "/api/topics/preview", AUTH, {"query": '"Kiến'}, 422),
    ("POST", "/api/topics/kien-thuy/disable", AUTH, None, 200),
    ("GET", "/api/stats", AUTH, None, 200),
    ("GET", "/api/subscriptions", AUTH, None, 200),
    ("DELETE", "/api/subscriptions/999", AUTH, None, 404),
    ("GET", "/api/chats/999", AUTH, None, 404),
    ("GET", "/api/deliveries", AUTH, None, 200),
    ("POST", "/api/deliveries/999/resend", AUTH, None, 404),
    ("GET", "/api/status", AUTH, None, 200),
    ("GET", "/api/articles?q=x", AUTH, None, 200),
    ("POST", "/api/articles/khong-co/hide", AUTH, None, 404),
    ("GET", "/api/khong-co", AUTH, None, 404),
    ("DELETE", "/api/stats", AUTH, None, 405),
    ("OPTIONS", "/api/topics", ORIGIN, None, 405),
    ("GET", "/api/topics/%FF", AUTH, None, 422),
    ("POST", "/api/topics", AUTH, {"slug": "x"}, 400),
    ("GET", "/api/deliveries?state=sent&state=dead", AUTH, None, 400),
]


@pytest.mark.parametrize(("method", "path", "headers", "body", "status"), API_ANSWERS)
async def test_every_api_answer_is_no_store_and_nosniff(
    service: Service,  # noqa: F811  (the imported fixture)
    client: httpx.AsyncClient,  # noqa: F811
    method: str,
    path: str,
    headers: dict[str, str],
    body: Any,
    status: int,
) -> None:
    seeded(service)
    r = await client.request(method, path, headers=headers, json=body)
    assert r.status_code == status, r.text
    assert_api_headers(r)


async def test_the_token_lockouts_429_too(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
) -> None:
    for _ in range(5):
        assert (
            await client.get("/api/topics", headers={"Authorization": "Bearer x"})
        ).status_code == 401
    r = await client.get("/api/topics", headers=AUTH)
    assert r.status_code == 429 and r.headers["retry-after"]
    assert_api_headers(r)


def test_the_state_dbs_503_on_the_api_too(tmp_path: Path) -> None:
    file = tmp_path / "state.db"
    svc = service_on(f"sqlite:///{file}")
    with client_of(svc) as c, unopenable(file, svc):
        r = c.get("/api/topics", headers=OUTAGE_AUTH)
        assert r.status_code == 503 and r.headers["retry-after"]
        assert_api_headers(r)


# -- cross-origin reads of the feeds ----------------------------------------------------------

FEED_ADDRESSES = [
    "/feeds/kien-thuy.rss",
    "/feeds/kien-thuy.atom",
    "/feeds/kien-thuy.json",
    "/feeds/kien-thuy.rss?limit=3",
    "/feeds/search.atom?q=ki%E1%BA%BFn",
    "/feeds/search.json?q=thuy&limit=5",
    "/feeds.opml",
]


def assert_public_read(r: httpx.Response) -> None:
    assert r.headers.get_list(ACAO) == ["*"], (r.request.url, r.headers)
    assert r.headers["access-control-expose-headers"] == "ETag, Retry-After"
    assert "access-control-allow-credentials" not in r.headers
    assert "origin" not in r.headers.get("vary", "").lower()  # `*`: the same for every origin


@pytest.mark.parametrize("path", FEED_ADDRESSES)
async def test_a_feed_is_readable_by_any_sites_script(
    service: Service,  # noqa: F811  (the imported fixture)
    client: httpx.AsyncClient,  # noqa: F811
    path: str,
) -> None:
    seeded(service)
    r = await client.get(path, headers=ORIGIN)
    assert r.status_code == 200, r.text
    assert_public_read(r)
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["etag"]
    assert r.headers["vary"] == "Accept-Encoding"
    head = await client.head(path, headers=ORIGIN)
    assert head.status_code == 200 and head.headers["etag"] == r.headers["etag"]
    assert_public_read(head)
    again = await client.get(path, headers=ORIGIN | {"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    assert_public_read(again)
    since = {"If-Modified-Since": r.headers["last-modified"]}  # 304 unless rendered meanwhile
    assert_public_read(await client.get(path, headers=ORIGIN | since))
    gzipped = await client.get(path, headers=ORIGIN | {"Accept-Encoding": "gzip"})
    assert_public_read(gzipped)


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/feeds/khong-co.rss", {}, 404),
        ("/feeds/da-xoa.json", {}, 410),
        ("/feeds/search.rss", {}, 400),  # no words
        ("/feeds/search.rss?q=%22ki", {}, 400),  # an unclosed quote
        ("/feeds/search.rss?q=%FF", {}, 400),  # not text
        ("/feeds/kien-thuy.rss?limit=0", {}, 400),
        ("/feeds/Kien-Thuy.rss", {}, 301),  # to the stored slug: a CORS fetch follows it
        ("/feeds/kien-thuy.xml", {}, 404),
        ("/feeds/%FF.rss", {}, 400),  # a path not text (PathText, before the routes)
        ("/feeds/kien-thuy.rss/", {}, 307),  # the trailing-slash redirect
        ("/feeds.opml/", {}, 307),
        ("/feeds/kien-thuy.rss", NAVIGATION, 303),  # a person's browser: to the topic page
        ("/feeds/search.rss?q=ki", NAVIGATION, 200),  # the search's page
    ],
)
async def test_errors_and_redirects_at_a_feeds_address_too(
    service: Service,  # noqa: F811  (the imported fixture)
    client: httpx.AsyncClient,  # noqa: F811
    path: str,
    headers: dict[str, str],
    status: int,
) -> None:
    """A widget can read why (a search's 400, a 404), and follow a redirect (the browser drops
    a redirect without the header)."""
    seeded(service)
    r = await client.get(path, headers=ORIGIN | headers)
    assert r.status_code == status, r.text
    assert_public_read(r)


@pytest.mark.parametrize(
    "path",
    ["/feeds/kien-thuy.rss", "/feeds/search.json?q=x", "/feeds.opml", "/feeds/khong-co.atom"],
)
async def test_a_preflight_is_answered(
    service: Service,  # noqa: F811  (the imported fixture)
    client: httpx.AsyncClient,  # noqa: F811
    path: str,
) -> None:
    seeded(service)
    asked = ORIGIN | {
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match",
    }
    for headers in (asked, {}):  # a CORS preflight, a plain OPTIONS
        r = await client.options(path, headers=headers)
        assert r.status_code == 204 and r.content == b""
        assert {k: v for k, v in r.headers.items() if k != "date"} == PREFLIGHT


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/", {}),
        ("GET", "/topics/kien-thuy", {}),
        ("GET", "/topics/khong-co", {}),
        ("GET", "/feed.xsl", {}),
        ("GET", "/feeds", {}),
        ("GET", "/feeds.opmlx", {}),
        ("GET", "/admin/login", {}),
        ("GET", "/admin/topics", AUTH),
        ("OPTIONS", "/admin/login", {}),
        ("OPTIONS", "/", {}),
        ("GET", "/api/topics", AUTH),
        ("OPTIONS", "/api/topics", {"Access-Control-Request-Method": "GET"}),
        ("GET", "/healthz", {}),
    ],
)
async def test_never_on_the_admin_the_api_or_the_pages(
    service: Service,  # noqa: F811  (the imported fixture)
    client: httpx.AsyncClient,  # noqa: F811
    method: str,
    path: str,
    headers: dict[str, str],
) -> None:
    seeded(service)
    r = await client.request(method, path, headers=ORIGIN | headers)
    assert r.status_code < 500
    assert not [k for k in r.headers if k.startswith("access-control-")], r.headers
    if method == "OPTIONS":
        assert r.status_code == 405


async def test_a_cached_feed_and_a_preflight_touch_no_database(
    service: Service,  # noqa: F811  (the imported fixture)
    client: httpx.AsyncClient,  # noqa: F811
) -> None:
    seeded(service)
    first = await client.get("/feeds/kien-thuy.rss")  # the app's lazy parts made
    statements: list[str] = []
    for engine in {service.db.engine, service.web_db.engine}:
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    for path in ("/feeds/kien-thuy.rss", "/feeds/kien-thuy.json", "/feeds.opml"):
        assert_public_read(await client.get(path, headers=ORIGIN))
        assert (await client.options(path, headers=ORIGIN)).status_code == 204
    again = await client.get(
        "/feeds/kien-thuy.rss", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert statements == []


# -- over a socket: the feed polls answered in the protocol ----------------------------------


@pytest.fixture
def listening(service: Service) -> Iterator[int]:  # noqa: F811  (the imported fixture)
    seeded(service)
    port = free_port()
    service.settings.http.port = port
    with uvicorn_thread(uvicorn_config(service.settings, create_app(service))):
        yield port


def exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def head_lines(answer: bytes) -> list[bytes]:
    return answer.partition(b"\r\n\r\n")[0].lower().split(b"\r\n")


def test_the_wire_paths_polls_and_304s_say_it_too(listening: int) -> None:
    poll = b"GET /feeds/kien-thuy.atom HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    answer = exchange(listening, poll + b"\r\n")
    lines = head_lines(answer)
    assert lines[0] == b"http/1.1 200 ok" and b"access-control-allow-origin: *" in lines
    etag = next(x for x in lines if x.startswith(b"etag: ")).split(b": ", 1)[1]
    again = head_lines(exchange(listening, poll + b"If-None-Match: " + etag + b"\r\n\r\n"))
    assert again[0] == b"http/1.1 304 not modified"
    assert b"access-control-allow-origin: *" in again
    assert b"access-control-expose-headers: etag, retry-after" in again
    preflight = head_lines(
        exchange(
            listening,
            b"OPTIONS /feeds/kien-thuy.atom HTTP/1.1\r\nHost: x\r\n"
            b"Origin: https://w.example\r\nConnection: close\r\n\r\n",
        )
    )
    assert preflight[0] == b"http/1.1 204 no content"
    assert b"access-control-allow-methods: get, head" in preflight
    api = head_lines(
        exchange(listening, b"GET /api/topics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    )
    assert api[0] == b"http/1.1 401 unauthorized"
    assert b"cache-control: no-store" in api and b"x-content-type-options: nosniff" in api


@pytest.mark.parametrize("service", [{"http": {"public_url": "http://127.0.0.1/tin"}}],
                         indirect=True)  # fmt: skip
async def test_under_the_public_urls_path(
    service: Service,  # noqa: F811  (the imported fixture)
    client: httpx.AsyncClient,  # noqa: F811
) -> None:
    """``http.public_url``'s path served on the service's own port (``web.mount``): the
    addresses as routed decide."""
    seeded(service)
    assert_public_read(await client.get("/tin/feeds/kien-thuy.rss?limit=2"))
    assert (await client.options("/tin/feeds.opml")).status_code == 204
    assert_api_headers(await client.get("/tin/api/topics"))
