"""``feedsvc.bot.meaning``: which topic or stored query a typed query means, at a cost that does
not grow with every ``/sub`` (the comparison runs inside the subscribing write transaction)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feedsvc.bot import meaning as m
from feedsvc.store.records import Topic

NOW = datetime(2026, 12, 4, tzinfo=UTC)


def topics(n: int) -> list[Topic]:
    return [Topic(i, f"t{i}", f"T {i}", "", f'"phường {i}" OR "xã {i}"', True, "db", NOW)
            for i in range(n)]  # fmt: skip


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every query text :mod:`feedsvc.bot.meaning` parses, its store emptied first."""
    seen: list[str] = []
    real = m.parse_query

    def counting(text: str, resolve: m.Resolver) -> object:
        seen.append(text)
        return real(text, resolve)

    m._own_meaning.cache_clear()
    monkeypatch.setattr(m, "parse_query", counting)
    return seen


def test_the_topics_queries_are_parsed_once_not_at_every_command(parses: list[str]) -> None:
    """5,000 topics: a second and a third ``/sub`` parse only what was typed (0.4 s of parsing
    inside the write lock each time before)."""
    many = topics(5000)
    assert m.topic_meant(many, '"XÃ 4999" OR "Phường 4999"', lambda s: None) == many[4999]
    first = len(parses)
    assert first == 5001
    assert m.topic_meant(many, "kiến thụy", lambda s: None) is None
    assert m.topic_meant(many, '"Xã 7" OR "PHƯỜNG 7"', lambda s: None) == many[7]
    assert len(parses) == first + 2


def test_a_query_referencing_a_topic_follows_that_topic_now() -> None:
    """``@slug`` queries are not kept: their meaning is the referenced topic's of now."""
    ref = Topic(1, "ref", "R", "", "@a", True, "db", NOW)
    assert m.topic_meant([ref], "an ninh", {"a": "an ninh"}.get) == ref
    assert m.topic_meant([ref], "an ninh", {"a": "công an"}.get) is None
    assert m.topic_meant([ref], "công an", {"a": "công an"}.get) == ref


def test_a_disabled_topic_is_never_meant(parses: list[str]) -> None:
    off = Topic(1, "off", "O", "", "an ninh", False, "db", NOW)
    assert m.topic_meant([off], "An Ninh", lambda s: None) is None
