"""A small feedsvc for lifecycle tests: real state DB, ingest over the built-in source, the
outbox, the due check and the feed publisher, all on one controllable clock."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
from factories import builtin_ingestor
from sqlalchemy import select

from feedsvc.articles import Article
from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.db.schema import articles, deliveries
from feedsvc.ingest import Ingestor
from feedsvc.lifecycle.due import DueCheck
from feedsvc.outbox import Outbox
from feedsvc.publish import FeedPublisher
from feedsvc.source import SqlSource
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.subscriptions import ensure_chat, subscribe
from feedsvc.store.topics import TopicSpec, get_topic, save_topic
from feedsvc.topic_index import TopicIndex

SLUG = "kien-thuy"
CHAT = 4242


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class World:
    db: Database
    clock: Clock
    ing: Ingestor
    pub: FeedPublisher
    due: DueCheck

    def publish(self, *items: Article) -> None:
        """Write to the built-in source (as `feedsvc import` does) and run one ingest poll."""
        with self.db.write() as conn:
            upsert_source_articles(conn, list(items), self.clock())
        self.poll()

    def poll(self) -> None:
        """One poll, as the service's ingest job runs it: the tick, then the due check."""
        result = self.ing.tick()
        assert result.error is None, result.error
        self.due.run()
        self.pub.sync()

    def feed_keys(self, fmt: str, pub: FeedPublisher | None = None) -> list[str]:
        snap = (pub or self.pub).snapshot(SLUG, fmt, 50)
        assert snap is not None
        return entry_keys(snap.body)

    def deliveries(self) -> list[tuple[str, str, str | None]]:
        """(source_key, state, error) of every delivery, by id."""
        stmt = (
            select(articles.c.source_key, deliveries.c.state, deliveries.c.error)
            .join(articles, articles.c.id == deliveries.c.article_id)
            .order_by(deliveries.c.id)
        )
        with self.db.read() as conn:
            return [tuple(r) for r in conn.execute(stmt)]  # type: ignore[misc]


def entry_keys(body: bytes) -> list[str]:
    """The article keys (the tail of each entry link: /tin/N.html) a feed lists, in order
    (RSS, Atom or JSON Feed)."""
    if body.lstrip().startswith(b"{"):
        return [item["url"].rsplit("/", 1)[-1] for item in json.loads(body)["items"]]
    parsed: Any = feedparser.parse(body)
    return [e.link.rsplit("/", 1)[-1] for e in parsed.entries]


def make_world(
    db: Database,
    clock: Clock | None = None,
    source: SqlSource | None = None,
    alert_max_age: timedelta = timedelta(hours=24),
) -> World:
    """``alert_max_age``: the outbox's ``telegram.alert_max_age_hours``."""
    clock = clock or Clock()
    db.now = clock  # type: ignore[method-assign]
    with db.write() as conn:
        save_topic(conn, TopicSpec(SLUG, "Kiến Thụy", '"Kiến Thụy"', ""), "cli", clock())
        topic = get_topic(conn, SLUG)
        assert topic is not None
        ensure_chat(conn, CHAT, "private", "Phóng viên", clock())
        subscribe(conn, CHAT, topic_id=topic.id, query=None, now=clock())
    settings = load_config(None, {"http": {"public_url": "https://feeds.example.vn"}})
    pub = FeedPublisher(db, settings)
    ing = builtin_ingestor(db, overlap_seconds=60)
    if source is not None:  # an external CMS table
        ing = Ingestor(db, source, TopicIndex(), tz=UTC, poll_seconds=1, overlap_seconds=60,
                       batch_size=100)  # fmt: skip
    ing.clock = clock  # rows are dated by the simulated clock: not ahead of it
    ing.hooks.append(Outbox(alert_max_age))
    ing.after_commit.append(pub.on_ingest)
    due = DueCheck(db, ing.hooks, ing.after_commit, clock=clock)
    pub.sync()
    return World(db, clock, ing, pub, due)
