"""Every conditional request header on every API write, one gate (tester D1, D7, D8 on a fresh
install; :func:`feedsvc.web.preconditions.gate`):

- D1: a topic's ``DELETE``, ``enable`` and ``disable`` ignored ``If-None-Match``: ``*``, the
  current tag or ``garbage`` answered 200 and the topic was deleted (switched). ``*`` is now
  evaluated on all four (RFC 9110 §13.1.2: the topic exists, 412 ``topic_exists``), anything
  else is 400 ``if_none_match_invalid`` as on ``PUT``. The class: ``If-Unmodified-Since`` was
  ignored too (a past date deleted a topic modified since: 412 now); any condition on a route
  without a version (a chat's ``pause``, a subscription's ``DELETE``, ``POST
  /api/topics``…) was ignored: 400 ``condition_unsupported``, nothing done. A chat's
  ``PATCH``: ``If-None-Match: *`` 412 ``chat_exists``, an ``If-Unmodified-Since`` date (no
  date to compare) 400. What RFC 9110 says to ignore — ``If-Modified-Since`` on a write, an
  ``If-Unmodified-Since`` that is no HTTP-date — is ignored: :mod:`test_api_conditions_ignored`.
- D7: a body ``version`` of another JSON type (``5``, ``true``, ``[]``, ``{}``) with
  ``If-Match: bare`` was 400 ``invalid_body``: the header's syntax comes first
  (``if_match_invalid``), then such a version is ``version_invalid``, as ``"abc"`` is.
- D8: the OpenAPI document declared no header parameters, and one 412 text listed codes a
  route never gives: walked here, per operation.

Through the whole app on SQLite (the saves' own checks run on PostgreSQL elsewhere)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from backend_cases import on_sqlite
from test_api_if_match_weak import AUTH, CHAT, TOPIC, admin  # noqa: F401  (the fixture)
from test_api_write_bodies import FIELDLESS, JSON, WITH_FIELDS, refused, send, state, subscribed

from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.store import digests as digest_store
from feedsvc.store import topics as topic_store
from feedsvc.store.topics import TopicSpec
from feedsvc.web import preconditions
from feedsvc.web.api import endpoints
from feedsvc.web.api_base import WRITES
from feedsvc.web.http_cache import http_date
from feedsvc.web.openapi import openapi_document

pytestmark = [
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
    on_sqlite,
]

Client = Any
#: a topic's writes: every one takes the same conditions
TOPIC_ROUTES = [("DELETE", "/api/topics/d6"), ("POST", "/api/topics/d6/enable"),
                ("POST", "/api/topics/d6/disable"), ("PUT", "/api/topics/d6")]  # fmt: skip
PUT_FIELDS = b'{"title": "Changed", "query": "q"}'
PAST = "Sun, 06 Nov 1994 08:49:37 GMT"
FUTURE = "Fri, 01 Jan 2100 00:00:00 GMT"
#: If-None-Match forms other than ``*``: each a 400 on every write ({v}: the current version)
NOT_STAR = ['"{v}"', '"1-0000000000000000-0000000000000000-0000000000000000-1"', 'W/"{v}"',
            '"abc", "{v}"', '*, "{v}"', "garbage", "", "W/*"]  # fmt: skip
#: every condition a write with no version could be sent (what RFC 9110 has a write ignore
#: aside: test_api_conditions_ignored)
ANY_CONDITION = [("If-Match", "*"), ("If-Match", '"abc"'), ("If-Match", "garbage"),
                 ("If-None-Match", "*"), ("If-None-Match", '"abc"'), ("If-None-Match", ""),
                 ("If-Unmodified-Since", PAST), ("If-Unmodified-Since", FUTURE)]  # fmt: skip


def body_of(method: str) -> bytes:
    return PUT_FIELDS if method == "PUT" else b""


def topics_count(service: Service) -> int:
    with service.db.read() as conn:
        return len(topic_store.list_topics(conn))


def current(service: Service) -> str:
    return ops.get_topic(service.db, "d6").version


# -- D1: If-None-Match ---------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), TOPIC_ROUTES)
def test_if_none_match_star_on_an_existing_topic_is_412(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
) -> None:
    client, service = admin
    subscribed(service)
    before = state(service)
    for star in ("*", " * ", "*, *"):
        r = send(client, method, path, body_of(method), JSON | {"If-None-Match": star})
        if star == "*, *":  # not `*` alone: no such list on a write
            refused(r, 400, "if_none_match_invalid", "If-None-Match")
            continue
        out = refused(r, 412, "topic_exists")
        assert "nothing was saved" in out["error"], out
    assert state(service) == before  # not deleted, not switched, its subscription kept


@pytest.mark.parametrize(("method", "path"), TOPIC_ROUTES)
def test_if_none_match_other_than_star_is_400_on_every_topic_write(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
) -> None:
    client, service = admin
    subscribed(service)
    before = state(service)
    v = current(service)
    for form in NOT_STAR:
        headers = JSON | {"If-None-Match": form.format(v=v)}
        refused(send(client, method, path, body_of(method), headers), 400,
                "if_none_match_invalid", "If-None-Match")  # fmt: skip
    two = [*AUTH.items(), ("If-None-Match", f'"{v}"'), ("If-None-Match", "*")]  # two lines
    r = client.request(method, path, headers=two, content=body_of(method))
    refused(r, 400, "if_none_match_invalid")
    assert state(service) == before


@pytest.mark.parametrize(("method", "path"), TOPIC_ROUTES[:3])
def test_if_none_match_star_on_no_topic_is_the_answer_without_it(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
) -> None:
    """§13.2.1: a write that would be 404 without the condition is 404 with it."""
    client, _ = admin
    r = send(client, method, path.replace("d6", "nope"), b"", {"If-None-Match": "*"})
    refused(r, 404, "topic_not_found")


# -- If-Unmodified-Since ---------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), TOPIC_ROUTES)
def test_if_unmodified_since_a_past_date_is_412(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
) -> None:
    client, service = admin
    subscribed(service)
    before = state(service)
    modified = ops.get_topic(service.db, "d6").updated_at
    for date in (PAST, "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
                 http_date(modified.replace(year=modified.year - 1))):  # fmt: skip
        r = send(client, method, path, body_of(method), JSON | {"If-Unmodified-Since": date})
        out = refused(r, 412, "if_unmodified_since_not_met", "If-Unmodified-Since")
        assert "nothing was saved" in out["error"], out
    assert state(service) == before


@pytest.mark.parametrize(("method", "path"), TOPIC_ROUTES)
@pytest.mark.parametrize("when", ["future", "modified"])
def test_if_unmodified_since_met_writes(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
    when: str,
) -> None:
    client, service = admin
    modified = ops.get_topic(service.db, "d6").updated_at
    date = FUTURE if when == "future" else http_date(modified)  # its own second: not after it
    r = send(client, method, path, body_of(method), JSON | {"If-Unmodified-Since": date})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(("method", "path"), TOPIC_ROUTES)
def test_if_unmodified_since_beside_if_match_is_ignored(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
) -> None:
    """RFC 9110 §13.1.4: If-Match decides alone (a past date with the current version)."""
    client, service = admin
    headers = JSON | {"If-Unmodified-Since": PAST, "If-Match": f'"{current(service)}"'}
    r = send(client, method, path, body_of(method), headers)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("language", ["en", "vi"])
@pytest.mark.parametrize(("method", "path"), TOPIC_ROUTES)
def test_if_unmodified_since_on_no_topic_is_ignored(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
    language: str,
) -> None:
    """RFC 9110 §13.1.4: a topic that does not exist has no modification date, so the field
    is ignored (it was 412 ``topic_not_found`` blaming If-Match): a ``PUT`` creates, the
    others answer the 404 they answer without it — for a slug never used and one deleted."""
    client, service = admin
    ops.save_topic(service.db, TopicSpec("gone", "Gone", "q"), "cli")
    ops.delete_topic(service.db, "gone")
    for slug in ("nope", "gone"):
        headers = JSON | {"If-Unmodified-Since": PAST, "Accept-Language": language}
        r = send(client, method, path.replace("d6", slug), body_of(method), headers)
        if method == "PUT":
            assert r.status_code == 201, r.text
            assert ops.get_topic(service.db, slug).title == "Changed"
        else:
            out = refused(r, 404, "topic_not_found")
            assert "If-Match" not in out["message"], out


def test_if_none_match_star_with_a_date_creates(
    admin: tuple[Client, Service],  # noqa: F811
) -> None:
    """``If-None-Match: *`` met (no topic) and a date on no topic (ignored): created."""
    client, service = admin
    headers = JSON | {"If-None-Match": "*", "If-Unmodified-Since": PAST}
    r = send(client, "PUT", "/api/topics/nope", PUT_FIELDS, headers)
    assert r.status_code == 201, r.text
    assert ops.get_topic(service.db, "nope").title == "Changed"


@pytest.mark.parametrize(("method", "path"), TOPIC_ROUTES)
def test_if_match_on_no_topic_stays_412(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
) -> None:
    """A version condition on no topic is false (§13.2.1), with a date beside it or not."""
    client, service = admin
    path = path.replace("d6", "nope")
    for extra in ({}, {"If-Unmodified-Since": PAST}):
        headers = JSON | {"If-Match": "*"} | extra
        out = refused(send(client, method, path, body_of(method), headers), 412, "topic_not_found")
        assert "If-Match matches only a topic that exists" in out["message"], out
    with pytest.raises(ops.OperationError):
        ops.get_topic(service.db, "nope")


# -- conditions a route cannot honour --------------------------------------------------------------


UNVERSIONED = [*FIELDLESS, *[w for w in WITH_FIELDS if w[0] not in ("PUT", "PATCH")]]


@pytest.mark.parametrize(("method", "path"), UNVERSIONED)
def test_a_route_without_a_version_refuses_every_condition(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
) -> None:
    client, service = admin
    path = path.format(sub=subscribed(service))
    before = state(service), topics_count(service)
    for name, value in ANY_CONDITION:
        r = send(client, method, path, b"", {name: value})
        refused(r, 400, "condition_unsupported", name)
    assert (state(service), topics_count(service)) == before


# -- a chat's PATCH ------------------------------------------------------------------------------


def client_silent(service: Service) -> object:
    """The chat's ``silent``, as stored: what a refused ``PATCH`` must leave."""
    with service.db.read() as conn:
        settings = digest_store.get_settings(conn, CHAT)
    assert settings is not None
    return settings.silent


