"""Backfill: fill a topic's feed from the articles already stored (no alerts), e.g. after the
topic was created or its query changed."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row

from feedsvc.db import Database
from feedsvc.matching import TopicMatcher, candidate_key_sets, document_from_article
from feedsvc.operations.errors import query_invalid
from feedsvc.operations.topics import get_topic
from feedsvc.store import article_reads
from feedsvc.store import topics as topic_store
from feedsvc.store.article_reads import count_since
from feedsvc.store.article_search import candidate_ids
from feedsvc.store.articles import row_to_article


@dataclass(frozen=True)
class BackfillResult:
    """``scanned``: articles considered (published in the window); ``checked``: those the
    matcher looked at (index candidates, or all of them without usable key sets)."""

    scanned: int
    matched: int
    added: int
    checked: int = 0
    #: the topic's slug as stored (the one given may name it in another case)
    slug: str = ""


def backfill_topic(
    db: Database, slug: str, days: float | None = 30, batch: int = 2000
) -> BackfillResult:
    """Match stored articles (of the last ``days``) against a topic and fill its feed.

    When the topic's query yields key sets, only the archive search index's candidates are
    re-checked (every one of them: a backfill must be complete, so nothing is capped); otherwise
    every article of the window is matched, in id batches.
    No alerts: deliveries are only ever created by ingest for new articles.
    """
    topic = get_topic(db, slug)
    slug = topic.slug  # as stored: ``slug`` may name it in another case
    with db.read() as conn:
        known = {t.slug: t.query for t in topic_store.list_topics(conn)}
    matcher = TopicMatcher.build({slug: topic.query}, refs=known)
    if slug in matcher.errors:
        raise query_invalid(matcher.errors[slug])
    since = db.now() - timedelta(days=days) if days else None
    key_sets = candidate_key_sets(matcher.queries()[slug])
    with db.read() as conn:
        ids = candidate_ids(conn, key_sets, None, since)
        scanned = count_since(conn, since) if ids is not None else 0
    checked = matched = added = 0
    for rows in _backfill_batches(db, ids, since, batch):
        checked += len(rows)
        with db.read() as conn:  # only this batch's ids: the topic may already hold 100k+
            have = topic_store.matched_among(conn, topic.id, [row.id for row in rows])
        hits = {}
        for row in rows:
            terms = matcher.match(document_from_article(row_to_article(row))).get(slug)
            if terms is not None:
                matched += 1
                if row.id not in have:
                    hits[row.id] = terms
        if hits:
            with db.write() as conn:
                topic_store.add_topic_matches(conn, topic.id, hits, db.now())
            added += len(hits)
    return BackfillResult(scanned if ids is not None else checked, matched, added, checked, slug)


def _backfill_batches(
    db: Database, ids: list[int] | None, since: datetime | None, batch: int
) -> Iterator[Sequence[Row[Any]]]:
    """Article rows to match, ``batch`` at a time: the given candidate ids, or (None) every
    article published since ``since`` in id order (keyset paging, one short read each)."""
    if ids is not None:
        for start in range(0, len(ids), batch):
            with db.read() as conn:
                yield article_reads.article_rows(conn, ids[start : start + batch])
        return
    last_id = 0
    while True:
        with db.read() as conn:
            rows = article_reads.article_rows_after(conn, last_id, since, batch)
        if not rows:
            return
        last_id = rows[-1].id
        yield rows
