"""A topic's field limits are one rule, counted one way, worded alike at every entry point
(``feedsvc.limits``).

The API refused titles over 500 and queries over 5,000, the admin preview queries over 4,000,
the parser over 2,000, and the CLI, the admin form and the topics file had no title or
description limit: a topic made by ``topics add`` with a 600-character title could not be put
back through the API (``PUT`` of what ``GET`` returned), and the API took queries the parser
then refused in other words. Now: title 500, description 5,000, query 2,000, slug 100, a chat's
own query 500, each counted in characters of the text as stored (trimmed, NFC: "Thụy" typed
decomposed is 5 code points and counts 4), refused with the same words everywhere, and a stored
topic over a limit is still served and matched, and can be disabled and removed.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from backend_cases import module_on_sqlite
from click.testing import CliRunner
from factories import article
from starlette.testclient import TestClient
from test_admin import TOKEN, button_fields, csrf_of, login, make_client

from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.bot import actions, texts
from feedsvc.catalogue import Translator
from feedsvc.channels.zalo.bot import _run as zalo_command
from feedsvc.cli import cli
from feedsvc.config import TopicsSettings
from feedsvc.db import Database
from feedsvc.matching import QueryError, parse_query
from feedsvc.store import topics as topic_store
from feedsvc.store.article_reads import topic_articles
from feedsvc.store.records import TopicSpec
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.topics_at_start import import_at_start
from feedsvc.topics_file import TopicsFileError, parse_topics

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

API = {"Authorization": f"Bearer {TOKEN}"}
LIMITS = {"title": 500, "description": 5000, "query": 2000}


def text(n: int) -> str:
    """``n`` characters of Vietnamese in NFC, no whitespace (a one-line title as it is stored,
    one query term)."""
    return ("Thụy" + "y" * n)[:n]


def nfd(value: str) -> str:
    return unicodedata.normalize("NFD", value)


def words(field: str, length: int, limit: int) -> tuple[str, str, str]:
    """The English error, and the catalogue's Vietnamese and English words, every entry point
    gives for ``field`` over its limit."""
    vi = {"title": "Tiêu đề", "description": "Mô tả", "query": "Truy vấn"}[field]
    return (
        f"{field} is too long: {length} characters, at most {limit}",
        f"{vi} quá dài: {length} ký tự, tối đa {limit}.",
        f"The {field} is too long: {length} characters, at most {limit}.",
    )


def fields(field: str, n: int) -> dict[str, str]:
    """A topic whose ``field`` is ``n`` characters long, the others short."""
    base = {"title": "Kiến Thụy", "description": "", "query": "Thụy"}
    return base | {field: text(n)}


# -- the one rule ----------------------------------------------------------------------------


def test_length_is_counted_in_nfc_after_trimming() -> None:
    from feedsvc import limits

    decomposed = nfd("Thụy")
    assert len(decomposed) == 5 and limits.length(decomposed) == 4
    assert limits.length("  Thụy \n") == 4
    over_as_typed = nfd(text(500))  # 500 characters, more code points as typed
    assert len(over_as_typed) > limits.TITLE
    assert limits.too_long("title", over_as_typed) is None
    found = limits.too_long("title", text(501))
    assert found == limits.TooLong("title", 501, 500)
    assert found.message == words("title", 501, 500)[0]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_parser_and_operations_say_it_in_the_same_words(language: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(text(2001))
    assert caught.value.code == "too_long" and caught.value.params["length"] == 2001
    t = Translator(language)
    said = words("query", 2001, 2000)[1 if language == "vi" else 2]
    # a query error follows words that name the query: the same figures, no second subject
    figures = "2001 ký tự, tối đa 2000" if language == "vi" else "2001 characters, at most 2000"
    assert t.query_error(caught.value).split(" — ")[0].endswith(f"({figures})")
    assert t.operation_error(ops.query_invalid(caught.value)) == said
    parse_query(text(2000))
    parse_query(nfd(text(2000)))  # 2,000 characters composed, more code points as typed


def test_the_api_documents_the_figures_it_applies() -> None:
    from feedsvc.web.api_models import PreviewIn, TopicIn
    from feedsvc.web.api_recipient_models import SubscriptionIn

    topic = TopicIn.model_json_schema()["properties"]
    shown = {name: topic[name]["maxLength"] for name in ("slug", "title", "description", "query")}
    assert shown == {"slug": 100} | LIMITS
    assert PreviewIn.model_json_schema()["properties"]["query"]["maxLength"] == 2000
    assert SubscriptionIn.model_json_schema()["properties"]["query"]["maxLength"] == 500


# -- operations: CLI, API and admin share them -----------------------------------------------


@pytest.mark.parametrize("field", sorted(LIMITS))
def test_a_save_at_the_limit_passes_and_one_more_is_refused(db: Database, field: str) -> None:
    limit = LIMITS[field]
    at = TopicSpec("kt", **fields(field, limit))
    assert ops.save_topic(db, at, "cli") == "created"
    with pytest.raises(ops.OperationError) as caught:
        ops.save_topic(db, TopicSpec("kt", **fields(field, limit + 1)), "cli")
    error = caught.value
    assert (error.kind, error.code, error.field) == ("invalid", "too_long", field)
    assert error.message == words(field, limit + 1, limit)[0]
    assert Translator("vi").operation_error(error) == words(field, limit + 1, limit)[1]
    assert ops.get_topic(db, "kt").spec == at


def test_a_decomposed_title_counts_as_stored(db: Database) -> None:
    typed = nfd(text(500))
    ops.save_topic(db, TopicSpec("kt", typed, "Thụy"), "api")
    assert ops.get_topic(db, "kt").title == text(500)  # stored composed


def test_a_slug_names_the_same_limit_everywhere(db: Database) -> None:
    ops.save_topic(db, TopicSpec("a" * 100, "T", "x"), "cli")
    with pytest.raises(ops.OperationError) as caught:
        ops.save_topic(db, TopicSpec("a" * 101, "T", "x"), "cli")
    assert caught.value.code == "slug_format" and "at most 100 characters" in caught.value.message
    assert "tối đa 100 ký tự" in Translator("vi").operation_error(caught.value)
    with pytest.raises(TopicsFileError) as in_file:
        parse_topics({"topic": [{"slug": "a" * 101, "title": "T", "query": "x"}]}, "t.toml")
    assert "at most 100 characters" in in_file.value.problems[0]


# -- the topics file: `topics import` and the start ------------------------------------------


@pytest.mark.parametrize("field", sorted(LIMITS))
def test_the_topics_file_names_the_topic_and_the_field(field: str) -> None:
    ok = {"slug": "ok", **fields(field, LIMITS[field])}
    over = {"slug": "kien-thuy", **fields(field, LIMITS[field] + 1)}
    assert [s.slug for s in parse_topics({"topic": [ok]}, "topics.toml")] == ["ok"]
    with pytest.raises(TopicsFileError) as caught:
        parse_topics({"topic": [ok, over]}, "topics.toml")
    english = words(field, LIMITS[field] + 1, LIMITS[field])[0]
    assert caught.value.problems == [f"topic #2 (kien-thuy): {english}"]  # named once
    assert str(caught.value) == f"topics.toml: topic #2 (kien-thuy): {english}"


def write_topics(path: Path, *titles: tuple[str, str]) -> Path:
    entries = "".join(f"[[topic]]\nslug = '{s}'\ntitle = '{t}'\nquery = 'Thụy'\n\n"
                      for s, t in titles)  # fmt: skip
    path.write_text(entries, encoding="utf-8")
    return path


def test_start_refuses_the_file_by_its_rule_and_keeps_the_state_db(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A file with any problem is refused whole, as for every other problem (README: a typo in
    one entry must not half-apply the file, and a topic left out would be switched off); the
    one error line names the file, the topic and the field, and the service goes on."""
    ops.save_topic(db, TopicSpec("kept", "Kept", "x"), "cli")
    path = write_topics(tmp_path / "topics.toml", ("fine", "Fine"), ("kt", text(501)))
    with caplog.at_level(logging.ERROR, "feedsvc.topics_file"):
        import_at_start(db, TopicsSettings(file=path))
    line = caplog.records[-1].getMessage()
    assert str(path) in line and "topic #2 (kt): title is too long: 501 characters" in line
    assert [t.slug for t in ops_topics(db)] == ["kept"]
    write_topics(path, ("fine", "Fine"), ("kt", text(500)))
    import_at_start(db, TopicsSettings(file=path))
    assert [t.slug for t in ops_topics(db)] == ["fine", "kept", "kt"]


