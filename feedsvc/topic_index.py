"""The compiled matcher for all enabled topics, kept in step with the topics table.

Ingest, the CLI and the web preview ask this object, so there is exactly one place where a
topic's query becomes a matcher. It rebuilds itself (cheaply, off the hot path) when the topics
table changes, without stopping the service.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection

from feedsvc.articles import Article
from feedsvc.matching import (
    QueryError,
    TopicMatcher,
    document_from_article,
    search_keys,
)
from feedsvc.store.topics import Topic, list_topics, topics_version

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ArticleMatch:
    search_text: str
    topics: dict[int, list[str]]  # topic id → matched term labels


@dataclass
class _Compiled:
    version: tuple[object, ...]
    matcher: TopicMatcher
    by_slug: dict[str, Topic] = field(default_factory=dict)


class TopicIndex:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._compiled: _Compiled | None = None

    def refresh(self, conn: Connection) -> None:
        """Rebuild if the topics table changed since the last build (one cheap query if not)."""
        version = topics_version(conn)
        if self._compiled is not None and self._compiled.version == version:
            return
        every = list_topics(conn)
        enabled = [t for t in every if t.enabled]
        # a disabled topic still lends its query to `@slug` references, it just never matches
        matcher = TopicMatcher.build(
            {t.slug: t.query for t in enabled}, refs={t.slug: t.query for t in every}
        )
        for slug, err in matcher.errors.items():
            log.error("topic %s has an invalid query and is skipped: %s", slug, err)
        with self._lock:
            self._compiled = _Compiled(version, matcher, {t.slug: t for t in enabled})
        log.info("topic matcher built: %d topics", len(matcher))

    @property
    def topics(self) -> Sequence[Topic]:
        return list(self._compiled.by_slug.values()) if self._compiled else []

    def errors(self) -> dict[str, QueryError]:
        return dict(self._compiled.matcher.errors) if self._compiled else {}

    def match(self, article: Article) -> ArticleMatch:
        compiled = self._compiled
        doc = document_from_article(article)
        keys = search_keys(doc)
        if compiled is None:
            return ArticleMatch(keys, {})
        hits = compiled.matcher.match(doc)
        return ArticleMatch(
            keys, {compiled.by_slug[slug].id: terms for slug, terms in hits.items()}
        )
