"""A topic title of only invisible characters is a missing title (``feedsvc.limits.title_missing``,
the article title's rule of commit 792ec53): ``topics add``, the API, the admin's form and the
topics file took a lone U+200B or a soft hyphen, and the topic showed as an empty heading on
``/``, a nameless outline in the OPML and a blank feed title, while ``"   "`` was refused "title
is required". Now refused in the words of an empty title at every entry point; visible text
around such characters is kept as given."""

from __future__ import annotations

from pathlib import Path

import pytest
from backend_cases import module_on_sqlite
from starlette.testclient import TestClient
from test_field_limits import API, admin_save, ops_topics, run_cli, served, write_topics

from feedsvc import limits
from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.db import Database
from feedsvc.store.records import TopicSpec
from feedsvc.topics_file import TopicsFileError, parse_topics

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

__all__ = ["served"]  # the fixture, shared with test_field_limits

INVISIBLE = [
    "\u200b",  # ZERO WIDTH SPACE
    "\u200b\u00ad",  # and a SOFT HYPHEN (the tester's title)
    "\u2060\ufeff",  # WORD JOINER, BOM (the tester's API title)
    " \u200b\u00a0\u00ad ",  # with spaces and NBSP
    "\u3164",  # HANGUL FILLER: printable, drawn blank
    "\u115f\u1160\uffa0",  # the other Hangul fillers
    "\u2800 \u2800",  # BRAILLE PATTERN BLANK
    "\u200b\u3164\u00a0",
    "\u200e\u200f",  # bidi marks
]


@pytest.mark.parametrize("title", INVISIBLE)
def test_the_one_rule_says_missing(title: str) -> None:
    assert limits.title_missing(title) and limits.title_missing("   ")
    assert not limits.title_missing(f"{title}Kiến{title}")


@pytest.mark.parametrize("title", INVISIBLE)
def test_operations_refuse_it_as_an_empty_title(db: Database, title: str) -> None:
    with pytest.raises(ops.OperationError) as caught:
        ops.save_topic(db, TopicSpec("zw", title, "x"), "cli")
    assert (caught.value.code, caught.value.field, caught.value.message) == (
        "title_required", "title", "title is required",
    )  # fmt: skip
    with pytest.raises(ops.OperationError) as edit:
        ops.edit_topic(db, ops.TopicEdit("zw", title, "x"), "cli")
    assert edit.value.code == "title_required"
    assert ops_topics(db) == []


def test_visible_text_around_them_is_kept(db: Database) -> None:
    ops.save_topic(db, TopicSpec("kt", "\u200bKiến\u00adThụy", "x"), "cli")
    assert [t.title for t in ops_topics(db)] == ["\u200bKiến\u00adThụy"]


def test_the_topics_file_names_the_topic_and_the_field() -> None:
    ok = {"slug": "ok", "title": "Ok", "query": "x"}
    with pytest.raises(TopicsFileError) as caught:
        parse_topics({"topic": [ok, {"slug": "zw", "title": "\u200b\u00ad", "query": "x"}]})
    assert caught.value.problems == [
        "topic #2 (zw): title shows nothing (only invisible characters such as U+200B or a soft "
        "hyphen; a non-empty string is required)"
    ]
    assert [s.slug for s in parse_topics({"topic": [ok]})] == ["ok"]


def test_cli_api_and_admin_refuse_it_as_they_refuse_spaces(
    served: tuple[TestClient, Service], tmp_path: Path
) -> None:
    client, service = served
    for title in ("   ", "\u200b\u00ad"):
        result = run_cli(service, "topics", "add", "zw", "--title", title, "--query", "x")
        assert (result.exit_code, result.output) == (2, "feedsvc: title is required\n")
    for lang, said in (("vi", "Cần có tiêu đề."), ("en", "A title is required.")):
        body = {"slug": "zw-api", "title": "\u2060\ufeff", "query": "x"}
        answer = client.post("/api/topics", json=body, headers=API | {"Accept-Language": lang})
        assert answer.status_code == 422
        assert answer.json() == {"error": "title is required", "code": "title_required",
                                 "message": said, "field": "title"}  # fmt: skip
    refused = admin_save(client, "form", {"title": "\u200b", "query": "x", "description": ""})
    assert refused.status_code == 422 and "Cần có tiêu đề." in refused.text
    file = write_topics(tmp_path / "t.toml", ("f", "\u200b"))
    imported = run_cli(service, "topics", "import", str(file))
    assert imported.exit_code == 2 and "topic #1 (f): title shows nothing" in imported.output
    assert ops_topics(service.db) == []
    assert client.get("/feeds.opml").status_code == 200
