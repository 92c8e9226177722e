"""A chat's own query whose quotes cannot be read, given by the admin: refused as the bots refuse
it. ``/sub «an ninh`` is told which quote is never closed (``bot.typed.quote_problem``), but the
same query through ``subs add --query``, ``POST /api/subscriptions`` or the admin's Apprise form
was saved as the words ``«an`` and ``ninh`` (the normaliser leaves quotes it cannot pair as
they are), a subscription matching other articles than meant, and nobody told."""

from __future__ import annotations

import html

import pytest
from backend_cases import module_on_sqlite
from click.testing import CliRunner
from starlette.testclient import TestClient
from test_admin import csrf_of
from test_field_limits import API, served

from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.cli import cli
from feedsvc.db import Database
from feedsvc.store import subscriptions as sub_store

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

__all__ = ["served"]  # the fixture, shared with test_field_limits

#: (typed query, the mark named, its column counted from 1)
UNREADABLE = [
    ("«an ninh", "«", 1),
    ("„an ninh", "„", 1),
    ("「an ninh", "「", 1),
    ("《an ninh", "《", 1),
    ("an «ninh", "«", 4),
    ("«an ninh» OR «công an", "«", 14),
]


def queries(db: Database) -> list[str | None]:
    with db.read() as conn:
        return [s.query for s in sub_store.list_subscriptions(conn)]


@pytest.mark.parametrize(("query", "mark", "column"), UNREADABLE)
def test_operations_refuse_it_naming_the_mark(
    db: Database, query: str, mark: str, column: int
) -> None:
    with pytest.raises(ops.OperationError) as caught:
        ops.add_subscription(db, 1001, "private", topic=None, query=query)
    exc = caught.value
    assert (exc.kind, exc.code, exc.field, exc.column) == (
        "invalid",
        "quote_unclosed",
        "query",
        column,
    )
    assert f"the quote {mark} opens a phrase that is never closed" == exc.message
    assert queries(db) == []


@pytest.mark.parametrize(("query", "mark", "column"), UNREADABLE[:3] + UNREADABLE[-1:])
def test_cli_api_and_admin_refuse_it(
    served: tuple[TestClient, Service], query: str, mark: str, column: int
) -> None:
    client, service = served
    env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    result = CliRunner().invoke(
        cli, ["subs", "add", "1001", "--type", "private", "--query", query], env=env
    )
    assert result.exit_code == 2, result.output
    assert f"the quote {mark} opens a phrase that is never closed" in result.output
    body = {"chat_id": 1002, "chat_type": "private", "query": query}
    answer = client.post("/api/subscriptions", json=body, headers=API | {"Accept-Language": "vi"})
    assert answer.status_code == 422, answer.text
    out = answer.json()
    assert (out["code"], out["field"], out["column"]) == ("quote_unclosed", "query", column)
    assert f"dấu {mark} mở một cụm từ nhưng không có dấu đóng" in out["message"]
    form = {"csrf": csrf_of(client), "url": "json://127.0.0.1:9/x", "topic": "", "query": query}
    page = client.post("/admin/subscriptions/apprise", data=form)
    assert page.status_code == 422, page.text
    # under the query box, placed as the API's column says it (the admin's words)
    said = html.unescape(page.text)
    assert f"mở một cụm từ nhưng không có dấu đóng (tại ký tự {column})</p>" in said, said
    assert queries(service.db) == []


def test_quotes_it_can_pair_are_the_phrase_everywhere(served: tuple[TestClient, Service]) -> None:
    client, service = served
    body = {"chat_id": 1002, "chat_type": "private", "query": "«an ninh» OR „công an“"}
    assert client.post("/api/subscriptions", json=body, headers=API).status_code == 201
    assert queries(service.db) == ['"an ninh" OR "công an"']
