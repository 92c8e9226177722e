"""Every route that changes a topic honours ``If-Match`` (RFC 9110 §13.1.1), read by the one
reader, :func:`feedsvc.web.preconditions.if_match`: a tester's ``DELETE /api/topics/{slug}``
with ``If-Match: "<stale version>"`` answered 200, deleting the topic a colleague had edited
meanwhile and the subscription added with the edit (``"subscriptions_removed": 1``);
``If-Match: "garbage"`` answered 200 too, where a ``PUT`` refuses it; the enable and disable
routes ignored it alike. Now a stale version is 412 ``topic_changed_meanwhile`` with nothing
changed, a tag that is no version 412 ``if_match_unknown`` (no list of tags: 400), weak tags
only 412 ``if_match_weak``, the current version or ``*`` does the write. Through the whole app over
HTTP on a real SQLite state DB, as ``test_api_preconditions``."""

from __future__ import annotations

import httpx
import pytest
from test_web_words import AUTH, EN, VI, client, service  # noqa: F401  (fixtures)

from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.operations import get_topic, save_topic
from feedsvc.store.topics import TopicSpec, find_topic


def _topic(svc: Service, slug: str = "del-race") -> str:
    """A topic with one subscription; its version as a client's GET read it."""
    save_topic(svc.db, TopicSpec(slug, "Đồ Sơn", '"Đồ Sơn"'), "cli")
    ops.add_subscription(svc.db, 7001, "private", topic=slug, query=None)
    return get_topic(svc.db, slug).version


def _edited(svc: Service, slug: str = "del-race") -> None:
    """A colleague's edit, and a subscription added with it."""
    save_topic(svc.db, TopicSpec(slug, "Đồ Sơn (sửa)", '"Đồ Sơn" OR "Cát Bà"'), "cli")
    ops.add_subscription(svc.db, 7002, "private", topic=slug, query=None)


def _still_there(svc: Service, slug: str, subscriptions: int) -> None:
    with svc.db.read() as conn:
        assert find_topic(conn, slug) is not None, slug
    counts = ops.subscription_counts(svc.db).get(slug, {})
    assert sum(counts.values()) == subscriptions, counts


WRITES = [
    ("DELETE", "/api/topics/{slug}"),
    ("POST", "/api/topics/{slug}/enable"),
    ("POST", "/api/topics/{slug}/disable"),
]


async def _send(
    http: httpx.AsyncClient, method: str, path: str, slug: str, headers: dict[str, str]
) -> httpx.Response:
    return await http.request(method, path.format(slug=slug), headers=AUTH | headers)


@pytest.mark.parametrize(("method", "path"), WRITES)
async def test_a_stale_if_match_changes_nothing(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
    service: Service,  # noqa: F811
    method: str,
    path: str,
) -> None:
    stale = _topic(service)
    _edited(service)
    now = get_topic(service.db, "del-race")
    for lang in (EN, VI):
        r = await _send(client, method, path, "del-race", {"If-Match": f'"{stale}"'} | lang)
        assert r.status_code == 412, r.text
        assert r.json()["code"] == "topic_changed_meanwhile", r.json()
    _still_there(service, "del-race", 2)
    assert get_topic(service.db, "del-race") == now  # not even switched


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize(
    ("header", "status", "code"),
    [
        ('"garbage"', 412, "if_match_unknown"),  # well-formed, no version: matches nothing
        ("garbage", 400, "if_match_invalid"),
        ("", 400, "if_match_invalid"),
        ('"1-x", "2-y"', 412, "if_match_unknown"),
        ('W/"{version}"', 412, "if_match_weak"),
    ],
)
async def test_an_unreadable_or_weak_if_match_is_refused_as_on_put(
    client: httpx.AsyncClient,  # noqa: F811
    service: Service,  # noqa: F811
    method: str,
    path: str,
    header: str,
    status: int,
    code: str,
) -> None:
    version = _topic(service)
    sent = header.replace("{version}", version)
    r = await _send(client, method, path, "del-race", {"If-Match": sent} | EN)
    assert r.status_code == status, r.text
    assert (r.json()["code"], r.json()["field"]) == (code, "If-Match")
    put = await client.put(
        "/api/topics/del-race", headers=AUTH | EN | {"If-Match": sent},
        json={"title": "x", "query": '"x"'},
    )  # fmt: skip
    assert (put.status_code, put.json()["code"]) == (status, code)  # the same answer as PUT's
    _still_there(service, "del-race", 1)
    assert get_topic(service.db, "del-race").version == version


async def test_the_current_version_or_star_deletes(
    client: httpx.AsyncClient,  # noqa: F811
    service: Service,  # noqa: F811
) -> None:
    version = _topic(service)
    r = await client.delete("/api/topics/del-race", headers=AUTH | {"If-Match": f'"{version}"'})
    assert r.status_code == 200, r.text
    assert r.json()["subscriptions_removed"] == 1
    _topic(service, "del-star")
    r = await client.delete("/api/topics/del-star", headers=AUTH | {"If-Match": "*"})
    assert r.status_code == 200, r.text
    gone = await client.delete("/api/topics/nope", headers=AUTH | {"If-Match": f'"{version}"'})
    assert gone.status_code == 412  # as PUT's (R-D4): a condition on no topic is false
    assert gone.json()["code"] == "topic_not_found", gone.text
    assert (await client.delete("/api/topics/nope", headers=AUTH)).status_code == 404


async def test_switches_with_the_current_version_and_a_switch_already_made(
    client: httpx.AsyncClient,  # noqa: F811
    service: Service,  # noqa: F811
) -> None:
    version = _topic(service)
    r = await client.post(
        "/api/topics/del-race/disable", headers=AUTH | {"If-Match": f'"{version}"'}
    )
    assert r.status_code == 200 and r.json()["enabled"] is False, r.text
    # a colleague's disable meanwhile is no conflict for a disable read before it
    again = await client.post(
        "/api/topics/del-race/disable", headers=AUTH | {"If-Match": f'"{version}"'}
    )
    assert again.status_code == 200 and again.json()["enabled"] is False, again.text
    # an enable from that stale read is: the switch it saw was on
    on = await client.post(
        "/api/topics/del-race/enable", headers=AUTH | {"If-Match": f'"{version}"'}
    )
    assert on.status_code == 412 and on.json()["code"] == "topic_changed_meanwhile", on.text
    current = r.json()["version"]
    on = await client.post(
        "/api/topics/del-race/enable", headers=AUTH | {"If-Match": f'"{current}"'}
    )
    assert on.status_code == 200 and on.json()["enabled"] is True, on.text
