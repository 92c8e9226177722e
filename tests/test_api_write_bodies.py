"""Every JSON API write reads its body (:attr:`feedsvc.web.api_base.Endpoint.reads`), a
tester's finding on a fresh install: ``DELETE /api/topics/{slug}``, ``POST …/enable`` and
``…/disable`` never read theirs, so

- ``DELETE`` with ``{"version": "<V1>"}`` after a ``PUT`` over V1 changed title and query was
  200, the topic deleted with its subscription, where ``If-Match: "<V1>"`` is 412
  ``topic_changed_meanwhile``; a stale ``version`` to ``disable`` was 200, ``"zzz"`` to
  ``enable`` too: a body's ``version`` is now the same condition as on ``PUT``
  (:func:`feedsvc.web.api_topic_writes.condition`);
- a ``text/plain`` body ``hello`` to them was 200 where ``PUT``, a chat's ``PATCH``,
  ``/api/subscriptions`` and ``/backfill`` answer 415: every write judges ``Content-Type``,
  ``Content-Encoding`` and its JSON alike, the routes that take no field too
  (``DELETE /api/subscriptions/{id}``, a chat's ``pause``/``resume``, a delivery's
  ``resend``, an article's ``unhide``: :class:`feedsvc.web.api_models.NoBody`).

An empty body (no ``Content-Type``, no content) is still "nothing": the write as before.
Through the whole app (Starlette's client) on SQLite; the saves' checks run on PostgreSQL in
``test_api_preconditions``."""

from __future__ import annotations

import gzip
from typing import Any

import pytest
from backend_cases import on_sqlite
from test_api_if_match_weak import AUTH, CHAT, EN, TOPIC, admin  # noqa: F401  (the fixture)

from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.store.subscriptions import get_chat

pytestmark = [
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
    on_sqlite,
]

Client = Any  # starlette's TestClient
JSON = {"Content-Type": "application/json"}
IN_EN = {"Accept-Language": "en"}

#: a topic's writes that take ``If-Match`` and now a body's ``version`` (feedsvc.web.api_topics)
TOPIC_WRITES = [
    ("DELETE", "/api/topics/d6"),
    ("POST", "/api/topics/d6/enable"),
    ("POST", "/api/topics/d6/disable"),
]
#: the writes that take no field: a body is nothing or ``{}``
FIELDLESS = [
    ("DELETE", "/api/subscriptions/{sub}"),
    ("POST", f"/api/chats/{CHAT}/pause"),
    ("POST", f"/api/chats/{CHAT}/resume"),
    ("POST", "/api/deliveries/987654/resend"),
    ("POST", "/api/articles/k-none/unhide"),
]
#: the writes that read a body of fields already (the answer every write now gives)
WITH_FIELDS = [
    ("PUT", "/api/topics/d6"),
    ("POST", "/api/topics"),
    ("POST", "/api/topics/preview"),
    ("POST", "/api/topics/d6/backfill"),
    ("PATCH", f"/api/chats/{CHAT}"),
    ("POST", "/api/subscriptions"),
    ("POST", "/api/articles/k-none/hide"),
]
EVERY_WRITE = TOPIC_WRITES + FIELDLESS + WITH_FIELDS


def send(client: Client, method: str, path: str, body: bytes, headers: dict[str, str]) -> Any:
    return client.request(method, path, headers=AUTH | IN_EN | headers, content=body)


def subscribed(service: Service) -> int:
    """A subscription of the chat to d6 (its id): what a wrong delete of d6 takes too."""
    sub, _ = ops.add_subscription(service.db, CHAT, "private", topic="d6", query=None)
    return sub.id


def state(service: Service) -> tuple[object, ...]:
    """What the writes under test could change: d6, its subscriptions, the chat's pause."""
    topic = ops.get_topic(service.db, "d6")
    with service.db.read() as conn:
        chat = get_chat(conn, CHAT)
    assert chat is not None
    counts = ops.subscription_counts(service.db).get("d6", {})
    return topic.version, topic.enabled, sum(counts.values()), chat.paused


