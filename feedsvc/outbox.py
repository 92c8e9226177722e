"""Ingest → outbox: one delivery per (chat, new article), in the ingest transaction.

Runs as an ingest transaction hook, so an article, its matches and its deliveries commit or roll
back together: a crash can never leave an article "seen" without its alerts queued. The
unique (chat, article) constraint makes re-scans and overlapping ticks harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection

from feedsvc.ingest import Change
from feedsvc.matching import TopicMatcher, document_from_article
from feedsvc.store import deliveries
from feedsvc.store.subscriptions import (
    live_query_subscriptions,
    live_topic_subscribers,
    subscriptions_version,
)
from feedsvc.store.topics import list_topics

log = logging.getLogger(__name__)


class Outbox:
    def __init__(self, max_age: timedelta) -> None:
        self.max_age = max_age
        self._version: tuple[object, ...] | None = None
        self._queries: TopicMatcher | None = None
        self._query_chats: dict[str, tuple[int, str]] = {}

    def _own_queries(self, conn: Connection) -> TopicMatcher | None:
        """Chats' own queries compiled into one matcher (rebuilt when subscriptions change)."""
        version = subscriptions_version(conn)
        if version != self._version:
            subs = live_query_subscriptions(conn)
            self._query_chats = {f"q{sid}": (chat, query) for sid, chat, query in subs}
            known = {t.slug: t.query for t in list_topics(conn)}
            self._queries = (
                TopicMatcher.build(
                    {key: query for key, (_chat, query) in self._query_chats.items()},
                    refs=known,
                )
                if subs
                else None
            )
            self._version = version
        return self._queries

    def __call__(self, conn: Connection, changes: Sequence[Change], now: datetime) -> None:
        fresh = [c for c in changes if c.is_new and c.article.published_at >= now - self.max_age]
        if not fresh:
            return
        titles = {t.id: t.title for t in list_topics(conn)}
        by_topic: dict[int, list[int]] = {}
        for chat_id, topic_id in live_topic_subscribers(
            conn, set().union(*(c.topic_ids for c in fresh))
        ):
            by_topic.setdefault(topic_id, []).append(chat_id)
        own = self._own_queries(conn)
        rows = []
        for change in fresh:
            labels: dict[int, list[str]] = {}
            for topic_id in sorted(change.topic_ids):
                for chat_id in by_topic.get(topic_id, []):
                    labels.setdefault(chat_id, []).append(titles.get(topic_id, "?"))
            if own is not None:
                for key in own.match(document_from_article(change.article)):
                    chat_id, query = self._query_chats[key]
                    labels.setdefault(chat_id, []).append(query)
            rows += [
                {
                    "chat_id": chat_id,
                    "article_id": change.article_id,
                    "topics": names,
                    "state": "pending",
                    "attempts": 0,
                    "ambiguous": 0,
                    "plain_text": False,
                    "due_at": now,
                    "created_at": now,
                }
                for chat_id, names in labels.items()
            ]
        queued = deliveries.enqueue(conn, rows)
        if queued:
            log.info("outbox: %d alert(s) queued for %d new article(s)", queued, len(fresh))
