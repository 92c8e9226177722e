"""A control character or a lone surrogate in any text the JSON API is sent is one answer:
422 ``control_character`` (``not_text`` for a lone surrogate) naming the field, worded by the
catalogue's ``op.<code>``, on every route and every way in (body fields, query parameters, path
parameters) — :mod:`feedsvc.web.api_text`.

A NUL used to be a 400 ``invalid_body`` of its own (``title: contains a NUL character``, refused
by the request models) and a 404 in a path, while every other control character got the use
cases' 422; some fields were never checked at all (a preview's query, ``/api/deliveries?topic=``,
a chat's ``digest`` and ``quiet``: 200 or a ``setting_*`` 400), a slug ending in U+001F was
trimmed as whitespace and stored, and ``"\\ud800"`` in a body was "not valid JSON".
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from apiworld import api_service, asgi_client
from pydantic import BaseModel
from starlette.routing import compile_path

from feedsvc.app import Service
from feedsvc.catalogue import Translator
from feedsvc.web.api import endpoints

ADMIN_TOKEN = "adm-control-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CHAT = 777
#: NUL first: the one that was answered differently
CONTROLS = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\u202e"]
SURROGATES = ["\ud800", "\udfff"]

# (method, path with {} where a path text goes, body with {} where a body text goes, field)
# A case's text goes in exactly one place; the rest of the request is valid.
BODY_CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("POST", "/api/topics", {"slug": "ok{}", "title": "T", "query": "a"}, "slug"),
    ("POST", "/api/topics", {"slug": "ok", "title": "T{}", "query": "a"}, "title"),
    ("POST", "/api/topics", {"slug": "ok", "title": "T", "query": "a{}"}, "query"),
    ("POST", "/api/topics", {"slug": "ok", "title": "T", "query": "a", "description": "{}"},
     "description"),
    ("PUT", "/api/topics/ok", {"title": "T{}", "query": "a"}, "title"),
    ("PUT", "/api/topics/ok", {"title": "T", "query": "a", "description": "d{}"}, "description"),
    ("POST", "/api/topics/preview", {"query": "công an{}"}, "query"),
    ("POST", "/api/subscriptions", {"chat_id": CHAT, "chat_type": "private", "query": "a{}"},
     "query"),
    ("POST", "/api/subscriptions", {"chat_id": CHAT, "chat_type": "private", "topic": "t{}"},
     "topic"),
    ("POST", "/api/subscriptions", {"channel": "zalo", "address": "z{}", "query": "a"},
     "address"),
    ("PATCH", f"/api/chats/{CHAT}", {"digest": "off{}"}, "digest"),
    ("PATCH", f"/api/chats/{CHAT}", {"quiet": "{}22:00-06:00"}, "quiet"),
    ("POST", "/api/articles/K1/hide", {"reason": "lý do{}"}, "reason"),
]  # fmt: skip
QUERY_CASES: list[tuple[str, str, str]] = [
    ("GET", "/api/deliveries?topic=t{}", "topic"),
    ("GET", "/api/articles?q=K{}", "q"),
]
PATH_CASES: list[tuple[str, str, str]] = [
    ("GET", "/api/topics/ok{}", "slug"),
    ("PUT", "/api/topics/ok{}", "slug"),
    ("DELETE", "/api/topics/ok{}", "slug"),
    ("POST", "/api/topics/ok{}/enable", "slug"),
    ("POST", "/api/topics/ok{}/disable", "slug"),
    ("POST", "/api/topics/ok{}/backfill", "slug"),
    ("POST", "/api/articles/K1{}/hide", "source_key"),
    ("POST", "/api/articles/K1{}/unhide", "source_key"),
]
PATH_BODIES = {"PUT": {"title": "T", "query": "a"}}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One service for the refusals (a refused request changes nothing)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        tmp = tmp_path_factory.mktemp("api-control")
        with api_service(tmp, monkeypatch, ADMIN_TOKEN, (CHAT,)) as service:
            yield service


@pytest.fixture
async def client(shared: Service) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(shared) as c:
        yield c


@pytest.fixture
async def fresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """A service of its own, for the tests that store something."""
    with api_service(tmp_path, monkeypatch, ADMIN_TOKEN, (CHAT,)) as service:
        async with asgi_client(service) as c:
            yield c


def _body_bytes(body: dict[str, Any], char: str) -> bytes:
    """``body`` as JSON with ``char`` at its ``{}``, escaped as ``\\uXXXX`` (how a client's
    JSON encoder writes a control character or a lone surrogate)."""
    text = json.dumps(body, ensure_ascii=False)
    return text.replace("{}", json.dumps(char)[1:-1]).encode("utf-8", "surrogatepass")


def _in_url(char: str) -> str:
    return quote(char.encode("utf-8"), safe="")


async def _refused(
    client: httpx.AsyncClient, method: str, path: str, content: bytes | None, field: str, char: str
) -> None:
    """Both languages: 422, the code, the field, the catalogue's words naming it."""
    code = "not_text" if "\ud800" <= char <= "\udfff" else "control_character"
    shown = f"U+{ord(char):04X}"
    for language in ("vi", "en"):
        headers = AUTH | {"Accept-Language": language}
        if content is not None:
            headers["Content-Type"] = "application/json"
        r = await client.request(method, path, content=content, headers=headers)
        assert r.status_code == 422, (repr(char), language, r.status_code, r.text)
        data = r.json()
        assert (data["code"], data["field"]) == (code, field), data
        # the field in the message's words where it has them ("tiêu đề"), else as sent
        words = Translator(language)
        named = words(f"input.{field}") if words.has(f"input.{field}") else field
        said = words(f"op.{code}", field=named, char=shown)
        what = "a lone surrogate" if code == "not_text" else "a control character"
        refusal = f"{field} contains {what} ({shown})"
        if field == "query":  # placed on it, as a query's parse error (test_query_refusal_place)
            column = data["column"]
            assert column == data["position"] + 1, data
            said = f"{words('at_position', position=column)}: {said}"
            refusal = f"at character {column}: {refusal} (hint: remove it)"
        else:
            assert "position" not in data and "column" not in data, data
        assert data["message"] == said
        assert data["error"] == refusal


