"""The preview warns when a lower-case ``or``/``and``/``not`` or Vietnamese ``hoặc`` will be
searched for as a word (a tester's: ``covid or 19`` matched nothing, ``"an ninh" hoặc "công
an"`` too, and the preview said nothing). The warning as data (:func:`feedsvc.preview.
operator_words`), in the CLI's and API's English, and in the admin's words. Both backends for
the admin and CLI."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from backend_cases import module_on_sqlite
from click.testing import CliRunner
from test_admin import csrf_of, login, served  # noqa: F401  (served: the fixture)

from feedsvc.cli import cli
from feedsvc.preview import OperatorWord, operator_words

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = [
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
    module_on_sqlite,
]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("covid or 19", [OperatorWord("or", "OR", 7)]),  # the tester's
        ("công an and trật tự", [OperatorWord("and", "AND", 9)]),
        ('"an ninh" hoặc "công an"', [OperatorWord("hoặc", "OR", 11)]),
        ("an ninh HOẶC trật tự", [OperatorWord("HOẶC", "OR", 9)]),  # capitals: not an operator
        ("an ninh ho\u1ea1\u0306c x", [OperatorWord("hoặc", "OR", 9)]),  # NFD: shown in NFC
        ("ma túy Or cần sa", [OperatorWord("Or", "OR", 8)]),
        ("tai nạn not giao thông", [OperatorWord("not", "NOT", 9)]),
        ("an or ninh and tự", [OperatorWord("or", "OR", 4), OperatorWord("and", "AND", 12)]),
    ],
)
def test_operator_words_are_found_where_typed(query: str, found: list[OperatorWord]) -> None:
    assert operator_words(query) == found


@pytest.mark.parametrize(
    "query",
    [
        "or",  # a search for the word itself
        "covid OR 19",  # the operator
        '"rock or roll" ban',  # inside a phrase
        "title:or covid",  # a field's term: meant
        "~or covid",
        "công an và trật tự",  # và, không: ordinary words of nearly every article
        "không khí ô nhiễm",
        "hoặc",
        "covid -or",  # negated: keeps articles out, says nothing of "either"
        "covid NOT or",
        "covid @bao-lu",  # @bao-lu's own "bão or lũ" is that topic's, not this query's
    ],
)
def test_nothing_is_said_where_no_operator_was_meant(query: str) -> None:
    assert operator_words(query) == []


def test_the_admin_preview_says_it_first(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
) -> None:
    client, _ = served
    login(client)
    headers = {"X-CSRF-Token": csrf_of(client)}
    data = client.post(
        "/admin/preview", json={"query": '"an ninh" hoặc "công an"'}, headers=headers
    ).json()
    assert data["warnings"][0] == (
        "“hoặc” (ký tự 11) là một từ bài viết phải có; muốn dùng toán tử thì viết OR (chữ hoa)."
    )


def test_the_cli_preview_says_it(db_url: str, tmp_path: Any) -> None:
    env = {"FEEDSVC_DATABASE__URL": db_url}
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    result = runner.invoke(cli, ["topics", "preview", "covid or 19"], env=env)
    assert result.exit_code == 0, result.output
    assert "or (character 7) is a word the articles must contain; for the operator, write OR" in (
        result.output
    )
