"""Apostrophes that Unicode calls letters separate syllables, as ``'`` and ``’`` do.

A tester's ``Kiếnʼ Thụy`` (U+02BC MODIFIER LETTER APOSTROPHE, typed for ``'`` by some keyboards
and autocorrect) read as the syllable "kiếnʼ", so a topic ``"Kiến Thụy"`` missed it; so did
``KiếnʼThụy`` and text typed with ``ʼ`` as its apostrophe. ``\\w`` counts ``ʼ``, ``ʹ``, ``ʻ``…
as letters; the normaliser's one rule of a syllable's letters (:mod:`feedsvc.matching.letters`)
does not.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feedsvc.articles import Article
from feedsvc.matching import TopicMatcher, document_from_article, match_document, parse_query
from feedsvc.matching.normalize import tokens

#: the tester's, its kin (Lm/Ll apostrophe look-alikes), and two that were separators already
APOSTROPHES = [
    "\u02bc",  # ʼ MODIFIER LETTER APOSTROPHE
    "\u02b9",  # ʹ MODIFIER LETTER PRIME
    "\u02ba",  # ʺ MODIFIER LETTER DOUBLE PRIME
    "\u02bb",  # ʻ MODIFIER LETTER TURNED COMMA
    "\u02bd",  # ʽ MODIFIER LETTER REVERSED COMMA
    "\u02be",  # ʾ MODIFIER LETTER RIGHT HALF RING
    "\u02bf",  # ʿ MODIFIER LETTER LEFT HALF RING
    "\u02c8",  # ˈ MODIFIER LETTER VERTICAL LINE
    "\u02ee",  # ˮ MODIFIER LETTER DOUBLE APOSTROPHE
    "\ua78b",  # Ꞌ LATIN CAPITAL LETTER SALTILLO
    "\ua78c",  # ꞌ LATIN SMALL LETTER SALTILLO
    "\u055a",  # ՚ ARMENIAN APOSTROPHE
    "\uff07",  # ＇ FULLWIDTH APOSTROPHE
]


def _keys(text: str) -> list[tuple[int, str, str]]:
    return [(t.sentence, t.exact, t.folded) for t in tokens(text)]


@pytest.mark.parametrize("mark", APOSTROPHES)
def test_it_splits_syllables_as_an_ascii_apostrophe_does(mark: str) -> None:
    for text in (
        "Kiến{m} Thụy",
        "Kiến{m}Thụy",
        "{m}Kiến Thụy{m}",
        "Xã Đoàn Xá, huyện Kiến Thụy{m}s mới",
        "Nghe {m}Hòa{m} ở TP.{m} Hải Phòng",
        "Tại TP{m}. Hải Phòng",
    ):
        assert _keys(text.format(m=mark)) == _keys(text.format(m="'")), text


def _article(field: str, text: str) -> Article:
    fields: dict[str, object] = {
        "source_key": "AP-1",
        "url": "https://baohaiphong.example/tin/1.html",
        "title": "Tin",
        "published_at": datetime(2024, 5, 1, 3, 0, tzinfo=UTC),
    }
    fields[field] = [text] if field == "tags" else text
    return Article(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("mark", APOSTROPHES)
@pytest.mark.parametrize("field", ["title", "summary", "body", "tags"])
def test_a_topic_kien_thuy_matches_text_typed_with_it(mark: str, field: str) -> None:
    at = "tag:" if field == "tags" else ""  # no field: title, summary and body
    for text in (f"Kiến{mark} Thụy", f"Huyện Kiến{mark}Thụy", f"{mark}Kiến Thụy{mark} mới"):
        doc = document_from_article(_article(field, text))
        for query in ('"Kiến Thụy"', '~"kien thuy"', f'"Kiến{mark} Thụy"', "Kiến"):
            query = at + query
            assert match_document(parse_query(query), doc), (query, text)
            assert "t" in TopicMatcher.build({"t": query}).match(doc), (query, text)
        assert not match_document(parse_query(f'{at}"Kiến Thủy"'), doc)