def test_a_chat_patch_judges_if_none_match_and_refuses_dates(
    admin: tuple[Client, Service],  # noqa: F811
) -> None:
    client, service = admin
    path = f"/api/chats/{CHAT}"
    body = b'{"silent": true}'
    v = client.get(path, headers=AUTH).json()["version"]
    refused(send(client, "PATCH", path, body, JSON | {"If-None-Match": "*"}), 412, "chat_exists")
    for form in NOT_STAR:
        r = send(client, "PATCH", path, body, JSON | {"If-None-Match": form.format(v=v)})
        refused(r, 400, "if_none_match_invalid", "If-None-Match")
    for date in (PAST, FUTURE):  # a date it cannot compare; no date is ignored (RFC 9110)
        r = send(client, "PATCH", path, body, JSON | {"If-Unmodified-Since": date})
        refused(r, 400, "condition_unsupported", "If-Unmodified-Since")
    assert client_silent(service) is False  # nothing written
    r = send(client, "PATCH", "/api/chats/999", body, JSON | {"If-None-Match": "*"})
    refused(r, 404, "unknown_id")  # the answer without it (§13.2.1)


# -- D7: a body version of any JSON type ---------------------------------------------------------

OTHER_TYPES = [b"5", b"0", b"5.5", b"true", b"false", b"[]", b"{}", b'["v"]', b'{"v": "x"}']


