"""The two conditional headers RFC 9110 says a recipient MUST ignore on an API write: the write
is made as without them, never refused (:func:`feedsvc.web.preconditions.gate`).

- §13.1.3: ``If-Modified-Since`` when the method is neither ``GET`` nor ``HEAD`` — on every
  write (a topic's ``PUT``, ``DELETE``, ``enable``, ``disable``, a chat's ``PATCH``, the
  writes without a version). It was 400 ``condition_unsupported``, nothing written.
- §13.1.4: ``If-Unmodified-Since`` when its value is no valid HTTP-date (garbage, empty, a
  list of dates, two header lines, a 32 November, a 31 February). It was 400
  ``if_unmodified_since_invalid`` on a topic's writes (400 ``condition_unsupported`` where
  there is no date). The dates below are past ones, so one read as a date would be a 412.

A valid ``If-Unmodified-Since`` is still judged (412 when modified since: the topic writes'
tests) and still refused where there is no modification date (a chat's ``PATCH``, the writes
without a version): a documented choice, kept. Each case checks the stored state: the write
happened. Through the whole app on SQLite, as :mod:`test_api_condition_headers`."""

from __future__ import annotations

import re
from typing import Any

import pytest
from backend_cases import on_sqlite
from test_api_condition_headers import PAST, TOPIC_ROUTES, body_of, client_silent
from test_api_if_match_weak import AUTH, CHAT, admin  # noqa: F401  (the fixture)
from test_api_write_bodies import IN_EN, JSON, refused, send, subscribed

from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.store import subscriptions as sub_store
from feedsvc.store.topics import TopicSpec
from feedsvc.web.api import endpoints
from feedsvc.web.api_base import WRITES
from feedsvc.web.openapi import openapi_document

pytestmark = [
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
    on_sqlite,
]

Client = Any
#: If-Modified-Since values: a date in the past or future, none, nothing
MODIFIED_SINCE = [PAST, "Fri, 01 Jan 2100 00:00:00 GMT", "garbage", ""]
#: If-Unmodified-Since values that are no valid HTTP-date (past dates, were they read)
NO_DATE = ["garbage", "", "0", f"{PAST}, {PAST}", "Sun, 32 Nov 1994 08:49:37 GMT",
           "Tue, 31 Feb 1995 08:49:37 GMT", "Sun, 06 Nov 1994 25:61:61 GMT",
           "1994-11-06"]  # fmt: skip
#: one ignored header per case: (name, value)
IGNORED = [("If-Modified-Since", v) for v in MODIFIED_SINCE] + [
    ("If-Unmodified-Since", v) for v in NO_DATE
]


def _case(name: str, value: str) -> str:
    return f"{name}={value!r}"


def prepared(service: Service, path: str) -> None:
    """d6 as the write under test would change it: disabled before an ``enable``."""
    if path.endswith("/enable"):
        ops.set_topic_enabled(service.db, "d6", False)


def written(service: Service, method: str, path: str) -> bool:
    """Whether the topic write ``method path`` happened, as stored."""
    if method == "DELETE":
        try:
            ops.get_topic(service.db, "d6")
        except ops.OperationError as exc:
            return exc.code == "topic_not_found"
        return False
    topic = ops.get_topic(service.db, "d6")
    if method == "PUT":
        return topic.title == "Changed"
    return topic.enabled is path.endswith("/enable")


@pytest.mark.parametrize(("method", "path"), TOPIC_ROUTES)
@pytest.mark.parametrize(("name", "value"), IGNORED, ids=[_case(*c) for c in IGNORED])
def test_a_topic_write_ignores_them(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
    name: str,
    value: str,
) -> None:
    client, service = admin
    prepared(service, path)
    assert not written(service, method, path)
    r = send(client, method, path, body_of(method), JSON | {name: value})
    assert r.status_code == 200, r.text
    assert written(service, method, path)


@pytest.mark.parametrize(("method", "path"), TOPIC_ROUTES)
def test_two_lines_of_if_unmodified_since_are_a_list_ignored(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
) -> None:
    client, service = admin
    prepared(service, path)
    two = [*AUTH.items(), *IN_EN.items(), *JSON.items(),
           ("If-Unmodified-Since", PAST), ("If-Unmodified-Since", PAST)]  # fmt: skip
    r = client.request(method, path, headers=two, content=body_of(method))
    assert r.status_code == 200, r.text
    assert written(service, method, path)


@pytest.mark.parametrize(("method", "path"), TOPIC_ROUTES)
def test_ignored_on_no_topic_is_the_answer_without_them(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
) -> None:
    """No condition remains: a ``PUT`` creates (201), the others are 404, not a 412."""
    client, service = admin
    path = path.replace("d6", "fresh")
    for name, value in (("If-Unmodified-Since", "garbage"), ("If-Modified-Since", PAST)):
        r = send(client, method, path, body_of(method), JSON | {name: value})
        if method == "PUT":
            assert r.status_code in (200, 201), r.text
            assert ops.get_topic(service.db, "fresh").title == "Changed"
        else:
            refused(r, 404, "topic_not_found")


@pytest.mark.parametrize(("method", "path"), TOPIC_ROUTES)
def test_the_other_conditions_are_still_judged_beside_them(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
) -> None:
    """Ignoring one header ignores only it: a stale ``If-Match`` is still 412."""
    client, service = admin
    stale = ops.get_topic(service.db, "d6").version
    ops.save_topic(service.db, TopicSpec("d6", "Edited", '"Đồ Sơn"'), "cli")
    headers = JSON | {"If-Match": f'"{stale}"', "If-Modified-Since": PAST,
                      "If-Unmodified-Since": "garbage"}  # fmt: skip
    refused(send(client, method, path, body_of(method), headers), 412, "topic_changed_meanwhile")
    assert ops.get_topic(service.db, "d6").title == "Edited"