@pytest.mark.parametrize(("method", "path", "body", "field"), BODY_CASES,
                         ids=[f"{c[0]} {c[1]} {c[3]}" for c in BODY_CASES])  # fmt: skip
async def test_a_body_text_with_a_refused_character_is_422(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    for char in CONTROLS + SURROGATES:
        await _refused(client, method, path, _body_bytes(body, char), field, char)


@pytest.mark.parametrize(("method", "path", "field"), QUERY_CASES + PATH_CASES,
                         ids=[f"{c[0]} {c[1]}" for c in QUERY_CASES + PATH_CASES])  # fmt: skip
async def test_a_url_text_with_a_refused_character_is_422(
    client: httpx.AsyncClient, method: str, path: str, field: str
) -> None:
    body = PATH_BODIES.get(method) if "?" not in path else None
    content = json.dumps(body).encode() if body else None
    # an article search finds a key stored with a bidi control by its text (Endpoint.
    # stored_keys; tests/test_articles_shown_keys.py): not refused there
    for char in [c for c in CONTROLS if not (field == "q" and c == "\u202e")]:
        await _refused(client, method, path.format(_in_url(char)), content, field, char)


@pytest.mark.parametrize("char", ["\x00", "\x01"])
@pytest.mark.parametrize("path", ["/api/chats/7{}", "/api/chats/{}7/pause"])
async def test_an_integer_path_parameter_with_one_is_not_an_integer(
    client: httpx.AsyncClient, path: str, char: str
) -> None:
    method = "POST" if path.endswith("pause") else "GET"
    r = await client.request(method, path.format(_in_url(char)), headers=AUTH)
    assert r.status_code == 400 and r.json()["code"] == "not_integer", r.text


async def test_nothing_refused_is_stored(fresh: httpx.AsyncClient) -> None:
    for char in ("\x00", "\x1f", "\x85"):
        r = await fresh.post("/api/topics", headers=AUTH | {"Content-Type": "application/json"},
                              content=_body_bytes({"slug": "ok{}", "title": "T", "query": "a"},
                                                  char))  # fmt: skip
        assert r.status_code == 422, r.text  # "ok\x1f" was trimmed as whitespace: 201 "ok"
    listed = await fresh.get("/api/topics", headers=AUTH)
    assert listed.json()["topics"] == []


async def test_tabs_and_line_breaks_are_still_taken(fresh: httpx.AsyncClient) -> None:
    body = {"slug": "ok", "title": "Kiến\tThụy\n", "query": "a", "description": "một\r\nhai\n"}
    r = await fresh.post("/api/topics", headers=AUTH, json=body)
    assert r.status_code == 201, r.text
    assert (r.json()["title"], r.json()["description"]) == ("Kiến Thụy", "một\nhai")
    r = await fresh.post("/api/topics/preview", headers=AUTH, json={"query": "công\tan"})
    assert r.status_code == 200, r.text


async def test_a_surrogate_pair_is_text(fresh: httpx.AsyncClient) -> None:
    raw = b'{"slug": "ok", "title": "Tin \\ud83d\\udcf0", "query": "a"}'
    r = await fresh.post("/api/topics", headers=AUTH | {"Content-Type": "application/json"},
                          content=raw)  # fmt: skip
    assert r.status_code == 201 and r.json()["title"] == "Tin 📰", r.text


async def test_an_otherwise_invalid_body_is_still_400(client: httpx.AsyncClient) -> None:
    """A refused character is a 422 only in a request that is otherwise valid (as the use
    cases refused it): a body that is not JSON, or lacks a field, stays 400."""
    for raw in (b'{"slug": "ok\\u0000", "title": ', b'{"slug": "ok\\ud800", "title": ',
                b'{"slug": "ok\\u0000", "query": "a"}'):  # fmt: skip
        r = await client.post("/api/topics", headers=AUTH | {"Content-Type": "application/json"},
                              content=raw)  # fmt: skip
        assert r.status_code == 400 and r.json()["code"] == "invalid_body", (raw, r.text)


def test_every_route_that_takes_text_is_covered_here() -> None:
    from feedsvc.web.openapi import takes_text  # new with the check: the old-code run imports

    cases = [(m, p) for m, p, *_ in BODY_CASES + QUERY_CASES + PATH_CASES]
    covered = set()
    for e in endpoints():
        pattern = compile_path(e.route_path)[0]
        if any(m == e.method and pattern.match(p.split("?")[0].format("x")) for m, p in cases):
            covered.add((e.method, e.path))
    wanted = {(e.method, e.path) for e in endpoints() if takes_text(e)}
    assert wanted and wanted <= covered, wanted - covered


async def test_the_openapi_document_lists_422_where_text_is_taken(
    client: httpx.AsyncClient,
) -> None:
    from feedsvc.web.openapi import takes_text

    spec = (await client.get("/api/openapi.json", headers=AUTH)).json()
    for e in endpoints():
        responses = spec["paths"][e.path][e.method.lower()]["responses"]
        if takes_text(e):
            assert "control_character" in responses["422"]["description"]
            assert responses["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
                "/ErrorOut"
            )
    assert takes_text(next(e for e in endpoints() if e.path == "/api/deliveries"))
    assert not takes_text(next(e for e in endpoints() if e.path == "/api/subscriptions"
                               and e.method == "GET"))  # fmt: skip


# -- the walk itself ---------------------------------------------------------------------------


class Inner(BaseModel):
    name: str = ""
    tags: list[str] = []


class Outer(BaseModel):
    title: str = ""
    items: list[Inner] = []
    extra: dict[str, str] = {}


@pytest.mark.parametrize(
    ("value", "found"),
    [
        (Outer(title="ok", items=[Inner(name="a"), Inner(tags=["x", "y\x00"])]),
         ("items.1.tags.1", "U+0000")),
        (Outer(items=[Inner(name="a\x7f")]), ("items.0.name", "U+007F")),
        (Outer(extra={"k": "v\x1b"}), ("extra.k", "U+001B")),
        (Outer(extra={"k\x01": "v"}), ("extra.k\\u0001", "U+0001")),  # the key's position
        (Outer(title="a\tb\nc\r\n", items=[Inner(name="Kiến Thụy")]), None),
        ({"a": [1, None, "x\ud800"]}, ("a.2", "U+D800")),
        ("\x00", ("body", "U+0000")),
    ],
)  # fmt: skip
def test_first_refused_locates_it_like_pydantic(value: object, found: object) -> None:
    from feedsvc.web.api_text import first_refused

    assert first_refused(value) == found


def test_surrogate_in_json() -> None:
    from feedsvc.web.api_text import surrogate_in_json

    assert surrogate_in_json(b'{"a": {"b": ["x\\uDC00"]}}') == ("a.b.0", "U+DC00")
    assert surrogate_in_json(b'{"a": "\\ud83d\\ude00"}') is None  # a pair: text
    assert surrogate_in_json(b'{"a": "\\ud800"') is None  # not JSON: the parser's error stands
    assert surrogate_in_json(b"[" * 100_000 + b'"\\ud800"') is None  # too deep for Python