@pytest.mark.parametrize(("method", "path"), [*TOPIC_ROUTES, ("PATCH", f"/api/chats/{CHAT}")])
@pytest.mark.parametrize("version", OTHER_TYPES)
def test_a_body_version_of_another_type_is_judged_in_the_documented_order(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
    version: bytes,
) -> None:
    client, service = admin
    rest = {"PUT": b', "title": "T", "query": "q"}', "PATCH": b', "silent": true}'}
    body = b'{"version": ' + version + rest.get(method, b"}")
    before = state(service), client_silent(service)
    for bad in ("bare", "W/v", '"unclosed', ""):  # the header's syntax first
        r = send(client, method, path, body, JSON | {"If-Match": bad})
        refused(r, 400, "if_match_invalid", "If-Match")
    refused(send(client, method, path, body, JSON), 400, "version_invalid", "version")
    r = send(client, method, path, body, JSON | {"If-Match": '"abc"'})
    refused(r, 400, "version_invalid", "version")  # before any agreement or 412
    assert (state(service), client_silent(service)) == before


@pytest.mark.parametrize(("method", "path"), TOPIC_ROUTES)
def test_a_bad_header_comes_before_a_bad_body(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
) -> None:
    client, _ = admin
    for body in (b'{"version": ', b'{"nope": 1}', b'{"version": NaN}'):
        refused(send(client, method, path, body, JSON | {"If-Match": "bare"}), 400,
                "if_match_invalid")  # fmt: skip
        refused(send(client, method, path, body, JSON | {"If-None-Match": "x"}), 400,
                "if_none_match_invalid")  # fmt: skip


