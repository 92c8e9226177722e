"""The pages of ``/`` (:mod:`feedsvc.pages.listing`): the unfiltered list cut into pages of
:data:`~feedsvc.pages.listing.PAGE_SIZE` topics, each a snapshot like a topic's page (page 1
under :data:`INDEX_SLUG`, page N under ``_index/N``: stored, shared with replicas, read by a
restart's takedown check), and the filtered views (``/?q=``) rendered on demand from the same
rendered entries.

Why per page: one changed topic re-renders and stores only the page it is on (its entry's
parts come from :class:`~.index_page.IndexEntries`; an unchanged page is not rendered again),
where the single page of every topic was rendered, hashed, gzipped and stored whole (~10 MB at
3,000 topics) after every change. Adding or removing a topic moves the topics after it, and
changes every page's count line: all pages are rendered again then (rare: an admin's edit),
and stored in one write (``Rendered._store_pages``).
Callers hold the publisher's render lock for :meth:`IndexPages.changed` and
:meth:`IndexPages.stored`; :meth:`IndexPages.search` reads only the immutable listing the last
rebuild published, and :meth:`IndexPages.first_search` (before any rebuild: a restart) the
topics' texts and the page of matches it is given (both safe from any thread, never waiting for
a render).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from feedsvc.catalogue import Translator
from feedsvc.feeds.sanitize import xml_clean
from feedsvc.pages import IndexEntry, IndexView, Site, render_index_of
from feedsvc.pages.listing import (
    PAGE_SIZE,
    matching,
    page_count,
    paging,
    query_words,
    topic_key,
)
from feedsvc.store.records import Topic
from feedsvc.web.http_cache import Snapshot, make_snapshot
from feedsvc.web.snapshot_cache import SnapshotCache

#: The snapshot slug of ``/`` (its page 1), which no topic slug can be (topic slugs start with
#: a letter or digit); page N is ``_index/N``.
INDEX_SLUG = "_index"


def page_slug(page: int) -> str:
    """The snapshot slug of page ``page`` of ``/``."""
    return INDEX_SLUG if page == 1 else f"{INDEX_SLUG}/{page}"


@dataclass(frozen=True, slots=True)
class Listing:
    """What the last rebuild listed: every enabled topic's rendered entry, in order, as of
    ``built_at``; ``generation`` names it in the cache of filtered views."""

    entries: tuple[IndexEntry, ...]
    keys: tuple[str, ...]
    built_at: datetime
    generation: int


class IndexPages:
    """Which pages of ``/`` a rebuild renders again, and the filtered views."""

    def __init__(self, t: Translator, site: Site, cache: SnapshotCache) -> None:
        self.t, self.site, self.cache = t, site, cache
        #: page → (topics listed, entries shown) as last stored
        self._built: dict[int, tuple[int, tuple[IndexEntry, ...]]] = {}
        self._generations = itertools.count(1)
        #: the last rebuild's list, published once its pages are stored (None until the
        #: first: a restart serving stored pages)
        self.listing: Listing | None = None
        self._building: Listing | None = None  # the rebuild's list until :meth:`publish`
        #: enabled topics the pages served list (None: not known yet)
        self.total: int | None = None

    def changed(self, listed: Sequence[IndexEntry], now: datetime) -> dict[int, bytes]:
        """Publish ``listed`` (the rebuild's entries, in order) for searches and give the
        pages whose bytes may differ from those last stored, rendered (page → HTML)."""
        entries = tuple(listed)
        keys = tuple(entry.key for entry in entries)
        self._building = Listing(entries, keys, now, next(self._generations))
        total = len(entries)
        self.total = total
        bodies: dict[int, bytes] = {}
        for page in range(1, page_count(total) + 1):
            shown = self._shown(page, total)
            held = self._built.get(page)
            if held is not None and held[0] == total and _same(held[1], shown):
                continue
            view = IndexView(paging(total, page), "", search=total > PAGE_SIZE)
            bodies[page] = render_index_of(self.t, self.site, shown, view)
        return bodies

    def stored(self, page: int) -> None:
        """Page ``page`` of the last :meth:`changed` is stored and served."""
        assert self._building is not None
        self._built[page] = (
            len(self._building.entries),
            self._shown(page, len(self._building.entries)),
        )

    def publish(self, modified: datetime) -> None:
        """The last :meth:`changed`'s pages are stored, the newest of them ``Last-Modified``
        ``modified``: its list serves the filtered views from now on, dated so. Why: they were
        dated by when this process listed the topics, so a restart moved every filtered
        view's ``Last-Modified`` with the same bytes (If-Modified-Since answered 200); the
        stored pages' dates move only when what they show does, and survive restarts."""
        assert self._building is not None
        self.listing = replace(self._building, built_at=modified)

    def beyond(self) -> int:
        """The first page number past the last page (stored pages from there on are old)."""
        return page_count(self.total or 0) + 1

    def forget(self, page: int) -> None:
        """Page ``page`` was replaced by another replica's render: render it at the next
        rebuild, so what this replica serves is its own render of its own entries."""
        self._built.pop(page, None)

    def _shown(self, page: int, total: int) -> tuple[IndexEntry, ...]:
        assert self._building is not None
        start = paging(total, page).start
        return self._building.entries[start : start + PAGE_SIZE]

    def search(self, query: str, page: int) -> Snapshot | None:
        """Page ``page`` (clamped) of the topics matching ``query`` (cleaned:
        :func:`feedsvc.pages.listing.clean_query`), from the last rebuild's list; cached per
        list, words and page. A query with no words (``😀``, ``"``, ``~``: no letters or
        digits) matches no topic, said as for any other (“no topic matches “😀””, the box
        filled): it was served the unfiltered page, every topic, with the box emptied. None: no
        rebuild has listed the topics yet (:meth:`first_search` then)."""
        words, listing = query_words(query), self.listing
        if listing is None:
            return None
        hits = matching(listing.keys, words) if words else []
        return self._found(
            words, query, page, hits, listing.generation,
            lambda shown: [listing.entries[i] for i in shown], listing.built_at,
        )  # fmt: skip

    def first_search(
        self,
        query: str,
        page: int,
        topics: Sequence[Topic],
        entries: Callable[[list[Topic]], list[IndexEntry]],
        now: datetime,
    ) -> Snapshot:
        """:meth:`search` before any rebuild (a restart serving the stored pages): ``topics``
        (enabled, in the index's order) matched by their texts' keys
        (:func:`~feedsvc.pages.listing.topic_key`, kept), and only the page of matches built
        (``entries``: those topics' parts, read and rendered by the caller). Why: listing every
        topic first (~1.2 s at 5,000 topics, under the render lock) made the first search after
        a restart wait that long, and every render meanwhile. Cached as generation 0 until a
        rebuild publishes a listing. A query with no words matches no topic, as in
        :meth:`search`."""
        words = query_words(query)
        keys = [topic_key(xml_clean(t.title), t.slug, xml_clean(t.description))
                for t in topics] if words else []  # fmt: skip
        return self._found(
            words, query, page, matching(keys, words) if words else [], 0,
            lambda shown: entries([topics[i] for i in shown]), now,
        )  # fmt: skip

    def unread(
        self,
        topics: Sequence[Topic],
        entries: Callable[[list[Topic]], list[IndexEntry]],
        now: datetime,
    ) -> Snapshot:
        """The first page of every topic with the notice that the query string sent was not
        UTF-8 text (:mod:`feedsvc.web.queries`), from the last rebuild's list (before any: as
        :meth:`first_search`, from ``topics``, enabled, in the index's order, and the first
        page's ``entries``); cached per list, like a search's page."""
        listing = self.listing
        if listing is not None:
            return self._found(
                (), "", 1, list(range(len(listing.entries))), listing.generation,
                lambda shown: [listing.entries[i] for i in shown], listing.built_at, unread=True,
            )  # fmt: skip
        return self._found(
            (), "", 1, list(range(len(topics))), 0,
            lambda shown: entries([topics[i] for i in shown]), now, unread=True,
        )  # fmt: skip

    def _found(
        self,
        words: tuple[str, ...],
        query: str,
        page: int,
        hits: list[int],
        generation: int,
        shown: Callable[[list[int]], list[IndexEntry]],
        built_at: datetime,
        *,
        unread: bool = False,
    ) -> Snapshot:
        """Page ``page`` of ``hits`` (indexes into the list), cached per list, words and page;
        ``shown`` gives the listed entries at some of those indexes."""
        view = IndexView(paging(len(hits), page), query, search=True, unread=unread)
        key = ("index", generation, words, query, view.paging.page, unread)
        found = self.cache.get(key)
        if found is None:
            start = view.paging.start
            body = render_index_of(self.t, self.site, shown(hits[start : start + PAGE_SIZE]), view)
            found = make_snapshot(body, "text/html", built_at)
            self.cache.put(key, found)
        return found


def _same(held: tuple[IndexEntry, ...], shown: tuple[IndexEntry, ...]) -> bool:
    """The same entries, by identity: an unchanged topic keeps its rendered entry object."""
    return len(held) == len(shown) and all(a is b for a, b in zip(held, shown, strict=True))


def page_of(slug: str) -> int | None:
    """The page number of an index page's snapshot slug (:func:`page_slug`), else None."""
    if slug == INDEX_SLUG:
        return 1
    if not slug.startswith(INDEX_SLUG + "/"):
        return None
    number = slug[len(INDEX_SLUG) + 1 :]
    return int(number) if number.isascii() and number.isdigit() else None
