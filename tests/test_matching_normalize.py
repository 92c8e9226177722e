"""The shared normaliser: visible text, cleaning, syllable keys, streams, spans, search keys."""

from __future__ import annotations

import unicodedata

import pytest

from feedsvc.articles import parse_article
from feedsvc.matching import document_from_article, document_from_text, search_keys
from feedsvc.matching.normalize import (
    clean_text,
    normalize_query_terms,
    streams,
    syllable_keys,
    tokens,
    visible_text,
)


@pytest.mark.parametrize(
    ("syllable", "exact", "folded"),
    [
        ("hòa", "hoa2", "hoa"),
        ("hoà", "hoa2", "hoa"),
        ("HOÀ", "hoa2", "hoa"),
        ("thủy", "thuy3", "thuy"),
        ("thuỷ", "thuy3", "thuy"),
        ("Thụy", "thuy5", "thuy"),
        ("khỏe", "khoe3", "khoe"),
        ("khoẻ", "khoe3", "khoe"),
        ("qúy", "quy1", "quy"),
        ("quý", "quy1", "quy"),
        ("Đường", "đương2", "duong"),
        ("Ðường", "đương2", "duong"),
        ("ðường", "đương2", "duong"),
        ("ngữ", "ngư4", "ngu"),
        ("an", "an", "an"),
        ("án", "an1", "an"),
        ("5a", "5a0", "5a"),
        ("a2", "a20", "a2"),
        ("à", "a2", "a"),
        ("2025", "20250", "2025"),
    ],
)
def test_syllable_keys(syllable: str, exact: str, folded: str) -> None:
    assert syllable_keys(syllable) == (exact, folded)
    assert syllable_keys(unicodedata.normalize("NFD", syllable)) == (exact, folded)


def test_tone_key_keeps_vowel_quality() -> None:
    keys = {syllable_keys(s)[0] for s in ("an", "ăn", "ân", "án", "ắn", "ấn")}
    assert len(keys) == 6


def test_visible_text_drops_tags_attributes_scripts() -> None:
    html = (
        '<div class="an ninh"><p>Một <b>hai</b></p><script>ba()</script>'
        "<style>p{}</style><!-- bốn --><p>năm&amp;sáu</p></div>"
    )
    text = visible_text(html)
    assert text.split() == ["Một", "hai", "năm&sáu"]
    assert "\n" in text.split("hai")[1]  # block boundary is a break


def test_visible_text_newlines_in_html_are_spaces() -> None:
    assert "\n" not in visible_text("<b>một\nhai</b>")


def test_plain_text_newline_is_a_break() -> None:
    assert streams(clean_text("an\nninh")).exact == " an | ninh "


def test_visible_text_never_raises_on_broken_html() -> None:
    for markup in ("<p", "<<>>", "</p></div>", "<a href='", "&#xffffff;", "<![CDATA[x"):
        assert isinstance(visible_text(markup), str)


def test_clean_text_removes_invisible_and_composes() -> None:
    raw = "Kiê\u0301\u00adn\u200b Thu\u0323y\ufeff"
    assert clean_text(raw) == "Kiến Thụy"


def test_streams_mark_sentence_breaks() -> None:
    s = streams(clean_text("Kiến Thụy, Hải Phòng. Mưa"))
    assert s.exact == " kiên1 thuy5 | hai3 phong2 | mưa "
    assert s.folded == " kien thuy | hai phong | mua "


def test_streams_separators_are_not_breaks() -> None:
    s = streams(clean_text("An ninh - Trật tự / “Hải” — Phòng"))
    assert "|" not in s.exact


def test_tokens_spans_point_into_text() -> None:
    text = clean_text("Công an huyện Kiến Thuỵ, Hải Phòng")
    toks = tokens(text)
    assert [text[t.start : t.end] for t in toks] == [
        "Công", "an", "huyện", "Kiến", "Thuỵ", "Hải", "Phòng",
    ]  # fmt: skip
    assert [t.sentence for t in toks] == [0, 0, 0, 0, 0, 1, 1]


def test_tokens_and_streams_agree() -> None:
    text = clean_text("A, b. (c) d… e; f: g! 1.000 h\ni — j / k")
    toks = tokens(text)
    s = streams(text).exact.split()
    # drop runs of breaks and compare sentence structure
    rebuilt: list[str] = []
    for key in s:
        if key == "|" and (not rebuilt or rebuilt[-1] == "|"):
            continue
        rebuilt.append(key)
    if rebuilt and rebuilt[-1] == "|":
        rebuilt.pop()
    expected: list[str] = []
    for prev, tok in zip([None, *toks], toks, strict=False):
        if prev is not None and prev.sentence != tok.sentence:
            expected.append("|")
        expected.append(tok.exact)
    assert rebuilt == expected


def test_normalize_query_terms_groups_by_sentence() -> None:
    assert normalize_query_terms("Kiến Thụy") == [[("kiên1", "kien"), ("thuy5", "thuy")]]
    assert len(normalize_query_terms("a, b")) == 2
    assert normalize_query_terms("!!!") == []


def test_document_fields_from_article() -> None:
    article = parse_article(
        {
            "source_key": "k1",
            "url": "https://example.vn/a",
            "title": "Tin Kiến Thụy",
            "summary": "Tóm tắt",
            "body": "<p>Nội dung</p>",
            "tags": ["An ninh", "Giao thông"],
            "section": "Thời sự",
            "author": "Lan Anh",
            "published_at": "2025-01-02T03:04:05+07:00",
        }
    )
    doc = document_from_article(article)
    assert [(f.name, f.text) for f in doc.fields] == [
        ("title", "Tin Kiến Thụy"),
        ("body", "Tóm tắt\nNội dung"),
        ("tag", "An ninh"),
        ("tag", "Giao thông"),
        ("section", "Thời sự"),
        ("author", "Lan Anh"),
    ]


def test_empty_fields_are_left_out() -> None:
    doc = document_from_text("", "<p> </p>", tags=["", "  "])
    assert doc.fields == ()


def test_search_keys_have_both_forms_deduplicated() -> None:
    doc = document_from_text("Kiến Thụy, Kiến Thuỵ", "<p>hòa hoà</p>")
    keys = search_keys(doc).split()
    assert keys == ["kiên1", "thuy5", "kien", "thuy", "hoa2", "hoa"]
    assert "|" not in keys
