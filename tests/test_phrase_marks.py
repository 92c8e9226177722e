"""Every double-quote style a keyboard or autocorrect types is a phrase in a topic's query
(:mod:`feedsvc.phrase_marks`); the other styles are separate words with the preview's warning.

``„an ninh“`` (German, Czech) was refused everywhere a topic's query is read — "at character
9: unterminated phrase (hint: close it with a second ")": the ``„`` was part of the word
``„an``, and the closing ``“``, one of the language's own marks, opened a phrase — while the
README promised separate words and a warning (a tester's). The class: a style whose closing
mark is another style's opening one: ``„…“``, ``„…”`` (Polish, Hungarian, Romanian), ``‟…”``;
``„…"`` ends at the ASCII quote. Balanced pairs of the other styles (``‚…‘``, ``»…«``,
``'…'``, ``«…»``, ``‹…›``) are words and warned of, never refused. An unterminated phrase's
hint names the mark that closes the one typed."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient
from test_admin import csrf_of
from test_field_limits import API, served

from feedsvc.app import Service
from feedsvc.bot.typed import plain_quotes
from feedsvc.catalogue import Translator
from feedsvc.cli import cli
from feedsvc.cli.match import match
from feedsvc.matching import (
    Query,
    QueryError,
    Term,
    document_from_text,
    match_document,
    parse_query,
    parse_typed,
)
from feedsvc.preview import keyboard_quotes
from feedsvc.store import topics as topic_store
from feedsvc.store.records import TopicSpec

__all__ = ["served"]  # the fixture, shared with test_field_limits

#: balanced pairs of the language's double quotes: each the phrase "an ninh"
PHRASES = ["„an ninh“", "„an ninh”", "‟an ninh”", '„an ninh"', "“an ninh”", "”an ninh”",
           '"an ninh"', "“an ninh“"]  # fmt: skip
#: balanced pairs of other styles: the words an and ninh, warned of
WORDS = ["‚an ninh‘", "‚an ninh’", "»an ninh«", "«an ninh»", "'an ninh'", "‘an ninh’",
         "’an ninh’", "‹an ninh›", "›an ninh‹"]  # fmt: skip
ADJACENT = "Bảo đảm an ninh dịp Tết"
APART = "Ninh Bình bình an"


def shape(node: object) -> object:
    """A parsed query's meaning: its tree without the labels and positions of its terms."""
    if isinstance(node, Term):
        return (node.keys, node.folded, node.mask)
    if isinstance(node, Query):
        return shape(node.root)
    if isinstance(node, tuple):
        return [shape(child) for child in node]
    return (type(node).__name__, [shape(getattr(node, f.name)) for f in fields(node)])  # type: ignore[arg-type]


def matches(query: str, text: str) -> bool:
    return match_document(parse_query(query), document_from_text(text))


@pytest.mark.parametrize("typed", PHRASES)
def test_a_double_quote_pair_is_the_phrase(typed: str) -> None:
    assert matches(typed, ADJACENT) and not matches(typed, APART)
    assert keyboard_quotes(typed) == []


@pytest.mark.parametrize("typed", WORDS)
def test_another_styles_pair_is_the_words_and_warned_of(typed: str) -> None:
    assert matches(typed, ADJACENT) and matches(typed, APART)
    assert [w.typed for w in keyboard_quotes(typed)] == [typed]


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("„an ninh“ OR „trật tự“", '"an ninh" OR "trật tự"'),
        ("„an ninh” -„giao thông”", '"an ninh" -"giao thông"'),
        ("title:„an ninh“ giao", 'title:"an ninh" giao'),
        ("„tin nóng!“ giao", '"tin nóng!" giao'),  # the closer after punctuation
        ("„xem 「phim mới…“", '"xem 「phim mới…"'),
        ('"báo „Tuổi trẻ“ hôm nay"', '"báo Tuổi trẻ hôm nay"'),  # a quotation inside
        ("„báo “Tuổi trẻ” hôm nay“", '"báo Tuổi trẻ hôm nay"'),
        ("“báo „Tuổi trẻ“ hôm nay”", '"báo Tuổi trẻ hôm nay"'),
        ("an„ninh“ x", 'an "ninh" x'),
    ],
)
def test_a_query_of_them_reads_as_its_plain_twin(typed: str, meant: str) -> None:
    assert shape(parse_query(typed)) == shape(parse_query(meant))
    assert keyboard_quotes(typed) == []


@pytest.mark.parametrize(
    ("typed", "mark", "close", "at"),
    [('x "an ninh', '"', '"', 2), ("“an ninh", "“", "”", 0), ("a „b“ „an ninh", "„", "“", 6)],
)
def test_an_unterminated_phrase_names_its_own_closing_mark(
    typed: str, mark: str, close: str, at: int
) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(typed)
    exc = caught.value
    assert (exc.code, exc.position, exc.params) == (
        "unterminated_phrase",
        at,
        {"mark": mark, "close": close},
    )
    assert exc.hint == f"close it with {close}, as in {mark}an ninh{close}"
    assert Translator("en").query_error(exc) == f"unterminated phrase — {exc.hint}"
    assert (
        Translator("vi")
        .query_error(exc)
        .endswith(f"đóng bằng dấu {close}, ví dụ {mark}an ninh{close}")
    )


def test_a_readers_query_reads_them_as_the_topic_language_does() -> None:
    """A ``„`` only opens in a chat's query too: it never closed the phrase around it."""
    assert plain_quotes('"báo „Tuổi trẻ“ hôm nay"') == '"báo Tuổi trẻ hôm nay"'
    assert plain_quotes("„an ninh“ OR „trật tự”") == '"an ninh" OR "trật tự"'


