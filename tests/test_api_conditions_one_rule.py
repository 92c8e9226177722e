"""A write's conditions, one rule on every route (tester R-D4–R-D7 after the body fix):

- R-D4: a topic deleted since its version was read: ``DELETE``, ``enable`` and ``disable`` with
  that version (``If-Match`` or a body's ``version``) were 404 ``topic_not_found`` where ``PUT``
  is 412 ``topic_deleted_meanwhile``; now all four judge the condition first and answer as
  ``PUT`` (:func:`feedsvc.web.api_topic_writes.target`); without a condition, still 404.
- R-D5: routes without a version (a chat's ``pause``/``resume``, ``unhide``, a subscription's
  ``DELETE``) refuse ``If-Match`` (400 ``condition_unsupported``; they ignored it); their
  OpenAPI 400 promised its codes. Only routes that take it
  (:attr:`feedsvc.web.api_base.Endpoint.conditions`) list them.
- R-D6: the body's ``version`` current with ``If-Match: "abc"`` was 412 ``if_match_unknown``,
  with a real stale version 400 ``version_mismatch``: now syntax, then agreement, then
  matching (:func:`feedsvc.web.preconditions.with_body_version`).
- R-D7: a body of whitespace only was read as ``{}`` (200): no JSON text, 400; two
  ``Content-Type`` lines were read as the first: 415."""

from __future__ import annotations

from typing import Any

import pytest
from backend_cases import on_sqlite
from test_api_if_match_weak import AUTH, CHAT, TOPIC, admin  # noqa: F401  (the fixture)
from test_api_write_bodies import (
    FIELDLESS,
    JSON,
    TOPIC_WRITES,
    edited,
    refused,
    send,
    state,
    subscribed,
)

from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.web.api import endpoints
from feedsvc.web.openapi import openapi_document

pytestmark = [
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
    on_sqlite,
]

Client = Any
T2_WRITES = [("DELETE", "/api/topics/t2"), ("POST", "/api/topics/t2/enable"),
             ("POST", "/api/topics/t2/disable"), ("PUT", "/api/topics/t2")]  # fmt: skip
PUT_BODY = b', "title": "T2", "query": "q"}'
PUT_ONLY = b'{"title": "T2", "query": "q"}'


def _body(method: str, version: str) -> bytes:
    """``{"version": …}``, with a ``PUT``'s fields for a ``PUT``."""
    head = b'{"version": "%s"' % version.encode()
    return head + (PUT_BODY if method == "PUT" else b"}")


# -- R-D4: a topic gone is one answer on every route ---------------------------------------------


@pytest.mark.parametrize(("method", "path"), T2_WRITES)
@pytest.mark.parametrize("how", ["header", "body", "both", "any"])
def test_a_topic_deleted_since_is_412_on_every_route(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
    how: str,
) -> None:
    client, service = admin
    made = client.put("/api/topics/t2", headers=AUTH, json={**TOPIC, "title": "T2"})
    assert made.status_code == 201, made.text
    v = made.json()["version"]
    assert client.delete("/api/topics/t2", headers=AUTH).status_code == 200
    tag = {"If-Match": f'"{v}"'} if how in ("header", "both") else {}
    tag = {"If-Match": "*"} if how == "any" else tag
    body = _body(method, v) if how in ("body", "both") else (PUT_ONLY if method == "PUT" else b"")
    out = refused(send(client, method, path, body, JSON | tag), 412, "topic_deleted_meanwhile")
    assert "nothing was saved" in out["error"], out
    with pytest.raises(ops.OperationError):  # nothing created again
        ops.get_topic(service.db, "t2")


@pytest.mark.parametrize(("method", "path"), T2_WRITES[:3])
def test_a_slug_never_used_with_a_condition_is_412_as_put_without_404(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
) -> None:
    client, service = admin
    v = ops.get_topic(service.db, "d6").version  # a real version, of another topic
    never = path.replace("t2", "never")
    for headers, body, code in (({"If-Match": f'"{v}"'}, b"", "topic_not_found"),
                                ({}, _body(method, v), "topic_not_found"),
                                ({"If-Match": "*"}, b"", "topic_not_found"),
                                ({"If-Match": 'W/"x"'}, b"", "if_match_weak"),
                                ({"If-Match": '"abc"'}, b"", "if_match_unknown")):  # fmt: skip
        r = send(client, method, never, body, JSON | headers)
        refused(r, 412, code)
        put = send(client, "PUT", "/api/topics/never", _body("PUT", v) if body else PUT_ONLY,
                   JSON | headers)  # fmt: skip
        refused(put, 412, code)  # the same answer as PUT's
    refused(send(client, method, never, b"", {}), 404, "topic_not_found")  # no condition: 404


# -- R-D6: syntax, then agreement, then matching ------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [*TOPIC_WRITES, ("PUT", "/api/topics/d6")])
def test_body_and_header_disagreeing_is_400_before_any_412(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
) -> None:
    client, service = admin
    old, v = edited(client, service)
    before = state(service)
    cases = [
        (v, '"abc"', 400, "version_mismatch"),  # the shown case (was 412 if_match_unknown)
        (v, f'"{old}"', 400, "version_mismatch"),  # as a real stale version was
        (v, '"abc", "zzz"', 400, "version_mismatch"),
        (v, f'W/"{v}"', 400, "version_mismatch"),  # weak: no condition that can agree
        (old, '"abc"', 400, "version_mismatch"),
        ("zzz", '"abc"', 400, "version_invalid"),  # the body's syntax before agreement
        ("zzz", "abc", 400, "if_match_invalid"),  # the header's syntax first of all
        (v, "abc", 400, "if_match_invalid"),
        (old, f'"abc", "{old}"', 412, "topic_changed_meanwhile"),  # agreeing: matching
    ]
    for version, tag, status, code in cases:
        r = send(client, method, path, _body(method, version), JSON | {"If-Match": tag})
        refused(r, status, code)
    assert state(service) == before
    r = send(client, method, path, _body(method, v), JSON | {"If-Match": f'"abc", "{v}"'})
    assert r.status_code == 200, r.text  # listed among the strong tags: met


