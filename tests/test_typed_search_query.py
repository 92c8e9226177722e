"""A reader's query reads alike in a chat and in a search feed; the query language's own quote
marks pair either way; a dash or ``!`` glued in front of a term is NOT (a tester's findings 4
and 6).

Before, ``/feeds/search.*?q='an ninh'`` (or ``«an ninh»``) was the words ``'an`` and ``ninh'``
anywhere while ``/sub`` read the phrase, ``”an ninh”`` was a 400, ``－giao`` a required word;
``"an ninh”`` was "unterminated phrase" everywhere (the topics file too) while ``“an ninh"``
was read; and ``"an ninh" –giao`` (an en dash from a word processor) required giao.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from backend_cases import module_on_sqlite
from factories import article
from test_on_demand import app_service, read_feed, setup

from feedsvc.app import create_app
from feedsvc.bot.actions import normalise
from feedsvc.catalogue import Translator
from feedsvc.db import Database
from feedsvc.matching import (
    QueryError,
    TopicMatcher,
    document_from_text,
    match_document,
    parse_query,
    query_digest,
    references,
)
from feedsvc.store.source_articles import upsert_source_articles

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

ARTICLES = {
    1: "Tin an ninh trật tự ở Kiến Thụy",  # the phrase
    2: "Ninh Bình bàn chuyện an toàn",  # an, ninh apart
    3: "Bảo đảm an ninh giao thông dịp Tết",  # the phrase, and giao
}
PHRASE = [1, 3]
WITHOUT_GIAO = [1]

#: as readers type "an ninh" (keyboards, pastes, phones) → what the search finds
TYPED = {
    "'an ninh'": PHRASE,
    "«an ninh»": PHRASE,
    "‘an ninh’": PHRASE,
    "„an ninh“": PHRASE,
    "”an ninh”": PHRASE,
    '"an ninh”': PHRASE,
    '“an ninh"': PHRASE,
    "「an ninh」": PHRASE,
    "＂an ninh＂": PHRASE,
    '"an ninh" －giao': WITHOUT_GIAO,  # full-width hyphen-minus
    '"an ninh" –giao': WITHOUT_GIAO,  # en dash
    '"an ninh" —giao': WITHOUT_GIAO,  # em dash
    '"an ninh" −giao': WITHOUT_GIAO,  # minus sign
    '"an ninh" !giao': WITHOUT_GIAO,
    # a run of marks glued to a term is one NOT: "--" is how some keyboards type an em dash
    '"an ninh" --giao': WITHOUT_GIAO,
    '"an ninh" －－giao': WITHOUT_GIAO,
    '"an ninh" –-giao': WITHOUT_GIAO,
    '"an ninh" !!giao': WITHOUT_GIAO,
    "'an ninh' NOT giao": WITHOUT_GIAO,
    "an ninh": [1, 2, 3],  # words: unchanged
}


def found(db: Database, pub: Any, query: str) -> list[int]:
    links, _ = read_feed(pub.search(query, "json", 50).body, "json")
    return sorted(int(link.rsplit("/", 1)[1].split(".")[0]) for link in links)


@pytest.fixture
def searched(db: Database) -> Any:
    ing, pub = setup(db)
    items = [article(n, title=title, summary="", body="") for n, title in ARTICLES.items()]
    with db.write() as conn:
        upsert_source_articles(conn, items, datetime.now(UTC))
    assert ing.tick().error is None
    return pub


def test_a_search_feed_reads_a_typed_query_as_the_bot_does(db: Database, searched: Any) -> None:
    for typed, expected in TYPED.items():
        assert found(db, searched, typed) == expected, typed
    # the chat's subscription of the same text means the same
    for typed in TYPED:
        chat = query_digest(parse_query(normalise(typed)))
        searched_for = {query_digest(parse_query(t)) for t in ('"an ninh"', '"an ninh" -giao')}
        assert chat in searched_for or typed == "an ninh", typed


@pytest.mark.parametrize(
    ("typed", "code", "mark"),
    [("«an ninh", "quote_unclosed", "«"), ("an ninh」", "quote_stray", "」")],
)
def test_a_search_whose_quotes_cannot_be_read_is_refused_in_words(
    db: Database, searched: Any, typed: str, code: str, mark: str
) -> None:
    with pytest.raises(QueryError) as refused:
        searched.search(typed, "rss", 50)
    assert refused.value.code == code and refused.value.params == {"mark": mark}
    vi = Translator("vi").query_error(refused.value, "search")
    assert mark in vi and "dấu" in vi
    assert mark in Translator("en").query_error(refused.value, "search")


# -- the topic language (admins: topics file, admin, API, previews): the lexer ----------------


def doc(title: str) -> Any:
    return document_from_text(title)


@pytest.mark.parametrize(
    "query", ['"an ninh”', "”an ninh”", '“an ninh"', "“an ninh“", '"an ninh"', "“an ninh”"]
)
def test_the_languages_own_quotes_close_each_other_either_way(query: str) -> None:
    parsed = parse_query(query)
    assert query_digest(parsed) == query_digest(parse_query('"an ninh"'))
    assert [match_document(parsed, doc(t)) for t in ARTICLES.values()] == [True, False, True]


def test_several_phrases_in_mixed_marks() -> None:
    parsed = parse_query('"an ninh” -"giao thông”')
    assert query_digest(parsed) == query_digest(parse_query('"an ninh" -"giao thông"'))


def test_queries_read_before_read_the_same() -> None:
    """Only refusals became meanings: an inner “…” stays inside its phrase, and a text the new
    reading refuses but the old one read (a ” alone inside a straight phrase) reads as before."""
    inner = parse_query('"báo “Tuổi trẻ” hôm nay"')
    assert match_document(inner, doc("Theo báo Tuổi trẻ hôm nay"))
    old = parse_query('"abc” def" x')
    assert match_document(old, doc("abc def x")) and not match_document(old, doc("abc x def"))
    assert references('"abc” def" @an-ninh') == frozenset({"an-ninh"})


@pytest.mark.parametrize("mark", ["-", "–", "—", "−", "－", "‐", "‑", "﹣", "!"])
def test_a_dash_or_bang_glued_to_a_term_is_not(mark: str) -> None:
    parsed = parse_query(f'"an ninh" {mark}giao')
    assert query_digest(parsed) == query_digest(parse_query('"an ninh" -giao'))
    matcher = TopicMatcher.build({"dash": f'"an ninh" {mark}giao'})  # ingest's path
    assert [bool(matcher.match(doc(t))) for t in ARTICLES.values()] == [True, False, False]
    with pytest.raises(QueryError) as detached:  # as before: a separator is not told to glue
        parse_query(f'"an ninh" {mark} giao')
    assert detached.value.code == ("detached_prefix" if mark == "-" else "no_letters")


#: runs of NOT marks as typed: two hyphens for an em dash, a word processor's dash after a
#: hyphen, doubled bangs, full-width and minus-sign pairs
RUNS = ["--", "---", "–-", "-–", "——", "!!", "-!", "!-", "－－", "−−", "‐‐", "-－"]


@pytest.mark.parametrize("run", RUNS)
def test_a_run_of_dashes_or_bangs_glued_to_a_term_is_one_not(run: str) -> None:
    """``--giao`` was NOT NOT giao, ``–-giao`` and ``!!giao`` the word giao: giao *required*,
    in topics, ``/sub`` and search feeds alike, where ``-giao`` and ``–giao`` left it out."""
    for term, plain in (
        ("giao", "-giao"),
        ('"giao thông"', '-"giao thông"'),
        ("(giao OR xe)", "-(giao OR xe)"),
        ("title:giao", "-title:giao"),
        ("~giao", "-~giao"),
    ):
        meant = query_digest(parse_query(f'"an ninh" {plain}'))
        assert query_digest(parse_query(f'"an ninh" {run}{term}')) == meant, term
        assert query_digest(parse_query(normalise(f'"an ninh" {run}{term}'))) == meant, term
    matcher = TopicMatcher.build({"dash": f'"an ninh" {run}giao'})  # ingest's path
    assert [bool(matcher.match(doc(t))) for t in ARTICLES.values()] == [True, False, False]


@pytest.mark.parametrize("run", ["--", "–-", "!!"])
def test_a_run_of_marks_before_a_space_is_no_not(run: str) -> None:
    """Not glued to a term, a run is refused or a separator, as a single mark is."""
    with pytest.raises(QueryError) as detached:
        parse_query(f'"an ninh" {run} giao')
    assert detached.value.code == ("detached_prefix" if run[0] == "-" else "no_letters")


@pytest.mark.parametrize("mark", ["–", "!"])
def test_a_dash_or_bang_glued_to_nothing_else_is_refused_as_before(mark: str) -> None:
    with pytest.raises(QueryError) as refused:
        parse_query(f"{mark}giao")
    assert refused.value.code == "no_positive_term"


def test_a_dash_inside_a_word_or_phrase_is_a_separator_as_before() -> None:
    with pytest.raises(QueryError) as doubled:
        parse_query("a !!!")
    assert doubled.value.code == "no_letters"
    with pytest.raises(QueryError) as alone:
        parse_query("a ”")
    assert alone.value.code == "stray_quote"
    assert match_document(parse_query("2020–2021"), doc("Niên khóa 2020–2021"))
    assert match_document(parse_query("Cháy!"), doc("Cháy ở chợ"))
    assert match_document(parse_query('"Hà Nội – Hải Phòng"'), doc("Cao tốc Hà Nội – Hải Phòng"))


async def test_the_search_route_reads_and_refuses_as_the_bot_does(tmp_path: Path) -> None:
    """Through the app (route, percent-encoding, the 400's words in ``site.language``)."""
    service = app_service(tmp_path)  # articles titled "Công an Kiến Thụy bắt …"
    transport = httpx.ASGITransport(app=create_app(service))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            phrase = await client.get("/feeds/search.json", params={"q": '"Kiến Thụy"'})
            for typed in ("«Kiến Thụy»", "'Kiến Thụy'", "”Kiến Thụy”", '"Kiến Thụy”'):
                got = await client.get("/feeds/search.json", params={"q": typed})
                assert got.status_code == 200, (typed, got.text)
                items = [i["url"] for i in got.json()["items"]]
                assert items == [i["url"] for i in phrase.json()["items"]] and items, typed
            swapped = await client.get("/feeds/search.json", params={"q": "«Thụy Kiến»"})
            assert swapped.status_code == 200 and swapped.json()["items"] == []  # a phrase
            refused = await client.get("/feeds/search.rss", params={"q": "«Kiến Thụy"})
            assert refused.status_code == 400
            assert "«" in refused.text and "dấu" in refused.text, refused.text
    finally:
        service.close()