# -- D8: the OpenAPI document, walked ------------------------------------------------------------

CODE = re.compile(r"`([a-z_]+)`")


def _codes_in(text: str) -> list[str]:
    return [c for c in CODE.findall(text) if c in preconditions.CODE_TEXT]


def test_every_write_documents_its_own_conditions(db_url: str) -> None:
    del db_url  # the module's backend mark; the document needs none
    doc = openapi_document(endpoints(), "/api/openapi.json", "/api/")
    declared = {(e.method.lower(), e.path): e for e in endpoints()}
    writes = 0
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            endpoint = declared.get((method, path))
            if endpoint is None or endpoint.method not in WRITES:
                continue
            writes += 1
            headers = [p["name"] for p in op["parameters"] if p["in"] == "header"]
            syntax, unmet = preconditions.codes(endpoint.conditions)
            text_400 = op["responses"]["400"]["description"]
            assert _codes_in(text_400) == list(syntax), (method, path)
            if endpoint.conditions is None:
                assert headers == [], (method, path)
                assert "412" not in op["responses"], (method, path)
                assert syntax == ("condition_unsupported",)
                continue
            want = ["If-Match", "If-None-Match"]
            want += ["If-Unmodified-Since"] if endpoint.conditions.unmodified_since else []
            assert headers == want, (method, path)
            assert all(p["schema"] == {"type": "string"} for p in op["parameters"]
                       if p["in"] == "header")  # fmt: skip
            listed = _codes_in(op["responses"]["412"]["description"])
            assert listed == list(unmet), (method, path)
            what = endpoint.conditions.what
            other = "chat" if what == "topic" else "topic"
            assert not [c for c in listed if c.startswith(other)], (method, path, listed)
    assert writes >= 15


def test_the_topic_writes_and_the_chat_patch_take_conditions(db_url: str) -> None:
    del db_url
    taking = {(e.method, e.path): e.conditions for e in endpoints() if e.conditions}
    assert {k: v.what for k, v in taking.items()} == {  # type: ignore[union-attr]
        ("PUT", "/api/topics/{slug}"): "topic",
        ("DELETE", "/api/topics/{slug}"): "topic",
        ("POST", "/api/topics/{slug}/enable"): "topic",
        ("POST", "/api/topics/{slug}/disable"): "topic",
        ("PATCH", "/api/chats/{chat_id}"): "chat",
    }
