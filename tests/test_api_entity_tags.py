"""``If-Match`` read as RFC 9110's list of entity tags (a re-tester's edge cases), by the one
reader, :func:`feedsvc.web.preconditions.if_match`:

- ``W/"a,b"`` — one valid weak tag holding a comma — was 400 ``if_match_invalid`` (the list was
  split at every comma): it is 412 ``if_match_weak``, as every weak-only list;
- ``W/*``, ``W/"v`` (unclosed), ``W/v`` were 412 "weak": no entity tags, 400;
- a bare unquoted version was a strong match (200): the documents say ``If-Match:
  "<version>"``, quoted, and RFC 9110 §8.8.3's ``opaque-tag`` is quoted: 400;
- two strong tags, one current (one line or two), were 400: the condition is "any of them"
  (§13.1.1), 200 when one is current, 412 when none is, nothing written;
- 3,000 weak tags and one strong were read whole (200): at most 16 tags, 400
  ``if_match_too_long``;
- a well-formed strong tag that is no version (``"abc"``, ``"stale-1"``, ``"a", W/"<v>"``)
  was 400 ``if_match_invalid``, as if the header were malformed: a list that matches nothing
  is 412 (RFC 9110 §13.1.1), ``if_match_unknown``; beside the current version it writes.

On a topic's ``PUT``, ``DELETE``, ``disable`` and a chat's ``PATCH`` alike, through the whole
app on SQLite (the saves' checks run on PostgreSQL in ``test_api_preconditions``)."""

from __future__ import annotations

from typing import Any

import pytest
from backend_cases import on_sqlite
from test_api_if_match_weak import (  # noqa: F401  (admin: the fixture)
    AUTH,
    CHAT,
    TOPIC,
    VI,
    admin,
    chat_version,
    silent,
    weak_only,
)

from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.store.topics import TopicSpec

pytestmark = [
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
    on_sqlite,
]

#: the most tags one If-Match lists (feedsvc.web.preconditions.MAX_TAGS)
MAX_TAGS = 16
Client = Any  # starlette's TestClient (imported with its warning silenced by the fixture's module)


def lines_of(template: list[tuple[str, str]], **values: str) -> list[tuple[str, str]]:
    return [(name, value.format(**values)) for name, value in template]


def put(client: Client, lines: list[tuple[str, str]], title: str = "Sửa", slug: str = "d6") -> Any:
    return client.put(f"/api/topics/{slug}", headers=[*AUTH.items(), *lines],
                      json={**TOPIC, "title": title})  # fmt: skip


def patch(client: Client, lines: list[tuple[str, str]], body: dict[str, Any]) -> Any:
    return client.patch(f"/api/chats/{CHAT}", headers=[*AUTH.items(), *lines], json=body)


def invalid(response: Any) -> None:
    assert response.status_code == 400, response.text
    out = response.json()
    assert (out["code"], out["field"]) == ("if_match_invalid", "If-Match"), out
    assert out["message"] == VI("api.if_match_invalid"), out


# -- a weak tag holding a comma is one weak tag -------------------------------------------------

COMMA_WEAK = [
    [("If-Match", 'W/"a,b"')],  # the shown case
    [("If-Match", 'W/"{v},x"')],
    [("If-Match", 'W/"a,b", W/"{v}"')],
    [("If-Match", 'W/"a,b,"'), ("If-Match", 'W/",,"')],
    [("If-Match", ' W/"a,b" ,  ,W/","')],
]


@pytest.mark.parametrize("template", COMMA_WEAK)
def test_weak_tags_holding_commas_are_weak_tags_412(
    admin: tuple[Client, Service],  # noqa: F811
    template: list[tuple[str, str]],
) -> None:
    client, service = admin
    topic = ops.get_topic(service.db, "d6").version
    weak_only(put(client, lines_of(template, v=topic)))
    assert ops.get_topic(service.db, "d6").version == topic
    chat = chat_version(client)
    weak_only(patch(client, lines_of(template, v=chat), {"silent": True}))
    assert silent(client) is False


# -- what is no entity tag is 400, weak-looking or not ------------------------------------------

MALFORMED = [
    "W/*",  # the shown cases
    'W/"{v}',
    "W/{v}",
    "{v}",  # a bare version: RFC 9110's opaque-tag is quoted
    'W/"{v}", {v}',
    "W/",
    'W/ "{v}"',
    '"{v}',
    '"{v}"x',
    '"{v}" "{v}"',
    'W/"{v}"W/"x"',
    '"{v}" ; W/"x"',
    '"a\tb"',  # no control characters in an opaque tag
]


