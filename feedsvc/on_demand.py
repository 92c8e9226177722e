"""Feeds rendered on demand — search feeds and ``?limit=`` variants — at a bounded cost each.

Topic feeds at the default limit are pre-rendered snapshots (:mod:`feedsvc.publish`): serving
them costs a dictionary lookup. Everything else a public URL can ask for is rendered when asked,
so anyone can make the service work; each such request is bounded (issue #12 §1):

* **Candidates come from the archive search index**, never from a scan: a search asks
  :func:`feedsvc.store.article_search.candidate_ids` for the newest :data:`SEARCH_CHECK` articles
  whose keys could match (as preview and backfill do) and re-checks them with the matcher,
  loading them :data:`CHECK_CHUNK` at a time and stopping at ``limit`` matches. A query the
  index cannot serve (only terms without indexable keys) checks the newest ``SEARCH_CHECK``.
  So a search feed lists matches among the newest candidates, not necessarily all matches.
* **Only the requested format is rendered.**
* **The search is cached under the parsed query** (:func:`feedsvc.matching.query_digest`), so
  equivalent spellings share one search; **each spelling gets its own rendering**, since a
  feed names its query in its title, ``id`` and ``rel="self"`` link, which must be the URL
  asked for (SPEC §5; the W3C validator flagged "Self reference doesn't match document
  location" when one spelling was served another's feed). Both are kept in one cache bounded
  in bytes (:class:`feedsvc.web.snapshot_cache.SnapshotCache`), shared with the ``?limit=``
  variants.
* **At most** ``http.search_concurrency`` uncached renders run at once (:class:`RenderSlots`,
  taken on the event loop); a request beyond that is refused at once
  (:class:`feedsvc.web.feed_backend.Overloaded`, a 503 with ``Retry-After``) rather than
  queued, so a flood cannot build a backlog of threads, DB connections or memory.

The per-client rate limit in front of these routes is the web layer's
(:mod:`feedsvc.web.clients`). DB work runs on the engine for web requests, so a flood never
takes connections from ingest or the dispatcher (:class:`feedsvc.app.Service`).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime

from feedsvc import heap_trim
from feedsvc.articles import Article
from feedsvc.db import Database
from feedsvc.feeds import FeedMeta, render_feed
from feedsvc.feeds.model import MEDIA_TYPES
from feedsvc.lifecycle.visibility import as_of
from feedsvc.matching import (
    Query,
    QueryError,
    candidate_key_sets,
    document_from_article,
    match_document,
    parse_query,
    query_digest,
)
from feedsvc.on_demand_dates import (
    limit_changed,
    limit_modified,
    rendered_changed,
    rendered_modified,
    results_modified,
    shown_modified,
)
from feedsvc.store.article_reads import (
    StoredArticle,
    last_article_change,
    latest_articles,
    stored_articles,
    topic_articles,
)
from feedsvc.store.article_search import candidate_ids
from feedsvc.store.records import Topic
from feedsvc.typed_query import parsed_form, typed_error
from feedsvc.web.feed_backend import SEARCH_PAGE, Overloaded
from feedsvc.web.http_cache import Snapshot, make_snapshot
from feedsvc.web.snapshot_cache import SnapshotCache

#: Candidates the matcher re-checks per search at most (newest first). Re-checking costs about
#: 0.1–1 ms per article (normalising its text), so a search costs well under a second of CPU.
SEARCH_CHECK = 400
#: Candidates loaded from the DB per round trip; a broad query stops after the first chunk.
CHECK_CHUNK = 100
#: Seconds a rendered search feed or ``?limit=`` variant is kept (ingest changes clear it too).
RENDER_TTL = 60.0
#: Seconds a refused client is told to wait (``Retry-After``): about one uncached render.
RETRY_AFTER = 2


#: Nice value of render threads (Linux: per thread): under CPU contention the kernel runs the
#: event loop thread, which answers feed polls, before a search render.
RENDER_NICENESS = 10


def _lower_priority() -> None:
    # not Linux, or not allowed: renders then run at normal priority
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), RENDER_NICENESS)


class RenderJob:
    """A render that holds one of :class:`RenderSlots`' slots: called once (off the event loop,
    in ``executor``), it renders and frees the slot; :meth:`discard` frees it when the call
    never happened."""

    def __init__(
        self,
        free: threading.BoundedSemaphore,
        work: Callable[[], Snapshot],
        executor: ThreadPoolExecutor,
    ) -> None:
        self.executor = executor
        self._free = free
        self._work = work
        self._held = True
        self._lock = threading.Lock()

    def __call__(self) -> Snapshot:
        try:
            return self._work()
        finally:
            self.discard()
            heap_trim.settle()  # the render's articles are dropped now

    def discard(self) -> None:
        with self._lock:
            held, self._held = self._held, False
        if held:
            self._free.release()


class RenderSlots:
    """At most ``size`` on-demand renders at once. :meth:`reserve` takes a slot now or raises
    :class:`~feedsvc.web.feed_backend.Overloaded`: nobody ever waits for one. Slots are taken on the
    event loop, so a refused request never costs a thread-pool hop."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = threading.BoundedSemaphore(size)
        #: One thread per slot, at a lower OS priority than the event loop (see RENDER_NICENESS).
        self.executor = ThreadPoolExecutor(
            size, thread_name_prefix="feed-render", initializer=_lower_priority
        )

    def reserve(self, work: Callable[[], Snapshot]) -> RenderJob:
        if not self._free.acquire(blocking=False):
            raise Overloaded("too many uncached feed renders at once", RETRY_AFTER)
        return RenderJob(self._free, work, self.executor)


