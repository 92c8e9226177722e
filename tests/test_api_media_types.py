"""An admin tester's API looseness findings, through the whole app on SQLite:

- ``GET /api/topics/{slug}`` (and ``/api/chats/{id}``) sent no ``ETag`` though ``PUT`` takes
  ``If-Match``: ``ETag: "<version>"``, strong, on every answer that is one topic or one chat's
  options (the writes' too), none on a ``DELETE``'s;
- a ``"version"`` in a ``PUT``'s (a ``PATCH``'s) body was ignored, so a client believed it
  saved conditionally: it is the same condition as ``If-Match: "<version>"``;
- ``text/plain``, form-urlencoded and ``charset=latin-1`` bodies created topics (201), a gzip
  body was "invalid JSON": 415 naming what is accepted, or the encoding;
- ``NaN``/``Infinity`` were accepted as JSON values: 400 ``json_not_a_number`` with where;
- a ``POST``'s or ``PUT``'s answer had ``"stats": null`` where ``GET`` has the figures."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from backend_cases import on_sqlite
from test_api_if_match_weak import AUTH, CHAT, EN, TOPIC, VI, admin, chat_version  # noqa: F401

from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.store.topics import TopicSpec

pytestmark = [
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
    on_sqlite,
]

Client = Any  # starlette's TestClient
IN_EN = {"Accept-Language": "en"}
IN_VI = {"Accept-Language": "vi"}


def no_topic(service: Service, slug: str) -> None:
    with pytest.raises(ops.OperationError):
        ops.get_topic(service.db, slug)


# -- ETag ---------------------------------------------------------------------------------------


def test_every_answer_that_is_one_topic_or_chat_has_its_etag(
    admin: tuple[Client, Service],  # noqa: F811
) -> None:
    client, service = admin
    answers = [
        client.get("/api/topics/d6", headers=AUTH),  # the shown case
        client.get("/api/topics/D6", headers=AUTH),
        client.put("/api/topics/d6", headers=AUTH, json={**TOPIC, "title": "Sửa"}),
        client.post("/api/topics", headers=AUTH, json={**TOPIC, "slug": "d7"}),
        client.post("/api/topics/d6/disable", headers=AUTH),
        client.post("/api/topics/d6/enable", headers=AUTH),
        client.get(f"/api/chats/{CHAT}", headers=AUTH),
        client.patch(f"/api/chats/{CHAT}", headers=AUTH, json={"silent": True}),
    ]
    for r in answers:
        assert r.status_code in (200, 201), r.text
        assert r.headers.get("etag") == f'"{r.json()["version"]}"', (r.request.url, r.headers)
    # the tag is what If-Match takes: a round trip
    tag = client.get("/api/topics/d6", headers=AUTH).headers["etag"]
    r = client.put("/api/topics/d6", headers=AUTH | {"If-Match": tag}, json=TOPIC)
    assert r.status_code == 200 and r.headers["etag"] != tag, r.text
    tag = client.get(f"/api/chats/{CHAT}", headers=AUTH).headers["etag"]
    r = client.patch(f"/api/chats/{CHAT}", headers=AUTH | {"If-Match": tag}, json={"silent": False})
    assert r.status_code == 200 and r.headers["etag"] != tag, r.text
    gone = client.delete("/api/topics/d7", headers=AUTH)
    assert gone.status_code == 200 and "etag" not in gone.headers
    assert "etag" not in client.get("/api/topics", headers=AUTH).headers
    assert service is not None


@pytest.mark.parametrize("template", ["{t}", "W/{t}", '"x", {t}', "*", 'W/"a,b", {t}'])
def test_a_get_whose_if_none_match_lists_the_etag_is_304(
    admin: tuple[Client, Service],  # noqa: F811
    template: str,
) -> None:
    client, _ = admin
    for path in ("/api/topics/d6", f"/api/chats/{CHAT}"):
        tag = client.get(path, headers=AUTH).headers["etag"]
        r = client.get(path, headers=AUTH | {"If-None-Match": template.format(t=tag)})
        assert r.status_code == 304 and r.headers["etag"] == tag and not r.content, r.text
    # another tag, or no list of tags (the version unquoted): the whole answer
    topic = client.get("/api/topics/d6", headers=AUTH).headers["etag"]
    for header in ('"x"', "W/x", topic.strip('"'), f"{topic}, W/"):
        r = client.get("/api/topics/d6", headers=AUTH | {"If-None-Match": header})
        assert r.status_code == 200 and r.json()["slug"] == "d6", header


def test_the_openapi_document_names_the_etag_and_the_415(
    admin: tuple[Client, Service],  # noqa: F811
) -> None:
    client, _ = admin
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "ETag" in paths["/api/topics/{slug}"]["get"]["responses"]["200"]["headers"]
    assert "ETag" in paths["/api/chats/{chat_id}"]["patch"]["responses"]["200"]["headers"]
    assert "headers" not in paths["/api/topics/{slug}"]["delete"]["responses"]["200"]
    assert "304" in paths["/api/topics/{slug}"]["get"]["responses"]
    for method in ("put", "post"):
        path = "/api/topics/{slug}" if method == "put" else "/api/topics"
        assert "415" in paths[path][method]["responses"], method


# -- the body's version --------------------------------------------------------------------------


def test_a_put_bodys_version_is_a_condition(admin: tuple[Client, Service]) -> None:  # noqa: F811
    client, service = admin
    read = client.get("/api/topics/d6", headers=AUTH).json()
    ops.save_topic(service.db, TopicSpec("d6", "Của đồng nghiệp", '"Đồ Sơn"'), "cli")
    for body in (read | {"title": "Sửa"}, {**TOPIC, "title": "Sửa", "version": read["version"]}):
        r = client.put("/api/topics/d6", headers=AUTH, json=body)  # the shown case
        assert r.status_code == 412 and r.json()["code"] == "topic_changed_meanwhile", r.text
    assert ops.get_topic(service.db, "d6").title == "Của đồng nghiệp"
    now = client.get("/api/topics/d6", headers=AUTH).json()
    r = client.put("/api/topics/d6", headers=AUTH, json=now | {"title": "Sửa"})
    assert r.status_code == 200 and r.json()["title"] == "Sửa", r.text
    r = client.put("/api/topics/d6", headers=AUTH, json={**TOPIC, "version": None})  # null: none
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("header", "version", "code"),
    [('"{v}"', "{old}", "version_mismatch"), ('"{old}"', "{v}", "version_mismatch"),
     (None, "garbage", "version_invalid"), ("*", "", "version_invalid")],
)  # fmt: skip
def test_a_body_version_that_cannot_be_one_condition_is_400(
    admin: tuple[Client, Service],  # noqa: F811
    header: str | None,
    version: str,
    code: str,
) -> None:
    client, service = admin
    old = ops.get_topic(service.db, "d6").version
    ops.save_topic(service.db, TopicSpec("d6", "Của đồng nghiệp", '"Đồ Sơn"'), "cli")
    v = ops.get_topic(service.db, "d6").version
    headers = AUTH | ({"If-Match": header.format(v=v, old=old)} if header else {})
    body = {**TOPIC, "title": "Sửa", "version": version.format(v=v, old=old)}
    r = client.put("/api/topics/d6", headers=headers | IN_EN, json=body)
    assert r.status_code == 400, r.text
    assert (r.json()["code"], r.json()["field"]) == (code, "version"), r.json()
    assert r.json()["message"] == EN(f"api.{code}")
    assert ops.get_topic(service.db, "d6").version == v


def test_a_patch_bodys_version_is_a_condition(admin: tuple[Client, Service]) -> None:  # noqa: F811
    client, _ = admin
    read = client.get(f"/api/chats/{CHAT}", headers=AUTH).json()
    assert client.patch(f"/api/chats/{CHAT}", headers=AUTH, json={"digest": "07:00"}).is_success
    r = client.patch(f"/api/chats/{CHAT}", headers=AUTH, json=read | {"digest": "hourly"})
    assert r.status_code == 412 and r.json()["code"] == "chat_changed_meanwhile", r.text
    # the GET body sent back with another change: only that change, the digest kept
    r = client.patch(f"/api/chats/{CHAT}", headers=AUTH, json=read | {"silent": True})
    assert r.status_code == 200 and (r.json()["digest"], r.json()["silent"]) == ("07:00", True)
    assert chat_version(client) == r.json()["version"]


# -- Content-Type, Content-Encoding --------------------------------------------------------------

REFUSED_TYPES = [
    "text/plain",  # the shown cases
    "application/x-www-form-urlencoded",
    "application/json; charset=latin-1",
    "application/jsonx",
    "text/json",
    "application/json; charset=utf-16",
    "application/json; boundary=x",
    "multipart/form-data; boundary=x",
]


@pytest.mark.parametrize("given", REFUSED_TYPES)
def test_a_body_that_says_it_is_no_json_is_415(
    admin: tuple[Client, Service],  # noqa: F811
    given: str,
) -> None:
    client, service = admin
    body = json.dumps({**TOPIC, "slug": "d8"}).encode()
    r = client.post("/api/topics", headers=AUTH | {"Content-Type": given}, content=body)
    assert r.status_code == 415, r.text
    out = r.json()
    assert (out["code"], out["field"]) == ("unsupported_media_type", "Content-Type"), out
    assert "application/json" in out["error"] and given in out["error"], out
    assert out["message"] == VI("api.unsupported_media_type", given=given)
    no_topic(service, "d8")
    r = client.put("/api/topics/d8", headers=AUTH | {"Content-Type": given}, content=body)
    assert r.status_code == 415, r.text
    no_topic(service, "d8")
    r = client.patch(f"/api/chats/{CHAT}", headers=AUTH | {"Content-Type": given},
                     content=b'{"silent": true}')  # fmt: skip
    assert r.status_code == 415, r.text


@pytest.mark.parametrize(
    "given", [None, "application/json", "Application/JSON; charset=UTF-8",
              'application/json;charset="utf-8"'],
)  # fmt: skip
def test_json_as_sent_or_with_no_type_is_read(
    admin: tuple[Client, Service],  # noqa: F811
    given: str | None,
) -> None:
    client, _ = admin
    headers = AUTH | ({"Content-Type": given} if given else {})
    body = json.dumps({**TOPIC, "slug": "d8"}).encode()
    r = client.post("/api/topics", headers=headers, content=body)
    assert r.status_code == 201, r.text
    # an empty body is nothing to read: its type is not judged (a backfill's defaults)
    r = client.post("/api/topics/d8/backfill", headers=AUTH | {"Content-Type": "text/plain"})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("encoding", ["gzip", "br", "deflate", "identity, gzip"])
def test_an_encoded_body_is_415_naming_the_encoding(
    admin: tuple[Client, Service],  # noqa: F811
    encoding: str,
) -> None:
    client, service = admin
    body = gzip.compress(json.dumps({**TOPIC, "slug": "d8"}).encode())
    headers = AUTH | IN_EN | {"Content-Type": "application/json", "Content-Encoding": encoding}
    r = client.post("/api/topics", headers=headers, content=body)
    assert r.status_code == 415, r.text
    out = r.json()
    shown = encoding.removeprefix("identity, ")  # identity is no encoding
    assert (out["code"], out["field"]) == ("unsupported_content_encoding", "Content-Encoding")
    assert f"Content-Encoding {shown} is not accepted" in out["error"], out
    assert out["message"] == EN("api.unsupported_content_encoding", encoding=shown), out
    no_topic(service, "d8")


# -- NaN, Infinity --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "token", "line", "column"),
    [(b'{"title": "T", "query": "q", "stats": {"x": NaN}}', "NaN", 1, 45),  # the shown case
     (b'{"title": "T", "query": "q", "stats": {"x": Infinity}}', "Infinity", 1, 45),
     (b'{"title": "T",\n "query": "q",\n "stats": [-Infinity]}', "-Infinity", 3, 12),
     (b'{"title": "NaN Infinity", "query": "q", "stats": {"a\\"NaN": NaN}}', "NaN", 1, 61)],
)  # fmt: skip
def test_nan_and_infinity_are_no_json(
    admin: tuple[Client, Service],  # noqa: F811
    body: bytes,
    token: str,
    line: int,
    column: int,
) -> None:
    client, service = admin
    version = ops.get_topic(service.db, "d6").version
    for asked, lang in ((IN_VI, VI), (IN_EN, EN)):
        headers = AUTH | asked | {"Content-Type": "application/json"}
        r = client.put("/api/topics/d6", headers=headers, content=body)
        assert r.status_code == 400, r.text
        out = r.json()
        assert out["code"] == "json_not_a_number", out
        assert f"{token} at line {line} column {column}" in out["error"], out
        assert out["message"] == lang("api.json_not_a_number", token=token, line=line,
                                      column=column)  # fmt: skip
    assert ops.get_topic(service.db, "d6").version == version
    r = client.post("/api/topics/d6/backfill", headers=AUTH, content=b'{"days": NaN}')
    assert r.status_code == 400 and r.json()["code"] == "json_not_a_number", r.text


def test_nan_inside_a_string_is_text(admin: tuple[Client, Service]) -> None:  # noqa: F811
    client, service = admin
    r = client.put("/api/topics/d6", headers=AUTH, json={**TOPIC, "title": "NaN, Infinity"})
    assert r.status_code == 200, r.text
    assert ops.get_topic(service.db, "d6").title == "NaN, Infinity"


# -- stats ----------------------------------------------------------------------------------------


def test_a_writes_answer_has_the_figures_get_has(admin: tuple[Client, Service]) -> None:  # noqa: F811
    client, _ = admin
    answers = [
        client.post("/api/topics", headers=AUTH, json={**TOPIC, "slug": "d7"}),  # the shown case
        client.put("/api/topics/d6", headers=AUTH, json={**TOPIC, "title": "Sửa"}),
        client.put("/api/topics/d9", headers=AUTH, json=TOPIC),
        client.post("/api/topics/d6/disable", headers=AUTH),
    ]
    for r in answers:
        assert r.status_code in (200, 201), r.text
        slug = r.json()["slug"]
        got = client.get(f"/api/topics/{slug}", headers=AUTH).json()
        assert r.json()["stats"] is not None and r.json()["stats"] == got["stats"], r.json()
