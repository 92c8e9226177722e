"""What a process renders and keeps besides the feeds' bytes: a render's snapshots written to the
state DB (:meth:`Rendered._store`), the reader pages' view of a topic, and the index page's
entries and pages (:mod:`.index_page`, :mod:`.index_pages`) with the OPML document — the
``/`` and ``/feeds.opml`` side of :class:`feedsvc.web.feed_backend.FeedBackend`.
:class:`~.publisher.FeedPublisher` decides when to render (ingest, syncs, restarts)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from feedsvc.articles import Article
from feedsvc.catalogue import Translator
from feedsvc.config import Settings
from feedsvc.db import Database
from feedsvc.feeds.model import MEDIA_TYPES
from feedsvc.pages import (
    INDEX_HEADLINES,
    PageTopic,
    Site,
    index_entries,
    page_article,
    page_topic,
    subscribe_links,
)
from feedsvc.pages.listing import paging
from feedsvc.store.article_reads import topic_article_counts, topics_newest
from feedsvc.store.snapshots import StoredSnapshot, drop_snapshots, put_snapshots
from feedsvc.store.topics import Topic
from feedsvc.web.http_cache import Snapshot, make_snapshot

from .index_page import IndexEntries
from .index_pages import IndexPages, page_slug
from .metas import opml_body
from .serving import Served

#: Snapshot formats: the feeds, and ``html`` for the reader pages (a topic's page under its
#: slug, the index's pages under :data:`.index_pages.INDEX_SLUG`: :func:`.index_pages.page_slug`).
SNAPSHOT_TYPES = {**MEDIA_TYPES, "html": "text/html"}


class Rendered(Served):
    """Snapshot writes, the index's entries and pages; ``db`` takes the writes (and the index's
    reads), ``web_db`` the on-demand renders (:class:`~.serving.Served`)."""

    def __init__(self, db: Database, settings: Settings, web_db: Database) -> None:
        super().__init__(settings, web_db)
        self.db = db
        self.settings = settings
        self.public_url = settings.http.public_url.rstrip("/")
        self.t = Translator(settings.site.language, settings.site.timezone)
        self.site = Site(settings.site.title, settings.site.url, self.public_url)
        self._lock = threading.RLock()  # one refresh at a time (ingest thread vs sync job)
        self._index = IndexEntries()
        self._pages = IndexPages(self.t, self.site, self.cache)

    def _page_topic(self, topic: Topic, items: list[Article], count: int) -> PageTopic:
        return page_topic(
            topic.slug,
            topic.title,
            topic.description,
            count,
            [page_article(a, self.settings.site.url) for a in items],
            subscribe_links(self.public_url, topic.slug, self.bot_username),
        )

    def _etag(self, slug: str, fmt: str) -> str | None:
        current = self._snaps.get((slug, fmt))
        return None if current is None else current.etag

    def _store(self, slug: str, bodies: dict[str, bytes], now: datetime) -> set[str]:
        """Keep a topic's renders (format → bytes) in one write transaction (one per snapshot
        was 63 % of a 5,000-topic start); the formats whose stored feed changed (another
        replica may have stored the same bytes first: then they are only adopted here)."""
        made = {fmt: make_snapshot(body, SNAPSHOT_TYPES[fmt], now) for fmt, body in bodies.items()}
        new = {f: n for f, n in made.items() if self._etag(slug, f) != n.etag}
        if not new:
            return set()
        with self.db.write() as conn:
            stored = put_snapshots(
                conn, [StoredSnapshot(slug, f, bodies[f], n.etag, now) for f, n in new.items()], now
            )
        self._snaps.update({(slug, fmt): snap for fmt, snap in new.items()})
        return stored

    def _rebuild_pages(self, now: datetime) -> None:
        enabled = [t for t in self._topics.values() if t.enabled]
        opml = opml_body(self.settings, self._topics.values())
        if self._opml is None or self._opml.body != opml:
            self._opml = make_snapshot(opml, "text/x-opml", now)
        listed = self._index.listed(
            enabled,
            lambda missing: self._read(missing, now),
            self._page_topic,
            lambda entries: index_entries(self.t, self.site, entries),
        )
        for page, body in self._pages.changed(listed, now).items():
            self._store(page_slug(page), {"html": body}, now)
            self._pages.stored(page)
        self._drop_pages(self._pages.beyond())

    def _drop_pages(self, first: int) -> None:
        """Pages of the index from ``first`` on: no longer listed (fewer topics), dropped
        here and from storage, so no restart serves or checks them."""
        gone = []
        while (page_slug(first), "html") in self._snaps:
            gone.append(page_slug(first))
            first += 1
        if gone:
            with self.db.write() as conn:
                for slug in gone:
                    drop_snapshots(conn, slug)
            for slug in gone:
                self._snaps.pop((slug, "html"), None)

    def _read(
        self, topics: list[Topic], now: datetime
    ) -> tuple[dict[int, list[Article]], dict[int, int]]:
        """What the index page shows of topics it has no entry for: headlines and counts."""
        with self.db.read() as conn:
            newest = topics_newest(conn, [t.id for t in topics], INDEX_HEADLINES, now)
            return newest, topic_article_counts(conn, now)

    # -- FeedBackend: the index and the OPML ------------------------------------------
    def opml(self) -> Snapshot:
        if self._opml is None:
            self._rebuild_pages(datetime.now(UTC))
        assert self._opml is not None
        return self._opml

    def index_html(self, page: int = 1) -> Snapshot:
        """Page ``page`` of ``/``, clamped to the pages there are (a stored snapshot; built
        here first only before anything is: a process's first request)."""
        index = self._index_page(page)
        if index is None:
            with self._lock:
                self._rebuild_pages(self.db.now())
                index = self._index_page(page)
        assert index is not None
        return index

    def _index_page(self, page: int) -> Snapshot | None:
        total = self._pages.total
        return (
            None
            if total is None
            else self._snaps.get((page_slug(paging(total, page).page), "html"))
        )

    def index_search(self, query: str, page: int) -> Snapshot:
        """Page ``page`` of ``/?q=query`` (cleaned: :func:`feedsvc.pages.listing.clean_query`),
        rendered from the listed entries (the first one after a restart lists them first);
        a query with no words is the unfiltered page. Called off the event loop."""
        if self._pages.listing is None:
            with self._lock:
                if self._pages.listing is None:
                    self._rebuild_pages(self.db.now())
        found = self._pages.search(query, page)
        return found if found is not None else self.index_html(page)
