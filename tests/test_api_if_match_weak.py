"""A weak ``If-Match`` (the lead's, last session): ``PATCH /api/chats/N`` with ``If-Match:
W/"<version>"`` answered 400 ``if_match_invalid`` — "must be one chat version as GET gives it"
— though it named exactly that version. RFC 9110 §13.1.1: If-Match compares entity tags
strongly, so a weak tag is valid and never matches: the condition is false, 412 (here
``if_match_weak``), nothing written. The same for a topic's ``PUT`` (one reading:
``web.preconditions.if_match``). A strong tag beside weak ones decides alone; ``*`` matches
any current representation; a resource whose answer without the header is no success (an
unknown chat: 404) keeps that answer (§13.2.1).

Through the whole app (Starlette's client) on SQLite: the header's reading does not touch the
state DB (the saves' checks run on PostgreSQL in ``test_api_preconditions`` and
``test_topic_races``)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from backend_cases import on_sqlite
from test_admin import TOKEN, login
from test_admin_hostile import make_service

from feedsvc import operations as ops
from feedsvc.app import Service, create_app
from feedsvc.catalogue import Translator
from feedsvc.store.subscriptions import ensure_chat
from feedsvc.store.topics import TopicSpec

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = [
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
    on_sqlite,
]

CHAT = 4711
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EN, VI = Translator("en"), Translator("vi")
TOPIC = {"title": "D6", "query": '"Đồ Sơn"', "description": "", "enabled": True}


@pytest.fixture
def admin(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Service]]:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    service = make_service(db_url)
    with service.db.write() as conn:
        ensure_chat(conn, CHAT, "private", "Lan", service.db.now())
    ops.save_topic(service.db, TopicSpec("d6", "D6", '"Đồ Sơn"'), "cli")
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        assert login(client).status_code == 303
        yield client, service
    service.close()


def chat_version(client: TestClient) -> str:
    got = client.get(f"/api/chats/{CHAT}", headers=AUTH)
    assert got.status_code == 200, got.text
    return str(got.json()["version"])


def patch(client: TestClient, chat: int, lines: list[tuple[str, str]], **extra: str) -> Any:
    headers = [*AUTH.items(), *extra.items(), *lines]
    return client.patch(f"/api/chats/{chat}", headers=headers, json={"silent": True})


def silent(client: TestClient) -> bool:
    got = client.get(f"/api/chats/{CHAT}", headers=AUTH)
    return bool(got.json()["silent"])


def weak_only(response: Any, language: Translator = VI) -> None:
    assert response.status_code == 412, response.text
    body = response.json()
    assert (body["code"], body["field"]) == ("if_match_weak", "If-Match"), body
    assert body["message"] == language("api.if_match_weak"), body
    assert "nothing was saved" in body["error"]


#: the shown case (the version GET gave, weakened), then invented variants: a weak tag of
#: anything, one holding a comma, two weak tags, weak tags on two lines, an empty line beside
#: one (``W/{v}``, unquoted, is no entity tag: 400, tests/test_api_entity_tags.py)
WEAK = [
    [("If-Match", 'W/"{v}"')],
    [("If-Match", 'W/"x"')],
    [("If-Match", 'W/"{v},x"')],
    [("If-Match", 'W/"{v}", W/"other"')],
    [("If-Match", 'W/"{v}"'), ("If-Match", 'W/"{v}"')],
    [("If-Match", ""), ("If-Match", 'W/""')],
]


@pytest.mark.parametrize("lines", WEAK)
def test_a_chat_patch_with_weak_tags_only_is_412_and_writes_nothing(
    admin: tuple[TestClient, Service], lines: list[tuple[str, str]]
) -> None:
    client, _ = admin
    version = chat_version(client)
    sent = [(name, value.format(v=version)) for name, value in lines]
    weak_only(patch(client, CHAT, sent))
    weak_only(patch(client, CHAT, sent, **{"Accept-Language": "en"}), EN)
    assert silent(client) is False
    assert chat_version(client) == version


@pytest.mark.parametrize("lines", WEAK[:3])
def test_a_topic_put_with_weak_tags_only_is_412_and_writes_nothing(
    admin: tuple[TestClient, Service], lines: list[tuple[str, str]]
) -> None:
    client, service = admin
    version = ops.get_topic(service.db, "d6").version
    sent = [*AUTH.items(), *((n, v.format(v=version)) for n, v in lines)]
    body = {**TOPIC, "title": "Sửa"}
    weak_only(client.put("/api/topics/d6", headers=sent, json=body))
    assert ops.get_topic(service.db, "d6").version == version
    # a topic that is not there: without If-Match this PUT would create it, so the condition
    # is judged, and false (§13.2.1): nothing created
    weak_only(client.put("/api/topics/d7", headers=sent, json=body))
    with pytest.raises(ops.OperationError):
        ops.get_topic(service.db, "d7")


def test_a_strong_tag_beside_weak_ones_decides(admin: tuple[TestClient, Service]) -> None:
    client, service = admin
    version = chat_version(client)
    done = patch(client, CHAT, [("If-Match", f'W/"{version}", "{version}"')])
    assert done.status_code == 200, done.text
    assert silent(client) is True
    stale = patch(client, CHAT, [("If-Match", f'"{version}"'), ("If-Match", 'W/"x"')])
    assert stale.status_code == 200, stale.text  # the field holds what is sent: no conflict
    topic = ops.get_topic(service.db, "d6").version
    put = client.put("/api/topics/d6", headers={**AUTH, "If-Match": f'W/"{topic}", "{topic}"'},
                     json={**TOPIC, "title": "Sửa"})  # fmt: skip
    assert put.status_code == 200, put.text
    assert ops.get_topic(service.db, "d6").title == "Sửa"


def test_star_matches_any_current_chat_and_no_unknown_one(
    admin: tuple[TestClient, Service],
) -> None:
    """``*``: the chat exists, so it is written; an unknown chat is 404 with ``*``, a weak tag
    or none alike (its answer without the header), never a 412 for what is not there."""
    client, _ = admin
    assert patch(client, CHAT, [("If-Match", "*")]).status_code == 200
    assert silent(client) is True
    for lines in ([("If-Match", "*")], [("If-Match", 'W/"x"')], []):
        r = patch(client, 999, lines)
        assert r.status_code == 404 and r.json()["code"] == "unknown_id", (lines, r.text)


@pytest.mark.parametrize("header", ['w/"x"', '*, W/"x"', 'W/"x", *', "W/x"])
def test_what_is_no_list_of_entity_tags_stays_400(
    admin: tuple[TestClient, Service], header: str
) -> None:
    """``w/`` is no weak tag (the prefix is case-sensitive), ``*`` goes alone (RFC 9110
    §13.1.1's grammar), ``W/x`` is unquoted: 400 ``if_match_invalid`` (``W/"x", "y"``,
    well-formed and matching nothing, is 412: ``test_api_entity_tags``)."""
    client, _ = admin
    r = patch(client, CHAT, [("If-Match", header)])
    assert r.status_code == 400 and r.json()["code"] == "if_match_invalid", r.text
    assert silent(client) is False
