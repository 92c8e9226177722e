"""Property tests: invariance under normal form, tone placement and case; total functions."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from feedsvc.matching import (
    QueryError,
    TopicMatcher,
    document_from_text,
    match_document,
    parse_query,
    search_keys,
)
from feedsvc.matching.normalize import clean_text, streams, tokens, visible_text

# Syllables chosen to exercise old/new tone placement (oa, oe, uy), đ, and case.
SYLLABLES = [
    "hòa", "khỏe", "thủy", "Thụy", "quý", "Kiến", "đoàn", "Xá", "an", "ninh", "công", "án",
    "trật", "tự", "Núi", "Đối", "hoàng", "tòa", "xoè", "uỷ", "ban", "5a", "19", "Hải", "Phòng",
]  # fmt: skip
SEPARATORS = [" ", " ", " ", ", ", ". ", " - ", "\u00a0"]

NEW_PLACEMENT = {
    "òa": "oà", "óa": "oá", "ỏa": "oả", "õa": "oã", "ọa": "oạ",
    "òe": "oè", "óe": "oé", "ỏe": "oẻ", "õe": "oẽ", "ọe": "oẹ",
    "ùy": "uỳ", "úy": "uý", "ủy": "uỷ", "ũy": "uỹ", "ụy": "uỵ",
}  # fmt: skip


def swap_placement(text: str) -> str:
    """Rewrite old-style tone placement as new-style and vice versa."""
    out = unicodedata.normalize("NFC", text)
    for old, new in NEW_PLACEMENT.items():
        out = out.replace(old, "\0").replace(new, old).replace("\0", new)
        out = out.replace(old.upper(), "\0").replace(new.upper(), old.upper())
        out = out.replace("\0", new.upper())
    return out


sentences = st.lists(
    st.tuples(st.sampled_from(SYLLABLES), st.sampled_from(SEPARATORS)), min_size=1, max_size=12
).map(lambda parts: "".join(a + b for a, b in parts))

phrases = st.lists(st.sampled_from(SYLLABLES), min_size=1, max_size=3).map(" ".join)
queries = st.one_of(
    phrases.map(lambda p: f'"{p}"'),
    phrases.map(lambda p: f'~"{p}"'),
    st.tuples(phrases, phrases).map(lambda ab: f'"{ab[0]}" OR "{ab[1]}"'),
    st.tuples(phrases, phrases).map(lambda ab: f'"{ab[0]}" -"{ab[1]}"'),
)

variants = st.sampled_from(["NFD", "swap", "upper", "lower", "NFD+swap"])


def variant(text: str, how: str) -> str:
    if "swap" in how:
        text = swap_placement(text)
    if "NFD" in how:
        text = unicodedata.normalize("NFD", text)
    if how == "upper":
        text = text.upper()
    if how == "lower":
        text = text.lower()
    return text


def test_swap_placement_really_swaps() -> None:
    assert swap_placement("hòa khỏe thủy") == "hoà khoẻ thuỷ"
    assert swap_placement("hoà") == "hòa"


@settings(max_examples=300, deadline=None)
@given(query=queries, title=sentences, body=sentences, how=variants)
def test_match_invariant_under_text_variants(query: str, title: str, body: str, how: str) -> None:
    q = parse_query(query)
    base = match_document(q, document_from_text(title, f"<p>{body}</p>"))
    other = document_from_text(variant(title, how), f"<p>{variant(body, how)}</p>")
    assert match_document(q, other) is base


@settings(max_examples=300, deadline=None)
@given(query=queries, title=sentences, how=variants)
def test_match_invariant_under_query_variants(query: str, title: str, how: str) -> None:
    doc = document_from_text(title)
    base = match_document(parse_query(query), doc)
    assert match_document(parse_query(variant(query, how).replace("or", "OR")), doc) is base


@settings(max_examples=200, deadline=None)
@given(query=queries, title=sentences, body=sentences)
def test_topic_matcher_agrees_with_single_query(query: str, title: str, body: str) -> None:
    doc = document_from_text(title, f"<p>{body}</p>", tags=[title])
    matcher = TopicMatcher.build({"t": query})
    assert ("t" in matcher.match(doc)) is match_document(parse_query(query), doc)


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_normaliser_never_raises(text: str) -> None:
    cleaned = clean_text(text)
    streams(cleaned)
    for tok in tokens(cleaned):
        assert cleaned[tok.start : tok.end]
    visible_text(text)
    doc = document_from_text(text, text, summary=text, tags=[text], section=text, author=text)
    search_keys(doc)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from('<>/&;#"= pabrscriptdivx\u00adđ')))
def test_html_like_noise_never_raises(text: str) -> None:
    visible_text(text)
    document_from_text(text, text)


query_alphabet = st.sampled_from([*'()"“”-~@:*/ \taAbOR', "AND", "OR", "NOT", "title:", "x"])


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(), st.lists(query_alphabet).map("".join)))
def test_parser_only_raises_query_error(text: str) -> None:
    try:
        q = parse_query(text, {"x": "a OR b", "y": "@y"}.get)
    except QueryError as exc:
        assert exc.position is None or 0 <= exc.position <= len(text)
        return
    match_document(q, document_from_text(text))