def ops_topics(db: Database) -> list[topic_store.Topic]:
    with db.read() as conn:
        return sorted(topic_store.list_topics(conn), key=lambda t: t.slug)


# -- chats' own queries: bot, Zalo, API, `subs add` -----------------------------------------


def test_a_chat_query_has_one_limit_for_bot_zalo_and_operations(db: Database) -> None:
    target = actions.Target(42, "private", "Lan")
    vi_en = words("query", 501, 500)[1:]
    said = vi_en[texts.translator().language == "en"]  # the bot's language, process-wide
    assert actions.subscribe(db, target, text(501)) == said
    assert zalo_command(db, target, "sub", text(501), 100, group=False) == said
    assert "quá dài" not in actions.subscribe(db, target, nfd(text(500)))
    with pytest.raises(ops.OperationError) as caught:
        ops.add_subscription(db, 43, "private", topic=None, query=text(501))
    assert (caught.value.code, caught.value.field) == ("too_long", "query")
    assert caught.value.message == words("query", 501, 500)[0]
    _, created = ops.add_subscription(db, 43, "private", topic=None, query=text(500))
    assert created


# -- the HTTP entry points and the CLI on one service ----------------------------------------


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Service]]:
    client, service = make_client(tmp_path, monkeypatch)
    with client:
        login(client)
        yield client, service