@pytest.mark.parametrize("header", MALFORMED)
def test_what_is_no_entity_tag_list_is_400_on_every_write(
    admin: tuple[Client, Service],  # noqa: F811
    header: str,
) -> None:
    client, service = admin
    topic = ops.get_topic(service.db, "d6").version
    sent = [("If-Match", header.format(v=topic))]
    invalid(put(client, sent))
    for method, path in (("DELETE", "/api/topics/d6"), ("POST", "/api/topics/d6/disable")):
        r = client.request(method, path, headers=[*AUTH.items(), *sent])
        assert r.status_code == 400 and r.json()["code"] == "if_match_invalid", (method, r.text)
    stored = ops.get_topic(service.db, "d6")
    assert (stored.version, stored.enabled) == (topic, True)
    chat = chat_version(client)
    invalid(patch(client, [("If-Match", header.format(v=chat))], {"silent": True}))
    assert silent(client) is False


# -- several strong tags: met when any one is ---------------------------------------------------

ANY_CURRENT = [
    [("If-Match", '"{old}", "{v}"')],  # the shown case
    [("If-Match", '"{v}", "{old}"')],
    [("If-Match", '"{old}"'), ("If-Match", '"{v}"')],  # on two header lines
    [("If-Match", 'W/"{v}", "{old}", W/"a,b", "{v}"')],
    [("If-Match", '"{v}", "{v}"')],
]


def _stale_topic(service: Service) -> tuple[str, str]:
    """``(old, current)``: a version read before a colleague's title edit, and the current one."""
    old = ops.get_topic(service.db, "d6").version
    ops.save_topic(service.db, TopicSpec("d6", "Của đồng nghiệp", '"Đồ Sơn"'), "cli")
    return old, ops.get_topic(service.db, "d6").version


@pytest.mark.parametrize("template", ANY_CURRENT)
def test_a_list_with_the_current_version_writes(
    admin: tuple[Client, Service],  # noqa: F811
    template: list[tuple[str, str]],
) -> None:
    client, service = admin
    old, current = _stale_topic(service)
    r = put(client, lines_of(template, old=old, v=current))
    assert r.status_code == 200, r.text
    assert ops.get_topic(service.db, "d6").title == "Sửa"
    old, current = _stale_topic(service)
    r = client.post("/api/topics/d6/disable",
                    headers=[*AUTH.items(), *lines_of(template, old=old, v=current)])  # fmt: skip
    assert r.status_code == 200, r.text
    assert ops.get_topic(service.db, "d6").enabled is False
    old, current = _stale_topic(service)
    r = client.delete("/api/topics/d6",
                      headers=[*AUTH.items(), *lines_of(template, old=old, v=current)])  # fmt: skip
    assert r.status_code == 200, r.text
    with pytest.raises(ops.OperationError):
        ops.get_topic(service.db, "d6")


def test_a_chat_patch_with_the_current_version_in_a_list_writes(
    admin: tuple[Client, Service],  # noqa: F811
) -> None:
    client, _ = admin
    old = chat_version(client)
    assert patch(client, [], {"digest": "07:00"}).status_code == 200
    current = chat_version(client)
    for template in ANY_CURRENT:
        r = patch(client, lines_of(template, old=old, v=current), {"digest": "hourly"})
        assert r.status_code == 200, (template, r.text)
        assert r.json()["digest"] == "hourly"
        assert patch(client, [], {"digest": "07:00"}).status_code == 200
        current = chat_version(client)


@pytest.mark.parametrize(
    "template",
    [[("If-Match", '"{old}", "{older}"')], [("If-Match", '"{older}"'), ("If-Match", '"{old}"')],
     [("If-Match", 'W/"{v}", "{old}"')]],
)  # fmt: skip
def test_a_list_of_stale_versions_only_is_412_and_writes_nothing(
    admin: tuple[Client, Service],  # noqa: F811
    template: list[tuple[str, str]],
) -> None:
    client, service = admin
    older, _ = _stale_topic(service)
    old, current = _stale_topic(service)
    ops.save_topic(service.db, TopicSpec("d6", "Lần ba", '"Đồ Sơn"'), "cli")
    current = ops.get_topic(service.db, "d6").version
    sent = lines_of(template, old=old, older=older, v=current)
    r = put(client, sent)
    assert r.status_code == 412 and r.json()["code"] == "topic_changed_meanwhile", r.text
    assert "nothing was saved" in r.json()["error"]
    r = client.delete("/api/topics/d6", headers=[*AUTH.items(), *sent])
    assert r.status_code == 412 and r.json()["code"] == "topic_changed_meanwhile", r.text
    assert ops.get_topic(service.db, "d6").version == current
    # a chat: the digest changed since both versions were read, the PATCH sets another
    chat_older = chat_version(client)
    assert patch(client, [], {"digest": "07:00"}).status_code == 200
    chat_old = chat_version(client)
    assert patch(client, [], {"digest": "08:00"}).status_code == 200
    r = patch(client, lines_of(template, old=chat_old, older=chat_older, v=chat_version(client)),
              {"digest": "hourly"})  # fmt: skip
    assert r.status_code == 412 and r.json()["code"] == "chat_changed_meanwhile", r.text
    assert client.get(f"/api/chats/{CHAT}", headers=AUTH).json()["digest"] == "08:00"


