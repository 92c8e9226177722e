"""A request path whose percent-encoded bytes are not UTF-8 text is refused as what it is
(:mod:`feedsvc.web.paths`): a worded 400 on reader, feed and admin URLs (naming the bytes, in
the site's or the admin's language), 422 ``not_text`` naming the path parameter on the API.

uvicorn decoded such a path with U+FFFD for each bad sequence: ``/topics/%ED%A0%80`` was a
404 "not found" for a topic ``���``, the API's ``/api/topics/%C3`` a 404 ``topic_unknown``;
and a feed poll of ``/feeds/%FF.rss`` was looked up as the topic ``�`` by both fast paths.
Over real sockets against the service's own wiring, and in process for the API's routes.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from apiworld import api_service, asgi_client
from processes import free_port, uvicorn_thread
from test_web_wire import SNAPSHOT, Backend, SpyFastPath, make_app

from feedsvc.app import Roles, Service, create_app, uvicorn_config
from feedsvc.catalogue import Translator
from feedsvc.config import load_config
from feedsvc.web.feeds import feed_routes
from feedsvc.web.wire import wire_protocol

TOKEN = "adm-paths-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

#: path → the bytes the answer names: reader pages, feeds (fast-path candidates among them),
#: the index, the stylesheet, the OPML list
READER: dict[str, str] = {
    "/topics/%ED%A0%80": "%ED%A0%80",  # U+D800 encoded: UTF-8 has no surrogates
    "/topics/%ED%BF%BF": "%ED%BF%BF",
    "/topics/%FF": "%FF",
    "/topics/kien%C3": "%C3",  # cut short
    "/topics/%C3%28": "%C3",  # a continuation byte missing
    "/topics/%C0%AF": "%C0%AF",  # overlong '/'
    "/topics/%F4%90%80%80": "%F4%90%80%80",  # above U+10FFFF
    "/topics/%ED%A0%80/telegram.svg": "%ED%A0%80",
    "/feeds/%FF.xml": "%FF",
    "/feeds/%FF.rss": "%FF",
    "/feeds/kien-thuy%ED%A0%80.atom": "%ED%A0%80",
    "/feeds/%C3.json?limit=5": "%C3",
    "/feeds/search%FF.rss?q=tin": "%FF",
    "/%FF": "%FF",
    "/feeds.opml%FF": "%FF",
}
ADMIN = ["/admin/topics/%ED%BF%BF/edit", "/admin/%C3", "/admin/chats/%FF"]


def path_text(raw: bytes) -> str | None:
    from feedsvc.web.paths import path_text  # new: the old-code run imports this module

    return path_text(raw)


def shown(raw: str) -> str | None:
    from feedsvc.web.paths import escaped_path, shown_bytes

    return shown_bytes(escaped_path(raw.encode()))


# -- the decision, pure -----------------------------------------------------------------------


@pytest.mark.parametrize("raw", [p.split("?")[0] for p in READER] + ADMIN)
def test_path_text_refuses_what_is_not_utf8(raw: str) -> None:
    assert path_text(raw.encode()) is None
    named = shown(raw)
    assert named is not None and named.startswith("%") and named in raw


@pytest.mark.parametrize(
    ("raw", "text"),
    [("/topics/kien-thuy", "/topics/kien-thuy"), ("/topics/ki%E1%BA%BFn", "/topics/kiến"),
     ("/topics/%EF%BF%BD", "/topics/\ufffd"), ("/topics/%F0%9F%93%B0", "/topics/📰"),
     ("/a%2Fb", "/a/b"), ("/%25FF", "/%FF"), ("/topics/%zz", "/topics/%zz")],
)  # fmt: skip
def test_path_text_takes_text(raw: str, text: str) -> None:
    assert path_text(raw.encode()) == text
    assert shown(raw) is None


def test_shown_bytes_are_bounded() -> None:
    assert shown("/" + "%FF" * 100) == "%FF" * 12 + "…"


# -- over real sockets, the service's own wiring ----------------------------------------------


def exchange(port: int, data: bytes) -> tuple[int, dict[str, str], bytes]:
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def request(method: str, path: str, headers: dict[str, str] | None = None,
            body: bytes = b"") -> bytes:  # fmt: skip
    lines = [f"{method} {path} HTTP/1.1", "Host: x", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@contextmanager
def serving(
    tmp: Path, http: dict[str, object] | None = None, fill: Callable[[Service], None] | None = None
) -> Iterator[int]:
    """The whole app over uvicorn on a new SQLite DB in ``tmp``, readers in Vietnamese, the
    admin in English; ``http``: more ``[http]`` settings; ``fill``: data put in before it
    serves. Yields the port."""
    port = free_port()
    settings = load_config(None, {
        "database": {"url": f"sqlite:///{tmp / 's.db'}"},
        "topics": {"import_on_start": False},
        "site": {"language": "vi"},
        "admin": {"language": "en", "token": TOKEN},
        "http": {"port": port, **(http or {})},
    })  # fmt: skip
    service = Service(settings, Roles(scheduler=False, bot=False))
    service.prepare()
    try:
        if fill is not None:
            fill(service)
        with uvicorn_thread(uvicorn_config(settings, create_app(service))):
            yield port
    finally:
        service.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The whole app over uvicorn: readers in Vietnamese, the admin in English."""
    with serving(tmp_path_factory.mktemp("paths")) as port:
        yield port


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("path", READER)
def test_a_reader_path_that_is_not_text_is_a_worded_400(
    served: int, path: str, method: str
) -> None:
    status, headers, body = exchange(served, request(method, path))
    assert status == 400, (path, body)
    expected = Translator("vi")("http.path_not_text", bytes=READER[path]) + "\n"
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert headers["content-length"] == str(len(expected.encode()))
    assert body == (b"" if method == "HEAD" else expected.encode())
    assert "date" in headers