def run_cli(service: Service, *args: str) -> Any:
    env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.mark.parametrize("field", sorted(LIMITS))
def test_api_cli_and_admin_refuse_one_over_in_the_same_words(
    served: tuple[TestClient, Service], field: str, tmp_path: Path
) -> None:
    client, service = served
    limit = LIMITS[field]
    english, vi, en = words(field, limit + 1, limit)
    for lang, said in (("vi", vi), ("en", en)):
        body = {"slug": f"api-{lang}", **fields(field, limit + 1)}
        answer = client.post("/api/topics", json=body, headers=API | {"Accept-Language": lang})
        assert answer.status_code == 422
        assert answer.json() == {"error": english, "code": "too_long", "message": said,
                                 "field": field}  # fmt: skip
        answer = client.put(f"/api/topics/api-{lang}", json=fields(field, limit), headers=API)
        assert answer.status_code == 201, answer.text
    refused = admin_save(client, "form", fields(field, limit + 1))
    assert refused.status_code == 422 and vi in refused.text
    assert admin_save(client, "form", fields(field, limit)).status_code == 303
    cli_args = [f"--{field}", text(limit + 1)]
    if field != "title":
        cli_args += ["--title", "T"]
    if field != "query":
        cli_args += ["--query", "Thụy"]
    result = run_cli(service, "topics", "add", "cli", *cli_args)
    assert result.exit_code == 2 and result.output == f"feedsvc: {english}\n"
    cli_args[1] = text(limit)
    assert run_cli(service, "topics", "add", "cli", *cli_args).exit_code == 0
    file = write_topics(tmp_path / "t.toml", ("f", text(501)))
    imported = run_cli(service, "topics", "import", str(file))
    assert imported.exit_code == 2 and f"topic #1 (f): {words('title', 501, 500)[0]}" in (
        imported.output
    )


def admin_save(client: TestClient, slug: str, given: dict[str, str]) -> Any:
    """The admin's new-topic form, every field given."""
    data = {"csrf": csrf_of(client), "slug": slug, "enabled": "on", **given}
    return client.post("/admin/topics/new", data=data, follow_redirects=False)


