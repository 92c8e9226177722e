"""A refused slug is told the whole rule (``topics_file.SLUG``): lowercase letters a-z (no
marks), digits and '-', with a letter or digit at each end, at most 100 characters.

``topics add a- --title T --query an`` was refused "slug must be lowercase letters, digits and
'-' (e.g. kien-thuy), at most 100 characters" — which ``a-`` is (a tester's): the pattern also wants
a letter or digit at each end, and letters without marks (``kiến`` is lowercase letters). The
same words at every entry point that refuses a slug: the CLI, the topics file, the API and the
admin, in English and Vietnamese; a doubled hyphen, which the pattern takes, is taken."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient
from test_admin import csrf_of
from test_field_limits import API, served

from feedsvc.app import Service
from feedsvc.catalogue import Translator
from feedsvc.cli import cli
from feedsvc.store import topics as topic_store
from feedsvc.topics_file import TopicsFileError, parse_topics, slug_problem

__all__ = ["served"]  # the fixture, shared with test_field_limits

BAD = ["a-", "-a", "-", "-kien-thuy-", "Kien-thuy", "AB", "kiến-thụy", "đ", "a_b", "a" * 101]
ENGLISH = (
    "slug must be lowercase letters a-z (no marks), digits and '-', with a letter or digit at "
    "each end (e.g. kien-thuy), at most 100 characters"
)
VIETNAMESE = (
    "Mã chỉ gồm chữ thường không dấu (a-z), số và '-', bắt đầu và kết thúc bằng chữ hoặc số "
    "(ví dụ kien-thuy), tối đa 100 ký tự."
)


def test_the_catalogue_says_what_the_cli_says() -> None:
    assert Translator("en")("op.slug_format", limit=100) == f"The {ENGLISH}."
    assert Translator("vi")("op.slug_format", limit=100) == VIETNAMESE


@pytest.mark.parametrize("slug", BAD)
def test_the_topics_file_names_the_rule(slug: str) -> None:
    entry = {"slug": slug, "title": "T", "query": "an"}
    with pytest.raises(TopicsFileError) as caught:
        parse_topics({"topic": [entry]}, "topics.toml")
    assert caught.value.problems == [f"topic #1 ({slug}): {ENGLISH}"]


@pytest.mark.parametrize("slug", ["a", "a1", "kien-thuy", "covid-19", "a--b", "a" * 100])
def test_what_the_rule_takes(slug: str) -> None:
    assert slug_problem(slug) is None


def test_the_cli_api_and_admin_name_the_rule(
    served: tuple[TestClient, Service], tmp_path: Path
) -> None:
    client, service = served
    env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    for slug in BAD:
        added = CliRunner().invoke(
            cli, ["topics", "add", "--title", "T", "--query", "an", "--", slug], env=env
        )
        assert (added.exit_code, added.output) == (2, f"feedsvc: {ENGLISH}\n"), slug
        body = {"slug": slug, "title": "T", "query": "an"}
        for lang, said in (("vi", VIETNAMESE), ("en", f"The {ENGLISH}.")):
            answer = client.post("/api/topics", json=body, headers=API | {"Accept-Language": lang})
            assert answer.status_code == 422, (slug, answer.text)
            assert (answer.json()["code"], answer.json()["message"]) == ("slug_format", said)
        form = {"csrf": csrf_of(client), "slug": slug, "title": "T", "query": "an"}
        page = client.post("/admin/topics/new", data=form | {"enabled": "on"})
        assert page.status_code == 422 and VIETNAMESE.replace("'", "&#39;") in page.text, slug
        file = tmp_path / "t.toml"
        file.write_text(f"[[topic]]\nslug = '{slug}'\ntitle = 'T'\nquery = 'an'\n", "utf-8")
        imported = CliRunner().invoke(cli, ["topics", "import", str(file)], env=env)
        assert imported.exit_code == 2 and f"topic #1 ({slug}): {ENGLISH}" in imported.output
    with service.db.read() as conn:
        assert topic_store.list_topics(conn) == []
    assert CliRunner().invoke(cli, ["topics", "add", "a--b", "--title", "T", "--query", "an"],
                              env=env).exit_code == 0  # fmt: skip