def refused(r: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, (r.request.method, r.request.url, r.text)
    out: dict[str, Any] = r.json()
    assert out["code"] == code, out
    if field is not None:
        assert out["field"] == field, out
    return out


# -- a body's version is a condition -------------------------------------------------------------


def test_a_stale_body_version_deletes_and_switches_nothing(
    admin: tuple[Client, Service],  # noqa: F811
) -> None:
    client, service = admin
    subscribed(service)
    v1 = client.get("/api/topics/d6", headers=AUTH).json()["version"]  # the shown steps
    edit = {**TOPIC, "title": "Đồ Sơn (sửa)", "query": '"Đồ Sơn" OR "Cát Bà"'}
    r = client.put("/api/topics/d6", headers=AUTH | {"If-Match": f'"{v1}"'}, json=edit)
    assert r.status_code == 200, r.text
    before = state(service)
    body = f'{{"version": "{v1}"}}'.encode()
    for method, path in TOPIC_WRITES:
        r = send(client, method, path, body, JSON)
        out = refused(r, 412, "topic_changed_meanwhile")
        assert "nothing was saved" in out["error"], out
        by_header = client.request(method, path, headers=AUTH | {"If-Match": f'"{v1}"'})
        assert by_header.json()["code"] == out["code"]  # the same answer as If-Match's
    assert state(service) == before  # the topic, its subscription, not even switched


def edited(client: Client, service: Service) -> tuple[str, str]:
    """Topic ``d6``, subscribed, edited once through the API: its version before and after."""
    subscribed(service)
    old = ops.get_topic(service.db, "d6").version
    assert client.put("/api/topics/d6", headers=AUTH, json={**TOPIC, "title": "Sửa"}).is_success
    return old, ops.get_topic(service.db, "d6").version


@pytest.mark.parametrize(("method", "path"), TOPIC_WRITES)
def test_a_body_version_is_judged_as_on_put(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
) -> None:
    client, service = admin
    old, v = edited(client, service)
    before = state(service)
    cases = [
        (b'{"version": "zzz"}', {}, 400, "version_invalid", "version"),  # the shown case
        (b'{"version": ""}', {}, 400, "version_invalid", "version"),
        (b'{"version": "1-x"}', {}, 400, "version_invalid", "version"),
        (b'{"version": 5}', {}, 400, "version_invalid", "version"),  # no version, any type
        (b'{"version": ["%s"]}' % v.encode(), {}, 400, "version_invalid", "version"),
        (b'{"version": "%s"}' % v.encode(), {"If-Match": f'"{old}"'}, 400, "version_mismatch",
         "version"),
        (b'{"version": "%s"}' % old.encode(), {}, 412, "topic_changed_meanwhile", None),
        (b'{"version": "%s", "title": "x"}' % v.encode(), {}, 400, "invalid_body", "title"),
    ]  # fmt: skip
    for body, headers, status, code, field in cases:
        r = send(client, method, path, body, JSON | headers)
        refused(r, status, code, field)
        put = send(client, "PUT", "/api/topics/d6", body[:-1] + b', "title": "T", "query": "q"}',
                   JSON | headers)  # fmt: skip
        if code != "invalid_body":  # PUT's answer is the same (its own fields aside)
            refused(put, status, code, field)
    assert state(service) == before
    r = send(client, method, path, b'{"version": "%s"}' % v.encode(), JSON)  # the current one
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(("method", "path"), TOPIC_WRITES)
@pytest.mark.parametrize(
    ("body", "headers"),
    [(b"", {}), (b"{}", JSON), (b'{"version": null}', JSON), (b"\xef\xbb\xbf{}", {}),
     (b"", {"Content-Type": "text/plain"})],  # an empty body's type is not judged (backfill's)
)  # fmt: skip
def test_no_version_writes_as_before(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
    body: bytes,
    headers: dict[str, str],
) -> None:
    client, _ = admin
    r = send(client, method, path, body, headers)
    assert r.status_code == 200, r.text
    assert r.json()["slug"] == "d6"


def test_writes_of_an_unknown_topic_are_412_with_a_condition_as_put(
    admin: tuple[Client, Service],  # noqa: F811
) -> None:
    """The condition judged first, as a ``PUT``'s (tester R-D4; they were 404 whatever the
    condition); without one, 404 (``test_api_conditions_one_rule`` has the rest)."""
    client, service = admin
    v = ops.get_topic(service.db, "d6").version
    for path in ("/api/topics/nope/enable", "/api/topics/nope/disable", "/api/topics/nope"):
        method = "DELETE" if path == "/api/topics/nope" else "POST"
        for headers, body, code in (({"If-Match": 'W/"x"'}, b"", "if_match_weak"),
                                    ({}, b'{"version": "%s"}' % v.encode(), "topic_not_found"),
                                    ({"If-Match": '"abc"'}, b"", "if_match_unknown")):  # fmt: skip
            r = send(client, method, path, body, headers)
            refused(r, 412, code)
        refused(send(client, method, path, b"", {}), 404, "topic_not_found")


# -- every write judges its body alike -----------------------------------------------------------

NOT_JSON = [
    ({"Content-Type": "text/plain"}, b"hello", 415, "unsupported_media_type", "Content-Type"),
    ({"Content-Type": "application/x-www-form-urlencoded"}, b"version=1", 415,
     "unsupported_media_type", "Content-Type"),
    ({"Content-Type": "application/json; charset=latin-1"}, b"{}", 415, "unsupported_media_type",
     "Content-Type"),
    (JSON | {"Content-Encoding": "gzip"}, gzip.compress(b"{}"), 415,
     "unsupported_content_encoding", "Content-Encoding"),
    (JSON, b'{\n  "version": \n}', 400, "invalid_body", "body"),
    ({}, b"hello", 400, "invalid_body", "body"),
    (JSON, b'{"version": NaN}', 400, "json_not_a_number", "body"),
    (JSON, b"[]", 400, "invalid_body", "body"),
    (JSON, b'{"a": 1, "a": 2}', 422, "duplicate_key", "a"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path"), EVERY_WRITE)
def test_a_body_that_is_no_json_is_refused_on_every_write(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
) -> None:
    client, service = admin
    path = path.format(sub=subscribed(service))
    before = state(service)
    for headers, body, status, code, field in NOT_JSON:
        out = refused(send(client, method, path, body, headers), status, code, field)
        if code == "invalid_body" and body.startswith(b"{\n"):  # malformed: where, as PUT says
            assert "line 3 column 1" in out["error"], out
    assert state(service) == before


@pytest.mark.parametrize(("method", "path"), FIELDLESS)
def test_a_field_to_a_write_that_takes_none_is_refused(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
) -> None:
    client, service = admin
    path = path.format(sub=subscribed(service))
    before = state(service)
    for body in (b'{"version": "x"}', b'{"reason": "spam"}', b'{"paused": true}'):
        refused(send(client, method, path, body, JSON), 400, "invalid_body")
    assert state(service) == before


def test_writes_that_take_no_field_work_with_nothing_or_an_empty_object(
    admin: tuple[Client, Service],  # noqa: F811
) -> None:
    client, service = admin
    r = send(client, "POST", f"/api/chats/{CHAT}/pause", b"", {})
    assert r.status_code == 200 and r.json()["paused"] is True, r.text
    r = send(client, "POST", f"/api/chats/{CHAT}/resume", b"{}", JSON)
    assert r.status_code == 200 and r.json()["paused"] is False, r.text
    sub = subscribed(service)
    r = send(client, "DELETE", f"/api/subscriptions/{sub}", b" {} ", JSON)
    assert r.status_code == 200 and r.json()["id"] == sub, r.text
    r = send(client, "POST", "/api/deliveries/987654/resend", b"", {})
    assert r.status_code == 404, r.text  # the handler's own answer: the body was nothing


def test_the_openapi_document_says_every_write_reads_its_body(
    admin: tuple[Client, Service],  # noqa: F811
) -> None:
    client, _ = admin
    paths = client.get("/api/openapi.json").json()["paths"]
    for method, path in EVERY_WRITE:
        documented = path.replace("d6", "{slug}").replace(str(CHAT), "{chat_id}")
        documented = documented.replace("987654", "{id}").replace("{sub}", "{id}")
        documented = documented.replace("k-none", "{source_key}")
        responses = paths[documented][method.lower()]["responses"]
        assert {"413", "415", "422"} <= set(responses), (method, documented)
    for method, path in TOPIC_WRITES:
        documented = path.replace("d6", "{slug}")
        op = paths[documented][method.lower()]
        assert op["requestBody"]["required"] is False, op
        assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
            "/ConditionIn"
        )
        assert "version_invalid" in op["description"], op["description"]
    assert paths["/api/topics/{slug}"]["put"]["requestBody"]["required"] is True
    assert "requestBody" not in paths["/api/chats/{chat_id}/pause"]["post"]