@pytest.mark.parametrize("path", ADMIN)
def test_an_admin_path_is_worded_in_the_admins_language(served: int, path: str) -> None:
    for method in ("GET", "POST"):
        status, _, body = exchange(served, request(method, path))
        assert status == 400, (method, path, body)
        words = Translator("en")("http.path_not_text", bytes=shown(path))
        assert body.decode() == words + "\n"


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize(
    ("method", "path", "field", "shown"),
    [
        ("GET", "/api/topics/%C3", "slug", "%C3"),
        ("PUT", "/api/topics/%ED%A0%80", "slug", "%ED%A0%80"),
        ("DELETE", "/api/topics/ok%FF", "slug", "%FF"),
        ("POST", "/api/topics/%C0%AF/enable", "slug", "%C0%AF"),
        ("POST", "/api/articles/2026/%FF/hide", "source_key", "%FF"),
        ("GET", "/api/chats/%FF", "chat_id", "%FF"),
    ],
)
def test_an_api_path_parameter_that_is_not_text_is_422_not_text(
    served: int, method: str, path: str, field: str, shown: str, language: str
) -> None:
    body = json.dumps({"title": "T", "query": "a"}).encode() if method == "PUT" else b""
    headers = AUTH | {"Accept-Language": language, "Content-Type": "application/json"}
    status, got, raw = exchange(served, request(method, path, headers, body))
    assert status == 422, raw
    assert got["content-type"] == "application/json"
    data = json.loads(raw)
    assert data == {
        "error": f"{field} is not UTF-8 text ({shown})",
        "code": "not_text",
        "field": field,
        "message": Translator(language)("api.not_text", field=field, bytes=shown),
    }


@pytest.mark.parametrize(
    ("method", "path", "field", "shown"),
    [
        ("GET", "/api/topics/%FF/", "slug", "%FF"),
        ("GET", "/api/topics/%ED%A0%80//", "slug", "%ED%A0%80"),
        ("POST", "/api/topics/%C3/enable/", "slug", "%C3"),
        ("GET", "/api/chats/%FF/", "chat_id", "%FF"),
    ],
)
def test_an_api_path_with_a_trailing_slash_is_422_not_a_500(
    served: int, method: str, path: str, field: str, shown: str
) -> None:
    """Starlette redirects ``/api/topics/x/`` to ``/api/topics/x``, its Location built from the
    routed path: with the bytes kept as lone surrogates that could not be encoded (a 500 and a
    traceback in the log, with or without a token)."""
    for headers in (AUTH, {}):
        status, _, raw = exchange(served, request(method, path, headers))
        assert status != 500, (path, raw)
    status, _, raw = exchange(served, request(method, path, AUTH))
    assert status == 422, raw
    assert json.loads(raw)["code"] == "not_text" and json.loads(raw)["field"] == field
    assert shown in json.loads(raw)["error"]
    status, got, _ = exchange(served, request("GET", "/api/topics/kien-thuy/", AUTH))
    assert status == 307 and got["location"].endswith("/api/topics/kien-thuy")


def test_text_that_decodes_is_not_refused(served: int) -> None:
    """A real U+FFFD (``%EF%BF%BD``) is text: the topic is unknown, as before."""
    status, _, body = exchange(served, request("GET", "/topics/%EF%BF%BD"))
    assert status == 404, body
    status, _, body = exchange(served, request("GET", "/api/topics/%EF%BF%BD", AUTH))
    assert status == 404 and json.loads(body)["code"] == "topic_not_found", body