def test_a_chats_patch_keeps_the_same_order(admin: tuple[Client, Service]) -> None:  # noqa: F811
    client, _ = admin
    v = client.get(f"/api/chats/{CHAT}", headers=AUTH).json()["version"]
    path = f"/api/chats/{CHAT}"
    body = b'{"version": "%s", "silent": true}' % v.encode()
    refused(send(client, "PATCH", path, body, JSON | {"If-Match": '"abc"'}), 400,
            "version_mismatch")  # fmt: skip
    refused(send(client, "PATCH", path, body, JSON | {"If-Match": "abc"}), 400, "if_match_invalid")
    refused(send(client, "PATCH", "/api/chats/98765", body, JSON | {"If-Match": 'W/"x"'}), 400,
            "version_mismatch")  # fmt: skip
    ok = send(client, "PATCH", path, body, JSON | {"If-Match": f'"abc", "{v}"'})
    assert ok.status_code == 200, ok.text


# -- R-D5: the document lists a route's own codes -----------------------------------------------

IF_MATCH_CODES = ("if_match_invalid", "if_match_too_long", "version_invalid", "version_mismatch")


def test_only_routes_reading_if_match_document_its_400s(db_url: str) -> None:
    del db_url  # the module's backend mark; the document needs none
    doc = openapi_document(endpoints(), "/api/openapi.json", "/api/")
    reading = {("put", "/api/topics/{slug}"), ("delete", "/api/topics/{slug}"),
               ("post", "/api/topics/{slug}/enable"), ("post", "/api/topics/{slug}/disable"),
               ("patch", "/api/chats/{chat_id}")}  # fmt: skip
    seen = set()
    for path, ops_ in doc["paths"].items():
        for method, op in ops_.items():
            text = op["responses"].get("400", {}).get("description", "")
            listed = [c for c in IF_MATCH_CODES if f"`{c}`" in text]
            if (method, path) in reading:
                seen.add((method, path))
                assert listed == list(IF_MATCH_CODES), (method, path)
            else:
                assert listed == [], (method, path, listed)
                assert "412" not in op["responses"], (method, path)
    assert seen == reading
    for path in ("/api/chats/{chat_id}/pause", "/api/chats/{chat_id}/resume",
                 "/api/articles/{source_key}/unhide", "/api/subscriptions/{id}"):  # fmt: skip
        assert path in doc["paths"]


@pytest.mark.parametrize(("method", "path"), FIELDLESS[:3])
def test_routes_without_a_version_refuse_if_match(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
) -> None:
    """A condition they cannot honour is refused, nothing done (it was ignored: 200;
    ``test_api_condition_headers`` covers every header on every route)."""
    client, service = admin
    path = path.format(sub=subscribed(service))
    before = state(service)
    r = send(client, method, path, b"", {"If-Match": "abc"})
    refused(r, 400, "condition_unsupported", "If-Match")
    assert state(service) == before


# -- R-D7: no JSON text, one media type ----------------------------------------------------------

# a BOM alone is an empty body (test_api_inputs); a BOM then whitespace is not
BLANK = [b" ", b"   ", b"\n", b"\t\r\n ", b"\xef\xbb\xbf "]


@pytest.mark.parametrize(("method", "path"), [*TOPIC_WRITES, *FIELDLESS,
                                              ("POST", "/api/topics/d6/backfill")])  # fmt: skip
def test_a_body_of_whitespace_only_is_400(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
) -> None:
    client, service = admin
    path = path.format(sub=subscribed(service))
    before = state(service)
    for blank in BLANK:
        for headers in (JSON, {}):
            refused(send(client, method, path, blank, headers), 400, "invalid_body")
    assert state(service) == before


TWO_TYPES = [
    [("content-type", "application/json"), ("content-type", "text/plain")],  # the shown case
    [("content-type", "text/plain"), ("content-type", "application/json")],
    [("content-type", "application/json"), ("content-type", "application/json")],
    [("content-type", "application/json"), ("content-type", "application/json; charset=utf-8")],
]


@pytest.mark.parametrize(("method", "path"), [*TOPIC_WRITES, ("PUT", "/api/topics/d6"),
                                              ("POST", "/api/topics/d6/backfill")])  # fmt: skip
def test_two_content_types_are_415(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
) -> None:
    client, service = admin
    before = state(service)
    body = _body("PUT", ops.get_topic(service.db, "d6").version) if method == "PUT" else b"{}"
    for lines in TWO_TYPES:
        r = client.request(method, path, headers=[*AUTH.items(), *lines], content=body)
        refused(r, 415, "unsupported_media_type", "Content-Type")
    assert state(service) == before
    one = client.request(method, path, headers=AUTH | JSON, content=body)
    assert one.status_code == 200, one.text  # one line: as before
