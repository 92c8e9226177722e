"""The compiled matcher for all enabled topics, kept in step with the topics table.

Ingest, the CLI and the web preview ask this object, so there is exactly one place where a
topic's query becomes a matcher. It rebuilds itself (cheaply, off the hot path) when the topics
table changes, without stopping the service.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection

from feedsvc.articles import Article
from feedsvc.matching import QueryError, TopicMatcher
from feedsvc.matching.worker import ArticleText, Matched, MatcherSpec, match_text
from feedsvc.store.topics import Topic, list_topics, topics_version

log = logging.getLogger(__name__)

#: From this many topics a build is moved out of the garbage collector's reach (``gc.freeze``).
#: A matcher is ~20 tracked objects per topic (terms, closures, cells, tuples) that live until
#: the next build; left in the oldest generation, every full collection walks them again, and
#: ingest's batches trigger one every few hundred articles: at 5,000 topics that was ~60 µs
#: of CPU per ingested article, a fifth of a first sync's (issue 17 §2, bench/RESULTS.md).
#: ``gc.freeze`` moves everything alive at that moment to the permanent generation; the next
#: build first unfreezes and collects, so the old matcher (and anything else frozen with it
#: that has since become garbage) is reclaimed then. Below this size the cost is negligible
#: and nothing global is touched.
FREEZE_TOPICS = 1000


@dataclass(frozen=True, slots=True)
class ArticleMatch:
    search_text: str
    topics: dict[int, list[str]]  # topic id → matched term labels


@dataclass
class Compiled:
    """One build of the matcher: the topics version it reflects, the spec another process
    builds the same matcher from (:mod:`feedsvc.ingest.pool`), and the enabled topics."""

    version: tuple[object, ...]
    spec: MatcherSpec
    matcher: TopicMatcher
    by_slug: dict[str, Topic] = field(default_factory=dict)
    #: ``slug → topic id`` of :attr:`by_slug` (ingest converts every match of every article)
    ids: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.ids = {slug: topic.id for slug, topic in self.by_slug.items()}

    def article_match(self, matched: Matched) -> ArticleMatch:
        """A :data:`~feedsvc.matching.worker.Matched` (slugs) as stored (topic ids)."""
        keys, hits = matched
        ids = self.ids
        return ArticleMatch(keys, {ids[slug]: terms for slug, terms in hits.items()})


def article_text(article: Article) -> ArticleText:
    """What matching reads of an article (body = summary + body, as SPEC §4 says)."""
    a = article
    return (a.title, a.summary, a.body, a.tags, a.section, a.author)


class TopicIndex:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._compiled: Compiled | None = None

    def refresh(self, conn: Connection) -> None:
        """Rebuild if the topics table changed since the last build (one cheap query if not)."""
        version = topics_version(conn)
        if self._compiled is not None and self._compiled.version == version:
            return
        every = list_topics(conn)
        enabled = [t for t in every if t.enabled]
        # a disabled topic still lends its query to `@slug` references, it just never matches
        spec = MatcherSpec({t.slug: t.query for t in enabled}, {t.slug: t.query for t in every})
        big = len(every) >= FREEZE_TOPICS
        if big and gc.get_freeze_count():  # the previous build goes back to the collector
            gc.unfreeze()
            gc.collect()
        matcher = spec.build()
        for slug, err in matcher.errors.items():
            log.error("topic %s has an invalid query and is skipped: %s", slug, err)
        with self._lock:
            self._compiled = Compiled(version, spec, matcher, {t.slug: t for t in enabled})
        if big:
            gc.freeze()
        log.info("topic matcher built: %d topics", len(matcher))

    @property
    def topics(self) -> Sequence[Topic]:
        return list(self._compiled.by_slug.values()) if self._compiled else []

    def errors(self) -> dict[str, QueryError]:
        return dict(self._compiled.matcher.errors) if self._compiled else {}

    @property
    def compiled(self) -> Compiled | None:
        """The current build (None before the first :meth:`refresh`); immutable once built."""
        return self._compiled

    def match(self, article: Article, compiled: Compiled | None = None) -> ArticleMatch:
        """Search text and ``topic id → matched term labels`` of ``article``, with ``compiled``
        (default: the current build; no build yet: search text only)."""
        compiled = compiled or self._compiled
        if compiled is None:
            return ArticleMatch(match_text(None, article_text(article))[0], {})
        return compiled.article_match(match_text(compiled.matcher, article_text(article)))
