"""Applying a topics file lexes each query a bounded number of times, not once per changed
topic: the check of what a change breaks (``query_users.broken_users``) asked
``matching.users_of`` slug by slug, and each call lexed every query, so a file of 1,000 new
topics lexed a million queries. ``topics import many.toml`` took 33 s holding SQLite's write
lock, and the running demo's writes failed ("database is locked", its generator's article
lost). Counted, not timed (``bench/topics_import.py`` has the figures).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from backend_cases import module_on_sqlite

from feedsvc.db import Database
from feedsvc.store.records import TopicSpec
from feedsvc.topics_sync import sync_topics

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)


@pytest.fixture
def lexed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every text :func:`feedsvc.matching.references.references` lexes."""
    seen: list[str] = []
    references_module = importlib.import_module("feedsvc.matching.references")
    real = references_module.read_tokens

    def counting(text: str):  # type: ignore[no-untyped-def]
        seen.append(text)
        return real(text)

    monkeypatch.setattr(references_module, "read_tokens", counting)
    yield seen


def _specs(count: int, start: int = 0) -> list[TopicSpec]:
    return [
        TopicSpec(f"bt-{i}", f"Xã số {i}", f'"xã {i}" OR "phường {i}"')
        for i in range(start, start + count)
    ]


@pytest.mark.parametrize("count", [1, 5, 1000])
def test_a_file_of_new_topics_lexes_each_query_a_bounded_number_of_times(
    db: Database, lexed: list[str], count: int
) -> None:
    with db.write() as conn:  # topics already there: the state DB's 5 others
        sync_topics(conn, _specs(5, start=10_000), datetime.now(UTC))
    lexed.clear()
    with db.write() as conn:
        applied = sync_topics(conn, _specs(count), datetime.now(UTC))
    assert applied.counts["created"] == count
    # every topic's query (the file's and the state DB's) once; it was count x (count + 5)
    assert len(lexed) <= 2 * (count + 5), len(lexed)


def test_a_changed_query_still_finds_the_topics_it_breaks(db: Database) -> None:
    """The union over the changed slugs is what it was slug by slug: a chain reaching a
    changed topic is refused by name (no regression of the one-pass rewrite)."""
    from feedsvc.topics_sync import BreaksQueries

    chain = [TopicSpec("base", "Base", '"gốc"')]
    refs = ["base", *(f"r{i}" for i in range(8))]
    chain += [TopicSpec(f"r{i}", f"R{i}", f"@{ref}") for i, ref in enumerate(refs)]
    with db.write() as conn:
        sync_topics(conn, chain, datetime.now(UTC))
    deeper = [TopicSpec("base", "Base", "@leaf"), TopicSpec("leaf", "Leaf", '"lá"'), *chain[1:]]
    with pytest.raises(BreaksQueries) as refused, db.write() as conn:
        sync_topics(conn, deeper, datetime.now(UTC))
    assert "topic r8" in str(refused.value)
