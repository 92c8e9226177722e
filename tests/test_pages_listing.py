"""The index page's pages and topic filter (``feedsvc.pages.listing``), pure: what a client
sends as ``?page=``/``?q=`` is read, never refused, and the filter compares through the
matcher's normaliser (case, tone and vowel marks, đ folded)."""

from __future__ import annotations

import pytest

from feedsvc.catalogue import Translator
from feedsvc.pages import IndexView, Site, index_entries, page_topic, render_index_of
from feedsvc.pages import subscribe_links as links
from feedsvc.pages.listing import (
    MAX_QUERY_CHARS,
    PAGE_SIZE,
    clean_query,
    matching,
    page_count,
    paging,
    query_words,
    read_page,
    search_key,
)


@pytest.mark.parametrize(
    ("value", "page"),
    [
        (None, 1),
        ("", 1),
        ("2", 2),
        (" 3 ", 3),
        ("0", 1),
        ("-1", 1),
        ("abc", 1),
        ("1e9", 1),
        ("2.0", 1),
        ("１２", 1),  # full-width digits: int() would read 12
        ("+2", 1),
        ("1_0", 1),
        ("99999999999999999999", 99999999999999999999),  # clamped by paging()
        ("9" * 100_000, 1),  # past any number typed (int() refuses > 4,300 digits)
    ],
)
def test_any_page_parameter_reads_as_a_page(value: str | None, page: int) -> None:
    assert read_page(value) == page


def test_a_page_past_the_last_is_the_last_and_an_empty_list_has_one_page() -> None:
    assert paging(3000, 99999999999999999999) == paging(3000, 60)
    at = paging(3000, 2)
    assert (at.page, at.pages, at.first, at.last, at.start) == (2, 60, 51, 100, 50)
    last = paging(111, 7)
    assert (last.page, last.first, last.last) == (3, 101, 111)
    empty = paging(0, 5)
    assert (empty.page, empty.pages, empty.first, empty.last) == (1, 1, 0, 0)
    assert [page_count(n) for n in (0, 1, PAGE_SIZE, PAGE_SIZE + 1)] == [1, 1, 1, 2]


@pytest.mark.parametrize(
    ("value", "query"),
    [
        (None, ""),
        ("  ", ""),
        ("Kiến\x00 Thụy\x1b[31m", "Kiến Thụy [31m"),
        ("a\x7f\x85b", "a b"),
        ("\ud800Đồ Sơn\udfff", "Đồ Sơn"),  # lone surrogates: the page could not be encoded
        ("a\tb\n\nc", "a b c"),
        ("\u202ekien\x1b[31m", "kien [31m"),  # a bidi override is dropped, not kept
        ("Ki\u200bến \u2066Thụy\u2069\u00ad", "Kiến Thụy"),  # zero-width, isolates, soft hyphen
        ("\ufeff\u202a\u202b\u202c\u202d\u200e\u200f", ""),  # only format characters
    ],
)
def test_the_query_loses_control_characters(value: str | None, query: str) -> None:
    assert clean_query(value) == query


def test_a_huge_query_is_cut() -> None:
    cut = clean_query("Kiến Thụy " * 10_000)  # 100 KB
    assert len(cut) <= MAX_QUERY_CHARS and cut.startswith("Kiến Thụy Kiến")
    assert not cut.endswith(" ")


TOPICS = [
    ("Kiến Thụy", "kien-thuy", "Huyện Kiến Thụy, Hải Phòng"),
    ("Kiến An", "kien-an", ""),
    ("Đồ Sơn", "do-son", "Bãi biển và lễ hội chọi trâu"),
    ("Thủy Nguyên", "thuy-nguyen", ""),
    ("Tin nhanh", "tin-nhanh", "Điểm tin hằng ngày"),
]
KEYS = [search_key(*topic) for topic in TOPICS]


def found(query: str) -> list[str]:
    return [TOPICS[i][1] for i in matching(KEYS, query_words(clean_query(query)))]


@pytest.mark.parametrize(
    "query",
    ["kien thuy", "Kiến Thụy", "KIẾN THỤY", "kiến thuỵ", "KiẾn ThỤy", "kien-thuy", "kiến th"],
)
def test_every_spelling_of_a_name_finds_it(query: str) -> None:
    assert found(query) == ["kien-thuy"]


def test_words_match_title_slug_or_description_anywhere_each_as_a_syllable_start() -> None:
    assert found("kien") == ["kien-thuy", "kien-an"]
    assert found("thuy") == ["kien-thuy", "thuy-nguyen"]  # not "Thủy" inside a word
    assert found("choi trau") == ["do-son"]  # the description
    assert found("DIEM TIN") == ["tin-nhanh"]
    assert found("dd") == [] and found("ien") == []  # "ien" is inside "kien": no start
    assert found("hai phong kien") == ["kien-thuy"]  # every word, any order
    assert query_words("!!! ... ") == ()  # no word: nothing is filtered


def test_page_links_and_counts_in_either_language() -> None:
    site = Site("Báo", "https://b.vn", "https://tin.b.vn/")
    topics = [page_topic(s, t, d, 0, [], links("https://tin.b.vn", s, None)) for t, s, d in TOPICS]
    for language, counted in (
        ("vi", "Chủ đề 2.951–3.000 trên 3.000"),
        ("en", "Topics 2,951–3,000 of 3,000"),
    ):
        t = Translator(language)
        view = IndexView(paging(3000, 60), "", search=True)
        body = render_index_of(t, site, index_entries(t, site, topics), view).decode()
        assert counted in body and 'name="q"' in body
        assert '<link rel="prev" href="https://tin.b.vn/?page=59">' in body
        assert 'rel="next"' not in body
    view = IndexView(paging(120, 2), "Kiến & <An>", search=True)
    body = render_index_of(Translator("en"), site, [], view).decode()
    assert 'href="https://tin.b.vn/?q=Ki%E1%BA%BFn+%26+%3CAn%3E">' in body  # page 1: no page=
    assert 'href="https://tin.b.vn/?q=Ki%E1%BA%BFn+%26+%3CAn%3E&amp;page=3">' in body
    assert 'value="Kiến &amp; &lt;An&gt;"' in body and "<An>" not in body
    assert '<meta name="robots" content="noindex">' in body
