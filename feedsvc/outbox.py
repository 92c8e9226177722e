"""Ingest → outbox: one delivery per (chat, article), in the ingest transaction.

Only an article public now is queued (SPEC §10): a scheduled one is queued by the due check
when its time comes (:mod:`feedsvc.lifecycle.due`, which calls this same hook), a withdrawn or
hidden one never; one shown again after a withdrawal counts as new.

Runs as an ingest transaction hook, so an article, its matches and its deliveries commit or roll
back together: a crash can never leave an article "seen" without its alerts queued. The
unique (chat, article) constraint makes re-scans and overlapping ticks harmless, and keeps the
one-alert-per-chat rule when an edit makes a fresh article match a topic (or a chat's query)
for the first time (SPEC §10): those subscribers are alerted, chats that already had it are not.

Chats' own queries are compiled by :class:`~feedsvc.chat_queries.ChatQueryIndex`, refreshed in
:meth:`Outbox.prepare` before the write transaction (ingest calls it); inside the transaction
the outbox only matches and reads which matched subscriptions are still live.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection

from feedsvc.chat_queries import ChatQueryIndex
from feedsvc.db import Database
from feedsvc.db.committed import say
from feedsvc.ingest import Change
from feedsvc.matching import document_from_article
from feedsvc.store import deliveries
from feedsvc.store.audience import live_query_targets, live_topic_subscribers
from feedsvc.store.lifecycle import public_ids
from feedsvc.store.topics import list_topics
from feedsvc.wanted import query_label

log = logging.getLogger(__name__)


class Outbox:
    def __init__(self, max_age: timedelta, queries: ChatQueryIndex | None = None) -> None:
        self.max_age = max_age
        self.queries = queries if queries is not None else ChatQueryIndex()

    def prepare(self, db: Database) -> None:
        """Before the write transaction: bring the chat-query index up to date (compiles)."""
        self.queries.refresh(db)

    def _own_queries(
        self, conn: Connection, fresh: Sequence[Change]
    ) -> dict[int, list[tuple[int, int, str]]]:
        """``article id → [(subscription id, chat_id, query)]`` of live own-query subscriptions
        that match."""
        if not len(self.queries):
            return {}
        matched = {
            c.article_id: self.queries.match(document_from_article(c.article)) for c in fresh
        }
        live = live_query_targets(conn, {sid for hits in matched.values() for sid in hits})
        out: dict[int, list[tuple[int, int, str]]] = {}
        for article_id, hits in matched.items():
            for sid in sorted(hits):
                target = live.get(sid)
                if target is None:
                    continue  # removed, or its chat paused or disabled since
                if target[1] != self.queries.text(sid):
                    self.queries.invalidate()  # an id reused for another query: re-read all
                    continue
                out.setdefault(article_id, []).append((sid, *target))
        return out

    def __call__(self, conn: Connection, changes: Sequence[Change], now: datetime) -> None:
        fresh = [
            c
            for c in changes
            if c.article.published_at >= now - self.max_age
            and not c.article.withdrawn
            and not c.archive  # a first sync's archive (issue 17 §2)
        ]
        fresh = [c for c in fresh if c.first_shown or self._may_owe(c)]
        if fresh:  # hidden by an editor, or still scheduled: not now (SPEC §10)
            public = public_ids(conn, [c.article_id for c in fresh], now)
            fresh = [c for c in fresh if c.article_id in public]
        if not fresh:
            return
        titles = {t.id: t.title for t in list_topics(conn)}
        by_topic: dict[int, list[int]] = {}
        for chat_id, topic_id in live_topic_subscribers(
            conn, set().union(*(c.topic_ids for c in fresh))
        ):
            by_topic.setdefault(topic_id, []).append(chat_id)
        own = self._own_queries(conn, fresh)
        rows = []
        for change in fresh:
            new_topics, old_queries = self._matched_before(change)
            labels: dict[int, list[str]] = {}
            owed: set[int] = set()  # chats this change makes the article match for the first time
            for topic_id in sorted(change.topic_ids):
                for chat_id in by_topic.get(topic_id, []):
                    labels.setdefault(chat_id, []).append(titles.get(topic_id, "?"))
                    if topic_id in new_topics:
                        owed.add(chat_id)
            for sid, chat_id, query in own.get(change.article_id, ()):
                labels.setdefault(chat_id, []).append(query_label(query))
                if old_queries is not None and sid not in old_queries:
                    owed.add(chat_id)
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
                if chat_id in owed
            ]
        queued = deliveries.enqueue(conn, rows)
        if queued:  # once committed: a commit that fails (a full disk) queued nothing
            say(conn, log, logging.INFO, "outbox: %d alert(s) queued for %d article(s)",
                queued, len(fresh))  # fmt: skip

    def _may_owe(self, change: Change) -> bool:
        """A new version may owe alerts: it gained a topic, or chats have own queries (which
        it may match for the first time)."""
        return bool(change.topic_ids - change.previous_topic_ids) or (
            change.previous is not None and len(self.queries) > 0
        )

    def _matched_before(self, change: Change) -> tuple[frozenset[int], set[int] | None]:
        """What this change matches for the first time: the topic ids (all, for a new
        article), and the own-query subscription ids the previous version already matched
        (None: every query match is old, as when the previous text is unknown)."""
        if change.first_shown:  # new, or shown again after a withdrawal: like new
            return change.topic_ids, set()
        topics = change.topic_ids - change.previous_topic_ids
        if change.previous is None or not len(self.queries):
            return topics, None
        return topics, set(self.queries.match(document_from_article(change.previous)))
