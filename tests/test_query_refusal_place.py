"""A control character in a query is refused at its place, in one wording, on every surface (a
re-tester's): the API's preview and saves said ``control_character`` without ``position`` or
``column`` while the admin's preview said "at character 6"; ``topics add`` said ``feedsvc: query
contains a control character (U+000B)`` (no "invalid query", no place, no caret) and the topics
file ``topic #1 (tf-vt): query contains …`` while ``topics preview`` and ``match --query`` said
``invalid query: at character 6: … (hint: remove it)`` with a caret. The rule:
:func:`feedsvc.fieldtext.placed_refusal` (via ``operations.errors.refused_character``)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from migrated import premigrated
from test_admin import TOKEN, csrf_of, login, served  # noqa: F401  (served: the fixture)

from feedsvc.cli import cli
from feedsvc.topics_file import TopicsFileError, parse_topics

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

#: (query as sent, the refused character's 0-based place in it): the tester's, then variants
#: — at the start, after a decomposed letter (counted in code points as sent), after a line
#: break, a second refused character (the first is named), FF and NEL
CASES = [
    ('"Kiến\x0bThụy"', 5),
    ('"Kiến\x0cThụy"', 5),
    ('"Kiến\x85Thụy"', 5),
    ("\x0ba OR b", 0),
    ('"Thu\u0323y\x0b" OR a', 6),
    ('"Kiến\r\nThụy" OR Đồ\x0cSơn', 18),
    ("a AND b\x85 OR c\x0b", 7),
]


def _words(position: int, char: str) -> str:
    return (
        f"at character {position + 1}: query contains a control character "
        f"(U+{ord(char):04X}) (hint: remove it)"
    )


@pytest.mark.parametrize(("query", "position"), CASES)
def test_the_api_places_it_as_the_admin_does(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
    query: str,
    position: int,
) -> None:
    client, _service = served
    login(client)
    char = query[position]
    admin = client.post(
        "/admin/preview", json={"query": query}, headers={"X-CSRF-Token": csrf_of(client)}
    ).json()
    for language, where in (("vi", "tại ký tự"), ("en", "at character")):
        bearer = {"Authorization": f"Bearer {TOKEN}", "Accept-Language": language}
        answers = [
            client.post("/api/topics/preview", json={"query": query}, headers=bearer),
            client.post("/api/topics", json={"slug": "kt", "title": "T", "query": query},
                        headers=bearer),
            client.put("/api/topics/kt", json={"title": "T", "query": query}, headers=bearer),
            client.post("/api/subscriptions", headers=bearer,
                        json={"chat_id": 77, "chat_type": "private", "query": query}),
        ]  # fmt: skip
        for answer in answers:
            data = answer.json()
            assert answer.status_code == 422 and data["code"] == "control_character", data
            assert (data["field"], data["position"], data["column"]) == (
                "query", position, position + 1,
            ), data  # fmt: skip
            assert data["error"] == _words(position, char), data
            assert data["message"].startswith(f"{where} {position + 1}: "), data
            assert f"U+{ord(char):04X}" in data["message"], data
    shown = position - query.count("\r\n", 0, position)  # the admin's box counts CR LF once
    assert (admin["position"], admin["column"]) == (shown, shown + 1), admin


@pytest.mark.parametrize(("query", "position"), CASES)
def test_topics_add_says_it_as_preview_and_match(
    sqlite_url: str, query: str, position: int
) -> None:
    runner = CliRunner()
    env = {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": premigrated(sqlite_url)}
    said = [
        runner.invoke(cli, args, env=env, input="")
        for args in (
            ["topics", "add", "tf-vt", "--title", "T", "--query", query],
            ["topics", "preview", query],
            ["match", "--query", query],
        )
    ]
    first = f"feedsvc: invalid query: {_words(position, query[position])}"
    for done in said:
        assert done.exit_code == 2 and done.stdout == "", done.output
        lines = done.stderr.splitlines()
        assert lines[0] == first, done.stderr
        assert len(lines) == 3 and lines[2].endswith("^"), done.stderr  # with its caret
    assert said[0].stderr == said[1].stderr == said[2].stderr


@pytest.mark.parametrize(("query", "position"), CASES)
def test_the_topics_file_places_it(query: str, position: int) -> None:
    topic = {"slug": "tf-vt", "title": "T", "query": query}
    with pytest.raises(TopicsFileError) as caught:
        parse_topics({"topic": [topic]}, "topics.toml")
    assert caught.value.problems == [f"topic #1 (tf-vt): {_words(position, query[position])}"]


def test_a_title_is_still_named_without_a_place(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
    tmp_path: Path,
) -> None:
    client, _service = served
    bearer = {"Authorization": f"Bearer {TOKEN}", "Accept-Language": "en"}
    data = client.post(
        "/api/topics", json={"slug": "kt", "title": "T\x0b", "query": "a"}, headers=bearer
    ).json()
    assert data["error"] == "title contains a control character (U+000B)", data
    assert "position" not in data and "column" not in data
