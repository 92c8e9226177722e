"""A big topic matcher is kept out of the garbage collector's full scans (issue 17 §2), and the
previous build is still reclaimed when topics change."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from feedsvc import topic_index
from feedsvc.articles import Article
from feedsvc.db import Database
from feedsvc.store.topics import TopicSpec, save_topic
from feedsvc.topic_index import TopicIndex


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # other tests run with a normal collector


def save(db: Database, count: int, when: datetime) -> None:
    with db.write() as conn:
        for i in range(count):
            query = f'"Kiến Thụy {i}" OR "Đồ Sơn {i}"'
            save_topic(conn, TopicSpec(f"t{i}", f"t{i}", query), "cli", when)


def test_a_big_matcher_is_frozen_and_the_old_one_reclaimed(
    lite_db: Database, unfrozen: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(topic_index, "FREEZE_TOPICS", 50)
    now = datetime.now(UTC)
    save(lite_db, 60, now)
    index = TopicIndex()
    cyclic = _Cycle()  # alive when the build freezes everything, garbage (in a cycle) after
    with lite_db.read() as conn:
        index.refresh(conn)
    gone = weakref.ref(cyclic)
    del cyclic
    gc.collect()
    assert gone() is not None  # frozen: a full collection does not see it
    first = index.compiled
    assert first is not None and len(first.matcher) == 60
    frozen = gc.get_freeze_count()
    assert frozen > 60 * 10  # the matcher's objects (and whatever else was alive) are frozen
    old = weakref.ref(first.matcher)
    del first
    save(lite_db, 61, now + timedelta(seconds=1))  # a topic added: a new build
    with lite_db.read() as conn:
        index.refresh(conn)
    assert index.compiled is not None and len(index.compiled.matcher) == 61
    assert old() is None  # the previous build is freed
    assert gone() is None  # and garbage frozen with it was given back to the collector
    assert gc.get_freeze_count() > 0
    doc_hits = index.match(_article("Tin Kiến Thụy 7"))
    assert list(doc_hits.topics) == [index.compiled.by_slug["t7"].id]


def test_a_small_matcher_leaves_the_collector_alone(lite_db: Database, unfrozen: None) -> None:
    save(lite_db, 5, datetime.now(UTC))
    index = TopicIndex()
    with lite_db.read() as conn:
        index.refresh(conn)
    assert index.compiled is not None and gc.get_freeze_count() == 0


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def _article(title: str) -> Article:
    return Article("K-1", "https://example.vn/1", title, datetime.now(UTC))
