"""The incremental query set: same answers as the topic matcher, through any add/remove history."""

from __future__ import annotations

import random

from feedsvc.matching import Document, TopicMatcher, document_from_text, match_document, parse_query
from feedsvc.matching.queryset import QuerySet

VOCAB = [
    "an", "ninh", "công", "anh", "vạn", "kiến", "thụy", "thủy", "hòa", "hoà", "đoàn", "xá",
    "núi", "đối", "tai", "nạn", "cháy",
]  # fmt: skip
REFS = {
    "kien-thuy": '"Kiến Thụy" OR "Núi Đối" OR "Đoàn Xá"',
    "an-ninh": '"an ninh" OR "công an"',
}


def _random_query(rng: random.Random) -> str:
    def phrase() -> str:
        return " ".join(rng.choice(VOCAB) for _ in range(rng.randint(1, 3)))

    return rng.choice(
        [
            lambda: f'"{phrase()}" OR "{phrase()}"',
            lambda: f'"{phrase()}" -"{phrase()}"',
            lambda: f'title:"{phrase()}" ~"{phrase()}"',
            lambda: f'("{phrase()}" OR tag:"{phrase()}") "{phrase()}"',
            lambda: f'~"{phrase()}"',
            lambda: f'@kien-thuy "{phrase()}"',
            lambda: f'@an-ninh OR title:"{phrase()}"',
            lambda: f'NOT NOT "{phrase()}"',
            lambda: f'"{phrase()}" OR (NOT "{phrase()}" "{phrase()}")',
        ]
    )()


def _random_doc(rng: random.Random) -> Document:
    def phrase() -> str:
        return " ".join(rng.choice(VOCAB) for _ in range(rng.randint(1, 3)))

    body = ", ".join(phrase() for _ in range(rng.randint(0, 8)))
    return document_from_text(phrase(), f"<p>{body}</p>", tags=[phrase()])


def test_agrees_with_the_naive_loop_and_the_topic_matcher_through_churn() -> None:
    """Queries added and removed at random (shared needles dropping to zero users and coming
    back): after every step, matches and labels equal a fresh TopicMatcher's."""
    rng = random.Random(12)
    qs: QuerySet[int] = QuerySet()
    held: dict[int, str] = {}
    hits = 0
    for step in range(400):
        if held and rng.random() < 0.4:
            key = rng.choice(list(held))
            assert qs.remove(key)
            del held[key]
        else:
            key = rng.randrange(120)
            held[key] = _random_query(rng)
            qs.add(key, parse_query(held[key], REFS.get))
        if step % 20:
            continue
        fresh = TopicMatcher.build({str(k): q for k, q in held.items()}, refs=REFS)
        parsed = {k: parse_query(q, REFS.get) for k, q in held.items()}
        for _ in range(15):
            doc = _random_doc(rng)
            got = qs.match(doc)
            assert set(got) == {k for k, q in parsed.items() if match_document(q, doc)}
            assert {str(k): v for k, v in got.items()} == fresh.match(doc)
            assert qs.match_keys(doc) == set(got)
            hits += len(got)
    assert len(qs) == len(held)
    assert hits > 100  # the comparison is about matches, not about empty answers


def test_removing_everything_forgets_every_needle() -> None:
    rng = random.Random(3)
    qs: QuerySet[int] = QuerySet()
    for key in range(50):
        qs.add(key, parse_query(_random_query(rng), REFS.get))
    qs.add(7, parse_query('"an ninh"'))  # replacing a key releases what it held
    assert qs.needles > 0
    for key in range(50):
        assert qs.remove(key)
    assert not qs.remove(0)
    assert (len(qs), qs.needles) == (0, 0)
    assert not any(root.children for root in qs._needles.roots.values())  # tries pruned
    assert qs.match(document_from_text("an ninh", "công an Kiến Thụy")) == {}


def test_phrases_need_adjacent_keys_within_one_sentence() -> None:
    qs: QuerySet[str] = QuerySet()
    qs.add("p", parse_query('"công an" "Kiến Thụy"'))
    qs.add("q", parse_query('title:"an ninh"'))
    assert qs.match(document_from_text("x", "Công an huyện Kiến Thụy")) == {
        "p": ['"công an"', '"Kiến Thụy"']
    }
    assert qs.match(document_from_text("x", "công. an Kiến Thụy")) == {}  # split by a break
    assert qs.match(document_from_text("x", "an công Kiến Thụy")) == {}  # not adjacent
    assert qs.match(document_from_text("x", "an ninh")) == {}  # title only
    assert qs.match(document_from_text("An ninh", "")) == {"q": ['title:"an ninh"']}


def test_a_query_with_no_trigger_is_evaluated_for_every_article() -> None:
    qs: QuerySet[int] = QuerySet()
    qs.add(1, parse_query('NOT NOT "cháy"'))
    assert qs.match(document_from_text("Cháy lớn", "")) == {1: ['"cháy"']}
    assert qs.match(document_from_text("Mưa", "")) == {}
