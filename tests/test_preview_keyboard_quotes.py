"""The topic preview warns of a phrase typed between a keyboard's quotes (``«an ninh»``,
``'an ninh'``, ``‚an ninh‘``), which a topic's query reads as separate words while a chat's
``/sub`` and a search feed read the phrase (:mod:`feedsvc.typed_query`). The warning as data,
in the CLI's English and the admin's words (on SQLite: ``module_on_sqlite``)."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from backend_cases import module_on_sqlite
from click.testing import CliRunner
from test_admin import csrf_of, login, served  # noqa: F401  (served: the fixture)

from feedsvc.cli import cli
from feedsvc.preview import KeyboardQuotes, keyboard_quotes

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
        ("«an ninh» giao", [KeyboardQuotes("«an ninh»", '"an ninh"', 1)]),
        ("x 'Kiến Thụy'", [KeyboardQuotes("'Kiến Thụy'", '"Kiến Thụy"', 3)]),
        ("‚an ninh‘ OR ‹Đồ Sơn›", [
            KeyboardQuotes("‚an ninh‘", '"an ninh"', 1), KeyboardQuotes("‹Đồ Sơn›", '"Đồ Sơn"', 14)
        ]),
        ("„an ninh“ OR »Đồ Sơn«", [KeyboardQuotes("»Đồ Sơn«", '"Đồ Sơn"', 14)]),
        ("「an ninh」", [KeyboardQuotes("「an ninh」", '"an ninh"', 1)]),
    ],
)  # fmt: skip
def test_keyboard_phrases_are_found_where_typed(query: str, found: list[KeyboardQuotes]) -> None:
    assert keyboard_quotes(query) == found


@pytest.mark.parametrize(
    "query",
    [
        '"an ninh"',
        "“an ninh”",
        '"an ninh”',
        "„an ninh“",
        "„an ninh”",
        "Tom's",
        "nhạc '9x",
        '"báo «Tuổi trẻ» hôm nay"',
    ],
)
def test_nothing_is_said_of_the_languages_own_quotes_or_an_apostrophe(query: str) -> None:
    assert keyboard_quotes(query) == []


def test_the_admin_preview_says_it(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
) -> None:
    client, _ = served
    login(client)
    headers = {"X-CSRF-Token": csrf_of(client)}
    data = client.post("/admin/preview", json={"query": "«an ninh» giao"}, headers=headers).json()
    assert data["warnings"][0] == (
        "«an ninh» (ký tự 1) là các từ riêng lẻ trong truy vấn của chủ đề; muốn tìm cụm từ thì"
        ' viết "an ninh".'
    )


def test_the_cli_preview_says_it(db_url: str) -> None:
    env = {"FEEDSVC_DATABASE__URL": db_url}
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    result = runner.invoke(cli, ["topics", "preview", "'an ninh' giao"], env=env)
    assert result.exit_code == 0, result.output
    assert (
        "'an ninh' (character 1) is separate words in a topic's query; for the phrase, write"
        ' "an ninh"'
    ) in result.output