@pytest.mark.parametrize(("name", "value"), IGNORED, ids=[_case(*c) for c in IGNORED])
def test_a_chat_patch_ignores_them(
    admin: tuple[Client, Service],  # noqa: F811
    name: str,
    value: str,
) -> None:
    client, service = admin
    r = send(client, "PATCH", f"/api/chats/{CHAT}", b'{"silent": true}', JSON | {name: value})
    assert r.status_code == 200, r.text
    assert client_silent(service) is True


def test_a_chat_patch_still_refuses_a_valid_if_unmodified_since(
    admin: tuple[Client, Service],  # noqa: F811
) -> None:
    """The kept choice: a date it cannot compare (no modification date) is refused."""
    client, service = admin
    r = send(client, "PATCH", f"/api/chats/{CHAT}", b'{"silent": true}',
             JSON | {"If-Unmodified-Since": PAST})  # fmt: skip
    refused(r, 400, "condition_unsupported", "If-Unmodified-Since")
    assert client_silent(service) is False


def test_a_chat_patch_ignores_a_valid_date_beside_if_match(
    admin: tuple[Client, Service],  # noqa: F811
) -> None:
    """RFC 9110 §13.1.4: ``If-Unmodified-Since`` beside ``If-Match`` is ignored, so the date
    a chat cannot compare refuses nothing there; the ``If-Match`` decides (current: made)."""
    client, service = admin
    version = client.get(f"/api/chats/{CHAT}", headers=AUTH).json()["version"]
    for date in (PAST, "Fri, 01 Jan 2100 00:00:00 GMT"):
        sent = JSON | {"If-Unmodified-Since": date, "If-Match": f'"{version}"'}
        r = send(client, "PATCH", f"/api/chats/{CHAT}", b'{"silent": true}', sent)
        assert r.status_code == 200, r.text
        assert client_silent(service) is True
        version = r.json()["version"]


def paused(service: Service) -> bool:
    with service.db.read() as conn:
        chat = sub_store.get_chat(conn, CHAT)
    assert chat is not None
    return chat.paused


@pytest.mark.parametrize(("name", "value"), IGNORED, ids=[_case(*c) for c in IGNORED])
def test_writes_without_a_version_ignore_them(
    admin: tuple[Client, Service],  # noqa: F811
    name: str,
    value: str,
) -> None:
    client, service = admin
    header = {name: value}
    r = send(client, "POST", f"/api/chats/{CHAT}/pause", b"", header)
    assert r.status_code == 200 and paused(service), r.text
    r = send(client, "POST", f"/api/chats/{CHAT}/resume", b"", header)
    assert r.status_code == 200 and not paused(service), r.text
    sub = subscribed(service)
    r = send(client, "DELETE", f"/api/subscriptions/{sub}", b"", header)
    assert r.status_code == 200, r.text
    with service.db.read() as conn:
        assert sub_store.get_subscription(conn, sub) is None
    body = b'{"slug": "made", "title": "Made", "query": "a"}'
    r = send(client, "POST", "/api/topics", body, JSON | header)
    assert r.status_code == 201, r.text
    assert ops.get_topic(service.db, "made").title == "Made"


def test_writes_without_a_version_still_refuse_a_valid_if_unmodified_since(
    admin: tuple[Client, Service],  # noqa: F811
) -> None:
    client, service = admin
    r = send(client, "POST", f"/api/chats/{CHAT}/pause", b"", {"If-Unmodified-Since": PAST})
    refused(r, 400, "condition_unsupported", "If-Unmodified-Since")
    assert not paused(service)


CODE = re.compile(r"`([a-z_]+)`")
#: the headers ``condition_unsupported``'s text names
REFUSED = re.compile(r"`condition_unsupported`: [^(]*\(([^)]*)\)")
#: a text saying If-Modified-Since is refused ("`If-Modified-Since`: 400 …", "… is 400")
REFUSED_IMS = re.compile(r"If-Modified-Since`?\)? ?(:|is) 400")


def test_the_openapi_document_refuses_neither(db_url: str) -> None:
    """No write documents ``if_unmodified_since_invalid``, nor ``If-Modified-Since`` among
    what it refuses; a topic's writes refuse no condition (``condition_unsupported``)."""
    del db_url  # the module's backend mark; the document needs none
    doc = openapi_document(endpoints(), "/api/openapi.json", "/api/")
    declared = {(e.method.lower(), e.path): e for e in endpoints()}
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            endpoint = declared.get((method, path))
            if endpoint is None or endpoint.method not in WRITES:
                continue
            text = " ".join([op.get("description", "")] +
                            [r["description"] for r in op["responses"].values()])  # fmt: skip
            assert "if_unmodified_since_invalid" not in text, (method, path)
            text_400 = op["responses"]["400"]["description"]
            refused = REFUSED.search(text_400)  # the headers it names as refused
            assert refused is None or "If-Modified-Since" not in refused[1], (method, path)
            assert not REFUSED_IMS.search(text), (method, path)
            if endpoint.conditions is not None and endpoint.conditions.what == "topic":
                assert "condition_unsupported" not in CODE.findall(text_400), (method, path)