# -- the list is bounded -------------------------------------------------------------------------


@pytest.mark.parametrize("weak", [3000, MAX_TAGS, 40])
def test_a_list_over_the_limit_is_400_whatever_it_holds(
    admin: tuple[Client, Service],  # noqa: F811
    weak: int,
) -> None:
    client, service = admin
    topic = ops.get_topic(service.db, "d6").version
    header = ", ".join([*(f'W/"w{i}"' for i in range(weak)), f'"{topic}"'])  # the shown case
    r = put(client, [("If-Match", header)], title="Quá nhiều")
    assert r.status_code == 400, r.text
    out = r.json()
    assert (out["code"], out["field"]) == ("if_match_too_long", "If-Match"), out
    assert out["message"] == VI("api.if_match_too_long", limit=MAX_TAGS)
    assert ops.get_topic(service.db, "d6").version == topic
    r = patch(client, [("If-Match", header)], {"silent": True})
    assert r.status_code == 400 and r.json()["code"] == "if_match_too_long", r.text


def test_a_list_at_the_limit_is_read(admin: tuple[Client, Service]) -> None:  # noqa: F811
    client, service = admin
    topic = ops.get_topic(service.db, "d6").version
    header = ", ".join([*(f'W/"w{i}"' for i in range(MAX_TAGS - 1)), f'"{topic}"'])
    assert put(client, [("If-Match", header)]).status_code == 200


# -- a well-formed tag that is no version matches nothing: 412, not 400 --------------------------

UNKNOWN = [
    '"abc"',  # the shown cases
    '"stale-1"',
    '"a", W/"{v}"',
    '"1-x", "2-y"',
    '"{v}x"',
    '"{other}"',  # a chat's version sent for a topic, a topic's for a chat
    '""',
]


def unknown(response: Any) -> None:
    assert response.status_code == 412, response.text
    out = response.json()
    assert (out["code"], out["field"]) == ("if_match_unknown", "If-Match"), out
    assert out["message"] == VI("api.if_match_unknown"), out
    assert "nothing was saved" in out["error"], out


@pytest.mark.parametrize("header", UNKNOWN)
def test_tags_that_are_no_version_are_412_on_every_write(
    admin: tuple[Client, Service],  # noqa: F811
    header: str,
) -> None:
    client, service = admin
    topic = ops.get_topic(service.db, "d6").version
    chat = chat_version(client)
    sent = [("If-Match", header.format(v=topic, other=chat))]
    unknown(put(client, sent))
    for method, path in (("DELETE", "/api/topics/d6"), ("POST", "/api/topics/d6/disable"),
                         ("POST", "/api/topics/d6/enable")):  # fmt: skip
        unknown(client.request(method, path, headers=[*AUTH.items(), *sent]))
    stored = ops.get_topic(service.db, "d6")
    assert (stored.version, stored.enabled) == (topic, True)
    unknown(patch(client, [("If-Match", header.format(v=chat, other=topic))], {"silent": True}))
    assert silent(client) is False


@pytest.mark.parametrize("template", ['"abc", "{v}"', '"{v}", "stale-1"', 'W/"a", "b", "{v}"'])
def test_a_tag_that_is_no_version_beside_the_current_one_writes(
    admin: tuple[Client, Service],  # noqa: F811
    template: str,
) -> None:
    client, service = admin
    r = put(client, [("If-Match", template.format(v=ops.get_topic(service.db, "d6").version))])
    assert r.status_code == 200 and r.json()["title"] == "Sửa", r.text
    sent = [("If-Match", template.format(v=r.json()["version"]))]
    r = client.post("/api/topics/d6/disable", headers=[*AUTH.items(), *sent])
    assert r.status_code == 200 and r.json()["enabled"] is False, r.text
    r = patch(client, [("If-Match", template.format(v=chat_version(client)))], {"silent": True})
    assert r.status_code == 200 and silent(client) is True, r.text


def test_an_unknown_tag_for_what_does_not_exist(
    admin: tuple[Client, Service],  # noqa: F811
) -> None:
    """A topic's writes judge the condition first, as its ``PUT`` (tester R-D4: one rule on
    the four routes; RFC 9110 §13.2.1 lets a condition on no resource be false): 412; a
    chat's ``PATCH`` answers what it answers without the header (§13.2.1), its 404."""
    client, _ = admin
    lines = [("If-Match", '"abc"')]
    r = client.post("/api/topics/nope/disable", headers=[*AUTH.items(), *lines])
    assert r.status_code == 412 and r.json()["code"] == "if_match_unknown", r.text
    r = client.delete("/api/topics/nope", headers=[*AUTH.items(), *lines])
    assert r.status_code == 412, r.text
    r = client.patch("/api/chats/999", headers=[*AUTH.items(), *lines], json={"silent": True})
    assert r.status_code == 404 and r.json()["code"] == "unknown_id", r.text
