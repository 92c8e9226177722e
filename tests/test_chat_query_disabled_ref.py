"""``@slug`` of a disabled topic in a chat's own query: one rule everywhere. A disabled topic
stops its own feed and alerts; its query stays a building block, as topic queries, previews,
search feeds and matching (``chat_queries.index`` and ``topic_index`` resolve every topic) have
always used it. ``subs add``, ``POST /api/subscriptions``, the admin's Apprise form and the
bot/Zalo ``/sub`` refused it as "unknown topic @off1 (hint: check the slug)", sending the admin
looking for a typo for a topic that exists, while a chat query saved before the topic was
switched off went on matching with its query."""

from __future__ import annotations

from pathlib import Path

from backend_cases import module_on_sqlite
from click.testing import CliRunner
from starlette.testclient import TestClient
from test_admin import csrf_of
from test_field_limits import API, served

from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.bot import actions
from feedsvc.chat_queries.index import ChatQueryIndex
from feedsvc.cli import cli
from feedsvc.db import Database
from feedsvc.store import subscriptions as sub_store
from feedsvc.store.records import TopicSpec

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

__all__ = ["served"]  # the fixture, shared with test_field_limits


def with_off1(db: Database) -> None:
    ops.save_topic(db, TopicSpec("off1", "Off", "kiến", enabled=False), "cli")


def queries(db: Database) -> list[tuple[int, str | None]]:
    with db.read() as conn:
        return sorted((s.chat_id, s.query) for s in sub_store.list_subscriptions(conn))


def test_operations_take_it_and_matching_compiles_it(db: Database) -> None:
    with_off1(db)
    sub, created = ops.add_subscription(db, 1001, "private", topic=None, query="@off1 x")
    assert created and sub.query == "@off1 x"
    index = ChatQueryIndex()
    result = index.refresh(db)
    assert result.broken == 0 and index.text(sub.id) == "@off1 x"  # compiled with off1's query


def test_a_topic_subscription_to_it_is_still_refused_naming_the_reason(db: Database) -> None:
    with_off1(db)
    try:
        ops.add_subscription(db, 1001, "private", topic="off1", query=None)
    except ops.OperationError as exc:
        assert (exc.code, exc.message) == (
            "topic_disabled",
            "disabled topic 'off1': switch it on first (`feedsvc topics enable off1`, or Enable "
            "in the admin)",
        )
    else:
        raise AssertionError("subscribed to a disabled topic")


def test_an_unknown_slug_is_still_unknown(db: Database) -> None:
    with_off1(db)
    try:
        ops.add_subscription(db, 1001, "private", topic=None, query="@off2 x")
    except ops.OperationError as exc:
        assert exc.code == "query_invalid" and "unknown topic @off2" in exc.message
    else:
        raise AssertionError("an unknown @slug was taken")


def test_the_bot_and_zalo_take_it(db: Database) -> None:
    with_off1(db)
    reply = actions.subscribe(db, actions.Target(42, "private", "Lan"), "@off1 x")
    assert "@off1" in reply and queries(db) == [(42, "@off1 x")]


def test_cli_api_and_admin_take_it(served: tuple[TestClient, Service], tmp_path: Path) -> None:
    client, service = served
    with_off1(service.db)
    env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    result = CliRunner().invoke(
        cli, ["subs", "add", "1001", "--type", "private", "--query", "@off1 x"], env=env
    )
    assert result.exit_code == 0, result.output
    body = {"chat_id": 1002, "chat_type": "private", "query": "@off1 x"}
    answer = client.post("/api/subscriptions", json=body, headers=API)
    assert answer.status_code == 201, answer.text
    form = {"csrf": csrf_of(client), "url": "json://127.0.0.1:9/x", "topic": "", "query": "@off1"}
    page = client.post("/admin/subscriptions/apprise", data=form)
    assert page.status_code == 200 and 'class="flash bad"' not in page.text
    assert [q for _, q in queries(service.db)] == ["@off1 x", "@off1 x", "@off1"]