def test_both_previews_refuse_a_query_the_parser_would(
    served: tuple[TestClient, Service],
) -> None:
    client, _ = served
    headers = {"X-CSRF-Token": csrf_of(client)}
    english, vi, _ = words("query", 2001, 2000)
    shown = client.post("/admin/preview", json={"query": text(2001)}, headers=headers).json()
    # under the editor's "Lỗi truy vấn" heading: the parser's error, worded as every query error
    assert (
        shown["error"].startswith("quá dài (2001 ký tự, tối đa 2000) — ") and "count" not in shown
    )
    assert shown["position"] is None  # the whole query is too long: no caret
    shown = client.post("/admin/preview", json={"query": nfd(text(2000))}, headers=headers)
    assert shown.status_code == 200 and "count" in shown.json()
    api = client.post("/api/topics/preview", json={"query": text(2001)}, headers=API)
    assert api.status_code == 422
    assert api.json() == {"error": english, "code": "too_long", "message": vi, "field": "query"}
    assert client.post("/api/topics/preview", json={"query": text(2000)},
                       headers=API).status_code == 200  # fmt: skip


def test_an_api_chat_query_is_refused_as_the_bot_refuses_it(
    served: tuple[TestClient, Service],
) -> None:
    client, service = served
    body = {"chat_id": 5, "chat_type": "private", "query": text(501)}
    answer = client.post("/api/subscriptions", json=body, headers=API)
    assert answer.status_code == 422 and answer.json()["code"] == "too_long"
    assert answer.json()["message"] == "Truy vấn quá dài: 501 ký tự, tối đa 500."
    result = run_cli(service, "subs", "add", "6", "--type", "private", "--query", text(501))
    assert result.exit_code == 2 and words("query", 501, 500)[0] in result.output
    body["query"] = text(500)
    assert client.post("/api/subscriptions", json=body, headers=API).status_code == 201


def test_a_topic_made_by_the_cli_goes_back_through_the_api(
    served: tuple[TestClient, Service],
) -> None:
    client, service = served
    made = run_cli(service, "topics", "add", "kt", "--title", nfd(text(500)),
                   "--query", text(2000), "--description", text(5000))  # fmt: skip
    assert made.exit_code == 0, made.output
    got = client.get("/api/topics/kt", headers=API).json()
    assert len(got["title"]) == 500 and len(got["description"]) == 5000
    back = {k: got[k] for k in ("title", "query", "description", "enabled")}
    put = client.put("/api/topics/kt", json=back, headers=API)
    assert put.status_code == 200, put.text
    assert {k: put.json()[k] for k in back} == back


def test_a_stored_topic_over_a_limit_still_works_and_can_go(
    served: tuple[TestClient, Service],
) -> None:
    """Saved before the limits (by the CLI or the file): served and matched, switched off and
    removed as any topic; only saving it again is refused, naming the field."""
    client, service = served
    long = TopicSpec("old", "Kiến Thụy " + text(600), "Thụy", text(6000))
    with service.db.write() as conn:
        topic_store.save_topic(conn, long, "cli", service.db.now())
        upsert_source_articles(conn, [article(1, title="Kiến Thụy khánh thành cầu mới")],
                               service.db.now())  # fmt: skip
    assert service.ingest_tick().error is None
    stored = ops.get_topic(service.db, "old")
    with service.db.read() as conn:
        matched = topic_articles(conn, stored.id, 10, service.db.now())
    assert [a.title for a in matched] == ["Kiến Thụy khánh thành cầu mới"]
    rendered = run_cli(service, "render", "old", "--format", "rss")
    assert rendered.exit_code == 0 and long.title in rendered.output
    got = client.get("/api/topics/old", headers=API).json()
    assert got["title"] == long.title
    back = {k: got[k] for k in ("title", "query", "description", "enabled")}
    put = client.put("/api/topics/old", json=back, headers=API)
    assert put.status_code == 422 and put.json()["field"] == "title"
    assert put.json()["error"] == words("title", 610, 500)[0]
    assert client.post("/api/topics/old/disable", headers=API).status_code == 200
    assert run_cli(service, "topics", "enable", "old").exit_code == 0
    assert ops.get_topic(service.db, "old").enabled
    removed = client.post("/admin/topics/old/delete", data=button_fields(client, "old", "delete"))
    assert removed.status_code == 200
    assert "old" not in [t.slug for t in ops_topics(service.db)]
