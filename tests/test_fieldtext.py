"""A topic's title and description as typed (feedsvc.fieldtext), through every front end.

A title goes into feed XML, HTML pages and chat messages: a control character is refused,
naming the field; whitespace runs (a pasted line break, a tab, a no-break space) collapse to one
space. A description keeps its line breaks, not other controls. The CLI, the API and the web
admin share ``operations.save_topic``; the topics file is tests/test_topics_file.py.
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

from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.cli import cli
from feedsvc.db import Database
from feedsvc.fieldtext import clean_topic, control_char, lines, one_line
from feedsvc.store.records import TopicSpec

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

#: C0 (but tab, line feed, carriage return), DEL and C1 — NEL and CSI among them
REFUSED = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9b"]
#: bidirectional embedding, override and isolate controls: they reorder what is shown around them
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
#: whitespace a paste brings, each collapsing into one space in a title
PASTED = [
    ("Kiến\nThụy", "Kiến Thụy"), ("Kiến\r\nThụy", "Kiến Thụy"), ("Kiến\tThụy", "Kiến Thụy"),
    ("Kiến\xa0Thụy", "Kiến Thụy"), ("  Kiến   Thụy \n", "Kiến Thụy"),
    ("Kiến\u2028Thụy", "Kiến Thụy"), ("Kiến\u3000Thụy", "Kiến Thụy"),
    ("Kiến \n\t\xa0 Thụy", "Kiến Thụy"), ("Kiến\rThụy", "Kiến Thụy"),
]  # fmt: skip


@pytest.mark.parametrize("char", REFUSED + BIDI)
def test_a_control_character_is_found(char: str) -> None:
    assert control_char(f"Kiến{char}Thụy") == f"U+{ord(char):04X}"


@pytest.mark.parametrize(
    "text",
    ["Kiến Thụy", "a\tb", "a\nb", "a\r\nb", "a\xa0b", "ạ\u0301", "a\u200eb", "a\u200fb",
     "a\u200cb", "👩\u200d💻"],
)  # fmt: skip
def test_whitespace_and_marks_are_no_control_character(text: str) -> None:
    assert control_char(text) is None


@pytest.mark.parametrize(("typed", "kept"), PASTED)
def test_a_title_is_one_line(typed: str, kept: str) -> None:
    assert one_line(typed) == kept
    spec, problems = clean_topic(TopicSpec("kt", typed, "q"))
    assert spec.title == kept and problems == []


def test_a_description_keeps_its_lines() -> None:
    assert lines(" a\r\nb\rc\u2028d\n\ne \n") == "a\nb\nc\nd\n\ne"
    spec, problems = clean_topic(TopicSpec("kt", "T", " q ", "dòng 1\r\ndòng 2\tx"))
    assert spec.description == "dòng 1\ndòng 2\tx" and spec.query == "q" and problems == []


def test_every_field_with_a_control_is_named() -> None:
    _, problems = clean_topic(TopicSpec("kt", "T\x07", "q\x1b", "d\x85"))
    assert problems == [("title", "U+0007"), ("description", "U+0085"), ("query", "U+001B")]


# -- operations (CLI, API, admin), on SQLite and PostgreSQL (conftest's db) -----------------


@pytest.mark.parametrize(("typed", "kept"), PASTED)
def test_save_topic_stores_the_title_on_one_line(db: Database, typed: str, kept: str) -> None:
    ops.save_topic(db, TopicSpec("kt", typed, '"Kiến Thụy"', "a\r\nb"), "test")
    topic = ops.get_topic(db, "kt")
    assert topic.title == kept and topic.description == "a\nb"
    # saving what was typed again changes nothing
    assert ops.save_topic(db, TopicSpec("kt", typed, '"Kiến Thụy"', "a\r\nb"), "test") == (
        "unchanged"
    )


@pytest.mark.parametrize("char", REFUSED)
@pytest.mark.parametrize("field", ["title", "description", "query"])
def test_save_topic_refuses_a_control_naming_the_field(db: Database, field: str, char: str) -> None:
    values = {"title": "Kiến Thụy", "description": "d", "query": '"Kiến Thụy"'}
    values[field] += char
    with pytest.raises(ops.OperationError) as caught:
        ops.save_topic(db, TopicSpec("kt", **values), "test")
    exc = caught.value
    assert (exc.kind, exc.code, exc.field) == ("invalid", "control_character", field)
    assert exc.params == {"field": field, "char": f"U+{ord(char):04X}"} | (
        {"query": values["query"]} if field == "query" else {}
    )  # a query's refusal is placed in it (test_query_refusal_place)
    assert exc.position == (len('"Kiến Thụy"') if field == "query" else None)


def test_a_title_of_only_whitespace_is_required(db: Database) -> None:
    with pytest.raises(ops.OperationError) as caught:
        ops.save_topic(db, TopicSpec("kt", "\n\t\xa0 ", "q"), "test")
    assert caught.value.code == "title_required"


# -- the CLI ---------------------------------------------------------------------------------


def _cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", f"sqlite:///{tmp_path / 'cli.db'}")
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


@pytest.mark.parametrize("char", ["\x07", "\x1b", "\x85", "\x0b", "\u202e"])
def test_cli_topics_add_refuses_a_control_in_the_title(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, char: str
) -> None:
    code, output = _cli(tmp_path, monkeypatch, "topics", "add", "kt", "--title", f"K{char}T",
                        "--query", "a")  # fmt: skip
    assert code == 2 and "title contains a control character" in output, output


def test_cli_topics_add_collapses_a_pasted_title(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = _cli(tmp_path, monkeypatch, "topics", "add", "kt", "--title", "Kiến\n\tThụy",
                        "--query", "a", "--description", "a\r\nb")  # fmt: skip
    assert code == 0, output
    code, output = _cli(tmp_path, monkeypatch, "topics", "list")
    assert "kt\tenabled\tKiến Thụy\ta" in output, output


# -- the API ---------------------------------------------------------------------------------

TOKEN = "adm-fieldtext-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Accept-Language": "vi"}


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    with api_service(tmp_path, monkeypatch, TOKEN, ()) as service:
        yield service


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(service) as c:
        yield c


@pytest.mark.parametrize(("typed", "kept"), PASTED)
async def test_api_stores_a_pasted_title_on_one_line(
    client: httpx.AsyncClient, typed: str, kept: str
) -> None:
    body = {"slug": "kt", "title": typed, "query": "a", "description": "x\r\ny"}
    r = await client.post("/api/topics", json=body, headers=AUTH)
    assert r.status_code == 201 and r.json()["title"] == kept, r.text
    assert r.json()["description"] == "x\ny"
    again = {"title": typed + "\n!", "query": "a"}
    r = await client.put("/api/topics/kt", json=again, headers=AUTH)
    assert r.status_code == 200 and r.json()["title"] == kept + " !", r.text


@pytest.mark.parametrize("char", ["\x07", "\x1b", "\x85", "\x0b", "\x7f"])
@pytest.mark.parametrize("field", ["title", "description"])
async def test_api_refuses_a_control_naming_the_field(
    client: httpx.AsyncClient, field: str, char: str
) -> None:
    body = {"slug": "kt", "title": "T", "query": "a", "description": ""} | {field: f"x{char}"}
    r = await client.post("/api/topics", json=body, headers=AUTH)
    assert r.status_code == 422, r.text
    out = r.json()
    assert out["code"] == "control_character" and out["field"] == field
    label = {"title": "tiêu đề", "description": "mô tả"}[field]  # one language: not the code
    assert out["message"] == f"Trường {label} có ký tự điều khiển (U+{ord(char):04X}); hãy xoá nó."


# -- NFC (newcomer F7) -------------------------------------------------------------------------

NFD_TITLE = unicodedata.normalize("NFD", "Kiến   Thụy\n mới")
NFD_TEXT = unicodedata.normalize("NFD", "Hòa bình, Thuỷ lợi\nĐoạn 2")


def test_typed_text_is_stored_in_nfc() -> None:
    """A title typed decomposed ("e" + U+0302 + U+0301) was stored and shown that way."""
    assert one_line(NFD_TITLE) == "Kiến Thụy mới" and one_line(NFD_TITLE).encode() != (
        " ".join(NFD_TITLE.split()).encode()
    )
    assert lines(NFD_TEXT) == unicodedata.normalize("NFC", NFD_TEXT)
    spec, problems = clean_topic(TopicSpec("kt", NFD_TITLE, f'"{NFD_TITLE}"', NFD_TEXT))
    assert problems == [] and spec.title == "Kiến Thụy mới"
    assert spec.description == unicodedata.normalize("NFC", NFD_TEXT)
    assert unicodedata.is_normalized("NFC", spec.query)


def test_an_nfd_topic_matches_and_finds_what_its_nfc_twin_does(db: Database) -> None:
    """Matching and search keys normalise themselves: composing at save changes no match."""
    from feedsvc.matching import document_from_text, match_document, parse_query, search_keys

    typed = f'"{unicodedata.normalize("NFD", "Kiến Thụy")}"'
    ops.save_topic(db, TopicSpec("kt", NFD_TITLE, typed), "test")
    stored = ops.get_topic(db, "kt").query
    assert stored != typed and unicodedata.is_normalized("NFC", stored)
    text = "Công an huyện Kiến Thụy bắt đối tượng"
    for form in ("NFC", "NFD"):
        doc = document_from_text(unicodedata.normalize(form, text))
        assert match_document(parse_query(stored), doc) and match_document(parse_query(typed), doc)
    assert search_keys(document_from_text(NFD_TITLE)) == search_keys(
        document_from_text(one_line(NFD_TITLE))
    )


def test_a_hide_reason_is_stored_in_nfc(db: Database) -> None:
    from factories import article, builtin_ingestor

    from feedsvc.importer import import_articles
    from feedsvc.lifecycle.editors import hide_article

    import_articles(db, [(1, article(1))], now=db.now)
    assert builtin_ingestor(db).tick().new == 1
    state = hide_article(db, "TEST-00001", NFD_TEXT, "cli")
    assert state.hidden_reason == unicodedata.normalize("NFC", " ".join(NFD_TEXT.split()))


async def test_api_stores_an_nfd_topic_in_nfc(client: httpx.AsyncClient) -> None:
    body = {"slug": "kt", "title": NFD_TITLE, "query": '"Kiến Thụy"', "description": NFD_TEXT}
    r = await client.post("/api/topics", json=body, headers=AUTH)
    assert r.status_code == 201, r.text
    got = (await client.get("/api/topics/kt", headers=AUTH)).json()
    assert got["title"] == "Kiến Thụy mới" and got["title"].encode().hex().count("cc") == 0
    assert got["description"] == unicodedata.normalize("NFC", NFD_TEXT)
    again = {"title": NFD_TITLE + "!", "query": '"Kiến Thụy"', "description": NFD_TEXT}
    r = await client.put("/api/topics/kt", json=again, headers=AUTH)
    assert r.status_code == 200 and r.json()["title"] == "Kiến Thụy mới!", r.text
    listed = (await client.get("/api/topics", headers=AUTH)).json()
    assert "Kiến Thụy mới!" in str(listed) and NFD_TITLE.split()[0] not in str(listed)


def test_cli_topics_add_stores_nfc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = _cli(tmp_path, monkeypatch, "topics", "add", "nfd", "--title", NFD_TITLE,
                        "--query", "a")  # fmt: skip
    assert code == 0, output
    code, output = _cli(tmp_path, monkeypatch, "topics", "list")
    assert "nfd\tenabled\tKiến Thụy mới\ta" in output, output
