"""Invisible format characters a paste brings along (ZWSP, ZWNJ/ZWJ, LRM/RLM, WJ, BOM, soft
hyphen) in a query: read past by the lexer, so a query means what its clean text means.

A tester's ``topics add zz-two --query $'\\u200b@an-ninh'`` was created and matched the words
"an ninh" instead of topic ``an-ninh``'s query; ``@an-ninh\\u200b`` was "term has no letters".
"""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import article, jsonl
from test_cli_topics import run  # noqa: F401  (the fixture: a CLI on a new state DB)

from feedsvc.matching import QueryError, parse_chat_query, parse_query, references
from feedsvc.matching.canonical import canonical_form

#: zero-width space, ZWNJ, ZWJ, LRM, RLM, word joiner, BOM, soft hyphen
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff", "\u00ad"]
TOPICS = {"an-ninh": '"trật tự" OR "công an"', "x": "cháy"}

#: clean query, and the places (``|``) an invisible character is put, each alone and all at once
SHAPES = [
    "|@|an|-|ninh|",
    "kiến @an-ninh|",
    "kiến |@an-ninh",
    "kiến |OR| @an-ninh",
    "@an-ninh |AND| kiến",
    "kiến |NOT| @an-ninh",
    "kiến |-|@an-ninh",
    "kiến |-|thụy",
    "|~|@an-ninh",
    "|title|:|@an-ninh",
    '|"|kiến thụy|"| @x',
    "|(|@an-ninh| OR @x|)| kiến",
    "kiến |(|@an-ninh|)|",
]


def _placements(shape: str) -> list[tuple[str, str]]:
    """(clean query, query with ``mark`` placeholders): each place alone, then every place."""
    parts = shape.split("|")
    clean = "".join(parts)
    out = []
    for k in range(1, len(parts)):
        out.append((clean, "".join(parts[:k]) + "\x00" + "".join(parts[k:])))
    out.append((clean, "\x00".join(parts)))
    return out


CASES = [
    pytest.param(clean, dirty.replace("\x00", mark), id=ascii(dirty.replace("\x00", mark)))
    for shape in SHAPES
    for clean, dirty in _placements(shape)
    for mark in INVISIBLE
]


@pytest.mark.parametrize(("clean", "dirty"), CASES)
def test_a_query_means_what_its_clean_text_means(clean: str, dirty: str) -> None:
    want = parse_query(clean, TOPICS.get)
    got = parse_query(dirty, TOPICS.get)
    assert canonical_form(got.root) == canonical_form(want.root)
    assert [p for _, p in got.terms()] == [p for _, p in want.terms()]
    assert references(dirty) == references(clean)
    assert got.text == dirty  # stored and shown as typed


def test_a_terms_label_is_its_clean_text() -> None:
    """``match --explain`` and the previews show a term as typed, less what no one sees."""
    got = parse_query('~\u200bkiến\u00ad thụy\u200b title:\u2060"an\u200bninh"')
    assert [t.label for t, _ in got.terms()] == ["~kiến", "thụy", 'title:"anninh"']


def test_the_testers_reference_is_the_topic_not_the_words() -> None:
    for query in ("\u200b@an-ninh", "@an-ninh\u200b", "@an\u200b-ninh", "@\u200ban-ninh"):
        labels = sorted(t.label for t, _ in parse_chat_query(query, TOPICS.get).terms())
        assert labels == ['"công an"', '"trật tự"'], repr(query)
        assert references(query) == {"an-ninh"}


def test_an_unknown_reference_stays_an_error_not_a_word_search() -> None:
    with pytest.raises(QueryError) as caught:
        parse_query("\u200b@no-such", TOPICS.get)
    assert caught.value.code == "unknown_ref" and caught.value.params == {"slug": "no-such"}
    assert caught.value.column == 2  # the '@', counted in the text as typed


@pytest.mark.parametrize(
    ("query", "code", "column"),
    [
        ("\u200b\u200b)", "stray_paren", 3),
        ('a \u200b"b', "unterminated_phrase", 4),
        ("a \u200bOR\u200b", "needs_term", 4),
        ("\u200b- a", "detached_prefix", 2),
        ("\u200b@\u200b", "bare_at", 2),
        ("\u200b", "empty", None),  # the whole text is at fault: no one character
        ("\u200b-\u200ba", "no_positive_term", None),
    ],
)
def test_errors_point_into_the_text_as_typed(query: str, code: str, column: int | None) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(query, TOPICS.get)
    assert (caught.value.code, caught.value.column) == (code, column)


# -- the CLI: created, previewed and referenced as the clean query ---------------------------


def test_the_cli_reads_a_pasted_reference_as_the_topic(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from feedsvc.app import Service
    from feedsvc.config import load_config

    src = tmp_path / "a.jsonl"
    words = article(
        2, title="Bàn về an ninh mạng", summary=None, body="<p>Hội thảo.</p>", section=None, tags=()
    )
    src.write_text(jsonl(article(1), words), encoding="utf-8")
    assert run("import", str(src)).exit_code == 0
    url = f"sqlite:///{tmp_path / 'state.db'}"
    service = Service(
        load_config(None, {"database": {"url": url}, "topics": {"import_on_start": False}})
    )
    service.prepare()
    assert service.ingest_tick().new == 2
    added = run("topics", "add", "an-ninh", "--title", "An ninh", "--query", '"công an"')
    assert added.exit_code == 0, added.output
    for n, query in enumerate(("\u200b@an-ninh", "@an-ninh\u200b", "(\u200b@an-ninh\u200b)")):
        created = run("topics", "add", f"zz-{n}", "--title", "Z", "--query", query)
        assert created.exit_code == 0, created.output
        preview = run("topics", "preview", query, "--samples", "0")
        assert preview.exit_code == 0, preview.output
        assert preview.output.startswith("1 of all 2 published articles matches"), preview.output
    refused = run("topics", "remove", "an-ninh")
    assert refused.exit_code == 1
    assert refused.output == "feedsvc: an-ninh is used by zz-0, zz-1, zz-2; change those first\n"