MetasFor = Callable[[str], dict[str, FeedMeta]]
#: (query text, its results) → the search's reader page, HTML bytes
PageFor = Callable[[str, list[Article]], bytes]
PAGE_TYPE = "text/html; charset=utf-8"
Resolver = Callable[[str], str | None]
#: When what a format of them is rendered with besides articles last changed
#: (``Served.rendered_at``: the feeds' settings, or their reader page's)
RenderedAt = Callable[[str], datetime | None]


class SearchFeeds:
    """``/feeds/search.FMT?q=`` over the state DB (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        cache: SnapshotCache,
        slots: RenderSlots,
        resolve: Resolver,
        metas: MetasFor,
        page: PageFor,
        rendered_at: RenderedAt = lambda _fmt: None,
    ) -> None:
        self.db = db
        self.cache = cache
        self.slots = slots
        self.resolve = resolve  # @slug → that topic's query text
        self.metas = metas  # query text → {fmt: FeedMeta}
        self.page = page  # (query text, results) → the reader page's HTML (format ``html``)
        self.rendered_at = rendered_at  # dates them too (on_demand_dates.rendered_modified)

    def feed(self, query: str, fmt: str, limit: int) -> Snapshot | RenderJob:
        """The cached search feed (``fmt`` a feed format, or
        :data:`~feedsvc.web.feed_backend.SEARCH_PAGE`: its reader page), or a job rendering it
        (holding a render slot).

        Cheap enough for the event loop: parsing is bounded by the query limits. Raises
        ``QueryError`` (→ 400) or ``Overloaded`` (→ 503).
        """
        # read as a reader types it, as /sub reads it (keyboard quotes, full-width forms);
        # shown and cached under the spelling asked for
        # its errors placed in the query as sent (typed_error), not in the rewritten text
        read = parsed_form(query)  # its quote refusal placed so already
        try:
            parsed = parse_query(read, self.resolve)
        except QueryError as exc:
            raise typed_error(query, exc) from None
        meaning = query_digest(parsed)
        key = ("search", meaning, query, fmt, limit)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        searched = ("search-results", meaning, limit)
        return self.slots.reserve(lambda: self._render(key, searched, parsed, query, fmt, limit))

    def _render(
        self,
        key: tuple[object, ...],
        searched: tuple[object, ...],
        parsed: Query,
        query: str,
        fmt: str,
        limit: int,
    ) -> Snapshot:
        cached = self.cache.get(key)  # rendered meanwhile for the same request
        if cached is not None:
            return cached
        generation = self.cache.generation  # before the reads: a takedown's clear wins
        result = self.cache.recall(searched)  # searched for an equivalent spelling
        if not isinstance(result, SearchResult) or self._stale(result):
            result = self.results(parsed, limit)
            self.cache.keep(searched, result, result.cost, generation)
        settings_at = self.rendered_at(fmt)  # dates both, as they show them (D7)
        if fmt == SEARCH_PAGE:
            body, media_type = self.page(query, result.articles), PAGE_TYPE
        else:
            dated = rendered_changed(result.changed_at, settings_at)
            meta = replace(self.metas(query)[fmt], changed=dated)
            body, media_type = render_feed(meta, result.articles, fmt), MEDIA_TYPES[fmt]
        modified = rendered_modified(result.last_modified, settings_at)
        snapshot = make_snapshot(body, media_type, modified, shown_modified(modified, result.now))
        self.cache.put(key, snapshot, generation)
        return snapshot

    def _stale(self, result: SearchResult) -> bool:
        """Whether ``result`` is as old as a rendered feed may be (the cache's TTL): a spelling
        rendered from it would outlive it by another TTL (a reviewer's)."""
        return time.monotonic() - result.made >= self.cache.ttl

    def matches(self, parsed: Query, limit: int) -> list[Article]:
        """Up to ``limit`` public matches, newest first (see :meth:`results`)."""
        return self.results(parsed, limit).articles

    def results(self, parsed: Query, limit: int) -> SearchResult:
        """Up to ``limit`` matches among the newest :data:`SEARCH_CHECK` candidates, newest
        first; at most ``SEARCH_CHECK`` documents are normalised and matched. Only articles
        public now are listed (SPEC §10): scheduled ones are not candidates, withdrawn and
        hidden ones are checked only to date the result
        (:func:`~feedsvc.on_demand_dates.results_modified`)."""
        found: list[StoredArticle] = []
        gone: list[StoredArticle] = []
        with self.db.read() as conn:
            now = self.db.now()
            changed = last_article_change(conn, now)
            ids = candidate_ids(conn, candidate_key_sets(parsed), SEARCH_CHECK, until=now)
            if ids is None:
                chunks: Iterator[Sequence[StoredArticle]] = iter(
                    [latest_articles(conn, SEARCH_CHECK, now)]
                )
            else:
                chunks = (
                    stored_articles(conn, ids[i : i + CHECK_CHUNK])
                    for i in range(0, len(ids), CHECK_CHUNK)
                )
            for chunk in chunks:
                for stored in chunk:
                    if not match_document(parsed, document_from_article(stored.article)):
                        continue
                    (gone if stored.retired else found).append(stored)
                    if len(found) >= limit:
                        return SearchResult(found, gone, now, changed)
        return SearchResult(found, gone, now, changed)


@dataclass(frozen=True)
class SearchResult:
    """A search feed's items and what dates it: listed articles and matching ones left out
    because they were withdrawn or hidden."""

    listed: list[StoredArticle]
    left_out: list[StoredArticle]
    now: datetime
    #: the store's last article change up to ``now`` (:func:`last_article_change`)
    changed: datetime | None = None
    #: when the search ran, monotonic seconds (how long it may be kept: ``SearchFeeds._stale``)
    made: float = field(default_factory=time.monotonic, compare=False)

    @property
    def articles(self) -> list[Article]:
        return [as_of(s.article, self.now) for s in self.listed]

    @property
    def last_modified(self) -> datetime:
        return results_modified(self.listed, self.left_out, self.now, self.changed)

    @property
    def changed_at(self) -> datetime:
        """The feed's own date (``FeedMeta.changed``): when these results last changed as far
        as they show — an article appearing or edited, one left out as withdrawn or hidden —
        without the store's last change anywhere, which would give the bytes a new date (and
        ETag) at every change to any article. One edited out of the results is in neither
        list: its feed's date may not move, its Last-Modified does."""
        return results_modified(self.listed, self.left_out, self.now)

    @property
    def cost(self) -> int:
        """About the bytes these results hold (their articles' text, two bytes a character as
        CPython keeps Vietnamese text, and an allowance per article): the cache's unit."""
        texts = sum(_text_chars(s.article) for s in (*self.listed, *self.left_out))
        return 2 * texts + 1024 * (len(self.listed) + len(self.left_out)) + 1024


def _text_chars(article: Article) -> int:
    return sum(
        len(text or "")
        for text in (article.title, article.summary, article.body, article.url, article.image_url)
    )


class LimitFeeds:
    """``/feeds/{slug}.FMT?limit=N`` (N not the default): a topic feed rendered on request,
    cached per topic version, format and limit, within the render slots like a search; it names
    ``…?limit=N`` as its self URL, N as read (a value above 200 the 200 served), without a hub
    (:func:`feedsvc.publish.metas.topic_metas`)."""

    def __init__(
        self,
        db: Database,
        cache: SnapshotCache,
        slots: RenderSlots,
        metas: Callable[[Topic, int], dict[str, FeedMeta]],
        rendered_at: RenderedAt = lambda _fmt: None,
    ) -> None:
        self.db, self.cache, self.slots, self.metas = db, cache, slots, metas
        self.rendered_at = rendered_at  # as SearchFeeds'

    def feed(
        self, topic: Topic, fmt: str, limit: int, base: Snapshot | None
    ) -> Snapshot | RenderJob:
        """Cached, or a job rendering it (Last-Modified: ``base``'s, the default-limit
        snapshot, when there is one). Raises ``Overloaded`` when no slot is free."""
        key = ("limit", topic.slug, fmt, limit, topic.updated_at)
        cached = self.cache.get(key)
        if cached is not None:
            return cached

        def render() -> Snapshot:
            with self.db.read() as conn:
                now = self.db.now()
                items = topic_articles(conn, topic.id, limit, now)
                changed = last_article_change(conn, now)
                dated = limit_changed(conn, topic, items, limit, now)
            settings_at = self.rendered_at(fmt)
            own = rendered_changed(dated, settings_at)
            body = render_feed(replace(self.metas(topic, limit)[fmt], changed=own), items, fmt)
            shown = limit_modified(base, items, topic, changed)
            modified = rendered_modified(shown, settings_at)
            snap = make_snapshot(body, MEDIA_TYPES[fmt], modified, shown_modified(modified, now))
            self.cache.put(key, snap)
            return snap

        return self.slots.reserve(render)
