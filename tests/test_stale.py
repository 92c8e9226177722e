"""Feeds during a catch-up (feedsvc.stale): marked per batch, rendered together."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from feedsvc.app import Roles, Service
from feedsvc.config import load_config
from feedsvc.db.schema import source_articles
from feedsvc.stale import StaleTopics
from feedsvc.store.topics import TopicSpec, save_topic


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_failed_render_is_due_at_once_and_held_until_then() -> None:
    clock = Clock()
    stale = StaleTopics(quiet=2.0, every=60.0, clock=clock)
    stale.mark(["a"])
    assert stale.due() == []  # marking goes on
    stale.retry(["b"])
    assert len(stale) == 2
    assert stale.due() == ["a", "b"]  # the next sync, whatever the pace of marking
    assert stale.due() == [] and len(stale) == 0
    stale.mark(["c"])
    assert stale.due() == []  # a later mark paces as before


def test_marks_are_due_once_marking_pauses_or_every_so_often() -> None:
    clock = Clock()
    stale = StaleTopics(quiet=2.0, every=60.0, clock=clock)
    assert stale.due() == []
    stale.mark(["b", "a"])
    assert stale.due() == []  # still marking
    clock.now += 1.9
    stale.mark(["a", "c"])
    clock.now += 1.9
    assert stale.due() == []  # 1.9 s since the last mark
    clock.now += 0.2
    assert stale.due() == ["a", "b", "c"]
    assert stale.due() == [] and len(stale) == 0
    for _ in range(70):  # a long catch-up: a mark every second
        stale.mark(["x"])
        clock.now += 1.0
        if stale.due():
            break
    assert clock.now - 100.0 - 4.0 == pytest.approx(60.0, abs=1.0)  # rendered after ~60 s


def test_a_catch_up_renders_each_feed_once_not_after_every_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At many topics every batch of a first sync changes most of them; before, each batch
    re-rendered every changed topic on the ingest thread (10 batches × 30 topics = 300 renders
    here; 5–15 rows/s at 3,000 topics in the real service)."""
    config = tmp_path / "feedsvc.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/s.db"\n[topics]\nimport_on_start = false\n'
        "[source]\nbatch_size = 100\nmatch_workers = 0\n",
        encoding="utf-8",
    )
    service = Service(load_config(config), Roles(scheduler=False, bot=False, http=False))
    service.prepare()
    now = datetime.now(UTC)
    topics = [f"t{n}" for n in range(30)]
    with service.db.write() as conn:
        for slug in topics:
            save_topic(conn, TopicSpec(slug, slug, '"Kiến Thụy"'), "cli", now)
        old = now - timedelta(days=90)
        conn.execute(
            insert(source_articles),
            [
                {"source_key": f"A-{i:05d}", "url": f"https://example.vn/{i}.html",
                 "title": f"Kiến Thụy: tin số {i}", "body": "", "tags": [],
                 "published_at": old + timedelta(minutes=i),
                 "changed_at": old + timedelta(minutes=i)}
                for i in range(1000)
            ],
        )  # fmt: skip
    service.publisher.sync()  # the new topics' empty feeds, as the feeds-sync job would
    renders: Counter[str] = Counter()
    real = service.publisher._render_feeds

    def counted(topic: Any, items: Any, *dating: Any) -> dict[str, bytes]:
        renders[topic.slug] += 1
        return real(topic, items, *dating)

    monkeypatch.setattr(service.publisher, "_render_feeds", counted)
    during: list[int] = []  # renders done when each batch had committed
    service.ingestor.after_commit.append(lambda _changes: during.append(sum(renders.values())))
    result = service.ingest_tick()
    assert (result.error, result.new) == (None, 1000)
    assert service._ingestor is not None and not service._ingestor.catching_up
    assert len(during) == 10 and set(during) == {0}  # batches only marked their topics
    assert renders == Counter(dict.fromkeys(topics, 1))  # then one render each as it ended
    assert len(service.publisher.stale) == 0  # nothing left for the feeds-sync job
    feed = service.publisher.snapshot("t7", "rss", 20)
    assert feed is not None and "tin số 999" in feed.body.decode()  # the newest, rendered
    service.close()