def test_a_query_saved_before_reads_as_it_did() -> None:
    """A ``„`` left open was part of a word; a text only that reading takes is read so still
    (:func:`feedsvc.matching.lexer.earlier_readings`)."""
    assert shape(parse_query("„an ninh")) == shape(parse_query("an ninh"))


@pytest.mark.parametrize("typed", ["„an ninh“", "„an ninh”", "‚an ninh‘", "»an ninh«"])
def test_every_entry_point_takes_them(
    served: tuple[TestClient, Service], typed: str, tmp_path: Path
) -> None:
    client, service = served
    env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    words = typed[0] in "‚»"
    previewed = CliRunner().invoke(cli, ["topics", "preview", typed], env=env)
    assert previewed.exit_code == 0, previewed.output
    assert ("is separate words in a topic's query" in previewed.output) == words
    added = CliRunner().invoke(cli, ["topics", "add", "q1", "--title", "Q", "--query", typed],
                               env=env)  # fmt: skip
    assert added.exit_code == 0, added.output
    api = client.post("/api/topics/preview", json={"query": typed}, headers=API)
    assert api.status_code == 200, api.text
    assert bool(api.json()["warnings"]) == words
    body = {"slug": "q2", "title": "Q", "query": typed}
    assert client.post("/api/topics", json=body, headers=API).status_code == 201
    headers = {"X-CSRF-Token": csrf_of(client)}
    shown = client.post("/admin/preview", json={"query": typed}, headers=headers).json()
    assert "count" in shown and bool(shown["warnings"]) == words, shown
    form = {"csrf": csrf_of(client), "slug": "q3", "title": "Q", "query": typed, "enabled": "on"}
    assert client.post("/admin/topics/new", data=form, follow_redirects=False).status_code == 303
    file = tmp_path / "t.toml"
    file.write_text(f"[[topic]]\nslug = 'q4'\ntitle = 'Q'\nquery = '{typed}'\n", "utf-8")
    imported = CliRunner().invoke(cli, ["topics", "import", str(file)], env=env)
    assert imported.exit_code == 0, imported.output
    with service.db.read() as conn:
        stored = {t.slug: t.query for t in topic_store.list_topics(conn)}
    assert stored == {f"q{n}": typed for n in range(1, 5)}
    line = {"source_key": "A1", "url": "https://x.vn/1", "title": APART,
            "published_at": "2025-03-01T08:00:00"}  # fmt: skip
    stdin = json.dumps(line, ensure_ascii=False) + "\n"
    matched = CliRunner().invoke(match, ["--query", typed], input=stdin)
    assert matched.stdout.split() == (["A1"] if words else []), matched.output


#: typed now, refused by the newest reading, and read as other words by the reading kept for
#: saved queries (``„an ninh“ x“`` was the words an, ninh, x: a tester's)
STRAY = [
    "„an ninh“ x“",
    "„an ninh“ x”",
    "„an ninh“ „trật tự",
    "‟an ninh” x“",
    "„a“ „b“ „c",
    "„an ninh",
]


@pytest.mark.parametrize("typed", STRAY)
def test_a_typed_query_is_never_read_by_a_saved_querys_reading(
    served: tuple[TestClient, Service], typed: str
) -> None:
    client, service = served
    env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    added = CliRunner().invoke(cli, ["topics", "add", "q1", "--title", "Q", "--query", typed],
                               env=env)  # fmt: skip
    assert added.exit_code == 2, added.output
    assert "unterminated phrase" in added.output or "closing quote" in added.output
    previewed = CliRunner().invoke(cli, ["topics", "preview", typed], env=env)
    assert previewed.exit_code == 2, previewed.output
    api = client.post("/api/topics/preview", json={"query": typed}, headers=API)
    assert api.status_code == 422, api.text
    body = {"slug": "q2", "title": "Q", "query": typed}
    assert client.post("/api/topics", json=body, headers=API).status_code == 422
    matched = CliRunner().invoke(match, ["--query", typed], input="")
    assert matched.exit_code == 2, matched.output
    with service.db.read() as conn:
        assert topic_store.list_topics(conn) == []


def test_a_lone_low_quote_typed_now_is_refused_naming_its_closing_mark() -> None:
    """``„an ninh`` saved before reads as the words (above); typed now it is refused like any
    phrase never closed, the hint naming “ (the preview said nothing of it: a tester's)."""
    with pytest.raises(QueryError) as caught:
        parse_typed("„an ninh")
    assert caught.value.code == "unterminated_phrase" and caught.value.params["close"] == "“"
    assert shape(parse_query("„an ninh")) == shape(parse_query("an ninh"))


def test_a_topic_saved_under_an_earlier_reading_is_kept_and_edited(
    served: tuple[TestClient, Service],
) -> None:
    """Saved before the newest reading, ``„an ninh“ x“`` still loads, and its title can be
    edited: only a query that changes is read as typed now."""
    client, service = served
    with service.db.write() as conn:
        topic_store.save_topic(conn, TopicSpec("old", "Old", STRAY[0]), "cli", service.db.now())
    body = {"title": "Renamed", "query": STRAY[0]}
    answer = client.put("/api/topics/old", json=body, headers=API)
    assert answer.status_code == 200, answer.text
    body = {"title": "Renamed again", "query": STRAY[1]}
    refused = client.put("/api/topics/old", json=body, headers=API)
    assert refused.status_code == 422, refused.text
    with service.db.read() as conn:
        (topic,) = topic_store.list_topics(conn)
    assert (topic.title, topic.query) == ("Renamed", STRAY[0])
