"""The many-topic matcher: results, labels, errors, refs and agreement with the naive loop."""

from __future__ import annotations

import random
import tomllib
from pathlib import Path

from feedsvc.matching import (
    QueryError,
    TopicMatcher,
    document_from_text,
    match_document,
    parse_query,
)
from feedsvc.matching.multi import triggers

ROOT = Path(__file__).resolve().parents[1]

TOPICS = {
    "kien-thuy": '"Kiến Thụy" OR "Núi Đối" OR "Đoàn Xá"',
    "an-ninh": '"an ninh" OR "công an" OR "trật tự"',
    "kt-an-ninh": "@kien-thuy @an-ninh",
    "giao-thong": '"tai nạn" -"diễn tập"',
    "tag-only": 'tag:"pháp luật"',
    "folded": '~"do son"',
    "title-or": "title:(cháy OR nổ)",
}


def test_match_returns_matching_slugs_with_labels_in_topic_order() -> None:
    m = TopicMatcher.build(TOPICS)
    doc = document_from_text("Công an xã Đoàn Xá", "<p>Giữ gìn trật tự</p>")
    assert m.match(doc) == {
        "kien-thuy": ['"Đoàn Xá"'],
        "an-ninh": ['"công an"', '"trật tự"'],
        "kt-an-ninh": ['"Đoàn Xá"', '"công an"', '"trật tự"'],
    }


def test_negative_terms_and_fields() -> None:
    m = TopicMatcher.build(TOPICS)
    assert "giao-thong" in m.match(document_from_text("Tai nạn trên đường"))
    assert "giao-thong" not in m.match(document_from_text("Diễn tập tai nạn"))
    assert "tag-only" in m.match(document_from_text("Tin", tags=["Pháp luật"]))
    assert "tag-only" not in m.match(document_from_text("Pháp luật"))
    assert "title-or" in m.match(document_from_text("Nổ bình gas"))
    assert "title-or" not in m.match(document_from_text("Tin", "<p>nổ</p>"))


def test_folded_topic() -> None:
    m = TopicMatcher.build(TOPICS)
    assert m.match(document_from_text("Đồ Sơn mùa hè")) == {"folded": ['~"do son"']}


def test_or_topic_found_through_any_branch() -> None:
    m = TopicMatcher.build({"t": "(a b) OR (c d) OR e"})
    assert m.match(document_from_text("d c")) == {"t": ["c", "d"]}
    assert m.match(document_from_text("e")) == {"t": ["e"]}
    assert m.match(document_from_text("a c")) == {}


def test_bad_topics_are_recorded_not_raised() -> None:
    m = TopicMatcher.build(
        {"ok": "an", "mixed": "a b OR c", "neg": "-a", "cycle": "@cycle", "uses-bad": "@mixed x"}
    )
    assert m.slugs == ["ok"]
    assert len(m) == 1
    assert set(m.errors) == {"mixed", "neg", "cycle", "uses-bad"}
    assert all(isinstance(e, QueryError) for e in m.errors.values())
    assert "in @mixed" in m.errors["uses-bad"].message


def test_refs_to_disabled_topics() -> None:
    m = TopicMatcher.build({"both": "@base x"}, refs={"base": "y"})
    assert m.slugs == ["both"]
    assert "both" in m.match(document_from_text("x y"))


def test_empty_matcher_and_empty_document() -> None:
    assert TopicMatcher.build({}).match(document_from_text("an")) == {}
    assert TopicMatcher.build(TOPICS).match(document_from_text("")) == {}


def test_shipped_topics_parse_and_match() -> None:
    data = tomllib.loads((ROOT / "config" / "topics.toml").read_text(encoding="utf-8"))
    topics = {t["slug"]: t["query"] for t in data["topic"]}
    assert set(topics) >= {"kien-thuy", "an-ninh", "giao-thong", "phap-luat", "kien-thuy-an-ninh"}
    for t in data["topic"]:
        assert t["title"] and t["description"]
    m = TopicMatcher.build(topics)
    assert m.errors == {}
    doc = document_from_text(
        "Công an xã Kiến Hải bắt đối tượng trộm cắp",
        "<p>Tại thị trấn Núi Đối cũ, Tòa án nhân dân đã xét xử…</p>",
    )
    got = m.match(doc)
    assert set(got) == {"kien-thuy", "an-ninh", "phap-luat", "kien-thuy-an-ninh"}
    assert m.match(document_from_text("Du lịch Vạn Ninh, ông Công Anh")) == {}
    assert "giao-thong" in m.match(document_from_text("Xử phạt vi phạm nồng độ cồn"))


def test_many_random_topics_agree_with_naive_loop() -> None:
    rng = random.Random(7)
    vocab = [
        "an", "ninh", "công", "anh", "vạn", "kiến", "thụy", "thủy", "hòa", "hoà", "đoàn", "xá",
        "núi", "đối", "tai", "nạn", "cháy",
    ]  # fmt: skip

    def phrase() -> str:
        return " ".join(rng.choice(vocab) for _ in range(rng.randint(1, 2)))

    def query() -> str:
        kind = rng.randrange(5)
        if kind == 0:
            return f'"{phrase()}" OR "{phrase()}"'
        if kind == 1:
            return f'"{phrase()}" -"{phrase()}"'
        if kind == 2:
            return f'title:"{phrase()}" ~"{phrase()}"'
        if kind == 3:
            return f'("{phrase()}" OR tag:"{phrase()}") "{phrase()}"'
        return f'~"{phrase()}"'

    topics = {f"t{i}": query() for i in range(300)}
    m = TopicMatcher.build(topics)
    parsed = {slug: parse_query(q) for slug, q in topics.items()}
    for _ in range(60):
        text = ", ".join(phrase() for _ in range(6))
        doc = document_from_text(phrase(), f"<p>{text}</p>", tags=[phrase()])
        naive = {slug for slug, q in parsed.items() if match_document(q, doc)}
        assert set(m.match(doc)) == naive
        assert m.match_slugs(doc) == list(m.match(doc))  # same topics, same order


def test_triggers_pick_the_selective_side_of_an_and() -> None:
    q = parse_query('"Núi Đối" (cháy OR nổ)')
    trig = triggers(q.root)
    assert trig is not None
    assert {t.label for t in trig[1]} == {'"Núi Đối"'}


def test_triggers_of_or_are_the_union() -> None:
    trig = triggers(parse_query("a OR (b c) OR ~d").root)
    assert trig is not None
    assert {t.label for t in trig[1]} == {"a", "b", "~d"}


def test_topic_without_triggers_is_still_found() -> None:
    q = "NOT NOT an"
    assert triggers(parse_query(q).root) is None
    m = TopicMatcher.build({"t": q, "u": "(an OR -x) ninh"})
    assert m.match(document_from_text("an ninh")) == {"t": ["an"], "u": ["an", "ninh"]}
    assert m.match(document_from_text("ninh")) == {"u": ["ninh"]}
    assert m.match(document_from_text("x")) == {}