# -- in process (ASGI): the API's answer is the same ------------------------------------------


@pytest.fixture
async def client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    with api_service(tmp_path, monkeypatch, TOKEN, (777,)) as service:
        async with asgi_client(service) as c:
            yield c


async def test_in_process_the_api_names_the_parameter(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/topics/%ED%A0%80", headers=AUTH)
    assert r.status_code == 422 and (r.json()["code"], r.json()["field"]) == ("not_text", "slug")
    r = await client.get("/topics/%ED%A0%80")
    assert r.status_code == 400 and "%ED%A0%80" in r.text


async def test_nothing_is_stored_under_a_replaced_slug(client: httpx.AsyncClient) -> None:
    body: dict[str, Any] = {"title": "T", "query": "a"}
    r = await client.put("/api/topics/ok%FF", headers=AUTH, json=body)
    assert r.status_code == 422, r.text
    assert (await client.get("/api/topics", headers=AUTH)).json()["topics"] == []


# -- the feed fast paths: never a poll of the topic "�" ----------------------------------------


class AnySlug(Backend):
    """A backend with a snapshot for every slug: what a fast path looks up is answered."""

    def snapshot(self, slug: str, fmt: str, limit: int) -> Any:
        self.asked = [*getattr(self, "asked", []), slug]
        return SNAPSHOT


def any_slug_app() -> SpyFastPath:
    from starlette.applications import Starlette

    from feedsvc.web.paths import PathText

    backend = AnySlug()
    app = PathText(Starlette(routes=feed_routes(backend, 60)), reader=Translator("en"),
                   admin=Translator("en"))  # fmt: skip
    return SpyFastPath(app, backend, 60)


@pytest.mark.parametrize("path", ["/feeds/%FF.rss", "/feeds/%ED%A0%80.atom", "/feeds/a%C3.json"])
def test_the_protocol_fast_path_decodes_strictly(path: str) -> None:
    import uvicorn

    app = any_slug_app()
    port = free_port()
    config = uvicorn.Config(app, port=port, http=wire_protocol(app), log_config=None,
                            lifespan="off")  # fmt: skip
    with uvicorn_thread(config):
        status, _, body = exchange(port, request("GET", path))
    assert status == 400, body
    assert app.seen  # it went to the app, not answered in the protocol
    assert all("\ufffd" not in slug for slug in getattr(app.backend, "asked", []))


async def test_the_asgi_fast_path_decodes_strictly() -> None:
    app = any_slug_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        r = await c.get("/feeds/%FF.rss")
        ok = await c.get("/feeds/kien-thuy.rss")
    assert r.status_code == 400, r.text
    assert ok.status_code == 200
    assert "\ufffd" not in getattr(app.backend, "asked", [])


def test_a_plain_poll_is_still_answered_in_the_protocol() -> None:
    import uvicorn

    app = make_app()
    port = free_port()
    config = uvicorn.Config(app, port=port, http=wire_protocol(app), log_config=None,
                            lifespan="off")  # fmt: skip
    with uvicorn_thread(config):
        status, _, _ = exchange(port, request("GET", "/feeds/kien%2Dthuy.rss"))
    assert status == 200 and not app.seen


# -- a query string's value or name, on the API ------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "shown"),
    [("topic=%FF", "topic", "%FF"), ("topic=t%ED%A0%80", "topic", "%ED%A0%80"),
     ("to%FFpic=t", "to%FFpic", "%FF"), ("state=sent&topic=%C3", "topic", "%C3")],
)  # fmt: skip
async def test_an_api_query_parameter_that_is_not_text_is_422_not_text(
    client: httpx.AsyncClient, query: str, field: str, shown: str
) -> None:
    for language in ("vi", "en"):
        headers = AUTH | {"Accept-Language": language}
        r = await client.get(f"/api/deliveries?{query}", headers=headers)
        assert r.status_code == 422, r.text
        assert r.json() == {
            "error": f"{field} is not UTF-8 text ({shown})",
            "code": "not_text",
            "field": field,
            "message": Translator(language)("api.not_text", field=field, bytes=shown),
        }


async def test_a_query_that_is_text_is_read(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/deliveries?topic=%EF%BF%BD", headers=AUTH)  # a real U+FFFD
    assert r.status_code == 200, r.text


async def test_the_openapi_document_lists_422_where_it_can_be(client: httpx.AsyncClient) -> None:
    from feedsvc.web.api import endpoints

    spec = (await client.get("/api/openapi.json", headers=AUTH)).json()
    for e in endpoints():
        responses = spec["paths"][e.path][e.method.lower()]["responses"]
        if e.path_params or e.params is not None or e.body is not None:
            assert "422" in responses, (e.method, e.path)
