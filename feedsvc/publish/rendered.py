"""What a process renders and keeps besides the feeds' bytes: a render's snapshots written to the
state DB (:meth:`Rendered._store`), the reader pages' view of a topic, and the index page's
entries and pages (:mod:`.index_page`, :mod:`.index_pages`) with the OPML document — the
``/`` and ``/feeds.opml`` side of :class:`feedsvc.web.feed_backend.FeedBackend`.
:class:`~.publisher.FeedPublisher` decides when to render (ingest, syncs, restarts)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime

from feedsvc.articles import Article
from feedsvc.config import Settings
from feedsvc.db import Database
from feedsvc.feeds.model import DATED_BY, MEDIA_TYPES
from feedsvc.pages import (
    INDEX_HEADLINES,
    IndexEntry,
    PageTopic,
    index_entries,
    page_article,
    page_topic,
    render_error,
    render_gone,
    render_missing,
    render_not_found,
    shown_chats,
    subscribe_links,
)
from feedsvc.pages.listing import paging
from feedsvc.store.article_reads import topic_article_counts, topics_newest
from feedsvc.store.snapshots import (
    Mark,
    StoredSnapshot,
    drop_snapshots,
    put_many,
    put_snapshots,
)
from feedsvc.store.topics import Topic
from feedsvc.web.http_cache import Snapshot, make_snapshot, strong_etag

from .index_page import IndexEntries
from .index_pages import IndexPages, page_slug
from .metas import opml_body
from .serving import Served

#: Snapshot formats: the feeds, and ``html`` for the reader pages (a topic's page under its
#: slug, the index's pages under :data:`.index_pages.INDEX_SLUG`: :func:`.index_pages.page_slug`).
SNAPSHOT_TYPES = {**MEDIA_TYPES, "html": "text/html"}
#: Rows kept in the same store beside the topics' and the index's, under slugs no topic can
#: have (topic slugs start with a letter or digit): the OPML document, and the bot's @username
#: the reader pages were last rendered with (learnt by getMe: ``feedsvc.server``); the
#: rendering settings' digests are :data:`.serving.RENDERING_KEY` and
#: :data:`.serving.PAGE_RENDERING_KEY`.
OPML_KEY = ("_opml", "opml")
BOT_KEY = ("_bot", "username")
#: What a stored row is served as, by format (the bot's and the settings' rows are never served).
SERVED_TYPES = {
    **SNAPSHOT_TYPES,
    "opml": "text/x-opml",
    "username": "text/plain",
    "digest": "text/plain",
}


class Rendered(Served):
    """Snapshot writes, the index's entries and pages; ``db`` takes the writes (and the index's
    reads), ``web_db`` the on-demand renders (:class:`~.serving.Served`)."""

    def __init__(self, db: Database, settings: Settings, web_db: Database) -> None:
        super().__init__(settings, web_db)
        self.db, self.web_db = db, web_db
        self._lock = threading.RLock()  # one refresh at a time (ingest thread vs sync job)
        self._index = IndexEntries()
        self._pages = IndexPages(self.t, self.site, self.cache)
        self._opml_of: dict[str, Topic] | None = None  # the topics ``_opml`` lists

    def _page_topic(self, topic: Topic, items: list[Article], count: int) -> PageTopic:
        return page_topic(
            topic.slug,
            topic.title,
            topic.description,
            count,
            [page_article(a, self.settings.site.url, self.settings.site.language) for a in items],
            subscribe_links(self.public_url, topic.slug, self.bot_username, self.zalo_link),
        )

    def _keep(self, key: tuple[str, str], body: bytes, now: datetime) -> Snapshot:
        """Serve ``body`` under ``key``, stored as every render is (:func:`put_many`): the
        bytes held (the last process's, another replica's) keep their ``Last-Modified``, other
        bytes get a later one. Why: the OPML document was dated by the process that built it,
        so every restart moved its ``Last-Modified`` with the same ETag, and a reader revalidating
        with If-Modified-Since got the same bytes again instead of a 304 (a tester's)."""
        held = self._snaps.get(key)
        if held is not None and held.body == body:
            return held
        snap = StoredSnapshot(*key, body, strong_etag(body), now)
        with self.db.write() as conn:
            kept = put_many(conn, [snap], now)
        held = make_snapshot(body, SERVED_TYPES[key[1]], kept[key].last_modified)
        self._snaps[key] = held
        return held

    def _use_bot(self, username: str | None) -> None:
        """Render the pages' Telegram links (and the index's introduction) for ``username``."""
        self.bot_username = username
        self.site = replace(self.site, chats=shown_chats(username, self.zalo_link))
        self._pages.site = self.site

    def _stored_bot(self) -> None:
        """A restart with a bot token renders the pages with the @username the last process
        learnt (:data:`BOT_KEY`), not without one until getMe answers: those renders took the
        links out and getMe put them back, so every restart moved the pages' ``Last-Modified``
        twice and left their ETag as it was (a tester's); getMe corrects a name that changed."""
        held = self._snaps.get(BOT_KEY)
        if held is not None and self.settings.telegram_token():
            self._use_bot(held.body.decode())

    def _index_modified(self) -> datetime | None:
        """The newest ``Last-Modified`` of the index's pages served (None: none yet): what the
        filtered views of ``/`` show changes only with what those pages show."""
        dates, page = [], 1
        while (found := self._snaps.get((page_slug(page), "html"))) is not None:
            dates.append(found.last_modified)
            page += 1
        return max(dates, default=None)

    def _etag(self, slug: str, fmt: str) -> str | None:
        current = self._snaps.get((slug, fmt))
        return None if current is None else current.etag

    def _store(
        self, slug: str, bodies: dict[str, bytes], now: datetime, dated_by: Mark | None
    ) -> set[str]:
        """Keep a topic's renders (format → bytes) in one write transaction (one per snapshot
        was 63 % of a 5,000-topic start); the formats whose stored feed changed (another
        replica may have stored the same bytes first: then they are only adopted here, with
        its date). ``dated_by``: the :data:`DATED_BY` row the feeds were dated by, as read;
        raises :class:`~feedsvc.store.snapshots.SnapshotConflict` (nothing stored) when it
        changed meanwhile."""
        tags = {fmt: strong_etag(body) for fmt, body in bodies.items()}
        new = [fmt for fmt, tag in tags.items() if self._etag(slug, fmt) != tag]
        if not new:
            return set()
        snaps = [StoredSnapshot(slug, fmt, bodies[fmt], tags[fmt], now) for fmt in new]
        with self.db.write() as conn:
            kept = put_snapshots(conn, snaps, now, (DATED_BY, dated_by))
        self._snaps.update(
            {
                (slug, fmt): make_snapshot(
                    bodies[fmt], SNAPSHOT_TYPES[fmt], kept[fmt].last_modified
                )
                for fmt in new
            }
        )
        return {fmt for fmt, one in kept.items() if one.changed}

    def _rebuild_pages(self, now: datetime) -> None:
        enabled = [t for t in self._topics.values() if t.enabled]
        opml = None
        if OPML_KEY not in self._snaps or self._opml_of is not self._topics:  # the list
            # changed (replaced whole): ~0.2 s of XML at 5,000 topics, not at every render
            opml = opml_body(self.settings, self._topics.values())
        listed = self._index.listed(
            enabled,
            lambda missing: self._read(missing, now),
            self._page_topic,
            lambda entries: index_entries(self.t, self.site, entries),
        )
        self._store_pages(self._pages.changed(listed, now), now, opml)
        self._opml_of = self._topics  # stored (a failed write builds it again next time)
        self._drop_pages(self._pages.beyond())
        self._pages.publish(self._index_modified() or now)

    def _store_pages(self, bodies: dict[int, bytes], now: datetime, opml: bytes | None) -> None:
        """Keep the index's rendered pages (page → HTML) and the OPML document (None: not
        built again): those whose bytes changed written in one transaction whose statements
        each write all of them (a topic added or removed moves every page: 100 single writes
        at 5,000 topics were ~60 % of its cost), each dated as :meth:`_keep` dates it."""
        found = {(page_slug(page), "html"): body for page, body in bodies.items()}
        if opml is not None:
            found[OPML_KEY] = opml
        snaps = [
            StoredSnapshot(*key, body, tag, now)
            for key, body in found.items()
            if self._etag(*key) != (tag := strong_etag(body))
        ]
        if snaps:
            with self.db.write() as conn:
                kept = put_many(conn, snaps, now)
            for s in snaps:
                key = (s.slug, s.fmt)
                modified = kept[key].last_modified
                self._snaps[key] = make_snapshot(s.body, SERVED_TYPES[s.fmt], modified)
        for page in bodies:
            self._pages.stored(page)

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
        ids = [t.id for t in topics]
        with self.db.read() as conn:  # a few (a topic added): their counts, not every topic's
            newest = topics_newest(conn, ids, INDEX_HEADLINES, now)
            return newest, topic_article_counts(conn, now, ids if len(ids) <= 500 else None)

    # -- FeedBackend: the index and the OPML ------------------------------------------
    def opml(self) -> Snapshot:
        found = self._snaps.get(OPML_KEY)
        if found is None:
            with self._lock:
                self._rebuild_pages(self.db.now())
                found = self._snaps[OPML_KEY]
        return found

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
        rendered from the listed entries (before the first rebuild, a restart's: from the
        topics' texts and the matches' entries alone, :meth:`.IndexPages.first_search`);
        a query with no words matches no topic. Called off the event loop; never waits for
        the render lock (before the first rebuild, only the page of matches is read)."""
        if self._pages.listing is not None:
            found = self._pages.search(query, page)
        else:  # a restart serving the stored pages: no listing yet, and none built here
            enabled = [t for t in self._topics.values() if t.enabled]
            found = self._pages.first_search(
                query, page, enabled, self._read_entries, self._shown_since()
            )
        return found if found is not None else self.index_html(page)

    def index_unread(self) -> Snapshot:
        """``/`` for a query string that is not UTF-8 text: the first page of every topic with
        a notice (:meth:`.IndexPages.unread`; before the first rebuild, a restart's, from the
        topics' texts and the first page's entries alone, as :meth:`index_search`)."""
        enabled = [] if self._pages.listing is not None else [
            t for t in self._topics.values() if t.enabled
        ]  # fmt: skip
        return self._pages.unread(enabled, self._read_entries, self._shown_since())

    def _shown_since(self) -> datetime:
        """The date of ``/``'s filtered views before the first rebuild (a restart serving the
        stored pages): the stored pages', which they show a part of (the clock's before any)."""
        return self._index_modified() or self.web_db.now()

    def missing_page(self, slug: str) -> bytes:
        """``/topics/{slug}``'s 404 page (:func:`feedsvc.pages.render_missing`)."""
        return render_missing(self.t, self.site, slug)

    def gone_page(self, slug: str) -> bytes:
        """A deleted topic's 410 page (:func:`feedsvc.pages.render_gone`)."""
        return render_gone(self.t, self.site, slug)

    def not_found_page(self) -> bytes:
        """The HTML 404 page of an address no route serves
        (:func:`feedsvc.pages.render_not_found`)."""
        return render_not_found(self.t, self.site)

    def error_page(self, title: str, text: str) -> bytes:
        """The HTML page of any other error a browser is answered
        (:func:`feedsvc.pages.render_error`): ``title``, the status in words, and ``text``."""
        return render_error(self.t, self.site, title, text)

    def _read_entries(self, topics: list[Topic]) -> list[IndexEntry]:
        """The index's parts of a few topics (a page of a search's matches), read through
        ``web_db`` and rendered without the render lock: the entries kept
        (:class:`~.index_page.IndexEntries`) are the rebuilds' alone."""
        now = self.web_db.now()
        ids = [t.id for t in topics]
        with self.web_db.read() as conn:
            newest = topics_newest(conn, ids, INDEX_HEADLINES, now)
            counts = topic_article_counts(conn, now, ids)
        built = [self._page_topic(t, newest.get(t.id, []), counts.get(t.id, 0)) for t in topics]
        return index_entries(self.t, self.site, built)
