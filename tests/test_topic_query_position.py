"""A topic's query error is placed on the query as it was sent, by a save as by the preview.

Found by a tester (the admin, as a newsroom admin): the editor's live preview said "tại ký tự 21"
for ``"Kiến Thụy" AND (`` typed decomposed (``e`` + U+0302 + U+0301, as some keyboards send
it), and Save, for the same text still in the box, "tại ký tự 18": the save parsed the query
trimmed and composed to NFC (``feedsvc.fieldtext.clean_topic``, how it is stored) and placed
the error there. A leading space or line break (a paste) moved it likewise. The API's
``position``, which README says slices the query sent, sliced the wrong character, and the
CLI's caret stood under a query other than the one typed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from apiworld import api_service, asgi_client
from backend_cases import module_on_sqlite
from click.testing import CliRunner
from test_admin import create_topic, login, served  # noqa: F401  (served: the fixture)

from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.cli import cli
from feedsvc.db import Database
from feedsvc.matching import QueryError, parse_query
from feedsvc.store.records import TopicSpec

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


#: (query as sent, the character the error is at in it); each placed by the preview the same
CASES = [
    (nfd('"Kiến Thụy" AND ('), 20),  # the end: 20 characters sent, 17 composed
    (nfd("Thụy )"), 6),  # the ")" after a decomposed ụ
    ('   "an ninh" OR', 13),  # leading spaces: the OR
    ('\n\n"an ninh" OR', 12),  # a paste's line breaks
    (nfd(' "Núi Đối" ) "an ninh"'), 14),  # both, the error inside the text
    (nfd("Kiến Thụy OR ()"), 13),  # an OR before an empty group, after decomposed words
    ('"an ninh" OR   ', 10),  # trailing spaces
    ('"an ninh" OR\u00a0', 10),  # a no-break space trimmed too
]


def position_of(query: str) -> int | None:
    """Where the parser's error is in ``query`` as the live preview reads it (as sent)."""
    with pytest.raises(QueryError) as caught:
        preview_query(query)
    return caught.value.position


def preview_query(query: str) -> None:
    parse_query(query)  # what the preview parses: the query as sent


@pytest.mark.parametrize(("query", "at"), CASES)
def test_the_place_in_the_stored_form_is_found_in_the_sent_one(query: str, at: int) -> None:
    from feedsvc.fieldtext import query_position

    stored = unicodedata.normalize("NFC", query.strip())
    with pytest.raises(QueryError) as caught:
        preview_query(stored)
    assert caught.value.position is not None
    assert query_position(query, caught.value.position) == at
    assert position_of(query) == at  # where the preview, reading it as sent, puts it


@pytest.mark.parametrize(("query", "at"), CASES)
def test_a_refused_save_places_the_error_on_the_query_sent(
    db: Database, query: str, at: int
) -> None:
    with pytest.raises(ops.OperationError) as caught:
        ops.save_topic(db, TopicSpec("kt", "Kiến Thụy", query), "cli")
    exc = caught.value
    assert (exc.code, exc.position) == ("query_invalid", at), exc
    assert exc.params["query"] == query  # the CLI's caret line shows what was typed
    assert f"at character {at + 1}:" in exc.message


def test_an_edit_places_it_the_same(db: Database) -> None:
    ops.save_topic(db, TopicSpec("kt", "Kiến Thụy", '"Kiến Thụy"'), "cli")
    query = nfd('  "Kiến Thụy" OR')  # the OR: 17 characters in, 12 once trimmed and composed
    with pytest.raises(ops.OperationError) as caught:
        ops.edit_topic(db, ops.TopicEdit("kt", "Kiến Thụy", query), "cli")
    assert caught.value.position == query.index("OR") == 17


def test_a_good_decomposed_query_is_still_saved_composed(db: Database) -> None:
    ops.save_topic(db, TopicSpec("kt", "Kiến Thụy", nfd('  "Kiến Thụy"\n')), "cli")
    assert ops.get_topic(db, "kt").query == '"Kiến Thụy"'


def test_the_admin_says_the_character_the_preview_says(
    served: tuple[object, Service],  # noqa: F811
) -> None:
    client, _ = served
    login(client)  # type: ignore[arg-type]
    query = nfd('"Kiến Thụy" AND (')
    saved = create_topic(client, "kt-nfd", "Kiến Thụy", query)
    assert saved.status_code == 422
    assert "(tại ký tự 21)" in saved.text, saved.text  # was 18
    assert position_of(query) == 20  # the preview's "tại ký tự 21"


ADMIN_TOKEN = "adm-position-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Accept-Language": "en"}


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    with api_service(tmp_path, monkeypatch, ADMIN_TOKEN, (777, 12)) as service:
        yield service


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(service) as c:
        yield c


@pytest.mark.parametrize(("query", "at"), CASES[:5])
async def test_the_apis_position_slices_the_query_sent(
    client: httpx.AsyncClient, query: str, at: int
) -> None:
    body = {"slug": "kt", "title": "Kiến Thụy", "query": query}
    answer = await client.post("/api/topics", json=body, headers=AUTH)
    assert answer.status_code == 422, answer.text
    got = answer.json()
    assert (got["position"], got["column"]) == (at, at + 1), got
    previewed = await client.post("/api/topics/preview", json={"query": query}, headers=AUTH)
    assert previewed.json()["position"] == at, previewed.text  # one place on both routes


def test_the_cli_caret_stands_under_the_character_typed(db: Database) -> None:
    env = {"FEEDSVC_DATABASE__URL": db.url, "FEEDSVC_CONFIG": "/dev/null"}
    query = '   "an ninh" OR'
    result = CliRunner().invoke(
        cli, ["topics", "add", "kt", "--title", "K", "--query", query], env=env
    )
    assert result.exit_code == 2, result.output
    assert "at character 14:" in result.output, result.output
    lines = result.output.splitlines()
    shown, caret = lines[-2], lines[-1]
    assert shown == "  " + query and caret == "  " + " " * 13 + "^", lines
